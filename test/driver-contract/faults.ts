/*
 * The backend-fault contract: a representative subset of the driver contract (status, list,
 * deploy) through faas-bridge's HTTP API while the backend's wire-level fake misbehaves
 * (test/fakes/wire-faults.ts). A backend runs it with its own fake and short timeouts:
 *   - transient faults (a few failures, then success) are invisible to reads;
 *   - persistent faults give the contract's status within the request timeout, with the
 *     backend's reason: 5xx → 500 (the service's message), 429 → 429, reset / cut-off body → 502,
 *     no answer (or too slow) → 504;
 *   - a write that failed is never reported 2xx, and it did not happen;
 *   - nothing hangs: every call is bounded (the HTTP client gives up long after the bound).
 */
import type { Test } from 'tap'
import type { WireFault, WireFaultKind } from '../fakes/wire-faults.ts'

export interface FaultTarget {
  /** the faas-bridge app over the driver over the faulty fake */
  url: string
  namespace: string
  /** a function that exists and is ready */
  existing: string
  deployBody: (name: string) => Record<string, unknown>
  inject: (fault: WireFault) => void
  clear: () => void
}

export interface FaultSuiteOptions {
  name: string
  /** a fresh app + driver + fake (torn down with t), with `existing` deployed */
  setup: (t: Test) => Promise<FaultTarget>
  /** the driver's requestTimeoutMs in setup */
  requestTimeoutMs: number
  /** the fake's request keys of the calls each route makes */
  match: { status: string | RegExp, list: string | RegExp, deploy: string | RegExp }
  /** what a persistent fault's reason looks like in the answer, per kind (default: see below) */
  reasons?: Partial<Record<WireFaultKind, RegExp>>
}

const EXPECTED: Record<Exclude<WireFaultKind, 'latency'>, number> = {
  status: 500,
  throttle: 429,
  reset: 502,
  truncate: 502,
  hang: 504
}

const MESSAGE = 'injected: the backend is having a bad day'

async function call (base: string, method: string, path: string, body?: unknown): Promise<{ status: number, text: string, ms: number }> {
  const started = Date.now()
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000)
  })
  const text = await res.text()
  return { status: res.status, text, ms: Date.now() - started }
}

export function runFaultSuite (t: Test, opts: FaultSuiteOptions): Promise<void> {
  // the request timeout plus generous slack for a loaded machine; a hang would run to call()'s 15 s
  const bound = opts.requestTimeoutMs + 5000
  const reasons: Record<WireFaultKind, RegExp> = {
    status: new RegExp(MESSAGE),
    throttle: new RegExp(MESSAGE),
    reset: /ECONNRESET|socket hang up|other side closed|reset|request to/i,
    truncate: /ECONNRESET|aborted|Invalid response body|other side closed|terminated|closed/i,
    hang: /\d+ m(s|illiseconds)/,
    latency: /\d+ m(s|illiseconds)/,
    ...opts.reasons
  }
  const fault = (kind: WireFaultKind, match: string | RegExp, times: number): WireFault =>
    ({ kind, match, times, message: MESSAGE, retryAfterSeconds: 0, latencyMs: opts.requestTimeoutMs * 3 })

  return t.test(`backend faults: ${opts.name}`, async (t) => {
    for (const kind of ['status', 'throttle', 'reset', 'truncate'] as const) {
      await t.test(`${kind}: transient faults are invisible to reads`, async (t) => {
        const target = await opts.setup(t)
        const q = `?namespace=${target.namespace}`
        target.inject(fault(kind, opts.match.status, 2))
        const s = await call(target.url, 'GET', `/system/function/${target.existing}${q}`)
        t.equal(s.status, 200, `status read through two ${kind} faults: ${s.text.slice(0, 200)}`)
        target.clear()
        target.inject(fault(kind, opts.match.list, 2))
        const l = await call(target.url, 'GET', `/system/functions${q}`)
        t.equal(l.status, 200, `list read through two ${kind} faults: ${l.text.slice(0, 200)}`)
        t.ok((JSON.parse(l.text) as Array<{ name: string }>).some((f) => f.name === target.existing), 'and the list is complete')
      })
    }

    for (const kind of ['status', 'throttle', 'reset', 'truncate', 'hang', 'latency'] as const) {
      const want = kind === 'latency' ? 504 : EXPECTED[kind]
      await t.test(`${kind}: persistent faults → ${want} within the timeout, with the reason; failed writes are not done`, async (t) => {
        const target = await opts.setup(t)
        const q = `?namespace=${target.namespace}`
        target.inject(fault(kind, opts.match.status, Infinity))
        const s = await call(target.url, 'GET', `/system/function/${target.existing}${q}`)
        t.equal(s.status, want, `status read → ${want}`)
        t.match(s.text, reasons[kind], `with the backend's reason: ${s.text.slice(0, 300)}`)
        t.ok(s.ms < bound, `bounded (${s.ms} ms < ${bound} ms)`)
        target.clear()

        target.inject(fault(kind, opts.match.list, Infinity))
        const l = await call(target.url, 'GET', `/system/functions${q}`)
        t.equal(l.status, want, `list → ${want}`)
        t.ok(l.ms < bound, `bounded (${l.ms} ms)`)
        target.clear()

        const name = `faulty-${kind}`
        target.inject(fault(kind, opts.match.deploy, Infinity))
        const d = await call(target.url, 'POST', '/system/functions', { ...target.deployBody(name), namespace: target.namespace })
        t.equal(d.status, want, `deploy → ${want}, never a 2xx: ${d.text.slice(0, 300)}`)
        t.ok(d.ms < bound, `bounded (${d.ms} ms)`)
        target.clear()
        const after = await call(target.url, 'GET', `/system/function/${name}${q}`)
        t.equal(after.status, 404, 'the failed deploy did not happen')
      })
    }

    await t.test('latency within the timeout is only slower', async (t) => {
      const target = await opts.setup(t)
      const q = `?namespace=${target.namespace}`
      target.inject({ kind: 'latency', latencyMs: Math.round(opts.requestTimeoutMs / 4), times: Infinity })
      t.equal((await call(target.url, 'GET', `/system/function/${target.existing}${q}`)).status, 200, 'status')
      t.equal((await call(target.url, 'GET', `/system/functions${q}`)).status, 200, 'list')
    })
  }).then(() => {})
}
