/*
 * GET /system/history/{name} and GET /system/history through the real app on the real local
 * backend with the autoscaler on (127.0.0.1 only). The history's clock is a fake one the test
 * moves, so which bucket a request lands in never depends on machine speed; the autoscaler runs
 * on real time and the test waits for its samples and decisions as conditions.
 */
import t from 'tap'
import type { Test } from 'tap'
import { HistoryStore, type FunctionHistory, type HistorySummary } from '../../src/history/store.ts'
import type { Sample } from '../../src/history/tier.ts'
import { localApp } from '../helpers/local-app.ts'
import { FIXTURE } from '../providers/local/helpers.ts'

const T0 = 1_700_000_010_000
const autoscale = { intervalMs: 50, windowMs: 1000, upStabilisationMs: 200, downStabilisationMs: 500, zeroDurationMs: 60_000 }

/** a history whose clock the test sets, counting the autoscaler's samples */
class TestHistory extends HistoryStore {
  clock = T0
  samples = 0
  constructor () {
    super({ now: () => this.clock })
  }

  override sample (namespace: string, name: string, s: Sample): void {
    this.samples++
    super.sample(namespace, name, s)
  }
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
async function waitFor (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

async function setup (t: Test) {
  const history = new TestHistory()
  const la = await localApp(t, { app: { autoscale, history } })
  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    await fetch(la.url + path, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })
  const deploy = async (service: string, labels: Record<string, string> = {}, ready = true): Promise<void> => {
    const res = await api('POST', '/system/functions', { service, image: 'example/http-function:latest', envProcess: `'${process.execPath}' '${FIXTURE}'`, envVars: { mode: 'http' }, labels })
    if (res.status !== 202) throw new Error(`deploy: ${res.status} ${await res.text()}`)
    if (ready) await waitFor(`${service} ready`, async () => ((await (await api('GET', `/system/function/${service}`)).json()) as { availableReplicas: number }).availableReplicas > 0)
  }
  const get = async <T>(path: string): Promise<T> => {
    const res = await api('GET', path)
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`)
    return await res.json() as T
  }
  return { ...la, history, api, deploy, get }
}

t.test('invocations by status class, latency, replicas: what the route serves', async (t) => {
  const s = await setup(t)
  await s.deploy('hist', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' })

  const empty = await s.get<FunctionHistory>('/system/history/hist')
  t.equal(empty.window, '15m', 'the default window')
  t.equal(empty.series.t.length, 180)
  t.ok(empty.series.rps2xx.every((v) => v === 0), 'no traffic yet')

  s.history.clock = T0 + 1000
  const codes: number[] = []
  for (let i = 0; i < 6; i++) codes.push((await s.api('GET', '/function/hist/echo')).status)
  for (let i = 0; i < 3; i++) codes.push((await s.api('GET', '/function/hist/env?name=NOT_SET')).status)
  for (let i = 0; i < 2; i++) codes.push((await s.api('GET', '/function/hist/status?code=503')).status)
  t.same(codes, [200, 200, 200, 200, 200, 200, 404, 404, 404, 503, 503])
  const before = s.history.samples
  await waitFor('two autoscaler samples', () => s.history.samples >= before + 2)

  s.history.clock = T0 + 5000
  const h = await s.get<FunctionHistory>('/system/history/hist?window=15m')
  t.equal(h.bucketSeconds, 5)
  t.equal(h.series.t.at(-1), T0)
  t.same([h.series.rps2xx.at(-1), h.series.rps4xx.at(-1), h.series.rps5xx.at(-1)], [6 / 5, 3 / 5, 2 / 5], 'per second, per class')
  const p50 = h.series.p50Ms.at(-1)
  const p99 = h.series.p99Ms.at(-1)
  t.ok(typeof p50 === 'number' && typeof p99 === 'number' && p50 > 0 && p99 >= p50, `p50 ${p50} ms ≤ p99 ${p99} ms`)
  t.equal(h.series.replicas.at(-1), 1, 'replicas as the autoscaler sampled them')
  t.equal(h.series.available.at(-1), 1)
  t.equal(h.series.target.at(-1), 1, "the autoscaler's desired count (scale.min = scale.max = 1, whatever the load)")
  const inflight = h.series.inflightMax.at(-1)
  t.ok(typeof inflight === 'number' && inflight >= 0 && inflight <= 1, `in flight sampled: ${inflight} (requests were sent one at a time)`)

  s.history.clock = T0 + 30_000
  const hour = await s.get<FunctionHistory>('/system/history/hist?window=1h')
  t.equal(hour.bucketSeconds, 30)
  t.equal(hour.series.t.length, 120)
  t.equal(hour.series.rps2xx.at(-1), 0.2, '6 in 30 s')

  const sum = await s.get<HistorySummary>('/system/history')
  const mine = sum.functions.find((f) => f.name === 'hist')
  t.ok(mine !== undefined && mine.namespace === 'openfaas-fn', 'listed in the summary')
  t.equal(mine?.rps.length, 36)
  t.equal(mine?.p99Ms, h.series.p99Ms.at(-1), "the last minute holds only T0's bucket")
  t.same((await s.get<HistorySummary>('/system/history?namespace=staging-fn')).functions, [], 'filtered by namespace')

  // backend calls reach the summary through /metrics' instrumentation hook
  s.app.metrics.observeBackendCall({ backend: 'local', operation: 'status', outcome: 'ok' }, 0.002)
  s.app.metrics.observeBackendCall({ backend: 'local', operation: 'scale', outcome: 'BACKEND' }, 0.004)
  const b = (await s.get<HistorySummary>('/system/history')).backends.find((x) => x.backend === 'local')
  t.match(b, { backend: 'local', errorRate: 0.5 })
  t.ok(b !== undefined && b.p99Ms !== null && b.p99Ms > 3, `backend p99 ${b?.p99Ms}`)

  // removed: its history goes; the name is then unknown
  t.equal((await s.api('DELETE', '/system/functions', { functionName: 'hist' })).status, 202)
  t.notOk(s.history.has('openfaas-fn', 'hist'))
  t.equal((await s.api('GET', '/system/history/hist')).status, 404)
  t.notOk((await s.get<HistorySummary>('/system/history')).functions.some((f) => f.name === 'hist'))
})

t.test('the autoscaler marks its decisions: park (zero) when idle, wake on a request, with the rule', async (t) => {
  const s = await setup(t)
  await s.deploy('nap', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '300ms' }, false)
  const decisions = async (): Promise<FunctionHistory['decisions']> => (await s.get<FunctionHistory>('/system/history/nap')).decisions
  await waitFor('a park', async () => (await decisions()).some((d) => d.action === 'zero'))
  t.equal((await s.api('GET', '/function/nap/echo')).status, 200, 'woken by the call')
  await waitFor('a wake', async () => (await decisions()).some((d) => d.action === 'wake'))
  const ds = await decisions()
  t.match(ds.find((d) => d.action === 'zero'), { from: 1, to: 0, ok: true, reason: /idle/, at: T0 })
  t.match(ds.find((d) => d.action === 'wake'), { from: 0, to: 1, ok: true, reason: /request/ })
})

t.test('bad input: window, namespace, names', async (t) => {
  const s = await setup(t)
  const bad = await s.api('GET', '/system/history/anything?window=2h')
  t.equal(bad.status, 400)
  t.equal(await bad.text(), 'window must be 15m or 1h, not "2h"\n')
  t.equal((await s.api('GET', '/system/history/anything?namespace=nowhere')).status, 400)
  t.equal((await s.api('GET', '/system/history?namespace=nowhere')).status, 400)
  const missing = await s.api('GET', '/system/history/never-deployed')
  t.equal(missing.status, 404)
  t.match(await missing.text(), /never-deployed/)
  t.equal((await s.api('GET', '/system/history/Not_A_Name')).status, 404)
  t.equal(s.history.functions, 0, 'no history was made for any of these')
  // /function/ANYTHING is open to anyone: it never makes a history
  t.equal((await s.api('GET', '/function/made-up-name')).status, 503)
  t.notOk(s.history.has('openfaas-fn', 'made-up-name'))
})
