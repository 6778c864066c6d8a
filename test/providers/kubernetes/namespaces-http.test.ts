/*
 * /system/namespaces and /system/namespace/NAME over the kubernetes backend: each OpenFaaS
 * namespace is a Kubernetes Namespace labelled openfaas=1; create (201, 409), get (404 for an
 * unlabelled one), update (labels and annotations, the marker stays), delete (202, 404; refused
 * while it holds functions or when faas-bridge did not create it). Functions deploy into it.
 */
import t from 'tap'
import { api, figlet, kubeApp } from './helpers.ts'

t.test('namespace CRUD', async (t) => {
  const { url, fake } = await kubeApp(t, {
    seed: (fake) => {
      fake.createNamespace('plain')
      fake.createNamespace('team-a', { openfaas: '1' })
    }
  })
  t.same((await api(url, 'GET', '/system/namespaces')).json(), ['openfaas-fn', 'staging-fn', 'team-a'], 'configured + labelled at start-up')

  const created = await api(url, 'POST', '/system/namespace/', { name: 'dev', labels: { openfaas: '1', team: 'x' }, annotations: { openfaas: '1', owner: 'me' } })
  t.equal(created.status, 201, created.text)
  const k8s = fake.store.get('namespaces', undefined, 'dev')
  t.equal(k8s?.metadata.labels?.openfaas, '1', 'Kubernetes Namespace carries the marker')
  t.equal(k8s?.metadata.labels?.['app.kubernetes.io/managed-by'], 'faas-bridge')
  t.equal(k8s?.metadata.annotations?.owner, 'me')
  t.equal((await api(url, 'POST', '/system/namespace/', { name: 'dev' })).status, 409, 'create again 409')
  t.equal((await api(url, 'POST', '/system/namespace/', { name: 'plain' })).status, 409, 'existing Kubernetes Namespace 409')
  t.ok((await api(url, 'GET', '/system/namespaces')).json().includes('dev'))

  const got = (await api(url, 'GET', '/system/namespace/dev')).json()
  t.equal(got.name, 'dev')
  t.equal(got.labels.team, 'x')
  t.equal((await api(url, 'GET', '/system/namespace/plain')).status, 404, 'an unlabelled Kubernetes Namespace is not ours')

  t.equal((await api(url, 'PUT', '/system/namespace/dev', { name: 'dev', labels: { openfaas: '1', team: 'y' }, annotations: { openfaas: '1' } })).status, 202, 'update 202')
  const upd = fake.store.get('namespaces', undefined, 'dev')
  t.equal(upd?.metadata.labels?.team, 'y')
  t.equal(upd?.metadata.labels?.openfaas, '1', 'marker kept')
  t.equal(upd?.metadata.annotations?.owner, undefined, 'annotations replaced')

  t.equal((await api(url, 'POST', '/system/functions', figlet('f', { namespace: 'dev' }))).status, 202, 'deploy into the new namespace')
  t.equal(fake.store.get('apps/deployments', 'dev', 'f')?.metadata.name, 'f')
  const busy = await api(url, 'DELETE', '/system/namespace/dev')
  t.equal(busy.status, 400, 'refused while it holds functions')
  t.match(busy.text, /still holds functions/)
  await api(url, 'DELETE', '/system/functions?namespace=dev', { functionName: 'f', namespace: 'dev' })
  t.equal((await api(url, 'DELETE', '/system/namespace/dev')).status, 202, 'delete 202')
  t.equal(fake.store.get('namespaces', undefined, 'dev'), undefined, 'Kubernetes Namespace deleted')
  t.equal((await api(url, 'DELETE', '/system/namespace/dev')).status, 404, 'delete again 404')
  t.equal((await api(url, 'GET', '/system/namespace/dev')).status, 404)
  const foreign = await api(url, 'DELETE', '/system/namespace/team-a')
  t.equal(foreign.status, 400, 'a labelled Namespace faas-bridge did not create is not deleted')
  t.ok(fake.store.get('namespaces', undefined, 'team-a'))
})
