/*
 * The tekton backend's informer caches, through the HTTP API over the real client and the fake
 * API server: once synced, list and status read no Task from the API and calls neither read
 * their Task nor open a watch of their own TaskRun (the TaskRun informer's events end them);
 * a Task changed or removed behind the provider's back shows after the watch event; a dropped
 * watch resumes, a compacted one (410 Gone) re-lists and the cache follows; a cache stale
 * beyond its bound is not trusted (status reads the API, calls watch their own run, /metrics
 * says stale and counts the fallbacks).
 */
import t from 'tap'
import { ANNOTATIONS } from '../../../providers/tekton/mapping.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { TASKS, type FakeKubernetes, type RecordedRequest } from '../../fakes/kubernetes/server.ts'
import { apiCalls, cacheMetric, isWatch } from '../kubernetes/cache-helpers.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

const TASKS_RES = 'tasks.tekton.dev'
const RUNS_RES = 'taskruns.tekton.dev'
const BOUND = 10_000 // the default cacheStaleAfterMs

async function metric (url: string, name: string, resource: string, extra = ''): Promise<number | undefined> {
  return await cacheMetric(url, name, resource, NS, extra)
}

async function synced (url: string, resource: string): Promise<void> {
  await eventually(async () => {
    check(await metric(url, 'faas_bridge_backend_cache_state', resource, 'state="synced"') === 1, `${resource} cache synced`)
  }, { timeoutMs: 10_000 })
}

/** deployed, and the Task cache answers for it (it has seen the deploy) */
async function deployed (url: string, fake: FakeKubernetes, name: string): Promise<void> {
  const r = await api(url, 'POST', '/system/functions', fnSpec(name))
  if (r.status !== 202) throw new Error(`deploy ${name}: ${r.status} ${r.text}`)
  await synced(url, TASKS_RES)
  await synced(url, RUNS_RES)
  await eventually(async () => {
    fake.requests.length = 0
    check((await api(url, 'GET', `/system/function/${name}`)).status === 200, 'status')
    check(apiCalls(fake).length === 0, 'answered from the cache')
  }, { timeoutMs: 10_000 })
}

/** a watch of one TaskRun (fieldSelector metadata.name=…), what a call opens without the cache */
const perRunWatch = (r: RecordedRequest): boolean => isWatch(r) && r.path.endsWith('/taskruns') && r.query.includes('fieldSelector')
/** the informers' watches (label-selected) */
const informerWatch = (r: RecordedRequest): boolean => isWatch(r) && r.query.includes('labelSelector')
const taskReads = (fake: FakeKubernetes): RecordedRequest[] => apiCalls(fake).filter((r) => r.method === 'GET' && /\/tasks(\/|$)/.test(r.path))

/** a Task changed in the store directly, as another client would */
function changeTask (fake: FakeKubernetes, name: string, annotations: Record<string, string>): void {
  const task = fake.store.get(TASKS, NS, name)
  if (task === undefined) throw new Error(`no Task ${name}`)
  fake.store.update(TASKS, TASKS_RES, { ...task, metadata: { ...task.metadata, resourceVersion: undefined, annotations: { ...task.metadata.annotations, ...annotations } } } as never)
}

t.test('steady state: list and status read no Task from the API; calls neither read their Task nor watch their run', async (t) => {
  const { url, fake } = await tektonApp(t)
  await deployed(url, fake, 'echo')
  fake.requests.length = 0
  for (let i = 0; i < 10; i++) {
    t.equal((await api(url, 'GET', '/system/functions')).json().length, 1)
    t.equal((await api(url, 'GET', '/system/function/echo')).json().replicas, 1)
  }
  t.same(apiCalls(fake), [], 'no API-server request for 10 lists and 10 statuses')
  const bodies = new Set<string>()
  for (let i = 0; i < 10; i++) {
    const r = await api(url, 'POST', '/function/echo', `call ${i}`)
    t.equal(r.status, 200)
    bodies.add(r.text)
  }
  t.equal(bodies.size, 10, 'each call answered with its own body')
  t.same(taskReads(fake), [], 'no call read its Task from the API')
  t.same(fake.requests.filter(isWatch), [], 'no call opened a watch: their ends came from the TaskRun informer')
  t.same(apiCalls(fake).filter((r) => r.method === 'GET' && /\/taskruns\/[^/]+$/.test(r.path)), [], 'nor read its TaskRun')
  t.equal(await metric(url, 'faas_bridge_backend_cache_fallbacks_total', TASKS_RES), 0, 'no Task read fell back to the API')
  t.equal(await metric(url, 'faas_bridge_backend_cache_fallbacks_total', RUNS_RES), 0, 'no call fell back to its own watch')
})

t.test('a Task changed or removed behind the provider\'s back shows after the watch event', async (t) => {
  const { url, fake } = await tektonApp(t)
  await deployed(url, fake, 'a')
  await deployed(url, fake, 'b')
  changeTask(fake, 'a', { [ANNOTATIONS.maxConcurrency]: '4' })
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/a')).json().replicas === 4, 'status shows the change')
    check((await api(url, 'GET', '/system/functions')).json().find((f: { name: string }) => f.name === 'a')?.replicas === 4, 'list too')
  }, { timeoutMs: 10_000 })
  fake.store.delete(TASKS, TASKS_RES, NS, 'b')
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/b')).status === 404, 'status: gone')
    check((await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name).join() === 'a', 'list: gone')
  }, { timeoutMs: 10_000 })
  fake.requests.length = 0
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 4)
  t.equal((await api(url, 'GET', '/system/function/b')).status, 404)
  t.equal((await api(url, 'POST', '/system/scale-function/b', { replicas: 1 })).status, 404, 'nor can it be scaled')
  t.same(taskReads(fake), [], 'all answered from the cache')
})

t.test('a dropped watch resumes from its resourceVersion; a compacted one re-lists and the cache follows', async (t) => {
  const { url, fake } = await tektonApp(t, { fake: { bookmarkIntervalMs: 0 } })
  await deployed(url, fake, 'a')
  await deployed(url, fake, 'b')
  t.equal(await metric(url, 'faas_bridge_backend_cache_relists_total', TASKS_RES), 1, 'one list at start')
  const taskWatches = (): RecordedRequest[] => fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/tasks'))
  const before = taskWatches().length
  fake.dropWatches()
  changeTask(fake, 'a', { [ANNOTATIONS.maxConcurrency]: '3' })
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/a')).json().replicas === 3, 'the change made while it was down')
  }, { timeoutMs: 10_000 })
  const resumed = taskWatches().slice(before)
  t.ok(resumed.length >= 1, 'the watch was opened again')
  t.match(resumed[0]?.query, /resourceVersion=[1-9]/, 'from the last resourceVersion it had')
  t.equal(await metric(url, 'faas_bridge_backend_cache_relists_total', TASKS_RES), 1, 'no re-list')
  t.ok((await metric(url, 'faas_bridge_backend_cache_reconnects_total', TASKS_RES) ?? 0) >= 1, 'a reconnect counted')

  // compacted: the version is gone (410), the informer lists again and drops what vanished
  fake.dropWatches()
  fake.store.delete(TASKS, TASKS_RES, NS, 'b')
  fake.compactHistory()
  await eventually(async () => {
    check((await metric(url, 'faas_bridge_backend_cache_relists_total', TASKS_RES) ?? 0) >= 2, 're-listed after 410')
  }, { timeoutMs: 10_000 })
  await synced(url, TASKS_RES)
  fake.requests.length = 0
  t.same((await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name), ['a'], 'the Task deleted while the watch was down is gone')
  t.equal((await api(url, 'GET', '/system/function/b')).status, 404)
  t.same(taskReads(fake), [], 'answered from the cache')
})

t.test('a cache stale beyond its bound is not trusted: status reads the API, calls watch their own run', async (t) => {
  // the caches' clock is the test's and stands still: the bound passes when the test moves it
  let now = Date.now()
  const { url, fake, tekton } = await tektonApp(t, { clock: () => now })
  await deployed(url, fake, 'a')
  await eventually(async () => { check((await api(url, 'POST', '/function/a', 'warm')).status === 200, 'served') }, { timeoutMs: 10_000 })
  // the informers' watches cannot come back (a call's own watch of its run still can)
  fake.fault({ kind: 'status', status: 500, match: informerWatch })
  const reconnects = async (): Promise<number> => (await metric(url, 'faas_bridge_backend_cache_reconnects_total', TASKS_RES) ?? 0) + (await metric(url, 'faas_bridge_backend_cache_reconnects_total', RUNS_RES) ?? 0)
  const before = await reconnects()
  fake.dropWatches()
  await eventually(async () => { check(await reconnects() >= before + 2, 'both informers saw their watch break') }, { timeoutMs: 10_000 })
  changeTask(fake, 'a', { [ANNOTATIONS.maxConcurrency]: '5' })

  // a call under way when the bound passes is handed over to a watch of its own run
  let release: (() => void) | undefined
  const gate = new Promise<void>((resolve) => { release = resolve })
  tekton.handler = async (run) => { await gate; return { stdout: run.body } }
  const call = api(url, 'POST', '/function/a', 'held')
  await eventually(() => { check(tekton.taskRuns(NS, 'a').some((r) => r.status?.podName !== undefined && r.status?.completionTime === undefined), 'the held run is running') }, { timeoutMs: 10_000 })

  fake.requests.length = 0
  now += BOUND
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 1, 'at the bound the cache still answers')
  t.same(taskReads(fake), [], 'without asking the API')
  t.equal(await metric(url, 'faas_bridge_backend_cache_state', TASKS_RES, 'state="synced"'), 1, 'synced in /metrics')

  now += 1 // past the bound
  t.equal(await metric(url, 'faas_bridge_backend_cache_state', TASKS_RES, 'state="stale"'), 1, 'Tasks stale in /metrics')
  t.equal(await metric(url, 'faas_bridge_backend_cache_state', RUNS_RES, 'state="stale"'), 1, 'TaskRuns stale in /metrics')
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 5, 'the cluster\'s truth, not the cache\'s')
  t.ok(taskReads(fake).some((r) => r.path.endsWith('/tasks/a')), 'read from the API')
  t.ok((await metric(url, 'faas_bridge_backend_cache_fallbacks_total', TASKS_RES) ?? 0) >= 1, 'the fallback is counted')
  await eventually(() => { check(fake.requests.some(perRunWatch), 'the held call watches its own run') }, { timeoutMs: 10_000 })
  release?.()
  const held = await call
  t.equal(held.status, 200, 'and is answered')
  t.equal(held.text, 'held')
  tekton.handler = (run) => ({ stdout: run.body })
  const next = await api(url, 'POST', '/function/a', 'while stale')
  t.equal(next.status, 200, 'a new call while stale is answered through its own watch')
  t.equal(next.text, 'while stale')
  t.ok((await metric(url, 'faas_bridge_backend_cache_fallbacks_total', RUNS_RES) ?? 0) >= 2, 'both calls counted as TaskRun cache fallbacks')

  fake.clearFaults()
  await synced(url, TASKS_RES)
  await synced(url, RUNS_RES)
  fake.requests.length = 0
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 5, 'the cache caught up once the watch came back')
  t.same(taskReads(fake), [], 'and answers again')
})

t.test('read your writes: deploy, scale and delete are read back before the cache sees them', async (t) => {
  const { url, fake } = await tektonApp(t, { driver: { cacheStaleAfterMs: 60_000 } })
  await synced(url, TASKS_RES)
  // the watch breaks and stays down, but within the bound: the cache is still trusted in general
  fake.fault({ kind: 'status', status: 500, match: isWatch })
  fake.dropWatches()
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('fresh'))).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).status, 200, 'status right after deploy is not a 404')
  t.same((await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name), ['fresh'], 'list includes it')
  t.equal((await api(url, 'POST', '/system/scale-function/fresh', { replicas: 3 })).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).json().replicas, 3, 'status right after scale shows the new count')
  t.equal((await api(url, 'PUT', '/system/functions', fnSpec('fresh', { labels: { tier: 'gold' } }))).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).json().labels?.tier, 'gold', 'status right after update shows it')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'fresh' })).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).status, 404, 'status right after delete is 404')
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'list right after delete is empty')
})
