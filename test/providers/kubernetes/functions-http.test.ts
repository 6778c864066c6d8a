/*
 * /system/functions and /system/function/NAME through the HTTP API over the kubernetes backend:
 * deploy 202, duplicate 409, PUT unknown 404 (faas-cli then POSTs), list shows only functions this
 * provider manages, status reads the spec back, delete 202 then 404.
 */
import t from 'tap'
import { eventually, check } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('deploy, list, status, delete', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'empty list is []')

  const spec = figlet('figlet', {
    envVars: { B: '2', A: '1' },
    labels: { team: 'blue' },
    annotations: { topic: 'x' },
    limits: { memory: '128Mi', cpu: '500m' },
    requests: { memory: '64Mi' },
    constraints: ['disk=ssd'],
    readOnlyRootFilesystem: true
  })
  t.equal((await api(url, 'PUT', '/system/functions', spec)).status, 404, 'PUT for an unknown function is 404')
  t.equal((await api(url, 'POST', '/system/functions', spec)).status, 202, 'deploy 202')
  t.equal((await api(url, 'POST', '/system/functions', spec)).status, 409, 'deploy again 409')

  // a Deployment someone else made, even with faas_function, is not ours
  fake.store.create('apps/deployments', 'deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'foreign', namespace: NS, labels: { faas_function: 'foreign' } },
    spec: { replicas: 1, selector: { matchLabels: { faas_function: 'foreign' } }, template: { metadata: { labels: { faas_function: 'foreign' } }, spec: { containers: [{ name: 'foreign', image: 'x' }] } } }
  })
  const list = (await api(url, 'GET', '/system/functions')).json()
  t.same(list.map((f: { name: string }) => f.name), ['figlet'], 'list shows only managed functions')
  t.equal((await api(url, 'GET', '/system/function/foreign')).status, 404, 'an unmanaged Deployment is not a function')

  const s = await eventually(async () => {
    const r = await api(url, 'GET', '/system/function/figlet')
    check(r.status === 200, `status ${r.status}`)
    const body = r.json()
    check(body.availableReplicas === 1, `available ${String(body.availableReplicas)}`)
    return body
  }, { timeoutMs: 3000 })
  t.equal(s.name, 'figlet')
  t.equal(s.namespace, NS)
  t.equal(s.image, 'ghcr.io/openfaas/figlet:latest')
  t.equal(s.envProcess, 'figlet')
  t.same(s.envVars, { A: '1', B: '2' })
  t.equal(s.replicas, 1)
  t.equal(s.labels.team, 'blue')
  t.equal(s.labels.faas_function, 'figlet', 'faas_function label as faas-netes shows it')
  t.notOk('app.kubernetes.io/managed-by' in s.labels, 'internal label hidden')
  t.equal(s.annotations.topic, 'x')
  t.equal(s.annotations['prometheus.io.scrape'], 'false', 'faas-netes default annotation')
  t.same(s.limits, { memory: '128Mi', cpu: '500m' })
  t.same(s.requests, { memory: '64Mi' })
  t.same(s.constraints, ['disk=ssd'])
  t.equal(s.readOnlyRootFilesystem, true)
  t.match(s.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'createdAt RFC3339 as Kubernetes writes it')

  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'figlet' })).status, 202, 'delete 202')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'figlet' })).status, 404, 'delete again 404')
  t.equal((await api(url, 'GET', '/system/function/figlet')).status, 404, 'status 404 after delete')
  t.equal(fake.store.get('services', NS, 'figlet'), undefined, 'Service removed too')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'foreign' })).status, 404, 'cannot delete an unmanaged Deployment')
  t.ok(fake.store.get('apps/deployments', NS, 'foreign'), 'which is still there')
})

t.test('namespaces are separate; status of a function in another namespace', async (t) => {
  const { url } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('env', { namespace: 'staging-fn' }))).status, 202)
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'not in the default namespace')
  t.equal((await api(url, 'GET', '/system/functions?namespace=staging-fn')).json()[0].name, 'env')
  t.equal((await api(url, 'GET', '/system/function/env?namespace=staging-fn')).json().namespace, 'staging-fn')
})
