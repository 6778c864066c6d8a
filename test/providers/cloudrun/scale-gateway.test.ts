/*
 * scaleToZero 'gateway': replicas 0 means "off" as in OpenFaaS — status reads 0/0 and the invoke
 * proxy answers 503 until something (the gateway's scale-from-zero) scales it back up.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('gateway mode: 0 is off until scaled back up', async (t) => {
  const s = await appSetup(t, { driverOptions: { scaleToZero: 'gateway', invokeAuth: 'none', upstreamCacheMs: 0 } })
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('gw') })).status, 202)
  t.equal(s.fake.run.serviceById('gw')?.scaling?.minInstanceCount, 1, 'the default minimum is 1 in this mode')
  t.equal((await s.call('/function/gw', { method: 'GET' })).status, 200)

  t.equal((await s.call('/system/scale-function/gw', { method: 'POST', json: { serviceName: 'gw', replicas: 0 } })).status, 202)
  const st = await (await s.call('/system/function/gw')).json() as FunctionStatus
  t.equal(st.replicas ?? 0, 0)
  t.equal(st.availableReplicas ?? 0, 0)
  t.equal((await s.call('/function/gw', { method: 'GET' })).status, 503, 'not invocable while scaled to zero')

  // what the gateway does on the next request: scale to 1 and wait for availableReplicas
  t.equal((await s.call('/system/scale-function/gw?namespace=gcp', { method: 'POST', body: JSON.stringify({ serviceName: 'gw', replicas: 1 }) })).status, 202)
  const back = await (await s.call('/system/function/gw')).json() as FunctionStatus
  t.equal(back.availableReplicas, 1)
  t.equal((await s.call('/function/gw', { method: 'GET' })).status, 200)
})
