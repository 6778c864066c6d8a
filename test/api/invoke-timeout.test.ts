/*
 * An upstream that sends no response headers within readTimeoutMs is 504 with
 * X-OpenFaaS-Internal: proxy; one that stalls mid-body is cut off after the same idle time.
 */
import t from 'tap'
import { httpUpstream, send, startProxy, startUpstream } from './invoke-harness.ts'

t.test('504 when the upstream does not answer in time', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    if (req.url === '/stall-body') {
      res.writeHead(200, { 'content-length': '10' })
      res.write('12345')
    }
    // otherwise never answer
  })
  const proxy = await startProxy(t, { functions: { slow: httpUpstream(upstream.url) }, readTimeoutMs: 300 })
  const started = Date.now()
  const res = await send(proxy.base, '/function/slow')
  const elapsed = Date.now() - started
  t.equal(res.status, 504)
  t.equal(res.headers['x-openfaas-internal'], 'proxy')
  t.equal(res.body.toString(), 'Timed out waiting for: slow.')
  t.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`)

  await t.rejects(send(proxy.base, '/function/slow/stall-body'), 'a stalled body is cut off')
  t.same(proxy.invocations.map((i) => i.labels.code), [504, 200])
})
