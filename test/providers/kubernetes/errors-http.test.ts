/*
 * Kubernetes errors through the HTTP API: RBAC Forbidden → 403 naming the refused verb and
 * resource; Invalid → 422; NotFound → 404; AlreadyExists → 409; an unreachable API server → 502.
 * And the fake's own honesty: Status bodies, 409 on a stale resourceVersion.
 */
import t from 'tap'
import { api, figlet, kubeApp, NS, startKube } from './helpers.ts'

t.test('403 says which verb on which resource was refused', async (t) => {
  const { url, fake } = await kubeApp(t)
  fake.deny('create', 'deployments')
  const r = await api(url, 'POST', '/system/functions', figlet('f'))
  t.equal(r.status, 403)
  t.match(r.text, /verb "create" on resource "deployments.apps"/)
  t.match(r.text, /openfaas-fn/)
  fake.allow('create', 'deployments')
  await api(url, 'POST', '/system/functions', figlet('f'))
  fake.deny('patch', 'deployments/scale')
  const s = await api(url, 'POST', '/system/scale-function/f', { replicas: 2 })
  t.equal(s.status, 403)
  t.match(s.text, /verb "patch" on resource "deployments.apps\/scale"/)
  fake.deny('list', 'secrets')
  const l = await api(url, 'GET', '/system/secrets')
  t.equal(l.status, 403)
  t.match(l.text, /verb "list" on resource "secrets"/)
  fake.deny('create', 'namespaces')
  const n = await api(url, 'POST', '/system/namespace/', { name: 'nope', labels: { openfaas: '1' } })
  t.equal(n.status, 403)
  t.match(n.text, /verb "create" on resource "namespaces"/)
})

t.test('Invalid → 422, AlreadyExists → 409, a missing Kubernetes namespace → 404', async (t) => {
  const { url, fake } = await kubeApp(t, {
    namespaces: ['openfaas-fn', 'not-in-cluster'],
    // configured for faas-bridge, but nobody made it in the cluster
    seed: (fake) => { fake.store.delete('namespaces', 'namespaces', undefined, 'not-in-cluster') }
  })
  const bad = await api(url, 'POST', '/system/functions', figlet('f', { labels: { team: 'has spaces' } }))
  t.equal(bad.status, 422, 'the API server refused the label value')
  t.match(bad.text, /is invalid/)
  t.equal(fake.store.get('apps/deployments', NS, 'f'), undefined)
  await api(url, 'POST', '/system/secrets', { name: 's', value: 'v' })
  t.equal((await api(url, 'POST', '/system/secrets', { name: 's', value: 'v' })).status, 409)
  const missing = await api(url, 'POST', '/system/functions', figlet('f', { namespace: 'not-in-cluster' }))
  t.equal(missing.status, 404)
  t.match(missing.text, /namespaces "not-in-cluster" not found/)
})

t.test('an unreachable API server → 502', async (t) => {
  const setup = await startKube()
  await setup.fake.close()
  t.teardown(setup.cleanup)
  await t.rejects(setup.driver.list(NS), { code: 'BAD_GATEWAY', message: /could not list deployments.apps.*could not be reached/ })
})

t.test('the fake answers Status bodies and 409 on a stale resourceVersion', async (t) => {
  const { fake } = await startKube().then((s) => { t.teardown(s.cleanup); return s })
  const auth = { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' }
  const base = `${fake.url}/api/v1/namespaces/${NS}/secrets`
  const created = await (await fetch(base, { method: 'POST', headers: auth, body: JSON.stringify({ metadata: { name: 'x' }, data: {} }) })).json() as { metadata: { resourceVersion: string } }
  const put = async (rv: string): Promise<Response> => await fetch(`${base}/x`, { method: 'PUT', headers: auth, body: JSON.stringify({ metadata: { name: 'x', resourceVersion: rv }, data: { a: 'YQ==' } }) })
  t.equal((await put(created.metadata.resourceVersion)).status, 200, 'current resourceVersion')
  const stale = await put(created.metadata.resourceVersion)
  t.equal(stale.status, 409, 'stale resourceVersion')
  t.match(await stale.json(), { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Conflict', code: 409 })
  const nf = await fetch(`${base}/nope`, { headers: auth })
  t.match(await nf.json(), { kind: 'Status', status: 'Failure', message: 'secrets "nope" not found', reason: 'NotFound', code: 404 })
  t.equal((await fetch(base, { headers: { authorization: 'Bearer wrong' } })).status, 401, 'token required')
  const jp = await fetch(`${base}/x`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/json-patch+json' }, body: JSON.stringify([{ op: 'add', path: '/metadata/labels', value: { k: 'v' } }]) })
  t.equal(((await jp.json()) as { metadata: { labels: Record<string, string> } }).metadata.labels.k, 'v', 'JSON patch')
  const mp = await fetch(`${base}/x`, { method: 'PATCH', headers: { ...auth, 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ metadata: { labels: { k: null, m: 'n' } } }) })
  t.same(((await mp.json()) as { metadata: { labels: Record<string, string> } }).metadata.labels, { m: 'n' }, 'merge patch')
  const sel = await (await fetch(`${base}?labelSelector=${encodeURIComponent('m in (n,o),!k')}`, { headers: auth })).json() as { items: unknown[] }
  t.equal(sel.items.length, 1, 'set-based label selector')
})
