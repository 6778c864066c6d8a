/*
 * /system/functions over the tekton backend: deploy → a Task (202; again 409; PUT unknown 404),
 * the step as mapped (image, fprocess, envVars, limits/requests, labels, annotations), list shows
 * only Tasks this provider manages, status reads the spec back, update changes the Task in place,
 * delete removes the Task with its TaskRuns and request ConfigMaps.
 */
import t from 'tap'
import { TASKRUNS, TASKS } from '../../fakes/kubernetes/server.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('deploy, list, status, update in place, delete', async (t) => {
  const { url, fake, tekton } = await tektonApp(t)
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'empty list is []')
  const spec = fnSpec('wc', {
    envProcess: 'wc -c',
    envVars: { B: '2', A: '1' },
    labels: { team: 'blue' },
    annotations: { topic: 'x' },
    limits: { memory: '128Mi', cpu: '500m' },
    requests: { memory: '64Mi' },
    constraints: ['disk=ssd']
  })
  t.equal((await api(url, 'PUT', '/system/functions', spec)).status, 404, 'PUT for an unknown function is 404')
  t.equal((await api(url, 'POST', '/system/functions', spec)).status, 202, 'deploy 202')
  t.equal((await api(url, 'POST', '/system/functions', spec)).status, 409, 'deploy again 409')
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('bad', { limits: { memory: 'lots' } }))).status, 400, 'a bad quantity is 400')

  const task = fake.store.get(TASKS, NS, 'wc')
  t.ok(task, 'a Task')
  const step = task?.spec.steps[0]
  t.equal(step.name, 'function')
  t.equal(step.image, 'ghcr.io/openfaas/alpine:latest')
  t.same(step.env.map((e: { name: string }) => e.name), ['A', 'B', 'FAAS_BRIDGE_RESULT_LIMIT', 'fprocess'], 'envVars, fprocess and the result limit, sorted')
  t.same(step.computeResources, { limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '64Mi' } }, 'limits/requests on the step')
  t.match(step.script, /sh -c "\$fprocess"/, 'the wrapper runs fprocess')
  t.equal(task?.metadata.labels?.team, 'blue')
  t.equal(task?.metadata.labels?.faas_function, 'wc')
  t.equal(task?.metadata.annotations?.topic, 'x')

  fake.store.create(TASKS, 'tasks.tekton.dev', { apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'foreign', namespace: NS, labels: { faas_function: 'foreign' } }, spec: { steps: [{ name: 'x', image: 'x' }] } })
  t.same((await api(url, 'GET', '/system/functions')).json().map((f: { name: string }) => f.name), ['wc'], 'list shows only managed Tasks')
  t.equal((await api(url, 'GET', '/system/function/foreign')).status, 404, 'an unmanaged Task is not a function')

  const s = (await api(url, 'GET', '/system/function/wc')).json()
  t.equal(s.image, 'ghcr.io/openfaas/alpine:latest')
  t.equal(s.envProcess, 'wc -c')
  t.same(s.envVars, { A: '1', B: '2' }, 'internal env hidden')
  t.equal(s.replicas, 1)
  t.equal(s.availableReplicas, 1)
  t.equal(s.labels.team, 'blue')
  t.notOk('app.kubernetes.io/managed-by' in s.labels)
  t.equal(s.annotations.topic, 'x')
  t.same(s.limits, { memory: '128Mi', cpu: '500m' })
  t.same(s.requests, { memory: '64Mi' })
  t.same(s.constraints, ['disk=ssd'])
  t.match(s.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)

  // update in place: same object (uid), new spec, the concurrency kept
  t.equal((await api(url, 'POST', '/system/scale-function/wc', { replicas: 3 })).status, 202)
  const uid = task?.metadata.uid
  t.equal((await api(url, 'PUT', '/system/functions', { ...spec, image: 'ghcr.io/openfaas/alpine:2', labels: { team: 'red' } })).status, 202, 'update 202')
  const after = fake.store.get(TASKS, NS, 'wc')
  t.equal(after?.metadata.uid, uid, 'the same Task, changed in place')
  t.equal(after?.spec.steps[0].image, 'ghcr.io/openfaas/alpine:2')
  const s2 = (await api(url, 'GET', '/system/function/wc')).json()
  t.equal(s2.labels.team, 'red')
  t.equal(s2.replicas, 3, 'replicas kept across the update')
  t.equal(s2.createdAt, s.createdAt)

  // delete: the Task, its TaskRuns and their request ConfigMaps
  t.equal((await api(url, 'POST', '/function/wc', 'hello')).status, 200)
  t.equal(tekton.taskRuns(NS, 'wc').length, 1, 'one TaskRun')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'wc' })).status, 202, 'delete 202')
  t.equal(fake.store.get(TASKS, NS, 'wc'), undefined, 'Task gone')
  t.same(fake.store.list(TASKRUNS, NS).filter((r) => r.metadata.labels?.faas_function === 'wc'), [], 'TaskRuns gone')
  t.same(fake.store.list('configmaps', NS), [], 'no request ConfigMaps left')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'wc' })).status, 404, 'delete again 404')
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'foreign' })).status, 404, 'cannot delete an unmanaged Task')
})
