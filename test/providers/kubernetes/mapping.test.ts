/*
 * The Deployment and Service a FunctionDeployment becomes, read from the fake API server: the
 * faas-netes mapping (contract §10) field by field.
 */
import t from 'tap'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('FunctionDeployment → Deployment + Service', async (t) => {
  const { url, fake } = await kubeApp(t)
  await api(url, 'POST', '/system/secrets', { name: 'api-key', value: 'k' })
  // a pull secret made with kubectl; labelled, because the API layer checks names against the store's list
  fake.store.create('secrets', 'secrets', { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: 'registry', namespace: NS, labels: { 'app.kubernetes.io/managed-by': 'faas-bridge' } }, data: { '.dockerconfigjson': 'e30=' } })
  const res = await api(url, 'POST', '/system/functions', figlet('fn', {
    envVars: { Z: 'z', A: 'a' },
    labels: { 'com.openfaas.scale.min': '2', team: 'x' },
    annotations: { note: 'n' },
    secrets: ['api-key', 'registry'],
    limits: { memory: '1Gi', 'nvidia.com/gpu': '1' },
    constraints: ['kubernetes.io/arch=arm64'],
    readOnlyRootFilesystem: true
  }))
  t.equal(res.status, 202, res.text)
  const dep = fake.store.get('apps/deployments', NS, 'fn')
  if (dep === undefined) throw new Error('no deployment')
  t.equal(dep.spec.replicas, 2, 'initial replicas from com.openfaas.scale.min')
  t.same(dep.spec.selector, { matchLabels: { faas_function: 'fn' } })
  t.same(dep.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } })
  t.equal(dep.metadata.labels?.team, 'x', 'labels on the Deployment')
  t.equal(dep.metadata.labels?.['app.kubernetes.io/managed-by'], 'faas-bridge', 'managed-by label')
  t.equal(dep.metadata.annotations?.note, 'n', 'annotations on the Deployment')
  const tpl = dep.spec.template
  t.equal(tpl.metadata.labels.faas_function, 'fn')
  t.equal(tpl.metadata.labels.team, 'x', 'labels on the pod template')
  t.equal(tpl.metadata.annotations.note, 'n', 'annotations on the pod template')
  t.equal(tpl.metadata.annotations['prometheus.io.scrape'], 'false')
  const c = tpl.spec.containers[0]
  t.equal(c.name, 'fn')
  t.equal(c.image, 'ghcr.io/openfaas/figlet:latest')
  t.equal(c.imagePullPolicy, 'Always')
  t.same(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }])
  t.same(c.env, [{ name: 'A', value: 'a' }, { name: 'Z', value: 'z' }, { name: 'fprocess', value: 'figlet' }], 'env sorted, fprocess from envProcess')
  t.same(c.resources, { limits: { memory: '1Gi', 'nvidia.com/gpu': '1' } })
  t.equal(c.readinessProbe.httpGet.path, '/_/health')
  t.equal(c.readinessProbe.httpGet.port, 8080)
  t.ok(c.livenessProbe, 'liveness probe too')
  t.equal(c.securityContext.readOnlyRootFilesystem, true)
  t.same(tpl.spec.nodeSelector, { 'kubernetes.io/arch': 'arm64' }, 'constraints → nodeSelector')
  t.same(tpl.spec.imagePullSecrets, [{ name: 'registry' }], 'docker-config secret → imagePullSecrets')
  t.same(tpl.spec.volumes, [
    { name: 'fn-projected-secrets', projected: { sources: [{ secret: { name: 'api-key' } }] } },
    { name: 'temp', emptyDir: {} }
  ])
  t.same(c.volumeMounts, [
    { name: 'fn-projected-secrets', mountPath: '/var/openfaas/secrets', readOnly: true },
    { name: 'temp', mountPath: '/tmp' }
  ], 'secrets read-only at /var/openfaas/secrets, writable /tmp')

  const svc = fake.store.get('services', NS, 'fn')
  if (svc === undefined) throw new Error('no service')
  t.equal(svc.spec.type, 'ClusterIP')
  t.same(svc.spec.selector, { faas_function: 'fn' })
  t.same(svc.spec.ports, [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP' }])
  t.equal(svc.metadata.annotations?.note, 'n', 'annotations on the Service')

  const status = (await api(url, 'GET', '/system/function/fn')).json()
  t.same(status.secrets, ['api-key', 'registry'], 'secrets read back, sorted')
})

t.test('probe options: exec and none', async (t) => {
  const exec = await kubeApp(t, { driver: { probe: { type: 'exec', periodSeconds: 5 } } })
  await api(exec.url, 'POST', '/system/functions', figlet('e'))
  const c = exec.fake.store.get('apps/deployments', NS, 'e')?.spec.template.spec.containers[0]
  t.same(c.readinessProbe.exec, { command: ['cat', '/tmp/.lock'] })
  t.equal(c.readinessProbe.periodSeconds, 5)
  const none = await kubeApp(t, { driver: { probe: { type: 'none' }, imagePullPolicy: 'IfNotPresent' } })
  await api(none.url, 'POST', '/system/functions', figlet('n'))
  const c2 = none.fake.store.get('apps/deployments', NS, 'n')?.spec.template.spec.containers[0]
  t.equal(c2.readinessProbe, undefined)
  t.equal(c2.imagePullPolicy, 'IfNotPresent')
})

t.test('probe timing: fast-wake readiness by default, faas-netes option names, OpenFaaS annotations', async (t) => {
  const { url, fake } = await kubeApp(t, { driver: { livenessProbe: { periodSeconds: 10 } } })
  const probes = (name: string): { readinessProbe: any, livenessProbe: any } => fake.store.get('apps/deployments', NS, name)?.spec.template.spec.containers[0]
  t.equal((await api(url, 'POST', '/system/functions', figlet('d'))).status, 202)
  t.same(probes('d').readinessProbe, { httpGet: { path: '/_/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 }, 'readiness: no initial delay, every second')
  t.same(probes('d').livenessProbe, { httpGet: { path: '/_/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 2, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 }, 'liveness: livenessProbe.periodSeconds applied')

  t.equal((await api(url, 'POST', '/system/functions', figlet('a', {
    annotations: {
      'com.openfaas.ready.http.path': '/ready',
      'com.openfaas.ready.http.initialDelay': '5s',
      'com.openfaas.ready.http.periodSeconds': '3',
      'com.openfaas.health.http.path': '/healthz',
      'com.openfaas.health.http.initialDelay': '30'
    }
  }))).status, 202)
  t.match(probes('a').readinessProbe, { httpGet: { path: '/ready' }, initialDelaySeconds: 5, periodSeconds: 3 }, 'com.openfaas.ready.http.* → readiness probe')
  t.match(probes('a').livenessProbe, { httpGet: { path: '/healthz' }, initialDelaySeconds: 30, periodSeconds: 10 }, 'com.openfaas.health.http.* → liveness probe')
  t.equal((await api(url, 'GET', '/system/function/a')).json().annotations['com.openfaas.ready.http.path'], '/ready', 'the annotations read back unchanged')

  const bad = await api(url, 'POST', '/system/functions', figlet('b', { annotations: { 'com.openfaas.ready.http.periodSeconds': 'often' } }))
  t.equal(bad.status, 400, bad.text)
  t.match(bad.text, /com\.openfaas\.ready\.http\.periodSeconds/)
  t.equal(fake.store.get('apps/deployments', NS, 'b'), undefined, 'nothing deployed')

  // an update changes the probes in place
  t.equal((await api(url, 'PUT', '/system/functions', figlet('d', { annotations: { 'com.openfaas.ready.http.path': '/_/ready' } }))).status, 202)
  t.equal(probes('d').readinessProbe.httpGet.path, '/_/ready')
})

t.test('bad quantities and constraints are 400 and nothing is created', async (t) => {
  const { url, fake } = await kubeApp(t)
  for (const [field, value] of [['limits', { memory: '12XB' }], ['requests', { cpu: 'lots' }], ['limits', { cpu: '1..5' }]] as const) {
    const r = await api(url, 'POST', '/system/functions', figlet('bad', { [field]: value }))
    t.equal(r.status, 400, `${field} ${JSON.stringify(value)} → 400`)
    t.match(r.text, /quantity/)
  }
  const r = await api(url, 'POST', '/system/functions', figlet('bad', { constraints: ['no-equals-sign'] }))
  t.equal(r.status, 400, 'constraint without = → 400')
  t.equal(fake.store.get('apps/deployments', NS, 'bad'), undefined, 'nothing created')
  t.equal((await api(url, 'POST', '/system/functions', figlet('bad', { limits: { memory: '1.5Gi', cpu: '0.5' } }))).status, 202, 'good quantities pass')
  await api(url, 'POST', '/system/functions', figlet('bad2'))
  t.equal((await api(url, 'PUT', '/system/functions', figlet('bad2', { requests: { memory: 'x' } }))).status, 400, 'update with a bad quantity → 400')
})
