/*
 * Google errors through the HTTP API: NOT_FOUND 404, ALREADY_EXISTS 409, INVALID_ARGUMENT 400,
 * PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429 (once retries ran out) — each with Google's message in the body.
 */
import t from 'tap'
import { appSetup, deployBody } from './helpers.ts'

t.test('Google error codes map to the contract\'s statuses with Google\'s message', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('fn') })).status, 202)

  s.fake.faults.add({ method: 'GET', path: /\/services\/fn$/, status: 'PERMISSION_DENIED', message: "Permission 'run.services.get' denied on resource" })
  let res = await s.call('/system/function/fn')
  t.equal(res.status, 403, 'PERMISSION_DENIED → 403')
  t.match(await res.text(), /Permission 'run.services.get' denied/)

  s.fake.faults.add({ method: 'GET', path: /\/services$/, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for quota metric Read requests', times: 10 })
  res = await s.call('/system/functions')
  t.equal(res.status, 429, 'RESOURCE_EXHAUSTED (every retry) → 429')
  t.match(await res.text(), /Quota exceeded/)
  s.fake.faults.clear()

  s.fake.faults.add({ method: 'POST', path: /\/services$/, status: 'INVALID_ARGUMENT', message: 'spec.template.spec.containers[0].image: invalid reference format' })
  res = await s.call('/system/functions', { method: 'POST', json: deployBody('other') })
  t.equal(res.status, 400, 'INVALID_ARGUMENT → 400')
  t.match(await res.text(), /invalid reference format/)

  res = await s.call('/system/functions', { method: 'POST', json: deployBody('fn') })
  t.equal(res.status, 409, 'ALREADY_EXISTS → 409')
  t.match(await res.text(), /Resource 'fn' already exists/)

  s.fake.faults.add({ method: 'DELETE', path: /\/services\/fn$/, status: 'NOT_FOUND', message: "Resource 'fn' of kind 'SERVICE' does not exist." })
  res = await s.call('/system/functions', { method: 'DELETE', json: { functionName: 'fn' } })
  t.equal(res.status, 404, 'NOT_FOUND → 404')
  t.match(await res.text(), /does not exist/)

  s.fake.faults.add({ method: 'POST', path: /\/secrets$/, status: 'PERMISSION_DENIED', message: "Permission 'secretmanager.secrets.create' denied" })
  res = await s.call('/system/secrets', { method: 'POST', json: { name: 's', value: 'v' } })
  t.equal(res.status, 403, 'secrets too')
  t.match(await res.text(), /secretmanager.secrets.create/)
})
