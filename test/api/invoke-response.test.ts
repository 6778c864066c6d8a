/*
 * Responses pass through unchanged: status (2xx, 204, 4xx, 5xx), headers (minus hop-by-hop,
 * duplicates kept) and body; without an upstream Content-Type the request's is used, else
 * text/plain.
 */
import t from 'tap'
import { httpUpstream, send, startProxy, startUpstream } from './invoke-harness.ts'

t.test('status, headers and body pass through', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    const status = Number((req.url ?? '/').slice(1))
    if (status === 204) {
      res.writeHead(204, { 'x-status': '204' })
      res.end()
      return
    }
    res.writeHead(status, [
      'Content-Type', 'application/problem+json',
      'X-Status', String(status),
      'Set-Cookie', 'a=1',
      'Set-Cookie', 'b=2',
      'Keep-Alive', 'timeout=99',
      'Proxy-Authenticate', 'Basic'
    ])
    res.end(`{"status":${status}}`)
  })
  const proxy = await startProxy(t, { functions: { fn: httpUpstream(upstream.url) } })
  for (const status of [200, 201, 202, 204, 400, 401, 404, 409, 422, 500, 502, 503]) {
    const res = await send(proxy.base, `/function/fn/${status}`)
    t.equal(res.status, status, `status ${status}`)
    t.equal(res.headers['x-status'], String(status))
    t.equal(res.headers['x-openfaas-internal'], undefined, 'not a proxy error')
    if (status === 204) {
      t.equal(res.body.length, 0)
      continue
    }
    t.equal(res.headers['content-type'], 'application/problem+json')
    t.same(res.headers['set-cookie'], ['a=1', 'b=2'])
    t.equal(res.headers['proxy-authenticate'], undefined)
    t.not(res.headers['keep-alive'], 'timeout=99')
    t.equal(res.body.toString(), `{"status":${status}}`)
  }
  t.same(proxy.invocations.map((i) => i.labels.code), [200, 201, 202, 204, 400, 401, 404, 409, 422, 500, 502, 503])
})

t.test('Content-Type fallback: upstream, else request, else text/plain', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    if (req.url === '/typed') res.setHeader('Content-Type', 'image/png')
    res.removeHeader('Content-Type')
    if (req.url === '/typed') res.setHeader('Content-Type', 'image/png')
    res.end('x')
  })
  const proxy = await startProxy(t, { functions: { fn: httpUpstream(upstream.url) } })
  t.equal((await send(proxy.base, '/function/fn/typed', { headers: { 'content-type': 'application/json' } })).headers['content-type'], 'image/png')
  t.equal((await send(proxy.base, '/function/fn/untyped', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).headers['content-type'], 'application/json')
  t.equal((await send(proxy.base, '/function/fn/untyped')).headers['content-type'], 'text/plain')
})
