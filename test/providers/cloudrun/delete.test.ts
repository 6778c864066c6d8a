/*
 * DELETE /system/functions → deleteService, waited on; then 404. A service of the same name that
 * faas-bridge does not manage is 404 and left alone.
 */
import t from 'tap'
import { appSetup, deployBody, PROJECT, REGION } from './helpers.ts'

t.test('delete removes the service; unmanaged services are not touched', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('gone') })).status, 202)
  const res = await s.call('/system/functions', { method: 'DELETE', json: { functionName: 'gone' } })
  t.equal(res.status, 202)
  t.equal(s.fake.run.serviceById('gone'), undefined, 'deleted')
  t.equal((await s.call('/system/function/gone')).status, 404)
  t.equal((await s.call('/system/functions', { method: 'DELETE', json: { functionName: 'gone' } })).status, 404, 'second delete is 404')

  s.fake.run.seed(`projects/${PROJECT}/locations/${REGION}`, 'foreign', { labels: { team: 'x' } })
  t.equal((await s.call('/system/functions', { method: 'DELETE', json: { functionName: 'foreign' } })).status, 404, 'unmanaged → 404')
  t.ok(s.fake.run.serviceById('foreign'), 'and still there')
  t.equal((await s.call('/system/function/foreign')).status, 404, 'status of an unmanaged service is 404 too')
})
