/*
 * Binary bodies are byte-exact both ways, with Content-Length and with chunked uploads.
 */
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import t from 'tap'
import { httpUpstream, send, startProxy, startUpstream } from './invoke-harness.ts'

t.test('binary request and response bodies are byte-exact', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      // answer with the bytes reversed, in two writes (chunked)
      const body = Buffer.from(Buffer.concat(chunks)).reverse()
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      res.write(body.subarray(0, 1000))
      res.end(body.subarray(1000))
    })
  })
  const proxy = await startProxy(t, { functions: { rev: httpUpstream(upstream.url) } })
  const payload = randomBytes(1024 * 1024 + 7)
  const expected = Buffer.from(payload).reverse()

  const res = await send(proxy.base, '/function/rev', { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: payload })
  t.equal(res.status, 200)
  t.ok(res.body.equals(expected), 'Content-Length upload: reply is byte-exact')

  const chunked = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request(`${proxy.base}/function/rev`, { method: 'PUT', agent: false }, (r) => {
      const chunks: Buffer[] = []
      r.on('data', (c: Buffer) => chunks.push(c))
      r.on('end', () => { resolve(Buffer.concat(chunks)) })
    })
    req.on('error', reject)
    req.write(payload.subarray(0, 12345))
    req.end(payload.subarray(12345))
  })
  t.ok(chunked.equals(expected), 'chunked upload: reply is byte-exact')
})
