/*
 * The kubernetes backend's options: defaults, and validateOptions messages that name the wrong
 * option; kubeconfig contexts.
 */
import { writeFile } from 'node:fs/promises'
import t from 'tap'
import { pino } from 'pino'
import { createDriver } from '../../../providers/kubernetes/index.ts'
import { loadKubeConfig } from '../../../providers/kubernetes/common/client.ts'
import { DEFAULT_PROBE, validateOptions } from '../../../providers/kubernetes/options.ts'
import { startKube } from './helpers.ts'

t.test('defaults', async (t) => {
  const o = validateOptions({})
  t.equal(o.inCluster, 'auto')
  t.equal(o.invoke, 'auto')
  t.equal(o.imagePullPolicy, 'Always')
  t.same(o.probe, DEFAULT_PROBE)
  t.same(o.probe.readiness, { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 }, 'readiness tuned for fast wake')
  t.same(o.probe.liveness, { initialDelaySeconds: 2, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 }, 'liveness as faas-netes')
  t.same(o.namespaceLabel, { key: 'openfaas', value: '1' })
  t.same(o.managedBy, { key: 'app.kubernetes.io/managed-by', value: 'faas-bridge' })
})

t.test('wrong options are named', async (t) => {
  t.throws(() => validateOptions({ invoke: 'magic' }), /option "invoke" must be "auto", "service", "endpoints", "proxy"/)
  t.throws(() => validateOptions({ imagePullPolicy: 'Sometimes' }), /option "imagePullPolicy"/)
  t.throws(() => validateOptions({ probe: { periodSeconds: 0 } }), /option "probe.periodSeconds" must be an integer >= 1/)
  t.throws(() => validateOptions({ readinessProbe: { initialDelaySeconds: -1 } }), /option "readinessProbe.initialDelaySeconds" must be an integer >= 0/)
  t.throws(() => validateOptions({ livenessProbe: 3 }), /option "livenessProbe" must be an object/)
  t.throws(() => validateOptions({ probe: { path: 'health' } }), /option "probe.path"/)
  t.throws(() => validateOptions({ namespaceLabel: 'no equals' }), /option "namespaceLabel"/)
  t.throws(() => validateOptions({ inCluster: 'yes' }), /option "inCluster"/)
  t.throws(() => validateOptions({ inCluster: true, kubeconfig: '/x' }), /exclude each other/)
  t.throws(() => validateOptions({ kubeconfig: '' }), /option "kubeconfig" must be a non-empty string/)
  t.throws(() => validateOptions({ managedBy: 'not valid!' }), /option "managedBy"/)
})

t.test('kubeconfig context', async (t) => {
  const setup = await startKube()
  t.teardown(setup.cleanup)
  const cfg = JSON.parse(setup.fake.kubeconfig())
  cfg.contexts.push({ name: 'other', context: { cluster: 'fake', user: 'fake' } })
  cfg['current-context'] = 'missing-current'
  await writeFile(setup.kubeconfig, JSON.stringify(cfg))
  t.equal(loadKubeConfig({ inCluster: false, kubeconfig: setup.kubeconfig, context: 'other' }).config.getCurrentContext(), 'other')
  t.throws(() => loadKubeConfig({ inCluster: false, kubeconfig: setup.kubeconfig, context: 'nope' }), /context "nope" is not in the kubeconfig \(known: fake, other\)/)
  const logger = pino({ level: 'silent' })
  const driver = await createDriver({ kubeconfig: setup.kubeconfig, context: 'other' }, { logger, namespaces: ['openfaas-fn'], execTimeoutMs: 1000 })
  t.teardown(async () => { await driver.close() }) // its informers watch until closed
  t.equal(driver.resolver.resolvedMode, 'proxy', 'auto → proxy out of cluster')
  t.same(await driver.list('openfaas-fn'), [])
})
