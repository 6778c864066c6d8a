/*
 * The kubernetes backend's informer caches, through the HTTP API over the real client and the
 * fake API server: in steady state invocations, list and status make no API-server request;
 * a dropped watch resumes from its resourceVersion (changes made meanwhile arrive, no re-list);
 * a compacted version (410 Gone) re-lists; a bookmark advances the version a reconnect resumes
 * from; a cache disconnected beyond its bound is not trusted (status reads the API, /metrics
 * says stale); the driver's own writes are read back even before the cache sees them.
 */
import t from 'tap'
import { DEPLOYMENTS, PODS } from '../../fakes/kubernetes/controller.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { apiCalls, cacheMetric, isWatch } from './cache-helpers.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'
import { podServers } from './pod-servers.ts'

/** the value of /metrics series `name` for this namespace's cache of `resource` (and `extra` label) */
async function metric (url: string, name: string, resource: string, extra = ''): Promise<number | undefined> {
  return await cacheMetric(url, name, resource, NS, extra)
}

async function ready (url: string, name: string, replicas = 1): Promise<void> {
  await eventually(async () => {
    check((await api(url, 'GET', `/system/function/${name}`)).json().availableReplicas === replicas, `${name} ready`)
  }, { timeoutMs: 10_000 })
}

async function synced (url: string, resource = 'deployments.apps'): Promise<void> {
  await eventually(async () => {
    check(await metric(url, 'faas_bridge_backend_cache_state', resource, 'state="synced"') === 1, `${resource} cache synced`)
  }, { timeoutMs: 10_000 })
}

t.test('steady state: invocations, list and status make no API-server request', async (t) => {
  const pods = await podServers(t, 2)
  const { url, fake } = await kubeApp(t, { driver: { invoke: 'endpoints' }, fake: { podIp: pods.ip } })
  t.equal((await api(url, 'POST', '/system/functions', figlet('echo'))).status, 202)
  await ready(url, 'echo')
  await synced(url, 'endpointslices.discovery.k8s.io')
  await eventually(async () => { check((await api(url, 'GET', '/function/echo')).status === 200, 'served') }, { timeoutMs: 10_000 })
  fake.requests.length = 0
  pods.hits.clear()
  const statuses = new Set<number>()
  for (let i = 0; i < 50; i++) statuses.add((await api(url, 'POST', '/function/echo', `call ${i}`)).status)
  t.same([...statuses], [200], 'every invocation answered 200')
  t.equal((await api(url, 'GET', '/system/functions')).json().length, 1)
  t.equal((await api(url, 'GET', '/system/function/echo')).json().availableReplicas, 1)
  t.same(apiCalls(fake), [], 'no API-server request for 50 invocations, a list and a status')
  t.equal(pods.hits.get(pods.ip(0)), 50, 'the pod answered them')
})

t.test('a dropped watch resumes from its resourceVersion; a compacted one re-lists', async (t) => {
  const { url, fake } = await kubeApp(t, { fake: { bookmarkIntervalMs: 0 } })
  await api(url, 'POST', '/system/functions', figlet('a'))
  await api(url, 'POST', '/system/functions', figlet('b'))
  await ready(url, 'a')
  await ready(url, 'b')
  await synced(url)
  t.equal(await metric(url, 'faas_bridge_backend_cache_relists_total', 'deployments.apps'), 1, 'one list at start')

  // dropped: a change made while the watch is down arrives when it resumes, without a LIST
  const watchesBefore = fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/deployments')).length
  fake.dropWatches()
  const dep = fake.store.get(DEPLOYMENTS, NS, 'a')
  fake.store.update(DEPLOYMENTS, 'deployments.apps', { ...dep, metadata: { ...dep?.metadata, labels: { ...dep?.metadata.labels }, resourceVersion: undefined }, spec: { ...dep?.spec, template: { ...dep?.spec.template, metadata: { ...dep?.spec.template.metadata, annotations: { changed: 'while-down' } } } } } as never)
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/a')).json().annotations?.changed === 'while-down', 'change seen')
  }, { timeoutMs: 10_000 })
  const resumed = fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/deployments')).slice(watchesBefore)
  t.ok(resumed.length >= 1, 'the watch was opened again')
  t.match(resumed[0]?.query, /resourceVersion=[1-9]/, 'from the last resourceVersion it had')
  t.match(resumed[0]?.query, /allowWatchBookmarks=true/, 'asking for bookmarks')
  t.equal(await metric(url, 'faas_bridge_backend_cache_relists_total', 'deployments.apps'), 1, 'no re-list')
  t.ok((await metric(url, 'faas_bridge_backend_cache_reconnects_total', 'deployments.apps') ?? 0) >= 1, 'a reconnect counted')

  // compacted: the version is gone (410), the informer lists again and drops what vanished
  fake.dropWatches()
  fake.store.delete(DEPLOYMENTS, 'deployments.apps', NS, 'b')
  fake.compactHistory()
  await eventually(async () => {
    check((await metric(url, 'faas_bridge_backend_cache_relists_total', 'deployments.apps') ?? 0) >= 2, 're-listed after 410')
  }, { timeoutMs: 10_000 })
  await synced(url)
  fake.requests.length = 0
  const names = (await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name)
  t.same(names, ['a'], 'the function deleted while the watch was down is gone from the cache')
  t.same(apiCalls(fake).filter((r) => r.path.includes('/deployments')), [], 'answered from the cache')
})

t.test('a bookmark advances the version a reconnect resumes from', async (t) => {
  const { url, fake } = await kubeApp(t, { fake: { bookmarkIntervalMs: 0 } })
  await api(url, 'POST', '/system/functions', figlet('a'))
  await ready(url, 'a')
  await synced(url)
  // changes the deployment watch does not select (other resources) move the revision on
  for (let i = 0; i < 5; i++) fake.store.create('configmaps', 'configmaps', { metadata: { name: `cm${i}`, namespace: NS }, data: {} })
  const before = fake.store.resourceVersion
  fake.bookmark()
  await eventually(async () => {
    check((await metric(url, 'faas_bridge_backend_cache_bookmarks_total', 'deployments.apps') ?? 0) >= 1, 'bookmark received')
  }, { timeoutMs: 10_000 })
  const watchesBefore = fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/deployments')).length
  fake.compactHistory()
  fake.dropWatches()
  await eventually(async () => {
    check(fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/deployments')).length > watchesBefore, 'reconnected')
  }, { timeoutMs: 10_000 })
  const resumed = fake.requests.filter((r) => isWatch(r) && r.path.endsWith('/deployments')).slice(watchesBefore)
  const from = Number(new URLSearchParams(resumed[0]?.query).get('resourceVersion'))
  t.ok(from >= Number(before), `resumed from the bookmark's resourceVersion (${from} >= ${before}), past the deployments' own last version`)
  await synced(url)
  t.equal(await metric(url, 'faas_bridge_backend_cache_relists_total', 'deployments.apps'), 1, 'so the compaction cost no re-list')
})

t.test('a cache disconnected beyond its bound is not trusted: status reads the API', async (t) => {
  // the caches' clock is the test's and stands still: the bound passes when the test moves it
  let now = Date.now()
  const { url, fake } = await kubeApp(t, { clock: () => now })
  const BOUND = 10_000 // the default cacheStaleAfterMs
  await api(url, 'POST', '/system/functions', figlet('a'))
  await ready(url, 'a')
  await synced(url)
  // the watch cannot come back
  fake.fault({ kind: 'status', status: 500, match: isWatch })
  const reconnects = await metric(url, 'faas_bridge_backend_cache_reconnects_total', 'deployments.apps') ?? 0
  fake.dropWatches()
  // a reconnect attempt is counted after the informer has noted when its watch broke
  await eventually(async () => {
    check((await metric(url, 'faas_bridge_backend_cache_reconnects_total', 'deployments.apps') ?? 0) > reconnects, 'the informer saw the watch break')
  }, { timeoutMs: 10_000 })
  // the cluster changes behind the cache's back
  const dep = fake.store.get(DEPLOYMENTS, NS, 'a')
  fake.store.update(DEPLOYMENTS, 'deployments.apps', { ...dep, metadata: { ...dep?.metadata, resourceVersion: undefined }, spec: { ...dep?.spec, replicas: 0 } } as never)

  fake.requests.length = 0
  now += BOUND
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 1, 'at the bound the cache still answers')
  t.same(apiCalls(fake).filter((r) => r.path.includes('/deployments')), [], 'without asking the API')
  t.equal(await metric(url, 'faas_bridge_backend_cache_state', 'deployments.apps', 'state="synced"'), 1, 'synced in /metrics')

  now += 1 // past the bound
  t.equal(await metric(url, 'faas_bridge_backend_cache_state', 'deployments.apps', 'state="stale"'), 1, 'stale in /metrics')
  const s = (await api(url, 'GET', '/system/function/a')).json()
  t.equal(s.replicas, 0, 'the cluster\'s truth, not the cache\'s')
  t.ok(apiCalls(fake).some((r) => r.method === 'GET' && r.path.endsWith('/deployments/a')), 'read from the API')
  t.ok((await metric(url, 'faas_bridge_backend_cache_fallbacks_total', 'deployments.apps') ?? 0) >= 1, 'the fallback is counted')
  fake.clearFaults()
  await synced(url)
  t.equal((await api(url, 'GET', '/system/function/a')).json().replicas, 0, 'the cache caught up once the watch came back')
})

t.test('read your writes: deploy, scale and delete are read back before the cache sees them', async (t) => {
  const { url, fake } = await kubeApp(t, { driver: { cacheStaleAfterMs: 60_000 } })
  await synced(url)
  // the watch breaks and stays down, but within the bound: the cache is still trusted in general
  fake.fault({ kind: 'status', status: 500, match: isWatch })
  fake.dropWatches()
  t.equal((await api(url, 'POST', '/system/functions', figlet('fresh'))).status, 202)
  const s = await api(url, 'GET', '/system/function/fresh')
  t.equal(s.status, 200, 'status right after deploy is not a 404')
  t.same((await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name), ['fresh'], 'list includes it')
  t.equal((await api(url, 'POST', '/system/scale-function/fresh', { serviceName: 'fresh', replicas: 3 })).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).json().replicas, 3, 'status right after scale shows the new count')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'fresh' })).status, 202)
  t.equal((await api(url, 'GET', '/system/function/fresh')).status, 404, 'status right after delete is 404')
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'list right after delete is empty')
})

t.test('the list from the caches follows every change and says what status says', async (t) => {
  const { url, fake } = await kubeApp(t)
  for (const name of ['c', 'a']) t.equal((await api(url, 'POST', '/system/functions', figlet(name))).status, 202)
  await ready(url, 'a')
  await ready(url, 'c')
  await synced(url)
  await synced(url, 'pods')
  const listed = async (): Promise<Array<Record<string, any>>> => (await api(url, 'GET', '/system/functions')).json()
  /** every listed function equals its own status (mapped per call, not kept) */
  const agreesWithStatus = async (): Promise<void> => {
    for (const f of await listed()) check(JSON.stringify(f) === (await api(url, 'GET', `/system/function/${f.name as string}`)).text, `${f.name as string} listed as its status says`)
  }
  fake.requests.length = 0
  t.same((await listed()).map((f) => f.name), ['a', 'c'])
  t.same(await listed(), await listed(), 'asked again, the same answer')
  t.same(apiCalls(fake), [], 'from the caches')

  t.equal((await api(url, 'POST', '/system/functions', figlet('b'))).status, 202)
  await eventually(async () => {
    check((await listed()).map((f) => f.name).join() === 'a,b,c', 'a new function, in order')
  }, { timeoutMs: 10_000 })

  t.equal((await api(url, 'POST', '/system/scale-function/c', { serviceName: 'c', replicas: 2 })).status, 202)
  await eventually(async () => {
    const c = (await listed()).find((f) => f.name === 'c')
    check(c?.replicas === 2 && c.availableReplicas === 2, 'the scale and the new pod')
    check(/, /.test(String(c?.annotations?.['faas-bridge.dev/pods'])), 'both pods named')
    await agreesWithStatus()
  }, { timeoutMs: 10_000 })

  // a change of a pod alone (its container restarted), the Deployment untouched
  const pod = fake.pods(NS, 'a')[0]
  if (pod === undefined) throw new Error('no pod')
  fake.store.update(PODS, 'pods', {
    ...pod,
    metadata: { ...pod.metadata, resourceVersion: undefined },
    status: { ...pod.status, containerStatuses: pod.status.containerStatuses.map((c: Record<string, unknown>) => ({ ...c, restartCount: 3 })) }
  }, true)
  await eventually(async () => {
    check((await listed()).find((f) => f.name === 'a')?.annotations?.['faas-bridge.dev/restarts'] === '3', 'the restarts')
    await agreesWithStatus()
  }, { timeoutMs: 10_000 })

  t.equal((await api(url, 'PUT', '/system/functions', figlet('a', { labels: { tier: 'gold' } }))).status, 202)
  await eventually(async () => {
    check((await listed()).find((f) => f.name === 'a')?.labels?.tier === 'gold', 'the update')
    await agreesWithStatus()
  }, { timeoutMs: 10_000 })

  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'b' })).status, 202)
  await eventually(async () => {
    check((await listed()).map((f) => f.name).join() === 'a,c', 'the removed one is gone')
    await agreesWithStatus()
  }, { timeoutMs: 10_000 })
  t.equal((await api(url, 'GET', '/system/functions')).headers.get('content-type'), 'application/json; charset=utf-8')
})
