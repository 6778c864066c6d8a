/*
 * The Function custom resource source: OpenFaaS `Function` resources (openfaas.com/v1) in the fake
 * API server, read with the real @kubernetes/client-node, reconciled onto the real local backend
 * and observed through the HTTP API, with status written back to the resources. Passes are run by
 * hand (pass()) with an injected clock; one test lets the watch drive the pass.
 */
import t, { type Test } from 'tap'
import { kube } from '../helpers/function-resources.ts'
import { localApp } from '../helpers/local-app.ts'
import { Reconciler, type ReconcilerOptions } from '../../src/reconcile/reconciler.ts'
import { SOURCE_ANNOTATION } from '../../src/reconcile/desired.ts'
import { NAMESPACE_ANNOTATION } from '../../src/reconcile/function-resource.ts'
import { FUNCTION_FINALIZER, FUNCTION_RESOURCE_PERMISSIONS } from '../../providers/kubernetes/common/function-resources.ts'
import type { FunctionStatus } from '../../src/core/types.ts'

async function setup (t: Test, opts: { namespaces?: string[], map?: Record<string, string>, reconciler?: Partial<ReconcilerOptions> } = {}) {
  const k = await kube(t)
  const local = await localApp(t)
  let clock = 1_000_000
  const reconciler = new Reconciler({
    backends: local.backends,
    sources: [k.source(opts.namespaces ?? ['openfaas-fn', 'team-a'], opts.map ?? { 'team-a': 'staging-fn' })],
    resyncMs: 60_000,
    logger: { info: () => {}, warn: () => {} },
    now: () => clock,
    sleep: async (ms) => { clock += ms },
    ...opts.reconciler
  })
  t.teardown(async () => { await reconciler.stop() })
  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number, text: string }> => {
    const res = await fetch(local.url + p, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    return { status: res.status, text: await res.text() }
  }
  const fn = async (name: string, ns = 'openfaas-fn'): Promise<FunctionStatus | undefined> =>
    (JSON.parse((await api('GET', `/system/functions?namespace=${ns}`)).text) as FunctionStatus[]).find((f) => f.name === name)
  const condition = async (ns: string, name: string, type: string): Promise<Record<string, unknown> | undefined> =>
    (await k.get(ns, name))?.status?.conditions?.find((c) => c.type === type) as Record<string, unknown> | undefined
  return { ...k, local, reconciler, api, fn, condition, advance: (ms: number) => { clock += ms } }
}

const ECHO = { name: 'echo', image: 'ghcr.io/acme/echo:1', handler: 'cat', environment: { GREETING: 'hello' }, labels: { team: 'core' }, limits: { memory: '128Mi' } }

t.test('a Function resource is deployed, gets the finalizer, and its status becomes Ready', async (t) => {
  const s = await setup(t)
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.reconciler.pass()
  const echo = await s.fn('echo')
  t.equal(echo?.image, 'ghcr.io/acme/echo:1')
  t.equal(echo?.envProcess, 'cat', 'handler is the fprocess')
  t.same(echo?.envVars, { GREETING: 'hello' })
  t.equal(echo?.annotations?.[SOURCE_ANNOTATION], 'functions.openfaas.com')
  const res = await fetch(`${s.local.url}/function/echo`, { method: 'POST', body: 'hi' })
  t.equal(await res.text(), 'hi', 'the function answers')
  const cr = await s.get('openfaas-fn', 'echo')
  t.same(cr?.metadata?.finalizers, [FUNCTION_FINALIZER])
  t.match(await s.condition('openfaas-fn', 'echo', 'Reconciling'), { status: 'True', reason: 'Created', observedGeneration: 1 })
  t.match(await s.condition('openfaas-fn', 'echo', 'Ready'), { status: 'False' })

  await s.reconciler.pass()
  const after = await s.get('openfaas-fn', 'echo')
  t.equal(after?.status?.observedGeneration, 1)
  t.equal(after?.status?.replicas, 1, 'replicas as the backend reports them')
  t.match(after?.status?.conditions?.find((c) => c.type === 'Ready'), { status: 'True', reason: 'InSync', lastTransitionTime: '2026-01-02T03:04:05Z', observedGeneration: 1 })
  t.match(after?.status?.conditions?.find((c) => c.type === 'Failed'), { status: 'False' })
  t.equal(after?.metadata?.generation, 1, 'status writes go to the status subresource: the generation stays')

  // nothing changed: no further writes to the resource
  const writes = s.fake.requestsTo(/^PATCH .*functions/).length
  await s.reconciler.pass()
  t.equal(s.fake.requestsTo(/^PATCH .*functions/).length, writes, 'an unchanged status is not written again')
})

t.test('the namespace mapping and the annotation choose the faas-bridge namespace', async (t) => {
  const s = await setup(t)
  await s.apply('team-a', 'upper', { name: 'upper', image: 'ghcr.io/acme/upper:1', handler: 'tr a-z A-Z' })
  await s.apply('openfaas-fn', 'moved', { name: 'moved', image: 'ghcr.io/acme/echo:1', handler: 'cat' }, { [NAMESPACE_ANNOTATION]: 'staging-fn' })
  await s.apply('openfaas-fn', 'lost', { name: 'lost', image: 'ghcr.io/acme/echo:1' }, { [NAMESPACE_ANNOTATION]: 'nowhere' })
  await s.reconciler.pass()
  t.equal((await s.fn('upper', 'staging-fn'))?.image, 'ghcr.io/acme/upper:1', 'team-a maps to staging-fn')
  t.ok(await s.fn('moved', 'staging-fn'), 'the annotation wins')
  t.equal(await s.fn('moved'), undefined)
  t.match(await s.condition('openfaas-fn', 'lost', 'Failed'), { status: 'True', reason: 'UnknownNamespace', message: /namespace "nowhere" is not served/ })
})

t.test('an edit of the resource updates the function; drift through the API is corrected', async (t) => {
  const s = await setup(t)
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.reconciler.pass()
  await s.apply('openfaas-fn', 'echo', { ...ECHO, image: 'ghcr.io/acme/echo:2', environment: { GREETING: 'bonjour' } })
  await s.reconciler.pass()
  t.equal((await s.fn('echo'))?.image, 'ghcr.io/acme/echo:2')
  t.same((await s.fn('echo'))?.envVars, { GREETING: 'bonjour' })
  t.match(await s.condition('openfaas-fn', 'echo', 'Reconciling'), { status: 'True', reason: 'Updated', observedGeneration: 2 })
  await s.reconciler.pass()
  t.match(await s.condition('openfaas-fn', 'echo', 'Ready'), { status: 'True', observedGeneration: 2 })
  t.equal((await s.get('openfaas-fn', 'echo'))?.status?.observedGeneration, 2)

  // a faas-cli deploy through the API
  const put = await s.api('PUT', '/system/functions', { service: 'echo', image: 'ghcr.io/acme/echo:hotfix', envProcess: 'cat' })
  t.equal(put.status, 202)
  await s.reconciler.pass()
  t.equal((await s.fn('echo'))?.image, 'ghcr.io/acme/echo:2', 'drift corrected')
  t.match(await s.condition('openfaas-fn', 'echo', 'Reconciling'), { reason: 'Updated', message: /image/ })
})

t.test('deleting the resource removes the function, then the finalizer, then the resource is gone', async (t) => {
  const s = await setup(t)
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.reconciler.pass()
  const del = await s.kubectl('DELETE', '/apis/openfaas.com/v1/namespaces/openfaas-fn/functions/echo')
  t.equal(del.status, 200)
  const marked = await s.get('openfaas-fn', 'echo')
  t.ok(marked?.metadata?.deletionTimestamp, 'the finalizer holds the resource')
  t.ok(await s.fn('echo'), 'still deployed until a pass')
  await s.reconciler.pass()
  t.equal(await s.fn('echo'), undefined, 'removed from the backend')
  t.equal(await s.get('openfaas-fn', 'echo'), undefined, 'the finalizer was removed and the resource went')
  t.same(s.reconciler.report()[0]?.functions.map((f) => `${f.name}:${f.state}`), ['echo:removed'])
})

t.test('a bad spec is reported on its resource; the others are deployed', async (t) => {
  const s = await setup(t)
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.apply('openfaas-fn', 'bad', { name: 'bad', image: 'ghcr.io/acme/echo:1', labels: { 'com.openfaas.scale.min': 'many' } })
  await s.apply('openfaas-fn', 'odd', { name: 'odd', image: 'ghcr.io/acme/echo:1', readOnlyRootFilesystem: 'yes' })
  await s.reconciler.pass()
  t.ok(await s.fn('echo'), 'the good one is deployed')
  t.equal(await s.fn('bad'), undefined)
  t.match(await s.condition('openfaas-fn', 'bad', 'Failed'), { status: 'True', reason: 'InvalidSpec', message: /Function openfaas-fn\/bad: .*com\.openfaas\.scale\.min/ })
  t.match(await s.condition('openfaas-fn', 'odd', 'Failed'), { status: 'True', reason: 'InvalidSpec', message: 'Function openfaas-fn/odd: spec.readOnlyRootFilesystem: expected true or false' })
  t.match(await s.condition('openfaas-fn', 'bad', 'Ready'), { status: 'False' })
  t.same(s.reconciler.report()[0]?.problems.map((p) => p.where).sort(), ['Function openfaas-fn/bad', 'Function openfaas-fn/odd'])

  // fixed: deployed on the next pass; a bad resource deleted goes at once (nothing of it was deployed)
  await s.apply('openfaas-fn', 'bad', { name: 'bad', image: 'ghcr.io/acme/echo:1', handler: 'cat', labels: { 'com.openfaas.scale.min': '1' } })
  await s.kubectl('DELETE', '/apis/openfaas.com/v1/namespaces/openfaas-fn/functions/odd')
  await s.reconciler.pass()
  t.ok(await s.fn('bad'))
  t.match(await s.condition('openfaas-fn', 'bad', 'Failed'), { status: 'False' })
  t.equal(await s.get('openfaas-fn', 'odd'), undefined)
})

t.test('a function the reconciler did not create is never touched, even when its resource is deleted', async (t) => {
  const s = await setup(t)
  t.equal((await s.api('POST', '/system/functions', { service: 'mine', image: 'ghcr.io/acme/mine:1', envProcess: 'cat' })).status, 202)
  await s.apply('openfaas-fn', 'mine', { name: 'mine', image: 'ghcr.io/acme/other:1' })
  await s.reconciler.pass()
  t.equal((await s.fn('mine'))?.image, 'ghcr.io/acme/mine:1')
  t.match(await s.condition('openfaas-fn', 'mine', 'Failed'), { status: 'True', reason: 'Conflict', message: /not deployed by functions\.openfaas\.com/ })
  await s.kubectl('DELETE', '/apis/openfaas.com/v1/namespaces/openfaas-fn/functions/mine')
  await s.reconciler.pass()
  t.equal((await s.fn('mine'))?.image, 'ghcr.io/acme/mine:1', 'left in place')
  t.equal(await s.get('openfaas-fn', 'mine'), undefined, 'the resource was released')
})

t.test('a backend failure is a Failed condition with the reason, retried with backoff', async (t) => {
  const s = await setup(t, { reconciler: { backoffBaseMs: 10_000 } })
  // the secret does not exist: the local backend refuses the deploy
  await s.apply('openfaas-fn', 'needs', { name: 'needs', image: 'ghcr.io/acme/echo:1', handler: 'cat', secrets: ['api-key'] })
  await s.reconciler.pass()
  t.match(await s.condition('openfaas-fn', 'needs', 'Failed'), { status: 'True', reason: 'BackendError', message: /^create failed: .*api-key.* \(attempt 1\)$/ })
  t.equal(await s.fn('needs'), undefined)
  t.equal((await s.api('POST', '/system/secrets', { name: 'api-key', value: 's3cret' })).status, 202)
  await s.reconciler.pass()
  t.equal(await s.fn('needs'), undefined, 'not retried before the backoff')
  s.advance(10_000)
  await s.reconciler.pass()
  t.ok(await s.fn('needs'), 'retried after it')
  t.notMatch(JSON.stringify(await s.get('openfaas-fn', 'needs')), /s3cret/)
})

t.test('a change to a resource triggers a pass through the watch', async (t) => {
  const s = await setup(t, { reconciler: { now: Date.now, sleep: undefined } })
  s.reconciler.start()
  await s.apply('openfaas-fn', 'echo', ECHO)
  let found: FunctionStatus | undefined
  // generous bound: the watch event arrives within milliseconds; the resync is a minute away
  for (let i = 0; i < 300 && found === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    found = await s.fn('echo')
  }
  t.equal(found?.image, 'ghcr.io/acme/echo:1')
  // the status write's own event leads to a confirming pass: Ready without waiting for the resync
  let ready: Record<string, unknown> | undefined
  for (let i = 0; i < 300 && ready?.status !== 'True'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    ready = await s.condition('openfaas-fn', 'echo', 'Ready')
  }
  t.match(ready, { status: 'True' })

  await s.kubectl('DELETE', '/apis/openfaas.com/v1/namespaces/openfaas-fn/functions/echo')
  for (let i = 0; i < 300 && await s.get('openfaas-fn', 'echo') !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(await s.get('openfaas-fn', 'echo'), undefined, 'the deletion is applied through the watch too')
  t.equal(await s.fn('echo'), undefined)

  // every call the source made (kubectl()'s carry ?pretty=true) is one the chart's RBAC grants
  const verbOf = (r: { method: string, query: string }): string =>
    r.method === 'GET' ? (/[?&]watch=(true|1)/.test(r.query) ? 'watch' : 'LIST_OR_GET') : r.method === 'PATCH' ? 'patch' : r.method === 'PUT' ? 'update' : r.method.toLowerCase()
  const used = new Set<string>()
  for (const r of s.fake.requests.filter((r) => r.path.includes('/functions') && !r.query.includes('pretty=true'))) {
    const sub = /\/functions\/[^/]+\/status$/.test(r.path) ? 'functions/status' : 'functions'
    let verb = verbOf(r)
    if (verb === 'LIST_OR_GET') verb = /\/functions$/.test(r.path) ? 'list' : 'get'
    used.add(`${sub} ${verb}`)
  }
  const granted = new Set(FUNCTION_RESOURCE_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${p.resource} ${v}`)))
  t.same([...used].sort(), [...granted].sort(), 'the source uses exactly FUNCTION_RESOURCE_PERMISSIONS (what the chart grants)')
})

t.test('without the CRD installed: the pass reports it and the watch logs it', async (t) => {
  const k = await kube(t, ['openfaas-fn'], false)
  const source = k.source(['openfaas-fn'])
  const desired = await source.read()
  t.equal(desired.complete, false)
  t.match(desired.problems, [{ where: 'namespace openfaas-fn', message: /Function resources in namespace "openfaas-fn": cannot list: .*404|not find/ }])
  const reconciler = new Reconciler({ backends: (await localApp(t)).backends, sources: [source], resyncMs: 60_000, logger: { info: () => {}, warn: () => {} } })
  await reconciler.pass()
  t.equal(reconciler.report()[0]?.problems.length, 1, 'reported (log, /metrics)')
  const stop = source.watch?.(() => {})
  t.teardown(() => { stop?.() })
  for (let i = 0; i < 300 && k.warnings.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.same(k.warnings.slice(0, 1), ['reconcile: Function watch failed; re-opening'])
})

t.test('a status that cannot be written is logged; the function is reconciled all the same', async (t) => {
  const s = await setup(t)
  s.fake.deny('patch', 'functions/status')
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.reconciler.pass()
  t.equal((await s.fn('echo'))?.image, 'ghcr.io/acme/echo:1')
  t.ok(s.warnings.includes('reconcile: cannot write the status'))
  t.equal((await s.get('openfaas-fn', 'echo'))?.status, undefined)
  s.fake.allow('patch', 'functions/status')
  await s.reconciler.pass()
  t.match(await s.condition('openfaas-fn', 'echo', 'Ready'), { status: 'True' }, 'written once allowed')
})

t.test('a replica that does not lead neither deploys nor writes to the resources', async (t) => {
  let leader = false
  const s = await setup(t, { reconciler: { isLeader: () => leader } })
  await s.apply('openfaas-fn', 'echo', ECHO)
  await s.reconciler.pass()
  t.equal(await s.fn('echo'), undefined)
  const cr = await s.get('openfaas-fn', 'echo')
  t.equal(cr?.metadata?.finalizers, undefined, 'no finalizer')
  t.equal(cr?.status, undefined, 'no status')
  leader = true
  await s.reconciler.pass()
  t.ok(await s.fn('echo'), 'the leader does')
  t.same((await s.get('openfaas-fn', 'echo'))?.metadata?.finalizers, [FUNCTION_FINALIZER])
})
