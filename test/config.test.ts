import t from 'tap'
import { ConfigError, loadConfig, parseDuration } from '../src/config.ts'

t.test('durations: integer seconds or Go durations; anything else names the key', async (t) => {
  t.equal(parseDuration('read_timeout', '10'), 10_000)
  t.equal(parseDuration('read_timeout', '65s'), 65_000)
  t.equal(parseDuration('read_timeout', '1m5s'), 65_000)
  t.equal(parseDuration('read_timeout', '1.5h'), 5_400_000)
  t.equal(parseDuration('read_timeout', '250ms'), 250)
  for (const bad of ['', 'ten', '10x', '5s5', '-1s']) {
    t.throws(() => parseDuration('read_timeout', bad), { name: 'ConfigError', message: /^read_timeout: / }, bad)
  }
})

t.test('no configuration at all: one local backend owning openfaas-fn on 127.0.0.1:8080', async (t) => {
  const c = loadConfig({ HOME: '/home/u' })
  t.equal(c.port, 8080)
  t.equal(c.host, '127.0.0.1')
  t.equal(c.hostExplicit, false)
  t.equal(c.readTimeoutMs, 10_000)
  t.equal(c.writeTimeoutMs, 10_000)
  t.equal(c.basicAuth, false)
  t.equal(c.secretMountPath, '/run/secrets/')
  t.equal(c.defaultNamespace, 'openfaas-fn')
  t.same(c.backends, [{ name: 'local', driver: 'local', namespaces: ['openfaas-fn'], options: { stateDir: '/home/u/.local/state/faas-bridge' } }])
})

t.test('faas-provider env names are honoured', async (t) => {
  const c = loadConfig({ port: '8081', read_timeout: '1m5s', write_timeout: '30', basic_auth: 'true', secret_mount_path: '/var/secrets', state_dir: '/tmp/s', function_namespace: 'fn' })
  t.match(c, { port: 8081, readTimeoutMs: 65_000, writeTimeoutMs: 30_000, basicAuth: true, secretMountPath: '/var/secrets', host: '0.0.0.0', defaultNamespace: 'fn' })
  t.same(c.backends[0]?.options, { stateDir: '/tmp/s' })
  t.equal(loadConfig({ basic_auth: 'TRUE' }).basicAuth, false, 'only the exact string "true" enables auth')
  t.equal(loadConfig({ bind_address: '0.0.0.0' }).hostExplicit, true)
})

t.test('mistakes name the key', async (t) => {
  t.throws(() => loadConfig({ port: 'http' }), new ConfigError('port: "http" is not a whole number'))
  t.throws(() => loadConfig({ port: '70000' }), /port: 70000 is outside 0\.\.65535/)
  t.throws(() => loadConfig({ max_idle_conns: '1.5' }), /max_idle_conns: /)
  t.throws(() => loadConfig({ function_namespace: 'Bad_NS' }), /function_namespace: "Bad_NS"/)
})

t.test('a YAML file declares backends; its mistakes name file and key', async (t) => {
  const files: Record<string, string> = {
    'good.yaml': 'backends:\n  local:\n    namespaces: [openfaas-fn, staging-fn]\n    options: { stateDir: /tmp/x }\n  aws:\n    driver: lambda\n    namespaces: [aws]\n',
    'nons.yaml': 'backends:\n  aws:\n    driver: lambda\n    namespaces: [aws]\n',
    'badkey.yaml': 'backends:\n  local:\n    namespace: [openfaas-fn]\n',
    'badyaml.yaml': 'backends: [\n',
    'dup.yaml': 'backend: {}\n'
  }
  const read = (f: string): string => { const v = files[f]; if (v === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' }); return v }
  const c = loadConfig({ config_file: 'good.yaml' }, read)
  t.same(c.backends.map((b) => [b.name, b.driver, b.namespaces]), [['local', 'local', ['openfaas-fn', 'staging-fn']], ['aws', 'lambda', ['aws']]])
  t.throws(() => loadConfig({ config_file: 'nons.yaml' }, read), /function_namespace: "openfaas-fn" is not listed/)
  t.throws(() => loadConfig({ config_file: 'badkey.yaml' }, read), /badkey\.yaml: backends\.local: unknown key "namespace"/)
  t.throws(() => loadConfig({ config_file: 'badyaml.yaml' }, read), /badyaml\.yaml: not valid YAML/)
  t.throws(() => loadConfig({ config_file: 'dup.yaml' }, read), /dup\.yaml: unknown key "backend"/)
  t.throws(() => loadConfig({ config_file: 'missing.yaml' }, read), /config_file: cannot read missing\.yaml: ENOENT/)
})

t.test('declarative: stack files in the config file, or stack_file alone; mistakes name the key', async (t) => {
  const base = 'backends:\n  local: { driver: local, namespaces: [openfaas-fn] }\n'
  const files: Record<string, string> = {
    '/etc/fb/ok.yaml': base + 'declarative:\n  resync: 1m\n  stackFiles:\n    - { path: functions, prune: true }\n    - { path: /srv/other.yml, id: team-b }\n',
    '/etc/fb/badkey.yaml': base + 'declarative:\n  stackFile: x\n',
    '/etc/fb/empty.yaml': base + 'declarative:\n  stackFiles: []\n',
    '/etc/fb/prune.yaml': base + 'declarative:\n  stackFiles:\n    - { path: x, prune: "yes" }\n',
    '/etc/fb/dupid.yaml': base + 'declarative:\n  stackFiles:\n    - { path: a/fns }\n    - { path: b/fns }\n',
    '/etc/fb/resync.yaml': base + 'declarative:\n  resync: soon\n  stackFiles: [{ path: x }]\n'
  }
  const read = (f: string): string => {
    const text = files[f]
    if (text === undefined) throw Object.assign(new Error('no'), { code: 'ENOENT' })
    return text
  }
  const ok = loadConfig({ config_file: '/etc/fb/ok.yaml' }, read)
  t.same(ok.declarative, {
    resyncMs: 60_000,
    stackFiles: [
      { path: '/etc/fb/functions', prune: true, id: 'stack:functions' },
      { path: '/srv/other.yml', prune: false, id: 'team-b' }
    ]
  }, 'paths are relative to the config file')
  t.equal(loadConfig({}).declarative, undefined, 'off by default')
  t.same(loadConfig({ stack_file: '/home/me/stack.yml', stack_prune: 'true' }).declarative, {
    resyncMs: 30_000,
    stackFiles: [{ path: '/home/me/stack.yml', prune: true, id: 'stack:stack.yml' }]
  })
  t.throws(() => loadConfig({ config_file: '/etc/fb/badkey.yaml' }, read), /badkey\.yaml: declarative: unknown key "stackFile"/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/empty.yaml' }, read), /empty\.yaml: declarative\.stackFiles: expected a non-empty list/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/prune.yaml' }, read), /prune\.yaml: declarative\.stackFiles\[0\]\.prune: expected true or false/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/dupid.yaml' }, read), /dupid\.yaml: declarative\.stackFiles\[1\]\.id: "stack:fns" is used by another source/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/resync.yaml' }, read), /resync\.yaml: declarative\.resync: "soon" is not a duration/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/ok.yaml', stack_file: 'x.yml' }, read), /stack_file: set it or the config file's declarative\.stackFiles, not both/)
})

t.test('declarative.functionResources: namespaces, map, connection; mistakes name the key', async (t) => {
  const base = 'backends:\n  local: { driver: local, namespaces: [openfaas-fn, staging-fn] }\ndeclarative:\n'
  const files: Record<string, string> = {
    '/etc/fb/crs.yaml': base + '  functionResources:\n    namespaces: [openfaas-fn, team-a]\n    map: { team-a: staging-fn }\n    kubeconfig: ./kube.yaml\n    context: prod\n',
    '/etc/fb/nons.yaml': base + '  functionResources: { map: {} }\n',
    '/etc/fb/badmap.yaml': base + '  functionResources: { namespaces: [a], map: { b: c } }\n',
    '/etc/fb/badval.yaml': base + '  functionResources: { namespaces: [a], map: { a: Not_A_Name } }\n',
    '/etc/fb/both.yaml': base + '  functionResources: { namespaces: [a], inCluster: true, kubeconfig: k }\n',
    '/etc/fb/key.yaml': base + '  functionResources: { namespaces: [a], namespace: b }\n'
  }
  const read = (f: string): string => {
    const text = files[f]
    if (text === undefined) throw Object.assign(new Error('no'), { code: 'ENOENT' })
    return text
  }
  t.same(loadConfig({ config_file: '/etc/fb/crs.yaml' }, read).declarative, {
    resyncMs: 30_000,
    stackFiles: [],
    functionResources: { namespaces: ['openfaas-fn', 'team-a'], map: { 'team-a': 'staging-fn' }, inCluster: 'auto', kubeconfig: '/etc/fb/kube.yaml', context: 'prod' }
  }, 'no stack files needed; the kubeconfig is relative to the config file')
  t.throws(() => loadConfig({ config_file: '/etc/fb/nons.yaml' }, read), /nons\.yaml: declarative\.functionResources\.namespaces: expected a non-empty list/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/badmap.yaml' }, read), /badmap\.yaml: declarative\.functionResources\.map\.b: not one of the watched namespaces \(a\)/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/badval.yaml' }, read), /badval\.yaml: declarative\.functionResources\.map\.a: expected a faas-bridge namespace name/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/both.yaml' }, read), /both\.yaml: declarative\.functionResources: inCluster: true and kubeconfig exclude each other/)
  t.throws(() => loadConfig({ config_file: '/etc/fb/key.yaml' }, read), /key\.yaml: declarative\.functionResources: unknown key "namespace"/)
})
