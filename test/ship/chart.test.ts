/*
 * The Helm chart without helm (it cannot be installed here): Chart.yaml and every values file
 * parse, every .Values path the templates use exists in values.yaml, example files set only known
 * keys and give a backends file the provider accepts, templates call only helpers they define and
 * standard Helm/sprig functions, and the RBAC rules cover exactly the Kubernetes calls the backends
 * export (providers/<driver>/permissions.ts).
 */
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { KUBERNETES_PERMISSIONS } from '../../providers/kubernetes/permissions.ts'
import { loadConfig } from '../../src/config.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const chart = path.join(repoRoot, 'charts/faas-bridge')
const EXAMPLES = ['cloudrun', 'gateway', 'kubernetes', 'lambda', 'local', 'tekton']

type Yaml = Record<string, unknown>
type Permission = { apiGroup: string, resource: string, verbs: string[] }
interface Rule { apiGroups: string[], resources: string[], verbs: string[] }

function isMap (v: unknown): v is Yaml {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

async function yamlFile (file: string): Promise<Yaml> {
  const doc: unknown = parseYaml(await readFile(file, 'utf8'))
  if (!isMap(doc)) throw new Error(`${file}: not a mapping`)
  return doc
}

async function templates (): Promise<Map<string, string>> {
  const dir = path.join(chart, 'templates')
  const out = new Map<string, string>()
  for (const f of (await readdir(dir)).sort()) out.set(f, await readFile(path.join(dir, f), 'utf8'))
  return out
}

/** The Kubernetes permissions each driver exports: kubernetes always, tekton once it exists. */
async function exportedPermissions (): Promise<Map<string, Permission[]>> {
  const out = new Map<string, Permission[]>([['kubernetes', KUBERNETES_PERMISSIONS]])
  const tekton = path.join(repoRoot, 'providers/tekton/permissions.ts')
  if (existsSync(tekton)) {
    const mod = await import(pathToFileURL(tekton).href) as { TEKTON_PERMISSIONS?: Permission[] }
    if (mod.TEKTON_PERMISSIONS !== undefined) out.set('tekton', mod.TEKTON_PERMISSIONS)
  }
  return out
}

/** "group resource verb" triples a list of rules grants (no wildcards allowed in the chart). */
function grants (rules: Rule[]): Set<string> {
  const out = new Set<string>()
  for (const r of rules) {
    for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g} ${res} ${v}`)
  }
  return out
}

t.test('Chart.yaml parses and matches the package', async (t) => {
  const meta = await yamlFile(path.join(chart, 'Chart.yaml'))
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  t.equal(meta.apiVersion, 'v2', 'helm 3 chart')
  t.equal(meta.name, 'faas-bridge')
  t.match(String(meta.version), /^\d+\.\d+\.\d+/)
  t.equal(meta.appVersion, pkg.version, 'appVersion is the release the image tag defaults to')
})

t.test('every .Values path the templates reference exists in values.yaml', async (t) => {
  const values = await yamlFile(path.join(chart, 'values.yaml'))
  const missing: string[] = []
  let count = 0
  for (const [file, text] of await templates()) {
    for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
      count++
      const keys = (m[1] as string).slice(1).split('.')
      let node: unknown = values
      for (const k of keys) {
        if (!isMap(node) || !(k in node)) {
          missing.push(`${file}: .Values.${keys.join('.')}`)
          break
        }
        node = node[k]
      }
    }
  }
  t.ok(count > 50, `${count} references checked`)
  t.same(missing, [])
})

t.test('one example per backend and the gateway; each parses, sets only known keys and yields a valid backends file', async (t) => {
  const values = await yamlFile(path.join(chart, 'values.yaml'))
  const files = (await readdir(path.join(chart, 'examples'))).sort()
  t.same(files, EXAMPLES.map((e) => `values-${e}.yaml`))
  const provider = values.provider as Yaml
  for (const name of EXAMPLES) {
    const example = await yamlFile(path.join(chart, 'examples', `values-${name}.yaml`))
    // keys below a non-empty mapping of values.yaml must exist there; empty maps and lists are free-form
    const unknown: string[] = []
    const walk = (ex: Yaml, def: Yaml, where: string): void => {
      for (const [k, v] of Object.entries(ex)) {
        if (!(k in def)) { unknown.push(`${where}${k}`); continue }
        const d = def[k]
        if (isMap(v) && isMap(d) && Object.keys(d).length > 0) walk(v, d, `${where}${k}.`)
      }
    }
    walk(example, values, '')
    t.same(unknown, [], `values-${name}.yaml: keys exist in values.yaml`)

    // what the ConfigMap holds, read by the provider's own configuration loader
    const backends = example.backends ?? values.backends
    const ns = String((example.provider as Yaml | undefined)?.functionNamespace ?? provider.functionNamespace)
    const doc = isMap(backends) && Object.keys(backends).length > 0
      ? { backends }
      : { backends: { local: { driver: 'local', namespaces: [ns] } } }
    const config = loadConfig({ config_file: '/etc/faas-bridge/config/backends.yaml', function_namespace: ns, state_dir: '/var/lib/faas-bridge' },
      () => JSON.stringify(doc))
    t.ok(config.backends.length > 0, `values-${name}.yaml: the provider accepts its backends file`)
    // each driver's own option validation, where the driver is in the tree
    for (const b of config.backends) {
      const optionsFile = path.join(repoRoot, 'providers', b.driver, 'options.ts')
      if (!existsSync(optionsFile)) {
        t.comment(`values-${name}.yaml: driver ${b.driver} has no providers/${b.driver}/options.ts yet; its options are not validated`)
        continue
      }
      const mod = await import(pathToFileURL(optionsFile).href) as { validateOptions: (o: Record<string, unknown>, ns: string[]) => unknown }
      t.doesNotThrow(() => mod.validateOptions(b.options, b.namespaces), `values-${name}.yaml: ${b.driver} options are valid`)
    }
  }
  const gateway = await yamlFile(path.join(chart, 'examples/values-gateway.yaml'))
  t.equal((gateway.gateway as Yaml).enabled, true, 'the gateway example runs the stock gateway')
})

t.test('templates use only their own helpers and standard Helm/sprig functions', async (t) => {
  const all = await templates()
  const helpers = all.get('_helpers.tpl') ?? ''
  const defined = new Set([...helpers.matchAll(/define "([^"]+)"/g)].map((m) => m[1] as string))
  t.ok([...defined].every((d) => d.startsWith('faas-bridge.')), 'helpers are namespaced faas-bridge.*')
  const STANDARD = new Set([
    // template actions
    'if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'nil', 'true', 'false',
    // helm
    'include', 'required', 'toYaml', 'fromYaml', 'tpl', 'fail',
    // go template builtins
    'and', 'or', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'index', 'len', 'print', 'printf',
    // sprig
    'default', 'quote', 'nindent', 'indent', 'trunc', 'trimSuffix', 'contains', 'replace', 'dict', 'list',
    'hasKey', 'int', 'ternary', 'sha256sum', 'empty', 'toString', 'lower', 'upper'
  ])
  const unknownFns = new Set<string>()
  const unknownIncludes = new Set<string>()
  for (const [file, text] of all) {
    for (const action of text.matchAll(/\{\{-?([\s\S]*?)-?\}\}/g)) {
      const body = (action[1] as string).trim()
      if (body.startsWith('/*')) continue
      for (const m of body.matchAll(/(?:include|template) "([^"]+)"/g)) {
        if (!defined.has(m[1] as string)) unknownIncludes.add(`${file}: ${m[1] as string}`)
      }
      const code = body.replace(/"(?:[^"\\]|\\.)*"/g, '""')
      for (const m of code.matchAll(/(^|[\s(|])([A-Za-z][A-Za-z0-9]*)\b/g)) {
        const word = m[2] as string
        const before = code[(m.index ?? 0) + (m[1] as string).length - 1]
        if (before === '.' || before === '$') continue
        if (!STANDARD.has(word)) unknownFns.add(`${file}: ${word}`)
      }
    }
  }
  t.same([...unknownIncludes], [], 'every include names a helper of _helpers.tpl')
  t.same([...unknownFns], [], 'only standard functions')
})

t.test('RBAC rules in values.yaml cover exactly the Kubernetes calls each backend exports', async (t) => {
  const values = await yamlFile(path.join(chart, 'values.yaml'))
  const rules = (values.rbac as Yaml).rules as Record<string, Rule[]>
  const exported = await exportedPermissions()
  if (!exported.has('tekton')) t.comment('providers/tekton/permissions.ts does not export TEKTON_PERMISSIONS yet: tekton rules are not checked')
  for (const [driver, permissions] of exported) {
    const ruleList = rules[driver]
    t.ok(Array.isArray(ruleList), `rbac.rules.${driver} exists`)
    if (!Array.isArray(ruleList)) continue
    const granted = grants(ruleList)
    const needed = new Set(permissions.flatMap((p) => p.verbs.map((v) => `${p.apiGroup} ${p.resource} ${v}`)))
    t.same([...needed].filter((n) => !granted.has(n)), [], `${driver}: every call the backend makes is allowed`)
    t.same([...granted].filter((g) => !needed.has(g)), [], `${driver}: nothing beyond what the backend uses`)
    t.notOk([...granted].some((g) => g.includes('*')), `${driver}: no wildcards`)
  }
  t.ok(exported.get('kubernetes')?.some((p) => p.resource === 'deployments/scale'), 'subresources are listed as their own resources')

  // the template renders those rules, per backend whose driver has rules
  const rbac = (await templates()).get('rbac.yaml') ?? ''
  t.match(rbac, /\{\{-? toYaml \(index \$\.Values\.rbac\.rules \$driver\) \| nindent 2 \}\}/, 'rules come from rbac.rules.<driver>')
  t.match(rbac, /hasKey \$\.Values\.rbac\.rules \$driver/, 'only drivers with rules get a role')
  t.match(rbac, /kind: ClusterRole\b/)
  t.match(rbac, /kind: Role\b/)
})

t.test('deployment: probes, security context, state volume, secrets and the backends file', async (t) => {
  const values = await yamlFile(path.join(chart, 'values.yaml'))
  const all = await templates()
  const deployment = all.get('deployment.yaml') ?? ''
  for (const probe of ['livenessProbe', 'readinessProbe']) {
    t.match(((values[probe] as Yaml).httpGet as Yaml), { path: '/healthz', port: 'http' }, `${probe} on /healthz`)
  }
  t.match(values.podSecurityContext, { runAsNonRoot: true, runAsUser: 1000 })
  t.match(values.securityContext, { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
  t.match(deployment, /mountPath: \{\{ \.Values\.provider\.stateDir \}\}/, 'state volume at state_dir')
  t.match(deployment, /persistentVolumeClaim:[\s\S]*emptyDir: \{\}/, 'PVC or emptyDir for the state')
  t.match(deployment, /name: secret_mount_path[\s\S]*mountPath: \{\{ \.Values\.basicAuth\.secretMountPath \}\}/, 'basic-auth Secret mounted at secret_mount_path')
  t.match(deployment, /name: config_file\s+value: \/etc\/faas-bridge\/config\/backends\.yaml/)
  t.match(all.get('configmap.yaml') ?? '', /backends\.yaml: \|/)
  t.match(all.get('secret.yaml') ?? '', /basic-auth-user:[\s\S]*basic-auth-password:/)
  t.match(deployment, /envFrom:[\s\S]*\.Values\.credentials\.aws\.existingSecret/, 'AWS credentials from an existing Secret')
  t.match(deployment, /GOOGLE_APPLICATION_CREDENTIALS/, 'GCP key from an existing Secret')
  const gateway = all.get('gateway.yaml') ?? ''
  t.match(gateway, /name: functions_provider_url\s+value: \{\{ printf "http:\/\/%s\.%s\.svc:%v\/"/, 'the gateway points at this Service with a trailing slash')
})
