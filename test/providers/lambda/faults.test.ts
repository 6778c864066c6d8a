/*
 * Backend faults against the Lambda backend: the fake AWS's wire-level faults (latency, 5xx, 429
 * with Retry-After, reset, truncated body, never answering) under the fault contract
 * (test/driver-contract/faults.ts), through the HTTP API; plus Retry-After and a throttled write.
 */
import t, { type Test } from 'tap'
import { runFaultSuite } from '../../driver-contract/faults.ts'
import { api, deployReady, image, lambdaApp, NS } from './helpers.ts'

/*
 * 3 s: room on a loaded machine for the reads that must get through two transient faults (at
 * 400 ms and a load of 20 on 2 cores they were 504s)
 */
const REQUEST_TIMEOUT_MS = 3000

async function app (t: Test, over: Record<string, unknown> = {}): Promise<Awaited<ReturnType<typeof lambdaApp>>> {
  return await lambdaApp(t, { driverOptions: { requestTimeoutMs: REQUEST_TIMEOUT_MS, retryBaseMs: 5, updateTimeoutMs: 2000, ...over } })
}

await runFaultSuite(t, {
  name: 'lambda',
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  match: { status: 'Lambda.GetFunction', list: 'Lambda.ListFunctions', deploy: 'Lambda.CreateFunction' },
  setup: async (t) => {
    const a = await app(t)
    await deployReady(a.url, { service: 'steady', image: image('echo') })
    return {
      url: a.url,
      namespace: NS,
      existing: 'steady',
      deployBody: (name) => ({ service: name, image: image('echo') }),
      inject: (f) => { a.fake.faults.add(f) },
      clear: () => { a.fake.faults.clear() }
    }
  }
})

t.test('Retry-After is honoured when it fits, answered at once when it does not', async (t) => {
  const a = await app(t, { requestTimeoutMs: 1000 })
  await deployReady(a.url, { service: 'steady', image: image('echo') })
  a.fake.faults.add({ kind: 'throttle', match: 'Lambda.GetFunction', retryAfterSeconds: 0.3, times: 1 })
  const started = Date.now()
  const ok = await api(a.url, 'GET', '/system/function/steady')
  const took = Date.now() - started
  t.equal(ok.status, 200, 'the read succeeds after the throttle')
  t.ok(took >= 280, `after waiting the Retry-After (${took} ms)`)
  a.fake.faults.add({ kind: 'throttle', match: 'Lambda.GetFunction', retryAfterSeconds: 30, times: 1 })
  const t0 = Date.now()
  const no = await api(a.url, 'GET', '/system/function/steady')
  t.equal(no.status, 429, 'a Retry-After beyond the timeout is a 429')
  t.match(no.text, /retry after 30000 ms/, 'saying so')
  t.ok(Date.now() - t0 < 500, 'at once')
})

t.test('a throttled write is retried (AWS did not act on it); a reset write is not', async (t) => {
  const a = await app(t)
  a.fake.faults.add({ kind: 'throttle', match: 'Lambda.CreateFunction', times: 2 })
  const r = await api(a.url, 'POST', '/system/functions', { service: 'after-throttle', image: image('echo') })
  t.equal(r.status, 202, 'deployed after two throttles')
  const before = a.fake.count('Lambda.CreateFunction')
  a.fake.faults.add({ kind: 'reset', match: 'Lambda.CreateFunction', times: 1 })
  const reset = await api(a.url, 'POST', '/system/functions', { service: 'after-reset', image: image('echo') })
  t.equal(reset.status, 502, 'a reset write is a 502')
  t.equal(a.fake.count('Lambda.CreateFunction') - before, 1, 'sent once: a write whose outcome is unknown is not repeated')
})
