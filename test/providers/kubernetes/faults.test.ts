/*
 * Backend faults (issue 11) on the kubernetes backend: the fake API server injects wire faults
 * (test/fakes/kubernetes/server.ts fault()) and the driver, through the HTTP API, must
 *  - hide transient read faults (a few 5xx / 429 / resets / cut-off bodies, then success);
 *  - answer persistent ones within the request timeout with the right status and the API server's
 *    reason: reset / cut-off → 502, no answer → 504, 429 after retries → 429, 503 → 503, 500 → 500;
 *  - never report a write as done (2xx) when it failed, and not retry a write whose outcome is
 *    unknown;
 *  - never hang: every request here is bounded by the driver's requestTimeoutMs and the test's own.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { RecordedRequest } from '../../fakes/kubernetes/server.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

const TIMEOUT_MS = 1500
/** what a caller may wait at most: the request timeout plus the app's own work */
const BOUND_MS = TIMEOUT_MS + 1500

/** plain reads (not watches, logs or the service proxy) */
const plainRead = (r: RecordedRequest): boolean =>
  r.method === 'GET' && !r.query.includes('watch=') && !r.path.endsWith('/log') && !r.path.includes('/proxy/')

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const start = Date.now()
  const value = await fn()
  return { value, ms: Date.now() - start }
}

const app = async (tt: Parameters<typeof kubeApp>[0]): ReturnType<typeof kubeApp> =>
  // cache off: these faults are on the reads the API path makes (what a cache fallback does too)
  await kubeApp(tt, { driver: { requestTimeoutMs: TIMEOUT_MS, cache: false } })

t.test('transient read faults are invisible', async (t) => {
  const { url, fake } = await app(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('f'))).status, 202)
  const kinds = [
    { kind: 'status', status: 500, message: 'etcdserver: leader changed' },
    { kind: 'status', status: 503 },
    { kind: 'throttle', retryAfterSeconds: 0 },
    { kind: 'reset' },
    { kind: 'truncate' }
  ] as const
  for (const k of kinds) {
    const f = fake.fault({ ...k, match: plainRead, times: 2 })
    const r = await api(url, 'GET', '/system/functions')
    t.equal(r.status, 200, `list through 2 × ${k.kind}${'status' in k ? ` ${k.status}` : ''}`)
    t.same(r.json().map((x: { name: string }) => x.name), ['f'])
    t.equal(f.hits, 2, 'both faults were served')
    f.clear()
    const g = fake.fault({ ...k, match: plainRead, times: 1 })
    t.equal((await api(url, 'GET', '/system/function/f')).status, 200, `status through 1 × ${k.kind}`)
    t.equal((await api(url, 'GET', '/system/secrets')).status, 200, 'and secrets list after it')
    g.clear()
  }
})

t.test('Retry-After is honoured within the timeout', async (t) => {
  const { url, fake } = await app(t)
  const f = fake.fault({ kind: 'throttle', retryAfterSeconds: 1, match: plainRead, times: 1 })
  const { value: r, ms } = await timed(async () => await api(url, 'GET', '/system/functions'))
  t.equal(r.status, 200)
  t.equal(f.hits, 1)
  t.ok(ms >= 900, `waited for Retry-After (${ms} ms)`)
  t.ok(ms < BOUND_MS, 'within the bound')
})

t.test('persistent read faults: the right status with the reason, within the timeout', async (t) => {
  const { url, fake } = await app(t)
  const cases = [
    { rule: { kind: 'status', status: 500, message: 'etcdserver: request timed out' }, status: 500, text: /etcdserver: request timed out/ },
    { rule: { kind: 'status', status: 503, message: 'apiserver is shutting down' }, status: 503, text: /apiserver is shutting down/ },
    { rule: { kind: 'throttle', retryAfterSeconds: 0, message: 'too many requests, slow down' }, status: 429, text: /throttled list deployments.apps.*slow down/ },
    // Retry-After longer than the time left: no pointless wait, 429 at once
    { rule: { kind: 'throttle', retryAfterSeconds: 30 }, status: 429, text: /try again later/ },
    { rule: { kind: 'reset' }, status: 502, text: /could not list deployments.apps.*reset.*after 4 attempts/ },
    { rule: { kind: 'truncate' }, status: 502, text: /could not list deployments.apps.*cut off/ },
    { rule: { kind: 'hang' }, status: 504, text: new RegExp(`list deployments.apps.*timed out.*no answer within ${TIMEOUT_MS} ms`) }
  ] as const
  for (const c of cases) {
    const f = fake.fault({ ...c.rule, match: plainRead })
    const { value: r, ms } = await timed(async () => await api(url, 'GET', '/system/functions'))
    const what = `${c.rule.kind}${'status' in c.rule ? ` ${c.rule.status}` : ''}`
    t.equal(r.status, c.status, `${what} → ${c.status}`)
    t.match(r.text, c.text, `${what}: the reason is in the body`)
    t.ok(ms < BOUND_MS, `${what}: answered in ${ms} ms`)
    f.clear()
  }
  await eventually(() => { check(fake.heldRequests === 0, `${fake.heldRequests} held`) }, { timeoutMs: 2000, what: 'held requests released' })
  t.equal(fake.heldRequests, 0, 'the never-answered requests were given up by the client (no socket left open)')
  t.equal((await api(url, 'GET', '/system/functions')).status, 200, 'fine again once the faults are gone')
})

t.test('added latency below the timeout is only slower', async (t) => {
  const { url, fake } = await app(t)
  fake.fault({ kind: 'latency', latencyMs: 100 })
  t.equal((await api(url, 'POST', '/system/functions', figlet('slow'))).status, 202)
  const r = await api(url, 'GET', '/system/function/slow')
  t.equal(r.status, 200)
  t.equal(r.json().name, 'slow')
  fake.clearFaults()
  fake.fault({ kind: 'latency', latencyMs: TIMEOUT_MS + 500, match: plainRead })
  const { value: slow, ms } = await timed(async () => await api(url, 'GET', '/system/function/slow'))
  t.equal(slow.status, 504, 'latency beyond the timeout → 504')
  t.ok(ms < BOUND_MS, `in ${ms} ms`)
})

t.test('writes: never reported as done when they failed, never retried when the outcome is unknown', async (t) => {
  const { url, fake } = await app(t)
  const creates = (): number => fake.requestsTo(/^PATCH .*\/deployments\/w$/).length

  // refused before anything was applied: 5xx and reset
  for (const rule of [{ kind: 'status', status: 500, message: 'admission webhook timed out' }, { kind: 'reset' }] as const) {
    const f = fake.fault({ ...rule, method: 'PATCH', path: /\/deployments\/w$/ })
    const before = creates()
    const r = await api(url, 'POST', '/system/functions', figlet('w'))
    t.ok(r.status >= 500, `${rule.kind}: deploy is not 2xx (${r.status})`)
    t.equal(creates() - before, 1, `${rule.kind}: the create was sent once, not retried`)
    if (rule.kind === 'status') t.match(r.text, /admission webhook timed out/)
    else t.match(r.text, /may or may not have been applied/)
    t.equal(fake.store.get('apps/deployments', NS, 'w'), undefined, 'nothing was created')
    t.equal((await api(url, 'GET', '/system/function/w')).status, 404, 'and nothing is reported')
    f.clear()
  }

  // cut off after the API server applied it: 502, outcome unknown, not retried
  const cut = fake.fault({ kind: 'truncate', method: 'PATCH', path: /\/deployments\/w$/ })
  const before = creates()
  const r = await api(url, 'POST', '/system/functions', figlet('w'))
  t.equal(r.status, 502, 'a cut-off create → 502')
  t.match(r.text, /may or may not have been applied/)
  t.equal(creates() - before, 1, 'not retried')
  cut.clear()

  // never answered: 504 within the timeout
  const hang = fake.fault({ kind: 'hang', method: 'PATCH', path: /\/scale$/ })
  const { value: s, ms } = await timed(async () => await api(url, 'POST', '/system/scale-function/w', { replicas: 3 }))
  t.equal(s.status, 504, 'a scale that gets no answer → 504')
  t.ok(ms < BOUND_MS, `in ${ms} ms`)
  hang.clear()
  t.equal(fake.store.get('apps/deployments', NS, 'w')?.spec?.replicas, 1, 'and the scale was not applied')

  // throttled writes were certainly not applied: retried
  const thr = fake.fault({ kind: 'throttle', retryAfterSeconds: 0, method: 'PATCH', path: /\/scale$/, times: 2 })
  t.equal((await api(url, 'POST', '/system/scale-function/w', { replicas: 2 })).status, 202, 'a scale through 2 × 429')
  t.equal(thr.hits, 2)
  t.equal(fake.store.get('apps/deployments', NS, 'w')?.spec?.replicas, 2)
  thr.clear()

  // a Service that cannot be created takes the Deployment with it: no half-made function
  const svc = fake.fault({ kind: 'status', status: 500, method: 'PATCH', path: /\/services\/half$/ })
  const half = await api(url, 'POST', '/system/functions', figlet('half'))
  t.equal(half.status, 500, 'the Service failed → 500')
  svc.clear()
  t.equal(fake.store.get('apps/deployments', NS, 'half'), undefined, 'the Deployment was removed again')
  t.equal((await api(url, 'GET', '/system/function/half')).status, 404)

  // secrets
  const sec = fake.fault({ kind: 'status', status: 503, method: 'POST', path: /\/secrets$/ })
  const sr = await api(url, 'POST', '/system/secrets', { name: 'k', value: 'v' })
  t.equal(sr.status, 503, 'secret create on a 503 → 503')
  sec.clear()
  t.same((await api(url, 'GET', '/system/secrets')).json(), [], 'no secret reported')
})

t.test('an unreachable API server: 502 fast, with the reason', async (t) => {
  const { url, fake } = await app(t)
  await fake.close()
  const { value: r, ms } = await timed(async () => await api(url, 'GET', '/system/functions'))
  t.equal(r.status, 502)
  t.match(r.text, /could not be reached.*ECONNREFUSED/)
  t.ok(ms < BOUND_MS, `in ${ms} ms`)
})
