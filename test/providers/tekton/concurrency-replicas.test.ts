/*
 * The maximum of concurrent runs (the function's replicas) holds across provider replicas: two or
 * three tekton drivers, each with its own app (as provider pods), on one fake cluster.
 *  1. N = 1 and N = 2, with 2 and with 3 replicas: calls fired all at once, spread over the
 *     replicas (their claims coincide in the same round trips), never have more than N TaskRuns of
 *     the function under way at once, by the fake Tekton's history; every call answers 200.
 *  2. a call through B waits while A's run holds the only slot (B watches the slot Leases and
 *     creates no TaskRun), runs once A's ends; B's line stays bounded (maxQueue 0: 429).
 *  3. lowering replicas: a slot above the new maximum is not claimed anymore.
 *  4. deleting the function deletes its slot Leases, held ones included.
 * Measured and reported (t.comment): Lease requests per run.
 */
import t from 'tap'
import type { Test } from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { RecordedRequest } from '../../fakes/kubernetes/server.ts'
import type { FunctionResult } from '../../fakes/kubernetes/tekton.ts'
import { api, fnSpec, NS, replicaApp, tektonApp, type TektonApp } from './helpers.ts'

const leasePath = /^\/apis\/coordination\.k8s\.io\/v1\/namespaces\/ci\/leases(\/[^/]+)?$/
const slotLeases = (a: TektonApp, fn: string): string[] =>
  a.fake.store.list('leases', NS).filter((l) => l.metadata.labels?.faas_function === fn).map((l) => l.metadata.name).sort()

/** Lease requests by kind: create, update, delete, list, watch, get */
function leaseRequests (requests: RecordedRequest[]): Record<string, number> {
  const out: Record<string, number> = { create: 0, update: 0, delete: 0, list: 0, watch: 0, get: 0 }
  for (const r of requests) {
    const m = leasePath.exec(r.path)
    if (m === null) continue
    const named = m[1] !== undefined
    const kind = r.method === 'POST' ? 'create' : r.method === 'PUT' ? 'update' : r.method === 'DELETE' ? 'delete'
      : named ? 'get' : /(^|&)watch=(true|1)/.test(r.query) ? 'watch' : 'list'
    out[kind] = (out[kind] ?? 0) + 1
  }
  return out
}

async function spread (t: Test, replicas: number, n: number): Promise<void> {
  const opts = { slotLeaseSeconds: 5, keepTaskRuns: 100 }
  const a = await tektonApp(t, { driver: opts })
  const urls = [a.url]
  for (let i = 1; i < replicas; i++) urls.push((await replicaApp(t, a, `r${i}`, opts)).url)
  // each run takes a little while, so the runs of one round overlap with the claims of the next
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { setTimeout(() => { resolve({ stdout: run.body }) }, 60) })
  t.equal((await api(a.url, 'POST', '/system/functions', fnSpec('fan', { labels: { 'com.openfaas.scale.min': String(n) } }))).status, 202)
  const calls = 4 * replicas
  const before = a.fake.requests.length
  // fired at once: every replica's first claims land in the same round trips
  const answers = await Promise.all(Array.from({ length: calls }, async (_v, i) => await api(urls[i % replicas] as string, 'POST', '/function/fan', `call ${i}`)))
  answers.forEach((r, i) => {
    t.equal(r.status, 200, `call ${i} answered 200`)
    t.equal(r.text, `call ${i}`)
  })
  t.equal(a.tekton.taskRuns(NS, 'fan').length, calls, 'one TaskRun per call')
  const peak = a.tekton.peakRunning(NS, 'fan')
  t.ok(peak <= n, `never more than ${n} TaskRuns under way at once (peak ${peak})`)
  t.ok(peak >= 1)
  await eventually(() => { check(slotLeases(a, 'fan').length === 0, `slot Leases left: ${slotLeases(a, 'fan').join(', ')}`) }, { timeoutMs: 10_000 })
  const reqs = leaseRequests(a.fake.requests.slice(before))
  const per = Object.entries(reqs).map(([k, v]) => `${k} ${(v / calls).toFixed(2)}`).join(', ')
  t.comment(`replicas=${replicas} N=${n}: ${calls} runs, Lease requests per run: ${per}`)
  t.equal(reqs.delete, calls, 'one delete per run: every slot was released')
}

for (const replicas of [2, 3]) {
  for (const n of [1, 2]) {
    t.test(`replicas = ${n} holds over ${replicas} provider replicas, calls fired at once`, async (t) => { await spread(t, replicas, n) })
  }
}

t.test('a call through B waits for A\'s run to release the only slot; B\'s line stays bounded', async (t) => {
  const a = await tektonApp(t, { driver: { maxQueue: 0 } })
  const b = await replicaApp(t, a, 'b', { maxQueue: 0 })
  const gates: Array<() => void> = []
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { gates.push(() => { resolve({ stdout: run.body }) }) })
  await api(a.url, 'POST', '/system/functions', fnSpec('one'))
  const first = api(a.url, 'POST', '/function/one', 'through A')
  await eventually(() => { check(gates.length === 1, `${gates.length} runs`) }, { timeoutMs: 5000 })
  t.same(slotLeases(a, 'one'), ['one-slot-0'], 'A holds slot 0')
  const watchesBefore = leaseRequests(a.fake.requests).watch
  const second = api(b.url, 'POST', '/function/one', 'through B')
  await eventually(() => {
    check(b.driver.limiter.usage(`${NS}/one`).running === 1, 'B holds its own slot')
    check(leaseRequests(a.fake.requests).watch > watchesBefore, 'B watches the slot Leases')
  }, { timeoutMs: 5000 })
  t.equal(a.tekton.taskRuns(NS, 'one').length, 1, 'no second TaskRun while A\'s run holds the slot')
  const third = await api(b.url, 'POST', '/function/one', 'refused')
  t.equal(third.status, 429, 'B\'s line is bounded: maxQueue 0 refuses the next call at once')
  gates[0]?.()
  t.equal((await first).text, 'through A')
  await eventually(() => { check(gates.length === 2, 'B\'s run started') }, { timeoutMs: 5000 })
  gates[1]?.()
  const got = await second
  t.equal(got.status, 200)
  t.equal(got.text, 'through B', 'B ran after A\'s run ended')
  t.equal(a.tekton.peakRunning(NS, 'one'), 1, 'never more than 1 run at once in the cluster')
})

t.test('lowering replicas: a slot above the new maximum is not claimed anymore', async (t) => {
  const a = await tektonApp(t)
  const b = await replicaApp(t, a, 'b')
  const gates = new Map<string, () => void>()
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { gates.set(run.body.toString(), () => { resolve({ stdout: run.body }) }) })
  await api(a.url, 'POST', '/system/functions', fnSpec('down', { labels: { 'com.openfaas.scale.min': '2' } }))
  const x = api(a.url, 'POST', '/function/down', 'x')
  await eventually(() => { check(gates.has('x'), 'x runs') }, { timeoutMs: 5000 })
  const y = api(b.url, 'POST', '/function/down', 'y')
  await eventually(() => { check(gates.has('y'), 'y runs') }, { timeoutMs: 5000 })
  t.same(slotLeases(a, 'down'), ['down-slot-0', 'down-slot-1'])
  t.equal((await api(a.url, 'POST', '/system/scale-function/down', { replicas: 1 })).status, 202)
  gates.get('y')?.()
  t.equal((await y).text, 'y')
  await eventually(() => { check(slotLeases(a, 'down').length === 1, 'y released slot 1') }, { timeoutMs: 5000 })
  const watchesBefore = leaseRequests(a.fake.requests).watch
  const z = api(b.url, 'POST', '/function/down', 'z')
  await eventually(() => { check(leaseRequests(a.fake.requests).watch > watchesBefore, 'z waits on the slot Leases') }, { timeoutMs: 5000 })
  t.same(slotLeases(a, 'down'), ['down-slot-0'], 'slot 1 is free, yet not claimed: the maximum is 1 now')
  t.equal(a.tekton.taskRuns(NS, 'down').length, 2, 'z has no TaskRun yet')
  gates.get('x')?.()
  t.equal((await x).text, 'x')
  await eventually(() => { check(gates.has('z'), 'z runs once x released slot 0') }, { timeoutMs: 5000 })
  t.same(slotLeases(a, 'down'), ['down-slot-0'], 'z holds slot 0')
  gates.get('z')?.()
  t.equal((await z).text, 'z')
})

t.test('deleting a function deletes its slot Leases, held ones included', async (t) => {
  const a = await tektonApp(t)
  let finishKept: (() => void) | undefined
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => {
    if (run.body.toString() === '3') finishKept = () => { resolve({ stdout: '3' }) }
  })
  await api(a.url, 'POST', '/system/functions', fnSpec('gone', { labels: { 'com.openfaas.scale.min': '2' } }))
  await api(a.url, 'POST', '/system/functions', fnSpec('kept'))
  const calls = [api(a.url, 'POST', '/function/gone', '1'), api(a.url, 'POST', '/function/gone', '2'), api(a.url, 'POST', '/function/kept', '3')]
  await eventually(() => { check(slotLeases(a, 'gone').length === 2 && slotLeases(a, 'kept').length === 1, 'slots held') }, { timeoutMs: 5000 })
  t.equal((await api(a.url, 'DELETE', '/system/functions', { functionName: 'gone' })).status, 202)
  t.same(slotLeases(a, 'gone'), [], 'the deleted function\'s slot Leases are gone')
  t.same(slotLeases(a, 'kept'), ['kept-slot-0'], 'another function\'s slot is untouched')
  const ended = await Promise.all(calls.slice(0, 2))
  for (const r of ended) t.equal(r.status, 500, 'its calls under way end with 500 (their TaskRuns were deleted)')
  t.same(slotLeases(a, 'gone'), [], 'and their releases did not bring a Lease back')
  finishKept?.()
  t.equal((await calls[2])?.text, '3')
  await eventually(() => { check(slotLeases(a, 'kept').length === 0, 'kept released its slot') }, { timeoutMs: 5000 })
})
