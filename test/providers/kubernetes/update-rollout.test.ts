/*
 * PUT /system/functions is an in-place rollout: the Deployment is replaced (PUT with its
 * resourceVersion), never deleted and created; its uid, createdAt and replica count stay, and the
 * pods are replaced by new ones with the new spec.
 */
import t from 'tap'
import { check, eventually } from '../../driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('update rolls the pods in place', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('roll'))).status, 202)
  t.equal((await api(url, 'POST', '/system/scale-function/roll', { serviceName: 'roll', replicas: 2 })).status, 202)
  const ready = async (image: string): Promise<string[]> => await eventually(async () => {
    const s = (await api(url, 'GET', '/system/function/roll')).json()
    const pods = fake.pods(NS, 'roll')
    check(s.availableReplicas === 2 && pods.length === 2 && pods.every((p) => p.spec.containers[0].image === image && p.status.phase === 'Running'),
      `available ${String(s.availableReplicas)}, pods ${pods.map((p) => `${p.metadata.name}:${String(p.spec.containers[0].image)}:${String(p.status.phase)}`).join(',')}`)
    return pods.map((p) => p.metadata.name)
  }, { what: `2 ready pods of ${image}` })
  const before = await ready('ghcr.io/openfaas/figlet:latest')
  const dep = fake.store.get('apps/deployments', NS, 'roll')
  const created = (await api(url, 'GET', '/system/function/roll')).json().createdAt
  fake.requests.length = 0

  const res = await api(url, 'PUT', '/system/functions', figlet('roll', { image: 'ghcr.io/openfaas/figlet:0.2', labels: { v: '2' } }))
  t.equal(res.status, 202, 'update 202')
  t.same(fake.requestsTo(/deployments/).filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
    [`PUT /apis/apps/v1/namespaces/${NS}/deployments/roll`], 'one PUT of the Deployment, no DELETE or POST')
  t.equal(fake.requestsTo(/^DELETE/).length, 0, 'nothing deleted')

  const after = await ready('ghcr.io/openfaas/figlet:0.2')
  t.notOk(after.some((p) => before.includes(p)), 'every pod replaced')
  const now = fake.store.get('apps/deployments', NS, 'roll')
  t.equal(now?.metadata.uid, dep?.metadata.uid, 'same Deployment object (uid)')
  t.equal(now?.spec.replicas, 2, 'replica count kept')
  const s = (await api(url, 'GET', '/system/function/roll')).json()
  t.equal(s.createdAt, created, 'createdAt kept')
  t.equal(s.image, 'ghcr.io/openfaas/figlet:0.2')
  t.equal(s.labels.v, '2')
  t.equal(fake.store.get('services', NS, 'roll')?.metadata.labels?.v, '2', 'Service labels updated too')
})

t.test('an identical update still rolls the pods (as faas-netes\' uid label does)', async (t) => {
  const { url, fake } = await kubeApp(t)
  await api(url, 'POST', '/system/functions', figlet('same'))
  const first = await eventually(() => {
    const pods = fake.pods(NS, 'same').filter((p) => p.status.phase === 'Running')
    check(pods.length === 1, 'one running pod')
    return pods[0]?.metadata.name
  })
  t.equal((await api(url, 'PUT', '/system/functions', figlet('same'))).status, 202)
  await eventually(() => {
    const pods = fake.pods(NS, 'same')
    check(pods.length === 1 && pods[0]?.metadata.name !== first && pods[0]?.status.phase === 'Running', 'a new pod')
  })
  t.pass('rolled')
})

t.test('a concurrent writer (409 on a stale resourceVersion) is retried', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('race'))).status, 202)
  // the fake's controller writes the Deployment's status at each reconcile step until the pod is
  // ready: wait until it has converged, so that the other writer below is the only one and the
  // count of PUTs does not depend on how fast the machine runs the controller's steps
  await eventually(async () => {
    const s = (await api(url, 'GET', '/system/function/race')).json()
    const pods = fake.pods(NS, 'race')
    check(s.availableReplicas === 1 && pods.length === 1 && pods[0]?.status.phase === 'Running', `available ${String(s.availableReplicas)}, pods ${pods.length}`)
  }, { what: 'the Deployment settled' })
  // another writer changes the Deployment just before our first PUT arrives
  let puts = 0
  fake.onRequest = (r) => {
    if (r.method !== 'PUT' || !r.path.endsWith('/deployments/race') || puts++ > 0) return
    const d = fake.store.get('apps/deployments', NS, 'race')
    if (d !== undefined) fake.store.update('apps/deployments', 'deployments.apps', { ...d, metadata: { ...d.metadata, annotations: { ...d.metadata.annotations, other: 'writer' } } })
  }
  const res = await api(url, 'PUT', '/system/functions', figlet('race', { labels: { v: '3' } }))
  t.equal(res.status, 202, res.text)
  t.equal(puts, 2, 'the first PUT met a 409 and was tried once more, on the fresh resourceVersion')
  t.equal((await api(url, 'GET', '/system/function/race')).json().labels.v, '3', 'our update landed')
})
