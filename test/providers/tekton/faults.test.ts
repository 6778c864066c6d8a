/*
 * Backend faults (issue 11) on the tekton backend, which shares the Kubernetes transport
 * (providers/kubernetes/common/transport.ts): transient read faults are invisible; persistent
 * ones answer within requestTimeoutMs with the right status and the API server's reason; a write
 * that failed is never 2xx and leaves nothing reported; an invocation whose TaskRun cannot be
 * created fails fast with the reason instead of hanging.
 */
import t from 'tap'
import type { RecordedRequest } from '../../fakes/kubernetes/server.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

const TIMEOUT_MS = 1500
const BOUND_MS = TIMEOUT_MS + 1500

const plainRead = (r: RecordedRequest): boolean =>
  r.method === 'GET' && !r.query.includes('watch=') && !r.path.endsWith('/log')

async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const start = Date.now()
  const value = await fn()
  return { value, ms: Date.now() - start }
}

t.test('tekton: transient read faults are invisible, persistent ones bounded with the reason', async (t) => {
  // cache off: these faults are on the reads the API path makes (what a cache fallback does too)
  const { url, fake } = await tektonApp(t, { driver: { requestTimeoutMs: TIMEOUT_MS, cache: false } })
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('echo'))).status, 202)
  for (const rule of [{ kind: 'status', status: 500 }, { kind: 'throttle', retryAfterSeconds: 0 }, { kind: 'reset' }, { kind: 'truncate' }] as const) {
    const f = fake.fault({ ...rule, match: plainRead, times: 2 })
    const r = await api(url, 'GET', '/system/functions')
    t.equal(r.status, 200, `list through 2 × ${rule.kind}`)
    t.same(r.json().map((x: { name: string }) => x.name), ['echo'])
    f.clear()
  }
  const cases = [
    { rule: { kind: 'status', status: 500, message: 'conversion webhook for tekton.dev/v1 failed' }, status: 500, text: /list tasks.tekton.dev.*conversion webhook/ },
    { rule: { kind: 'throttle', retryAfterSeconds: 0 }, status: 429, text: /throttled list tasks.tekton.dev/ },
    { rule: { kind: 'reset' }, status: 502, text: /could not list tasks.tekton.dev.*reset/ },
    { rule: { kind: 'hang' }, status: 504, text: /list tasks.tekton.dev.*timed out/ }
  ] as const
  for (const c of cases) {
    const f = fake.fault({ ...c.rule, match: plainRead })
    const { value: r, ms } = await timed(async () => await api(url, 'GET', '/system/functions'))
    t.equal(r.status, c.status, `${c.rule.kind} → ${c.status}`)
    t.match(r.text, c.text)
    t.ok(ms < BOUND_MS, `in ${ms} ms`)
    f.clear()
  }
})

t.test('tekton: failed writes are not reported as done', async (t) => {
  const { url, fake } = await tektonApp(t, { driver: { requestTimeoutMs: TIMEOUT_MS } })
  const f = fake.fault({ kind: 'status', status: 500, message: 'admission webhook "validation.webhook.pipeline.tekton.dev" timed out', method: 'POST', path: /\/tasks$/ })
  const r = await api(url, 'POST', '/system/functions', fnSpec('w'))
  t.equal(r.status, 500)
  t.match(r.text, /validation.webhook.pipeline.tekton.dev/)
  f.clear()
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'nothing reported')

  const cut = fake.fault({ kind: 'truncate', method: 'POST', path: /\/tasks$/ })
  const c = await api(url, 'POST', '/system/functions', fnSpec('w'))
  t.equal(c.status, 502, 'cut-off create → 502')
  t.match(c.text, /may or may not have been applied/)
  t.equal(fake.requestsTo(/^POST .*\/tasks$/).length, 2, 'not retried')
  cut.clear()
})

t.test('tekton: an invocation whose TaskRun gets no answer fails within the timeout', async (t) => {
  const { url, fake } = await tektonApp(t, { driver: { requestTimeoutMs: TIMEOUT_MS } })
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('echo'))).status, 202)
  const f = fake.fault({ kind: 'hang', method: 'POST', path: /\/taskruns$/ })
  const { value: r, ms } = await timed(async () => await api(url, 'POST', '/function/echo', 'hi'))
  t.equal(r.status, 504, `504 (${r.text})`)
  t.ok(ms < BOUND_MS, `in ${ms} ms`)
  f.clear()
  const g = fake.fault({ kind: 'status', status: 503, message: 'apiserver overloaded', method: 'POST', path: /\/taskruns$/ })
  // the invoke path words a 503 as OpenFaaS does ("No endpoints available for: ..."), not with the backend's reason
  t.equal((await api(url, 'POST', '/function/echo', 'hi')).status, 503, '503 → 503')
  g.clear()
  const h = fake.fault({ kind: 'status', status: 500, message: 'etcdserver: request timed out', method: 'POST', path: /\/taskruns$/ })
  const u = await api(url, 'POST', '/function/echo', 'hi')
  t.ok(u.status >= 500, `a 500 is not 2xx (${u.status}: ${u.text})`)
  h.clear()
  t.equal(fake.store.list('tekton.dev/taskruns', NS).length, 0, 'no TaskRun was made')
})
