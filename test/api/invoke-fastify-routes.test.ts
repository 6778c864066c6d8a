/*
 * With the fast path off (and under app.inject), /function/ requests go through the Fastify
 * routes: bodies are not parsed (any or no media type, no body limit), the same rules apply.
 */
import t from 'tap'
import { httpUpstream, parseSeen, send, startEcho, startProxy } from './invoke-harness.ts'

t.test('Fastify-routed invocations pass bodies through unparsed', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) }, fastPath: false })
  for (const contentType of ['application/json', 'not a media type', 'text/plain']) {
    const res = await send(proxy.base, '/function/echo/p?x=%41', { method: 'POST', headers: { 'content-type': contentType }, body: '{not json' })
    t.equal(res.status, 200, contentType)
    const seen = parseSeen(res.body)
    t.equal(seen.url, '/p?x=%41')
    t.equal(seen.body.toString(), '{not json')
  }
  const big = Buffer.alloc(3 * 1024 * 1024, 0x62) // over Fastify's default 1 MiB bodyLimit
  const res = await send(proxy.base, '/function/echo', { method: 'PUT', body: big })
  t.equal(res.status, 200)
  t.equal(parseSeen(res.body).body.length, big.length)

  const injected = await proxy.app.inject({ method: 'POST', url: '/function/echo/i?q', payload: 'hi', headers: { 'content-type': 'x/y' } })
  t.equal(injected.statusCode, 200)
  t.equal(parseSeen(injected.rawPayload).url, '/i?q')
  t.same(proxy.invocations.map((i) => i.labels.code), [200, 200, 200, 200, 200])
})
