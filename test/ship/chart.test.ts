/*
 * The Helm chart, rendered and linted by the real helm 3 (test/helpers/helm.ts): `helm lint
 * --strict` with the defaults and each example; `helm template` with no values (a generated
 * password), with --set basicAuth.password, and with every examples/values-*.yaml, whose rendered
 * ConfigMap and Deployment environment the provider's own loader (src/config.ts) accepts; the
 * values schema and the template's own checks refusing wrong values by key; the rendered RBAC
 * granting exactly what the backends export (providers/<driver>/permissions.ts); NOTES.txt; and the
 * password kept across `helm upgrade`, with lookup answered by the fake Kubernetes API.
 */
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { parse as parseYaml, parseAllDocuments } from 'yaml'
import { LEADER_ELECTION_PERMISSIONS } from '../../providers/kubernetes/common/lease-permissions.ts'
import { KUBERNETES_PERMISSIONS } from '../../providers/kubernetes/permissions.ts'
import { TEKTON_PERMISSIONS } from '../../providers/tekton/permissions.ts'
import { FUNCTION_RESOURCE_PERMISSIONS } from '../../providers/kubernetes/common/function-resources.ts'
import { loadConfig } from '../../src/config.ts'
import { FakeKubernetes } from '../fakes/kubernetes/server.ts'
import { helm, type HelmResult } from '../helpers/helm.ts'

// about 40 helm runs (and, on a fresh checkout, extracting helm): ~10 s on a quiet machine, 37 s
// measured in the full suite at a load average of 12, so more room than the 60 s default
t.setTimeout(180_000)

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const CHART = path.join(repoRoot, 'charts/faas-bridge')
const EXAMPLES = ['cloudrun', 'gateway', 'kubernetes', 'lambda', 'local', 'tekton']
const RELEASE = 'fb'
const NS = 'openfaas'
const FULLNAME = 'fb-faas-bridge'
const SECRET = `${FULLNAME}-basic-auth`

type Permission = { apiGroup: string, resource: string, verbs: string[] }
interface Rule { apiGroups: string[], resources: string[], verbs: string[] }
interface EnvVar { name: string, value?: string }
interface Container { name: string, env?: EnvVar[], volumeMounts?: Array<{ name: string, mountPath: string }>, [k: string]: unknown }
interface Manifest {
  apiVersion: string
  kind: string
  metadata: { name: string, namespace?: string, [k: string]: unknown }
  data?: Record<string, string>
  rules?: Rule[]
  spec?: any // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered objects of many kinds
  [k: string]: unknown
}

const PERMISSIONS: Record<string, Permission[]> = { kubernetes: KUBERNETES_PERMISSIONS, tekton: TEKTON_PERMISSIONS }

/** helm runs are independent: started together, at most a few at a time (2 shared cores) */
let running = 0
const waiting: Array<() => void> = []
async function limited (args: string[], opts?: { kubeconfig?: string }): Promise<HelmResult> {
  if (running >= 3) await new Promise<void>((resolve) => { waiting.push(resolve) })
  running++
  try {
    return await helm(args, opts)
  } finally {
    running--
    waiting.shift()?.()
  }
}

async function template (args: string[], opts?: { kubeconfig?: string, chart?: string }): Promise<HelmResult> {
  return await limited(['template', RELEASE, opts?.chart ?? CHART, '-n', NS, ...args], opts)
}

/** `helm template` that must succeed, as its objects */
async function render (args: string[], opts?: { kubeconfig?: string, chart?: string }): Promise<Manifest[]> {
  const r = await template(args, opts)
  if (r.code !== 0) throw new Error(`helm template ${args.join(' ')} failed (${r.code}):\n${r.stderr}`)
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest).filter((m) => m !== null)
}

function find (objects: Manifest[], kind: string, name?: string): Manifest[] {
  return objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name))
}

function one (objects: Manifest[], kind: string, name: string): Manifest {
  const found = find(objects, kind, name)
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length} (${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`)
  return found[0] as Manifest
}

function provider (objects: Manifest[]): Container {
  return one(objects, 'Deployment', FULLNAME).spec.template.spec.containers[0] as Container
}

function envOf (c: Container): Record<string, string> {
  return Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value as string]))
}

function password (objects: Manifest[]): string {
  return Buffer.from(one(objects, 'Secret', SECRET).data?.['basic-auth-password'] ?? '', 'base64').toString('utf8')
}

/** "group resource verb" triples a list of rules grants */
function grants (rules: Rule[]): string[] {
  const out = new Set<string>()
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g} ${res} ${v}`)
  return [...out].sort()
}

function needed (permissions: Permission[]): string[] {
  return [...new Set(permissions.flatMap((p) => p.verbs.map((v) => `${p.apiGroup} ${p.resource} ${v}`)))].sort()
}

const example = (name: string): string => path.join(CHART, 'examples', `values-${name}.yaml`)

// every example's render starts now; the subtests below await them
const examples = new Map(EXAMPLES.map((name) => [name, render(['-f', example(name)])]))
for (const p of examples.values()) p.catch(() => {}) // awaited (and reported) in their subtest

t.test('Chart.yaml matches the package, one example per backend and the gateway', async (t) => {
  const meta = parseYaml(await readFile(path.join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  t.equal(meta.apiVersion, 'v2', 'helm 3 chart')
  t.equal(meta.name, 'faas-bridge')
  t.equal(meta.appVersion, pkg.version, 'appVersion is the release the image tag defaults to')
  t.same((await readdir(path.join(CHART, 'examples'))).sort(), EXAMPLES.map((e) => `values-${e}.yaml`))
})

t.test('helm lint --strict is clean with the defaults and with each example', async (t) => {
  const runs = await Promise.all([[], ...EXAMPLES.map((e) => ['-f', example(e)])].map(async (args) =>
    [args.at(-1) ?? 'defaults', await limited(['lint', '--strict', CHART, ...args])] as const))
  for (const [what, r] of runs) {
    t.equal(r.code, 0, `${path.basename(what)}: lint passes\n${r.stdout}${r.stderr}`)
    t.notMatch(r.stdout, /\[(WARNING|ERROR)\]/, `${path.basename(what)}: no warnings`)
  }
})

t.test('no values: renders, with a generated password in the basic-auth Secret', async (t) => {
  const [a, b] = await Promise.all([render([]), render([])])
  const kinds = a.map((o) => `${o.kind}/${o.metadata.name}`).sort()
  t.same(kinds, [
    `ConfigMap/${FULLNAME}`, `Deployment/${FULLNAME}`, `PersistentVolumeClaim/${FULLNAME}-state`,
    `Secret/${SECRET}`, `Service/${FULLNAME}`, `ServiceAccount/${FULLNAME}`
  ], 'a local backend: no RBAC, a PVC for its state')
  const secret = one(a, 'Secret', SECRET)
  t.equal(Buffer.from(secret.data?.['basic-auth-user'] ?? '', 'base64').toString(), 'admin')
  t.match(password(a), /^[A-Za-z0-9]{32}$/, '32 random alphanumerics')
  t.not(password(a), password(b), 'each fresh install draws its own')

  const c = provider(a)
  const env = envOf(c)
  t.equal(env.basic_auth, 'true')
  const volumes = one(a, 'Deployment', FULLNAME).spec.template.spec.volumes as Array<{ name: string, secret?: { secretName: string } }>
  t.equal(volumes.find((v) => v.name === 'basic-auth')?.secret?.secretName, SECRET, 'the pod mounts that Secret')
  t.equal(c.volumeMounts?.find((m) => m.name === 'basic-auth')?.mountPath, env.secret_mount_path, 'at secret_mount_path')
  t.equal(one(a, 'Deployment', FULLNAME).spec.replicas, 1)
})

t.test("README's --set basicAuth.password is the Secret's password", async (t) => {
  const objects = await render(['--set', 'basicAuth.password=s3cr3t-from-readme'])
  t.equal(password(objects), 's3cr3t-from-readme')
})

t.test('basicAuth.enabled=false: no Secret, basic_auth off', async (t) => {
  const objects = await render(['--set', 'basicAuth.enabled=false'])
  t.same(find(objects, 'Secret'), [])
  t.equal(envOf(provider(objects)).basic_auth, 'false')
  t.notOk(provider(objects).volumeMounts?.some((m) => m.name === 'basic-auth'), 'nothing mounted')
})

t.test('every example renders, and the provider loads the backends file and environment it gets', async (t) => {
  for (const name of EXAMPLES) {
    const objects = await (examples.get(name) as Promise<Manifest[]>)
    const container = provider(objects)
    const env = envOf(container)
    const configMount = container.volumeMounts?.find((m) => m.name === 'config')?.mountPath
    t.equal(env.config_file, `${configMount ?? '?'}/backends.yaml`, `${name}: config_file is in the mounted ConfigMap`)
    const file = one(objects, 'ConfigMap', FULLNAME).data?.['backends.yaml'] ?? ''
    const config = loadConfig(env, (f) => {
      if (f !== env.config_file) throw new Error(`read of ${f}`)
      return file
    })
    t.ok(config.backends.length > 0, `${name}: the provider accepts its backends file and environment`)
    for (const b of config.backends) {
      const mod = await import(pathToFileURL(path.join(repoRoot, 'providers', b.driver, 'options.ts')).href) as
        { validateOptions: (o: Record<string, unknown>, ns: string[]) => unknown }
      t.doesNotThrow(() => mod.validateOptions(b.options, b.namespaces), `${name}: ${b.driver} options are valid`)
    }
    const usesLocal = config.backends.some((b) => b.driver === 'local')
    t.equal(one(objects, 'Deployment', FULLNAME).spec.strategy.type, usesLocal ? 'Recreate' : 'RollingUpdate', `${name}: strategy`)
  }
})

t.test('gateway example: the stock gateway points at the provider Service and shares its existing Secret', async (t) => {
  const objects = await (examples.get('gateway') as Promise<Manifest[]>)
  t.same(find(objects, 'Secret'), [], 'basicAuth.existingSecret: the chart creates no Secret')
  const gateway = one(objects, 'Deployment', `${FULLNAME}-gateway`)
  const env = envOf(gateway.spec.template.spec.containers[0] as Container)
  t.equal(env.functions_provider_url, `http://${FULLNAME}.${NS}.svc:8080/`, 'the provider Service, with the trailing slash')
  one(objects, 'Service', FULLNAME)
  one(objects, 'Service', `${FULLNAME}-gateway`)
  for (const d of find(objects, 'Deployment')) {
    const volumes = d.spec.template.spec.volumes as Array<{ name: string, secret?: { secretName: string } }>
    t.equal(volumes.find((v) => v.name === 'basic-auth')?.secret?.secretName, 'basic-auth', `${d.metadata.name} mounts basic-auth`)
  }
})

t.test('RBAC: the rendered roles grant exactly what each backend exports, and only where a backend needs them', async (t) => {
  const both = ['--set-json', 'backends={"cluster":{"driver":"kubernetes","namespaces":["openfaas-fn","team-a"]},"ci":{"driver":"tekton","namespaces":["ci"]}}']
  const [clusterWide, perNamespace] = await Promise.all([render(both), render([...both, '--set', 'rbac.clusterWide=false'])])
  const drivers: Record<string, [string, string[]]> = { cluster: ['kubernetes', ['openfaas-fn', 'team-a']], ci: ['tekton', ['ci']] }
  for (const [backend, [driver, namespaces]] of Object.entries(drivers)) {
    const name = `${FULLNAME}-${backend}`
    const role = one(clusterWide, 'ClusterRole', name)
    t.same(grants(role.rules ?? []), needed(PERMISSIONS[driver] as Permission[]), `${driver}: the ClusterRole grants exactly the exported permissions`)
    t.notOk(grants(role.rules ?? []).some((g) => g.includes('*')), `${driver}: no wildcards`)
    const binding = one(clusterWide, 'ClusterRoleBinding', name)
    t.same(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name })
    t.same(binding.subjects, [{ kind: 'ServiceAccount', name: FULLNAME, namespace: NS }])

    const roles = find(perNamespace, 'Role', name)
    t.same(roles.map((r) => r.metadata.namespace).sort(), namespaces, `${driver}: rbac.clusterWide=false: a Role in each function namespace`)
    for (const r of roles) t.same(grants(r.rules ?? []), needed(PERMISSIONS[driver] as Permission[]))
    t.same(find(perNamespace, 'RoleBinding', name).map((b) => b.metadata.namespace).sort(), namespaces)
  }
  t.same(find(perNamespace, 'ClusterRole'), [], 'no cluster-wide role then')
  t.equal(one(clusterWide, 'Deployment', FULLNAME).spec.template.spec.automountServiceAccountToken, true, 'the token is mounted for the Kubernetes API')

  const local = await (examples.get('local') as Promise<Manifest[]>)
  t.same(local.filter((o) => /Role/.test(o.kind)).map((o) => o.kind), [], 'local: no RBAC objects')
  t.equal(one(local, 'Deployment', FULLNAME).spec.template.spec.automountServiceAccountToken, false, 'local: no service-account token')
  // lambda and cloudrun need no Kubernetes API for their functions, but their examples run 2 replicas,
  // which elect a leader: only the Lease and peer-discovery role, in the release namespace
  for (const name of ['lambda', 'cloudrun']) {
    const objects = await (examples.get(name) as Promise<Manifest[]>)
    t.same(objects.filter((o) => /Role/.test(o.kind)).map((o) => o.kind).sort(), ['Role', 'RoleBinding'], `${name}: only the leader-election Role`)
    const role = objects.find((o) => o.kind === 'Role') as Manifest
    t.same(grants(role.rules ?? []), needed(LEADER_ELECTION_PERMISSIONS), `${name}: the role grants exactly what leader election uses`)
    t.equal(one(objects, 'Deployment', FULLNAME).spec.template.spec.automountServiceAccountToken, true, `${name}: the token is mounted for the Lease`)
  }
})

t.test('Function resources: the CRD only with functionCRD.create, RBAC and config only with functionResources.namespaces', async (t) => {
  const on = ['--set-json', 'functionResources={"namespaces":["apps","openfaas-fn"],"map":{"apps":"openfaas-fn"},"resync":"1m"}']
  const [defaults, crd, clusterWide, perNamespace] = await Promise.all([
    render([]),
    render(['--set', 'functionCRD.create=true']),
    render(on),
    render([...on, '--set', 'rbac.clusterWide=false'])
  ])
  t.same(find(defaults, 'CustomResourceDefinition'), [], 'no CRD by default (an OpenFaaS installation may own it)')
  t.same(defaults.filter((o) => /Role/.test(o.kind)), [], 'no RBAC by default')
  t.notMatch(one(defaults, 'ConfigMap', FULLNAME).data?.['backends.yaml'], /declarative/)

  const def = one(crd, 'CustomResourceDefinition', 'functions.openfaas.com')
  t.equal(def.spec.group, 'openfaas.com')
  t.same(def.spec.names, { kind: 'Function', listKind: 'FunctionList', plural: 'functions', singular: 'function' })
  t.equal(def.spec.scope, 'Namespaced')
  const v1 = def.spec.versions[0]
  t.match(v1, { name: 'v1', served: true, storage: true, subresources: { status: {} } })
  const spec = v1.schema.openAPIV3Schema.properties.spec
  t.same(spec.required, ['name', 'image'])
  t.same(Object.keys(spec.properties).sort(), ['annotations', 'constraints', 'environment', 'handler', 'image', 'labels', 'limits', 'name',
    'readOnlyRootFilesystem', 'replicas', 'requests', 'secrets'], 'the fields of OpenFaaS\'s Function CRD')
  t.same(Object.keys(spec.properties.limits.properties).sort(), ['cpu', 'memory'])
  t.same(Object.keys(v1.schema.openAPIV3Schema.properties.status.properties).sort(), ['conditions', 'observedGeneration', 'replicas'])
  t.equal(def.metadata.annotations?.['helm.sh/resource-policy' as never], 'keep', 'helm uninstall does not delete every Function')

  const name = `${FULLNAME}-function-resources`
  t.same(grants(one(clusterWide, 'ClusterRole', name).rules ?? []), needed(FUNCTION_RESOURCE_PERMISSIONS), 'exactly what the source calls')
  t.same(one(clusterWide, 'ClusterRoleBinding', name).subjects, [{ kind: 'ServiceAccount', name: FULLNAME, namespace: NS }])
  const roles = find(perNamespace, 'Role', name)
  t.same(roles.map((r) => r.metadata.namespace).sort(), ['apps', 'openfaas-fn'], 'rbac.clusterWide=false: a Role in each watched namespace')
  for (const r of roles) t.same(grants(r.rules ?? []), needed(FUNCTION_RESOURCE_PERMISSIONS))
  t.same(find(perNamespace, 'RoleBinding', name).map((b) => b.metadata.namespace).sort(), ['apps', 'openfaas-fn'])
  t.equal(one(clusterWide, 'Deployment', FULLNAME).spec.template.spec.automountServiceAccountToken, true, 'the token is mounted, even with only a local backend')

  const env = envOf(provider(clusterWide))
  const file = one(clusterWide, 'ConfigMap', FULLNAME).data?.['backends.yaml'] ?? ''
  const config = loadConfig(env, () => file)
  t.same(config.declarative, {
    resyncMs: 60_000,
    stackFiles: [],
    functionResources: { namespaces: ['apps', 'openfaas-fn'], map: { apps: 'openfaas-fn' }, inCluster: true }
  }, 'the provider loads the declarative section the chart writes')

  const wrong = await template(['--set', 'functionResources.namespace=apps'])
  t.not(wrong.code, 0)
  t.match(wrong.stderr, /functionResources/)
})

t.test('the deployment: probes, security contexts, state volume', async (t) => {
  const objects = await (examples.get('local') as Promise<Manifest[]>)
  const pod = one(objects, 'Deployment', FULLNAME).spec.template.spec
  const c = provider(objects)
  for (const probe of ['livenessProbe', 'readinessProbe']) t.match(c[probe], { httpGet: { path: '/healthz', port: 'http' } }, `${probe} on /healthz`)
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 1000 })
  t.match(c.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
  t.equal(c.volumeMounts?.find((m) => m.name === 'state')?.mountPath, envOf(c).state_dir, 'state volume at state_dir')
  t.same(pod.volumes.find((v: { name: string }) => v.name === 'state'), { name: 'state', persistentVolumeClaim: { claimName: `${FULLNAME}-state` } })
  const stateless = one(await (examples.get('lambda') as Promise<Manifest[]>), 'Deployment', FULLNAME).spec
  t.same(stateless.template.spec.volumes.find((v: { name: string }) => v.name === 'state'), { name: 'state', emptyDir: {} }, 'no PVC without a local backend')
  t.equal(stateless.replicas, 2)
})

t.test('wrong values are refused with a message naming the key', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--set', 'replicaCount=two'], /replicaCount: Invalid type\. Expected: integer/],
    [['--set', 'basicAuth.enabled=yes'], /basicAuth\.enabled: Invalid type\. Expected: boolean/],
    [['--set-json', 'backends={"x":{"driver":5,"namespaces":["x"]}}'], /backends\.x\.driver: Invalid type\. Expected: string/],
    [['--set-json', 'backends={"x":{"drvier":"local","namespaces":["x"]}}'], /backends\.x: Additional property drvier is not allowed/],
    [['--set-json', 'backends={"x":{"driver":"local"}}'], /backends\.x: namespaces is required/],
    [['--set', 'provider.readTimeout=soon'], /provider\.readTimeout: Does not match pattern/],
    [['--set', 'service.type=Public'], /service\.type: service\.type must be one of/],
    [['--set', 'replicaas=2'], /Additional property replicaas is not allowed/],
    // the schema cannot see which driver a backend runs (it defaults to the backend's name): the template checks
    [['--set', 'replicaCount=2'], /replicaCount > 1 needs stateless backends/],
    [['-f', example('local'), '--set', 'replicaCount=3'], /replicaCount > 1 needs stateless backends/]
  ]
  const results = await Promise.all(cases.map(async ([args]) => await template(args)))
  cases.forEach(([args, message], i) => {
    const r = results[i] as HelmResult
    t.not(r.code, 0, `${args.join(' ')}: refused`)
    t.match(r.stderr, message, `${args.join(' ')}: ${message.source}`)
  })
  const two = await render(['-f', example('kubernetes'), '--set', 'replicaCount=3'])
  t.equal(one(two, 'Deployment', FULLNAME).spec.replicas, 3, 'stateless backends may run several replicas')
})

t.test('NOTES.txt tells how to read the password only when the chart generated it', async (t) => {
  // helm prints NOTES only on install/upgrade (which need a cluster): render the same template, with
  // the same engine and values, through an extra template in a copy of the chart
  const dir = await mkdtemp(path.join(tmpdir(), 'faas-bridge-chart-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const copy = path.join(dir, 'faas-bridge')
  await cp(CHART, copy, { recursive: true })
  await writeFile(path.join(copy, 'templates/notes-probe.yaml'),
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "faas-bridge/templates/NOTES.txt" . | quote }}\n')
  const notes = async (args: string[]): Promise<string> =>
    one(await render([...args, '--show-only', 'templates/notes-probe.yaml'], { chart: copy }), 'ConfigMap', 'notes').data?.notes ?? ''
  const [generated, given, existing, off] = await Promise.all([
    notes([]), notes(['--set', 'basicAuth.password=pw-9f3k2x']), notes(['-f', example('gateway')]), notes(['--set', 'basicAuth.enabled=false'])
  ])
  const read = `kubectl -n ${NS} get secret ${SECRET} -o jsonpath='{.data.basic-auth-password}' | base64 -d`
  t.ok(generated.includes(read), `generated: says how to read it (${read})`)
  t.match(generated, /generated/)
  t.notOk(given.includes('jsonpath'), 'password given: no read command')
  t.match(given, /the password you gave/)
  t.notOk(given.includes('pw-9f3k2x'), 'the password itself is not printed')
  t.match(existing, /credentials of the Secret basic-auth/)
  t.notOk(existing.includes('jsonpath'))
  t.match(off, /Basic auth is off/)
  t.match(existing, new RegExp(`port-forward svc/${FULLNAME}-gateway 8080:8080`), 'the gateway is the entry point when it runs')
})

t.test('helm upgrade keeps the generated password: lookup of the existing Secret (fake Kubernetes API)', async (t) => {
  // `helm template --dry-run=server` lets lookup reach the cluster of the kubeconfig: here the fake
  // API server on 127.0.0.1 (client-go sends no bearer token over plain http: anonymous access)
  const fake = await new FakeKubernetes({ anonymous: true }).start()
  t.teardown(async () => { await fake.close() })
  const dir = await mkdtemp(path.join(tmpdir(), 'faas-bridge-kube-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const kubeconfig = path.join(dir, 'config')
  await writeFile(kubeconfig, JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'fake', cluster: { server: fake.url } }],
    users: [{ name: 'fake', user: {} }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace: NS } }],
    'current-context': 'fake'
  }))
  const upgrade = async (args: string[] = []): Promise<Manifest[]> =>
    await render(['--dry-run=server', '--is-upgrade', '--show-only', 'templates/secret.yaml', ...args], { kubeconfig })

  const first = password(await upgrade())
  t.match(first, /^[A-Za-z0-9]{32}$/, 'no Secret in the cluster yet: a new password')
  t.ok(fake.requests.some((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/${NS}/secrets/${SECRET}`), 'lookup asked the API server')

  fake.store.create('namespaces', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })
  fake.store.create('secrets', 'secrets', {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'Opaque',
    metadata: { name: SECRET, namespace: NS },
    data: { 'basic-auth-user': Buffer.from('admin').toString('base64'), 'basic-auth-password': Buffer.from(first).toString('base64') }
  })
  const [again, twice, given] = await Promise.all([upgrade(), upgrade(), upgrade(['--set', 'basicAuth.password=rotated'])])
  t.equal(password(again), first, 'the installed Secret\'s password is kept')
  t.equal(password(twice), first)
  t.equal(password(given), 'rotated', 'an explicit basicAuth.password replaces it')
})
