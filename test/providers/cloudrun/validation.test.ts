/*
 * What Cloud Run cannot take is a clear 400 before anything is created: names outside Cloud Run's
 * service-name rules, cpu/memory outside its allowed values, reserved env vars, constraints,
 * read-only root filesystems, GPUs. Labels outside Google's rules are not refused: they travel in
 * an annotation.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('specs Cloud Run cannot run are 400 with the reason', async (t) => {
  const s = await appSetup(t, { namespaces: ['gcp', 'long'], driverOptions: { namespaces: { long: { servicePrefix: 'a-rather-long-prefix-for-functions-' } } } })
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['digit first', deployBody('1st'), /must start with a letter/],
    ['cpu 3', deployBody('f', { limits: { cpu: '3' } }), /not a Cloud Run CPU value/],
    ['cpu 50m', deployBody('f', { limits: { cpu: '50m' } }), /not a Cloud Run CPU value/],
    ['cpu text', deployBody('f', { limits: { cpu: 'lots' } }), /not a CPU quantity/],
    ['memory 64Mi', deployBody('f', { limits: { memory: '64Mi' } }), /128Mi to 32Gi/],
    ['memory 8Gi with 1 cpu', deployBody('f', { limits: { memory: '8Gi' } }), /needs at least 2 CPUs/],
    ['cpu 4 with 512Mi', deployBody('f', { limits: { cpu: '4' } }), /needs at least 2Gi of memory/],
    ['fractional cpu with 2Gi', deployBody('f', { limits: { cpu: '500m', memory: '2Gi' } }), /below 1 allows at most 1Gi/],
    ['gpu', deployBody('f', { limits: { 'nvidia.com/gpu': '1' } }), /not supported/],
    ['PORT env', deployBody('f', { envVars: { PORT: '9000' } }), /reserved by Cloud Run/],
    ['constraints', deployBody('f', { constraints: ['node=x'] }), /constraints are not supported/],
    ['read-only root', deployBody('f', { readOnlyRootFilesystem: true }), /readOnlyRootFilesystem/],
    ['min above max', deployBody('f', { labels: { 'com.openfaas.scale.min': '3', 'com.openfaas.scale.max': '2' } }), /above/]
  ]
  for (const [what, body, message] of cases) {
    const res = await s.call('/system/functions', { method: 'POST', json: body })
    t.equal(res.status, 400, what)
    t.match(await res.text(), message, what)
  }
  const tooLong = await s.call('/system/functions?namespace=long', { method: 'POST', json: deployBody('function-name-that-is-long', { namespace: 'long' }) })
  t.equal(tooLong.status, 400, 'name + prefix longer than 49')
  t.match(await tooLong.text(), /at most 49 are allowed \(including the prefix/)
  t.equal(s.fake.run.services.size, 0, 'nothing was created')

  const ok = await s.call('/system/functions', { method: 'POST', json: deployBody('f', { labels: { 'com.example/Owner': 'Team A', ok: 'yes' }, limits: { cpu: '250m', memory: '256Mi' } }) })
  t.equal(ok.status, 202, 'labels outside Google rules are carried, not refused')
  const svc = s.fake.run.serviceById('f')
  t.equal(svc?.labels['com.example/Owner'], undefined, 'not a Google label')
  t.equal(svc?.labels.ok, 'yes')
  t.same(svc?.template.containers[0].resources.limits, { cpu: '250m', memory: '256Mi' })
  const st = await (await s.call('/system/function/f')).json() as FunctionStatus
  t.same(st.labels, { 'com.example/Owner': 'Team A', ok: 'yes', faas_function: 'f' })
})
