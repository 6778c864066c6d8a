/*
 * The shared driver contract suite against the kubernetes backend while the fake API server keeps
 * injecting transient read faults (issue 11, "Backend faults"): every few plain reads answer 503,
 * 500, 429 (Retry-After: 0), reset the connection or cut the body off, and every request is a
 * little late. Reads are retried with bounded backoff, so the suite must pass unchanged.
 * (Writes are left alone here: a write whose outcome is unknown is never retried, so a fault on
 * it is visible by design; faults.test.ts covers that.)
 */
import t from 'tap'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import type { FakeKubernetes, FaultHandle, FaultRule, RecordedRequest } from '../../fakes/kubernetes/server.ts'
import { functionServer, NS, startKube } from './helpers.ts'

const plainRead = (r: RecordedRequest): boolean =>
  r.method === 'GET' && !r.query.includes('watch=') && !r.path.endsWith('/log') && !r.path.includes('/proxy/')

/** One plain read in three fails, the kind rotating, so no read sees two faults in a row. */
function injectTransientFaults (fake: FakeKubernetes): FaultHandle[] {
  fake.fault({ kind: 'latency', latencyMs: 5 })
  const kinds: FaultRule[] = [
    { kind: 'status', status: 503, message: 'transient: apiserver not ready' },
    { kind: 'status', status: 500, message: 'transient: etcdserver: leader changed' },
    { kind: 'throttle', retryAfterSeconds: 0 },
    { kind: 'reset' },
    { kind: 'truncate' }
  ]
  return kinds.map((k, i) => fake.fault({ ...k, match: plainRead, every: 3 * kinds.length, offset: 3 * i + 1 }))
}

let faulted = 0
await runDriverContract(t, {
  name: 'kubernetes under transient read faults',
  namespace: NS,
  readyTimeoutMs: 4000,
  makeDriver: async () => {
    const setup = await startKube({ driver: { invoke: 'proxy', requestTimeoutMs: 3000 } })
    const faults = injectTransientFaults(setup.fake)
    const servers = [
      await functionServer(undefined, setup.fake, NS, 'caller'),
      await functionServer(undefined, setup.fake, NS, 'logger')
    ]
    return {
      driver: setup.driver,
      cleanup: async () => {
        for (const f of faults) faulted += f.hits
        for (const s of servers) await s.close()
        await setup.cleanup()
      }
    }
  },
  functionSpec: (name) => ({ service: name, image: 'ghcr.io/openfaas/alpine:latest', envProcess: 'cat' }),
  capabilities: {
    invoke: { body: 'hello', expectBody: (b) => JSON.parse(b).body === 'hello' },
    logLine: 'handled POST / hello'
  }
})

t.test('faults were really injected', async (t) => {
  t.ok(faulted >= 10, `${faulted} reads were answered with a fault and retried`)
})
