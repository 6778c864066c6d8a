/*
 * Backend faults against the Cloud Run backend: the Google fake's wire-level faults (latency, 5xx,
 * 429, reset, truncated body, never answering) under the fault contract
 * (test/driver-contract/faults.ts), through the HTTP API; plus writes under throttling and resets.
 */
import t, { type Test } from 'tap'
import type { FunctionDeployment } from '../../../src/core/types.ts'
import { runFaultSuite } from '../../driver-contract/faults.ts'
import { appSetup, deployBody, NS, type AppSetup } from './helpers.ts'

/*
 * 3 s: room on a loaded machine for the calls that must succeed, a transient fault's retries
 * included (at 400 ms and a load of 20 on 2 cores, two faults and their back-off used it all and
 * a read that should succeed was a 504; at 1 s even the set-up deploy timed out)
 */
const REQUEST_TIMEOUT_MS = 3000

async function app (t: Test): Promise<AppSetup> {
  const s = await appSetup(t, { driverOptions: { requestTimeoutMs: REQUEST_TIMEOUT_MS, retryBaseMs: 5 } })
  await s.driver.deploy({ ...deployBody('steady'), namespace: NS } as unknown as FunctionDeployment & { namespace: string })
  return s
}

await runFaultSuite(t, {
  name: 'cloudrun',
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  match: {
    status: /^GET \/v2\/projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/,
    list: /^GET \/v2\/projects\/[^/]+\/locations\/[^/]+\/services$/,
    deploy: /^POST \/v2\/projects\/[^/]+\/locations\/[^/]+\/services$/
  },
  setup: async (t) => {
    const s = await app(t)
    return {
      url: s.url,
      namespace: NS,
      existing: 'steady',
      deployBody: (name) => deployBody(name),
      inject: (f) => { s.fake.wire.add(f) },
      clear: () => { s.fake.wire.clear() }
    }
  }
})

t.test('a throttled create is retried (Google did not act on it); a reset one is not', async (t) => {
  const s = await app(t)
  s.fake.wire.add({ kind: 'throttle', match: /^POST .*\/services$/, times: 2 })
  const r = await s.call('/system/functions', { method: 'POST', json: deployBody('after-throttle') })
  t.equal(r.status, 202, `deployed after two throttles: ${await r.text()}`)
  const creates = (): number => s.fake.seen.filter((l) => /^POST .*\/services\?/.test(l)).length
  const before = creates()
  s.fake.wire.add({ kind: 'reset', match: /^POST .*\/services$/, times: 1 })
  const reset = await s.call('/system/functions', { method: 'POST', json: deployBody('after-reset') })
  t.equal(reset.status, 502, 'a reset create is a 502')
  t.equal(creates() - before, 1, 'sent once: a write whose outcome is unknown is not repeated')
})

t.test('a fault while polling the operation: the write is not reported done', async (t) => {
  const s = await app(t)
  s.fake.wire.add({ kind: 'reset', match: /^GET .*\/operations\/[^/]+$/, times: Infinity })
  const started = Date.now()
  const r = await s.call('/system/functions', { method: 'POST', json: deployBody('poll-reset') })
  t.ok(r.status >= 500, `not a 2xx (${r.status}: ${(await r.text()).slice(0, 200)})`)
  t.ok(Date.now() - started < 30_000, 'bounded: not a hang')
})
