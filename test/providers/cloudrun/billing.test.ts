/*
 * Regressions on how a deploy is billed, through the HTTP API against the fake's documented rules:
 * - any limit used to switch billing to instance-based: ResourceRequirements.cpu_idle is "true by
 *   default. However, if ResourceRequirements is set, the caller must explicitly set this field to
 *   true" — now always sent, request-based unless annotation faas-bridge/cloudrun-billing says
 *   "instance";
 * - limits.cpu below 1 (documented as accepted) was refused by Cloud Run: it needs request-based
 *   billing, concurrency 1 and the first generation environment, which the deploy now sets;
 * - labels did not reach billing: "Cloud Billing and Cloud Logging only receive labels that are
 *   specified in the spec.template.metadata.labels attribute" — now on the template as well.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('a limit keeps request-based billing; the annotation asks for instance-based', async (t) => {
  const s = await appSetup(t)
  const deploy = async (name: string, over: Record<string, unknown>): Promise<Response> => await s.call('/system/functions', { method: 'POST', json: deployBody(name, over) })
  t.equal((await deploy('mem', { limits: { memory: '256Mi' } })).status, 202)
  t.equal(s.fake.run.billing('mem'), 'request', 'memory limit: still request-based')
  t.equal((await deploy('plain', {})).status, 202)
  t.equal(s.fake.run.billing('plain'), 'request', 'no limits: request-based')

  t.equal((await deploy('always', { limits: { cpu: '2', memory: '1Gi' }, annotations: { 'faas-bridge/cloudrun-billing': 'instance' } })).status, 202)
  t.equal(s.fake.run.billing('always'), 'instance', 'annotation instance: CPU always allocated')
  const st = await (await s.call('/system/function/always')).json() as FunctionStatus
  t.equal(st.annotations?.['faas-bridge/cloudrun-billing'], 'instance', 'the annotation reads back')

  const bad = await deploy('bad', { annotations: { 'faas-bridge/cloudrun-billing': 'cheap' } })
  t.equal(bad.status, 400)
  t.match(await bad.text(), /faas-bridge\/cloudrun-billing must be "request" or "instance", got "cheap"/)
  t.equal(s.fake.run.serviceById('bad'), undefined, 'nothing created')

  // and an update keeps request-based billing too
  t.equal((await s.call('/system/functions', { method: 'PUT', json: deployBody('mem', { limits: { memory: '512Mi', cpu: '1' } }) })).status, 202)
  t.equal(s.fake.run.billing('mem'), 'request', 'after an update with limits')
})

t.test('limits.cpu below 1 deploys (request-based, concurrency 1, first generation) and updates', async (t) => {
  const s = await appSetup(t)
  const res = await s.call('/system/functions', { method: 'POST', json: deployBody('small', { limits: { cpu: '500m', memory: '256Mi' } }) })
  t.equal(res.status, 202, await res.text())
  const tpl = s.fake.run.serviceById('small')?.template
  t.same(tpl?.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, cpuIdle: true })
  t.equal(tpl?.maxInstanceRequestConcurrency, 1, 'concurrency 1')
  t.equal(tpl?.executionEnvironment, 1, 'EXECUTION_ENVIRONMENT_GEN1')
  const st = await (await s.call('/system/function/small')).json() as FunctionStatus
  t.same(st.limits, { cpu: '500m', memory: '256Mi' })
  t.equal(st.availableReplicas, st.replicas, 'ready')

  const up = await s.call('/system/functions', { method: 'PUT', json: deployBody('small', { limits: { cpu: '250m' } }) })
  t.equal(up.status, 202, await up.text())
  t.equal(s.fake.run.serviceById('small')?.template.containers[0].resources.limits.cpu, '250m')
  const back = await s.call('/system/functions', { method: 'PUT', json: deployBody('small', { limits: { cpu: '2', memory: '1Gi' } }) })
  t.equal(back.status, 202, await back.text())
  t.equal(s.fake.run.serviceById('small')?.template.maxInstanceRequestConcurrency, undefined, 'back at 2 CPUs: Cloud Run\'s default concurrency again')

  const refused = await s.call('/system/functions', { method: 'POST', json: deployBody('tiny', { limits: { cpu: '500m' }, annotations: { 'faas-bridge/cloudrun-billing': 'instance' } }) })
  t.equal(refused.status, 400, 'below 1 CPU with instance-based billing cannot exist on Cloud Run')
  t.match(await refused.text(), /below 1.*request-based billing/)
  t.equal(s.fake.run.serviceById('tiny'), undefined)
})

t.test('the Google-valid labels reach billing: on the revision template as well as the service', async (t) => {
  const s = await appSetup(t)
  const labels = { team: 'blue', 'com.openfaas.scale.min': '1', Team: 'Not A Google Label' }
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('billed', { labels }) })).status, 202)
  const want = { 'managed-by': 'faas-bridge', 'openfaas-namespace': 'gcp', 'openfaas-function': 'billed', team: 'blue' }
  t.same(s.fake.run.billingLabels('billed'), want, 'template labels: what Cloud Billing and Cloud Logging receive')
  t.same(s.fake.run.serviceById('billed')?.labels, want, 'the same on the service')
  t.equal((await s.call('/system/functions', { method: 'PUT', json: deployBody('billed', { labels: { team: 'red' } }) })).status, 202)
  t.equal(s.fake.run.billingLabels('billed').team, 'red', 'an update changes them too')
})
