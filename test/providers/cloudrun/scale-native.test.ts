/*
 * Scale → the service's scaling.minInstanceCount (an update with updateMask, no new revision).
 * In the default 'native' mode 0 is Cloud Run's own scale to zero: the function stays invocable
 * and reads replicas 1 / available 1, so the gateway's scale-from-zero never waits on it.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('native mode: scale to 0 and back', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('sz') })).status, 202)
  t.same(s.fake.run.serviceById('sz')?.scaling, { minInstanceCount: 0 }, 'minInstanceCount 0 by default')
  let st = await (await s.call('/system/function/sz')).json() as FunctionStatus
  t.equal(st.replicas, 1, 'ready with min 0 reads as 1')
  t.equal(st.availableReplicas, 1)

  const rev = s.fake.run.serviceById('sz')?.latestReadyRevision
  let res = await s.call('/system/scale-function/sz', { method: 'POST', json: { serviceName: 'sz', replicas: 3 } })
  t.equal(res.status, 202)
  const patch = s.fake.run.requests.filter((r) => r.method === 'PATCH').at(-1)
  t.equal(patch?.query.get('updateMask'), 'scaling.min_instance_count', 'only the minimum changes')
  t.same(patch?.body.scaling, { minInstanceCount: 3 })
  t.equal(s.fake.run.serviceById('sz')?.latestReadyRevision, rev, 'no new revision')
  st = await (await s.call('/system/function/sz')).json() as FunctionStatus
  t.equal(st.replicas, 3)
  t.equal(st.availableReplicas, 3)

  res = await s.call('/system/scale-function/sz', { method: 'POST', json: { serviceName: 'sz', replicas: 0 } })
  t.equal(res.status, 202)
  t.equal(s.fake.run.serviceById('sz')?.scaling?.minInstanceCount, 0, 'min 0 on the wire')
  st = await (await s.call('/system/function/sz')).json() as FunctionStatus
  t.equal(st.replicas, 1, 'scaled to zero still reads 1 (Cloud Run wakes it on demand)')
  t.equal(st.availableReplicas, 1)
  const inv = await s.call('/function/sz', { method: 'POST', body: 'still here' })
  t.equal(inv.status, 200, 'and stays invocable')

  res = await s.call('/system/scale-function/sz', { method: 'POST', json: { serviceName: 'sz', replicas: 1 } })
  t.equal(res.status, 202)
  t.equal(s.fake.run.serviceById('sz')?.scaling?.minInstanceCount, 1, 'back to 1')

  res = await s.call('/system/scale-function/nope', { method: 'POST', json: { serviceName: 'nope', replicas: 1 } })
  t.equal(res.status, 404, 'unknown function')
})

t.test('scale above com.openfaas.scale.max is 400', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('capped', { labels: { 'com.openfaas.scale.max': '2' } }) })).status, 202)
  const res = await s.call('/system/scale-function/capped', { method: 'POST', json: { serviceName: 'capped', replicas: 3 } })
  t.equal(res.status, 400)
  t.match(await res.text(), /above the function's maximum of 2/)
})
