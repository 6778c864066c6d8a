/*
 * PUT /system/functions is an in-place rollout by server-side apply: one PATCH of the Deployment
 * (application/apply-patch+yaml, fieldManager=faas-bridge, force, no resourceVersion), never a
 * delete and create; its uid, createdAt and replica count stay, and the pods are replaced by new
 * ones with the new spec. Whatever another writer does to the Deployment or Service in between
 * (the controller's status, another field manager), the update never meets a 409.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { FakeKubernetes } from '../../fakes/kubernetes/server.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

const DEPLOYMENTS = 'apps/deployments'

/** A write by another field manager through the fake's HTTP API (a merge patch, as `kubectl annotate` sends). */
async function otherManagerPatch (fake: FakeKubernetes, path: string, body: unknown, manager = 'kubectl-annotate'): Promise<number> {
  const res = await fetch(`${fake.url}${path}?fieldManager=${manager}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  await res.arrayBuffer()
  return res.status
}

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
  }, { timeoutMs: 5000, what: `2 ready pods of ${image}` })
  const before = await ready('ghcr.io/openfaas/figlet:latest')
  const dep = fake.store.get(DEPLOYMENTS, NS, 'roll')
  const created = (await api(url, 'GET', '/system/function/roll')).json().createdAt
  fake.requests.length = 0

  const res = await api(url, 'PUT', '/system/functions', figlet('roll', { image: 'ghcr.io/openfaas/figlet:0.2', labels: { v: '2' } }))
  t.equal(res.status, 202, 'update 202')
  const writes = fake.requestsTo(/deployments/).filter((r) => r.method !== 'GET')
  t.same(writes.map((r) => `${r.method} ${r.path}`), [`PATCH /apis/apps/v1/namespaces/${NS}/deployments/roll`], 'one PATCH of the Deployment, no PUT, DELETE or POST')
  t.equal(writes[0]?.contentType, 'application/apply-patch+yaml', 'server-side apply')
  t.match(writes[0]?.query, /fieldManager=faas-bridge/, 'as field manager faas-bridge')
  t.match(writes[0]?.query, /force=true/, 'forced: this provider owns the function\'s spec')
  t.equal(fake.requestsTo(/^DELETE/).length, 0, 'nothing deleted')

  const after = await ready('ghcr.io/openfaas/figlet:0.2')
  t.notOk(after.some((p) => before.includes(p)), 'every pod replaced')
  const now = fake.store.get(DEPLOYMENTS, NS, 'roll')
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
  }, { timeoutMs: 5000 })
  t.equal((await api(url, 'PUT', '/system/functions', figlet('same'))).status, 202)
  await eventually(() => {
    const pods = fake.pods(NS, 'same')
    check(pods.length === 1 && pods[0]?.metadata.name !== first && pods[0]?.status.phase === 'Running', 'a new pod')
  }, { timeoutMs: 5000 })
  t.pass('rolled')
})

t.test('a status writer changing the Deployment and Service before every request never makes an update fail', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('race'))).status, 202)
  // before every request reaches the API server, the Deployment's and Service's status change
  // (a new resourceVersion each time), as a crash-looping pod's controller keeps writing them
  let writes = 0
  fake.onRequest = () => {
    const d = fake.store.get(DEPLOYMENTS, NS, 'race')
    if (d !== undefined) fake.store.update(DEPLOYMENTS, 'deployments.apps', { ...d, status: { ...d.status, observedGeneration: d.metadata.generation, collisionCount: ++writes } }, true)
    const svc = fake.store.get('services', NS, 'race')
    if (svc !== undefined) fake.store.update('services', 'services', { ...svc, status: { loadBalancer: {}, conditions: [{ type: 'fake', status: String(writes) }] } }, true)
  }
  const answers: number[] = []
  for (let i = 1; i <= 5; i++) {
    fake.requests.length = 0
    const res = await api(url, 'PUT', '/system/functions', figlet('race', { labels: { v: String(i) } }))
    answers.push(res.status)
    t.equal(fake.requestsTo(/deployments\/race$/).filter((r) => r.method === 'PATCH').length, 1, `update ${i}: one write of the Deployment, no retry`)
  }
  fake.onRequest = undefined
  t.same(answers, [202, 202, 202, 202, 202], 'every update answered 202, none 409')
  t.ok(writes >= 10, `the status writer wrote in between (${writes} status writes)`)
  t.equal((await api(url, 'GET', '/system/function/race')).json().labels.v, '5', 'the last update landed')
  t.equal(fake.store.get('services', NS, 'race')?.metadata.labels?.v, '5', 'on the Service too')
  t.equal(fake.store.get('services', NS, 'race')?.status?.conditions?.[0]?.status, String(writes), 'the status writer\'s last Service status was kept (an apply never writes status)')
})

t.test('another field manager\'s changes are kept; fields this provider stops setting are removed', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('own', {
    envVars: { KEEP: '1', DROP: '2' },
    labels: { team: 'a', gone: 'soon' },
    annotations: { 'example.com/note': 'x' }
  }))).status, 202)
  const uid = fake.store.get(DEPLOYMENTS, NS, 'own')?.metadata.uid
  // another manager annotates both objects between our writes
  t.equal(await otherManagerPatch(fake, `/apis/apps/v1/namespaces/${NS}/deployments/own`, { metadata: { annotations: { 'other.example/owner': 'ops' } } }), 200)
  t.equal(await otherManagerPatch(fake, `/api/v1/namespaces/${NS}/services/own`, { metadata: { annotations: { 'other.example/owner': 'ops' } } }), 200)

  t.equal((await api(url, 'PUT', '/system/functions', figlet('own', { envVars: { KEEP: '1' }, labels: { team: 'b' } }))).status, 202)
  const s = (await api(url, 'GET', '/system/function/own')).json()
  t.equal(s.envVars.KEEP, '1')
  t.notOk('DROP' in s.envVars, 'the removed env var is gone')
  t.equal(s.labels.team, 'b', 'the changed label changed')
  t.notOk('gone' in s.labels, 'the removed label is gone')
  t.notOk('example.com/note' in s.annotations, 'the removed annotation is gone from the function')
  const dep = fake.store.get(DEPLOYMENTS, NS, 'own')
  t.equal(dep?.metadata.uid, uid, 'in place (same uid)')
  t.notOk('gone' in (dep?.metadata.labels ?? {}), 'label gone from the Deployment')
  t.notOk('example.com/note' in (dep?.metadata.annotations ?? {}), 'annotation gone from the Deployment')
  t.equal(dep?.metadata.annotations?.['other.example/owner'], 'ops', 'the other manager\'s annotation on the Deployment is kept')
  const svc = fake.store.get('services', NS, 'own')
  t.equal(svc?.metadata.labels?.team, 'b')
  t.notOk('gone' in (svc?.metadata.labels ?? {}), 'label gone from the Service')
  t.equal(svc?.metadata.annotations?.['other.example/owner'], 'ops', 'the other manager\'s annotation on the Service is kept')
  t.match(svc?.spec.clusterIP, /^10\./, 'the allocated clusterIP is kept')
})

t.test('deploying over an existing Deployment of that name is still a 409 and changes nothing', async (t) => {
  const { url, fake } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/functions', figlet('dup'))).status, 202)
  fake.requests.length = 0
  const res = await api(url, 'POST', '/system/functions', figlet('dup', { image: 'ghcr.io/openfaas/figlet:other' }))
  t.equal(res.status, 409, res.text)
  t.equal(fake.requestsTo(/deployments/).filter((r) => r.method !== 'GET').length, 0, 'no write')
  t.equal(fake.store.get(DEPLOYMENTS, NS, 'dup')?.spec.template.spec.containers[0].image, 'ghcr.io/openfaas/figlet:latest', 'the Deployment is unchanged')
})
