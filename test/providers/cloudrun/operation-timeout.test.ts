/*
 * Every wait is bounded: an operation that never finishes ends after operationTimeoutMs (504), and
 * an API call that never answers ends after requestTimeoutMs (504).
 */
import t from 'tap'
import { appSetup, deployBody } from './helpers.ts'

t.test('an operation that never finishes is a 504 after operationTimeoutMs', async (t) => {
  // 2 s: long enough for several polls on a loaded machine (at 300 ms it saw only one)
  const s = await appSetup(t, { driverOptions: { operationTimeoutMs: 2000 } })
  s.fake.run.hangOperations = true
  const started = Date.now()
  const res = await s.call('/system/functions', { method: 'POST', json: deployBody('slow') })
  t.equal(res.status, 504)
  t.match(await res.text(), /did not finish within 2000 ms/)
  t.ok(Date.now() - started < 15_000, 'bounded: ended after operationTimeoutMs, not a hang')
  t.ok(s.fake.seen.filter((l) => l.includes('/operations/')).length >= 2, 'polled in the meantime')
})

t.test('an API call that never answers is a 504 after requestTimeoutMs', async (t) => {
  // 2 s: the deploy before the fault must succeed on a loaded machine too (at 300 ms it was a 504)
  const s = await appSetup(t, { driverOptions: { requestTimeoutMs: 2000 } })
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('quiet') })).status, 202)
  s.fake.faults.add({ method: 'GET', path: /\/services\/quiet$/, hang: true, times: 10 })
  const started = Date.now()
  const res = await s.call('/system/function/quiet')
  t.equal(res.status, 504)
  t.match(await res.text(), /reading Cloud Run service "quiet"/)
  const ms = Date.now() - started
  t.ok(ms >= 1900 && ms < 15_000, `after requestTimeoutMs, not a hang (${ms} ms)`)
})
