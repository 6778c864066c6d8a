/*
 * PUT /system/functions → updateService: a new revision with traffic to the latest, waited on;
 * replica count and createdAt survive; an unknown function is 404 (faas-cli then POSTs).
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
  t.equal(patch?.query.get('updateMask'), null, 'the whole service is replaced')
  t.same(patch?.body.traffic, [{ type: 1, percent: 100 }])
  const svc = s.fake.run.serviceById('upd')
  t.not(svc?.latestReadyRevision, rev1, 'a new revision serves')
  const after = await (await s.call('/system/function/upd')).json() as FunctionStatus
  t.equal(after.image, 'example/new:2')
  t.same(after.labels, { version: '2', faas_function: 'upd' })
  t.equal(after.replicas, 3, 'replicas kept')
  t.equal(after.createdAt, before.createdAt, 'createdAt kept')
})
