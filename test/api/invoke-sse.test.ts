/*
 * Streaming responses are flushed as they arrive: an SSE event written by the function reaches
 * the caller while the function is still holding the response open.
 */
import http from 'node:http'
import t from 'tap'
import { httpUpstream, startProxy, startUpstream } from './invoke-harness.ts'

t.test('an SSE event arrives before the upstream ends the response', async (t) => {
  let finish: () => void = () => {}
  const upstreamDone = new Promise<void>((resolve) => { finish = resolve })
  const upstream = await startUpstream(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.write('data: first\n\n')
    void upstreamDone.then(() => { res.end('data: last\n\n') })
  })
  const proxy = await startProxy(t, { functions: { events: httpUpstream(upstream.url) } })
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(`${proxy.base}/function/events`, { headers: { accept: 'text/event-stream' }, agent: false }, resolve).on('error', reject)
  })
  t.equal(res.headers['content-type'], 'text/event-stream')
  const first = await new Promise<string>((resolve) => { res.once('data', (c: Buffer) => { resolve(c.toString()) }) })
  t.equal(first, 'data: first\n\n', 'the first event arrived while the upstream is still open')
  finish()
  let rest = ''
  for await (const chunk of res) rest += (chunk as Buffer).toString()
  t.equal(rest, 'data: last\n\n')
})
