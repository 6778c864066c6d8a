/*
 * Methods: GET/POST/PUT/PATCH/DELETE/OPTIONS/HEAD reach the function; HEAD answers carry no body;
 * any other method is 405 with an empty body (on the fast path and through Fastify routing).
 */
import t from 'tap'
import { httpUpstream, parseSeen, send, startEcho, startProxy, startUpstream } from './invoke-harness.ts'

t.test('allowed methods are forwarded as sent', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) } })
  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
    const res = await send(proxy.base, '/function/echo/m', { method, body: method === 'GET' ? undefined : `body-${method}` })
    t.equal(res.status, 200, method)
    const seen = parseSeen(res.body)
    t.equal(seen.method, method)
    t.equal(seen.body.toString(), method === 'GET' ? '' : `body-${method}`)
  }
})

t.test('HEAD passes status and headers, no body', async (t) => {
  let seenMethod = ''
  const upstream = await startUpstream(t, (req, res) => {
    seenMethod = req.method ?? ''
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': '1234', 'x-fn': 'yes' })
    res.end()
  })
  const proxy = await startProxy(t, { functions: { fn: httpUpstream(upstream.url) } })
  const res = await send(proxy.base, '/function/fn', { method: 'HEAD' })
  t.equal(seenMethod, 'HEAD')
  t.equal(res.status, 200)
  t.equal(res.headers['content-length'], '1234')
  t.equal(res.headers['x-fn'], 'yes')
  t.equal(res.body.length, 0)
})

for (const fastPath of [true, false]) {
  t.test(`other methods are 405 with an empty body (fastPath ${String(fastPath)})`, async (t) => {
    const echo = await startEcho(t)
    const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) }, fastPath })
    const methods = fastPath ? ['TRACE', 'PROPFIND', 'COPY', 'PURGE'] : ['TRACE']
    for (const method of methods) {
      const res = await send(proxy.base, '/function/echo/x', { method })
      t.equal(res.status, 405, method)
      t.equal(res.body.length, 0)
    }
    t.equal(proxy.invocations.length, 0)
  })
}
