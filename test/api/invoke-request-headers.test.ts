/*
 * Request headers to the function: copied verbatim (names, order, duplicates) except hop-by-hop
 * and Host; X-Forwarded-For (ip:port) and X-Forwarded-Host set only when absent; X-Call-Id and
 * X-Start-Time passed through and never generated; the driver's upstream headers added.
 */
import t from 'tap'
import { httpUpstream, parseSeen, send, startEcho, startProxy } from './invoke-harness.ts'

function pairs (raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string])
  return out
}

t.test('X-Forwarded-* are added when absent', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) } })
  const res = await send(proxy.base, '/function/echo', { headers: { 'X-Custom': 'a' } })
  const seen = parseSeen(res.body)
  t.match(seen.headers['x-forwarded-for'], /^127\.0\.0\.1:\d+$/)
  t.equal(seen.headers['x-forwarded-host'], `127.0.0.1:${proxy.port}`)
  t.equal(seen.headers.host, echo.url.host, 'Host is the upstream')
  t.equal(seen.headers['x-call-id'], undefined, 'no call id is generated')
  t.equal(seen.headers['x-start-time'], undefined, 'no start time is generated')
  t.equal(seen.headers['x-custom'], 'a')
})

t.test('X-Forwarded-*, X-Call-Id and X-Start-Time from the gateway pass through unchanged', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) } })
  const res = await send(proxy.base, '/function/echo', {
    headers: {
      'X-Forwarded-For': '10.1.2.3:5555',
      'X-Forwarded-Host': 'gateway.example:8080',
      'X-Call-Id': 'e0e1c2a3-0000-4000-8000-000000000001',
      'X-Start-Time': '1700000000000000000',
      Authorization: 'Bearer abc'
    }
  })
  const seen = parseSeen(res.body)
  t.equal(seen.headers['x-forwarded-for'], '10.1.2.3:5555')
  t.equal(seen.headers['x-forwarded-host'], 'gateway.example:8080')
  t.equal(seen.headers['x-call-id'], 'e0e1c2a3-0000-4000-8000-000000000001')
  t.equal(seen.headers['x-start-time'], '1700000000000000000')
  t.equal(seen.headers.authorization, 'Bearer abc')
})

t.test('hop-by-hop headers are stripped, the rest keep case, order and duplicates', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url) } })
  const res = await send(proxy.base, '/function/echo', {
    method: 'POST',
    headers: [
      'X-First', '1',
      'Connection', 'keep-alive, X-Drop-Me',
      'X-Drop-Me', 'gone',
      'Keep-Alive', 'timeout=5',
      'Proxy-Authorization', 'Basic eA==',
      'Proxy-Connection', 'keep-alive',
      'TE', 'trailers',
      'Upgrade', 'h2c',
      'X-Dup', 'a',
      'X-Dup', 'b',
      'Content-Length', '2',
      'MiXeD-CaSe', 'v'
    ],
    body: 'hi'
  })
  t.equal(res.status, 200)
  const seen = parseSeen(res.body)
  const names = pairs(seen.rawHeaders).map(([n]) => n.toLowerCase())
  for (const hop of ['x-drop-me', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te', 'upgrade']) {
    t.notOk(names.includes(hop), `${hop} stripped`)
  }
  const kept = pairs(seen.rawHeaders).filter(([n]) => ['X-First', 'X-Dup', 'MiXeD-CaSe'].includes(n))
  t.same(kept, [['X-First', '1'], ['X-Dup', 'a'], ['X-Dup', 'b'], ['MiXeD-CaSe', 'v']])
  t.equal(seen.body.toString(), 'hi')
})

t.test("the driver's upstream headers are added and win over the caller's", async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, { functions: { echo: httpUpstream(echo.url, { 'X-Fn-Token': 'driver', 'X-Extra': 'e' }) } })
  const res = await send(proxy.base, '/function/echo', { headers: { 'x-fn-token': 'caller' } })
  const seen = parseSeen(res.body)
  t.equal(seen.headers['x-fn-token'], 'driver')
  t.equal(seen.headers['x-extra'], 'e')
})
