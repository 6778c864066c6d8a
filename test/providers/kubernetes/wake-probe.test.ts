/*
 * Which pods the wake probe may call and how (providers/kubernetes/wake-probe.ts): only pods made
 * from the Deployment's current template, running, with an IP and not terminating; only the
 * container's httpGet readiness probe, over HTTP, on the pod itself. Pure, on the mapping's own
 * Deployment (buildDeployment), as the provider writes it.
 */
import t from 'tap'
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { buildDeployment, UPDATED_AT_ANNOTATION } from '../../../providers/kubernetes/mapping.ts'
import { validateOptions } from '../../../providers/kubernetes/options.ts'
import { fromCurrentTemplate, readinessCheck } from '../../../providers/kubernetes/wake-probe.ts'

const opts = validateOptions({})
const settings = { namespace: 'ns', replicas: 1, imagePullPolicy: opts.imagePullPolicy, probe: opts.probe, managedBy: opts.managedBy, secretTypes: new Map<string, string>() }
const dep = (extra: Record<string, unknown> = {}, updatedAt?: string): V1Deployment =>
  buildDeployment({ service: 'fn', image: 'img:1', namespace: 'ns', ...extra }, { ...settings, ...(updatedAt !== undefined ? { updatedAt } : {}) })

function podOf (d: V1Deployment, status: Record<string, unknown> = { phase: 'Running', podIP: '10.0.0.7' }): V1Pod {
  const tpl = d.spec?.template
  return {
    metadata: { name: 'fn-abc-xyz', labels: { ...tpl?.metadata?.labels, 'pod-template-hash': 'abc' }, annotations: { ...tpl?.metadata?.annotations } },
    spec: structuredClone(tpl?.spec) as V1Pod['spec'],
    status
  } as V1Pod
}

t.test('pods of the current template only, running, reachable, not terminating', async (t) => {
  const current = dep({}, '2026-01-01T00:00:00Z')
  t.ok(fromCurrentTemplate(podOf(current), current, 'fn'), 'a running pod of the template')
  const older = dep({}, '2025-12-31T00:00:00Z')
  t.notOk(fromCurrentTemplate(podOf(older), current, 'fn'), 'a pod of the template before the last update')
  t.notOk(fromCurrentTemplate(podOf(dep({ image: 'img:0' }, '2026-01-01T00:00:00Z')), current, 'fn'), 'another image')
  t.notOk(fromCurrentTemplate(podOf(current, { phase: 'Pending' }), current, 'fn'), 'not running')
  t.notOk(fromCurrentTemplate(podOf(current, { phase: 'Running' }), current, 'fn'), 'no IP yet')
  const leaving = podOf(current)
  leaving.metadata = { ...leaving.metadata, deletionTimestamp: new Date() }
  t.notOk(fromCurrentTemplate(leaving, current, 'fn'), 'terminating')
  t.notOk(fromCurrentTemplate(podOf(current), current, 'other'), 'another function')
  t.equal(current.spec?.template?.metadata?.annotations?.[UPDATED_AT_ANNOTATION], '2026-01-01T00:00:00Z')
})

t.test('the readiness check is the template\'s httpGet probe; others are not made', async (t) => {
  t.same(readinessCheck(dep(), 'fn'), { port: 8080, path: opts.probe.path, headers: {}, timeoutMs: 1000 })
  t.same(readinessCheck(dep({ annotations: { 'com.openfaas.ready.http.path': '/_/ready' } }), 'fn')?.path, '/_/ready', 'the annotation\'s path')
  const named = dep()
  const probe = named.spec?.template?.spec?.containers?.[0]?.readinessProbe
  if (probe?.httpGet === undefined) throw new Error('no probe')
  probe.httpGet.port = 'http'
  t.equal(readinessCheck(named, 'fn')?.port, 8080, 'a named port is the container\'s')
  probe.httpGet.scheme = 'HTTPS'
  t.equal(readinessCheck(named, 'fn'), undefined, 'HTTPS: not probed')
  probe.httpGet.scheme = 'HTTP'
  probe.httpGet.host = 'elsewhere.example'
  t.equal(readinessCheck(named, 'fn'), undefined, 'another host: not probed')
  t.equal(readinessCheck(buildDeployment({ service: 'fn', image: 'i', namespace: 'ns' }, { ...settings, probe: { ...opts.probe, type: 'exec' } }), 'fn'), undefined, 'an exec probe: not probed')
  t.equal(readinessCheck(buildDeployment({ service: 'fn', image: 'i', namespace: 'ns' }, { ...settings, probe: { ...opts.probe, type: 'none' } }), 'fn'), undefined, 'no probe: not probed')
})
