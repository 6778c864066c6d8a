/*
 * PUT /system/functions → updateService: a new revision with traffic to the latest, waited on;
 * replica count and createdAt survive; an unknown function is 404 (faas-cli then POSTs). The
 * update writes only the fields faas-bridge owns (update mask) with the etag it read, and keeps
 * the labels and annotations other tools wrote (Service.annotations "should be preserved when
 * modifying objects").
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('update makes a new revision and keeps replicas and createdAt', async (t) => {
  const s = await appSetup(t)
  const missing = await s.call('/system/functions', { method: 'PUT', json: deployBody('ghost') })
  t.equal(missing.status, 404, 'PUT of an unknown function is 404')

  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('upd') })).status, 202)
  t.equal((await s.call('/system/scale-function/upd', { method: 'POST', json: { serviceName: 'upd', replicas: 3 } })).status, 202)
  const before = await (await s.call('/system/function/upd')).json() as FunctionStatus
  const rev1 = s.fake.run.serviceById('upd')?.latestReadyRevision as string

  const res = await s.call('/system/functions', { method: 'PUT', json: deployBody('upd', { image: 'example/new:2', labels: { version: '2' } }) })
  t.equal(res.status, 202, await res.text())
  const patch = s.fake.run.requests.filter((r) => r.method === 'PATCH').at(-1)
  t.equal(patch?.query.get('updateMask'), 'labels,annotations,template,scaling.min_instance_count,ingress,traffic', 'only the fields faas-bridge owns')
  t.match(patch?.body.etag, /^"e\d+"$/, 'with the etag it read')
  t.same(patch?.body.traffic, [{ type: 1, percent: 100 }])
  const svc = s.fake.run.serviceById('upd')
  t.not(svc?.latestReadyRevision, rev1, 'a new revision serves')
  const after = await (await s.call('/system/function/upd')).json() as FunctionStatus
  t.equal(after.image, 'example/new:2')
  t.same(after.labels, { version: '2', faas_function: 'upd' })
  t.equal(after.replicas, 3, 'replicas kept')
  t.equal(after.createdAt, before.createdAt, 'createdAt kept')
})

t.test('regression: an update keeps the annotations and labels other tools wrote, and drops the ones the user removed', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('kept', { labels: { team: 'blue', tier: 'web' } }) })).status, 202)
  s.fake.run.touch('kept', (svc) => {
    svc.annotations['ext.example/owner'] = 'team-x'
    svc.labels.costcentre = 'cc-42'
    svc.template.annotations['ext.example/trace'] = 'on'
    // what a v1 client writes; Cloud Run v2 refuses these keys on input
    svc.template.annotations['run.googleapis.com/client-name'] = 'gcloud'
    svc.template.labels.costcentre = 'cc-42'
    svc.description = 'set in the console'
  })
  const res = await s.call('/system/functions', { method: 'PUT', json: deployBody('kept', { image: 'example/new:2', labels: { team: 'green' } }) })
  t.equal(res.status, 202, await res.text())
  const svc = s.fake.run.serviceById('kept')
  t.equal(svc?.annotations['ext.example/owner'], 'team-x', "another tool's service annotation is kept")
  t.equal(svc?.template.annotations['ext.example/trace'], 'on', "and its template annotation")
  t.notOk('run.googleapis.com/client-name' in (svc?.template.annotations ?? {}), "Cloud Run's own namespace is not sent back (v2 would refuse the update)")
  t.equal(svc?.labels.costcentre, 'cc-42', 'and its service label')
  t.equal(svc?.template.labels.costcentre, 'cc-42', 'and its template label')
  t.equal(svc?.description, 'set in the console', 'a field faas-bridge does not own is not touched')
  t.equal(svc?.labels.team, 'green', 'the user\'s label updated')
  t.notOk('tier' in (svc?.labels ?? {}), 'a label the user dropped is dropped')
  t.notOk('tier' in (svc?.template.labels ?? {}), 'on the template too')
  const st = await (await s.call('/system/function/kept')).json() as FunctionStatus
  t.same(st.labels, { team: 'green', faas_function: 'kept' }, 'status shows only the user\'s labels')
  t.notOk('ext.example/owner' in (st.annotations ?? {}), "and not the other tool's annotations")
})

t.test('a service changed between the read and the write: the etag is refused and the merge is done again', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('raced') })).status, 202)
  let touched = 0
  s.fake.run.onPatch = () => {
    if (touched++ > 0) return
    s.fake.run.touch('raced', (svc) => { svc.annotations['ext.example/owner'] = 'late-writer' })
  }
  const res = await s.call('/system/functions', { method: 'PUT', json: deployBody('raced', { image: 'example/new:3' }) })
  t.equal(res.status, 202, await res.text())
  const patches = s.fake.run.requests.filter((r) => r.method === 'PATCH')
  t.equal(patches.length, 2, 'the first write was refused (stale etag), the second went through')
  const svc = s.fake.run.serviceById('raced')
  t.equal(svc?.annotations['ext.example/owner'], 'late-writer', 'the change made in between survives')
  t.equal(svc?.template.containers[0].image, 'example/new:3')

  s.fake.run.onPatch = () => { s.fake.run.touch('raced', (svc) => { svc.annotations.n = String(Math.random()) }) }
  const busy = await s.call('/system/functions', { method: 'PUT', json: deployBody('raced', { image: 'example/new:4' }) })
  t.equal(busy.status, 409, 'a service that never stops changing: 409 after a bounded number of rounds')
  t.equal(s.fake.run.requests.filter((r) => r.method === 'PATCH').length, 2 + 3)
})
