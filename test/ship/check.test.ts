/*
 * `--check`: the process validates configuration and backends, prints one line per item, and
 * exits 0 (all fine), 1 (a backend or the credentials fail) or 2 (the configuration is wrong).
 * runCheck itself is also driven in-process with fake driver factories (check failures, timeouts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import t from 'tap'
import { runCheck } from '../../src/check.ts'
import { loadConfig } from '../../src/config.ts'
import type { CreateDriver, Driver } from '../../src/core/driver.ts'
import { FakeKubernetes } from '../fakes/kubernetes/server.ts'
import { runCommand } from '../helpers/run-command.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const RUN_TIMEOUT_MS = 20_000

interface Run { code: number | null, stdout: string, stderr: string }

async function runMain (env: Record<string, string>, args: string[] = ['--check'], command: string[] = [process.execPath, 'src/main.ts']): Promise<Run> {
  const [cmd, ...rest] = command as [string, ...string[]]
  const r = await runCommand(cmd, [...rest, ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    timeoutMs: RUN_TIMEOUT_MS
  })
  return { code: r.code, stdout: r.stdout, stderr: r.stderr }
}

t.test('the default local backend with a writable state dir passes', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const r = await runMain({ state_dir: path.join(dir, 'state') })
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /^ok {4}backend local \(driver local, namespaces openfaas-fn\): configured and reachable$/m)
  t.match(r.stdout, /^faas-bridge: check passed: 1 backend\(s\) ready$/m)
  t.notMatch(r.stdout, /listening/, 'nothing is served')
})

t.test('npm start -- --check runs the same check', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-npm-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const r = await runMain({ state_dir: dir }, ['--', '--check'], ['npm', 'start', '--silent'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, /check passed/)
})

t.test('a state dir that cannot be created fails the local backend, exit 1', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-ro-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'a-file')
  await writeFile(file, 'x')
  const r = await runMain({ state_dir: path.join(file, 'state') })
  t.equal(r.code, 1)
  t.match(r.stdout, /^FAIL {2}backend local \(driver local, namespaces openfaas-fn\): .*ENOTDIR/m)
  t.match(r.stderr, /^faas-bridge: check failed: backend local/m)
})

t.test('several backends: each gets its line; an unreachable kubeconfig and an unknown driver fail', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-multi-'))
  const fake = await new FakeKubernetes().start()
  fake.createNamespace('k8s-fn')
  t.teardown(async () => {
    await fake.close()
    await rm(dir, { recursive: true, force: true })
  })
  const kubeconfig = path.join(dir, 'kubeconfig')
  await writeFile(kubeconfig, fake.kubeconfig(), { mode: 0o600 })
  const good = path.join(dir, 'good.yaml')
  await writeFile(good, [
    'backends:',
    '  local: { driver: local, namespaces: [openfaas-fn] }',
    `  cluster: { driver: kubernetes, namespaces: [k8s-fn], options: { kubeconfig: ${JSON.stringify(kubeconfig)}, inCluster: false } }`
  ].join('\n'))
  const ok = await runMain({ config_file: good, state_dir: path.join(dir, 'state') })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^ok {4}backend local /m)
  t.match(ok.stdout, /^ok {4}backend cluster \(driver kubernetes, namespaces k8s-fn\): configured and reachable$/m, "the kubernetes check() read the namespace")
  t.match(ok.stdout, /check passed: 2 backend\(s\) ready/)

  const bad = path.join(dir, 'bad.yaml')
  await writeFile(bad, [
    'backends:',
    '  local: { driver: local, namespaces: [openfaas-fn] }',
    `  cluster: { driver: kubernetes, namespaces: [k8s-fn], options: { kubeconfig: ${JSON.stringify(path.join(dir, 'missing'))} } }`,
    '  plugin: { driver: faas-bridge-no-such-plugin, namespaces: [p-fn] }'
  ].join('\n'))
  const r = await runMain({ config_file: bad, state_dir: path.join(dir, 'state') })
  t.equal(r.code, 1)
  t.match(r.stdout, /^ok {4}backend local /m, 'the good backend is still reported')
  t.match(r.stdout, /^FAIL {2}backend cluster \(driver kubernetes, namespaces k8s-fn\): .*ENOENT/m)
  t.match(r.stdout, /^FAIL {2}backend plugin \(driver faas-bridge-no-such-plugin, namespaces p-fn\): driver "faas-bridge-no-such-plugin" is not built in/m)
  t.match(r.stderr, /check failed: backend cluster .*; backend plugin /)
})

t.test('basic_auth=true without the credential files fails with the path', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-auth-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const r = await runMain({ basic_auth: 'true', secret_mount_path: dir, state_dir: path.join(dir, 'state') })
  t.equal(r.code, 1)
  t.match(r.stdout, new RegExp(`^FAIL {2}basic_auth: basic_auth=true but ${dir}/basic-auth-user cannot be read`, 'm'))
  await writeFile(path.join(dir, 'basic-auth-user'), 'admin')
  await writeFile(path.join(dir, 'basic-auth-password'), 'secret')
  const ok = await runMain({ basic_auth: 'true', secret_mount_path: dir, state_dir: path.join(dir, 'state') })
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout, /^ok {4}basic_auth: credentials read from /m)
})

t.test('a configuration mistake exits 2 naming the key; an unknown flag exits 2 with usage', async (t) => {
  const r = await runMain({ read_timeout: 'soon' })
  t.equal(r.code, 2)
  t.match(r.stderr, /configuration error: read_timeout: "soon" is not a duration/)
  const u = await runMain({}, ['--chek'])
  t.equal(u.code, 2)
  t.match(u.stderr, /unknown argument "--chek"[\s\S]*usage: faas-bridge \[--check\]/)
})

// --- runCheck in-process: Driver.check outcomes and the time bound ---

function fakeDriver (check?: () => Promise<void>): Driver {
  const no = async (): Promise<never> => { throw new Error('not used') }
  let closed = 0
  const d: Driver & { closed: () => number } = {
    kind: 'fake',
    deploy: no,
    update: no,
    remove: no,
    list: no,
    status: no,
    scale: no,
    logs: no,
    upstream: no,
    close: async () => { closed++ },
    closed: () => closed,
    ...(check !== undefined ? { check } : {})
  }
  return d
}

t.test('runCheck: check() passing, failing and hanging; every created driver is closed', async (t) => {
  const config = loadConfig({ config_file: 'b.yaml' }, () => [
    'backends:',
    '  up: { driver: up, namespaces: [openfaas-fn] }',
    '  down: { driver: down, namespaces: [down-fn] }',
    '  slow: { driver: slow, namespaces: [slow-fn] }',
    '  plain: { driver: plain, namespaces: [plain-fn] }'
  ].join('\n'))
  const drivers = {
    up: fakeDriver(async () => {}),
    down: fakeDriver(async () => { throw new Error('403 Forbidden: the credentials cannot list functions\nsecond line') }),
    slow: fakeDriver(async () => { await new Promise(() => {}) }),
    plain: fakeDriver()
  }
  const lines: string[] = []
  const result = await runCheck(config, {
    loadDriverFactory: async (name) => {
      const d = drivers[name as keyof typeof drivers]
      const factory: CreateDriver = () => d
      return factory
    },
    logger: pino({ level: 'silent' }),
    print: (l) => { lines.push(l) },
    timeoutMs: 200
  })
  t.same(result, { ok: false, failed: ['backend down (driver down, namespaces down-fn)', 'backend slow (driver slow, namespaces slow-fn)'] })
  t.same(lines, [
    'ok    backend up (driver up, namespaces openfaas-fn): configured and reachable',
    'FAIL  backend down (driver down, namespaces down-fn): 403 Forbidden: the credentials cannot list functions second line',
    'FAIL  backend slow (driver slow, namespaces slow-fn): the slow backend did not answer within 200 ms',
    'ok    backend plain (driver plain, namespaces plain-fn): configured (this driver has no reachability check)'
  ])
  for (const [name, d] of Object.entries(drivers)) t.equal((d as unknown as { closed: () => number }).closed(), 1, `${name} closed`)
})

t.test('runCheck: a namespace claimed twice is reported', async (t) => {
  const config = loadConfig({ config_file: 'b.yaml' }, () => [
    'backends:',
    '  a: { driver: x, namespaces: [openfaas-fn] }',
    '  b: { driver: x, namespaces: [openfaas-fn] }'
  ].join('\n'))
  const lines: string[] = []
  const result = await runCheck(config, {
    loadDriverFactory: async () => () => fakeDriver(async () => {}),
    logger: pino({ level: 'silent' }),
    print: (l) => { lines.push(l) },
    timeoutMs: 200
  })
  t.equal(result.ok, false)
  t.match(lines[0], /^FAIL {2}backend b: namespace "openfaas-fn" is also claimed by backend "a"$/)
})
