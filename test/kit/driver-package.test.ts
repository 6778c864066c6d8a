/*
 * A driver that is not built in, as an operator installs it: the example package
 * (examples/driver-example) in the node_modules above a faas-bridge installation, named by the
 * configuration's `driver`. The real provider process loads it, and deploy, status, scale,
 * invoke, logs and errors go through the HTTP API. Broken packages stop the start-up with a
 * message naming the package and what is wrong.
 */
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { check, eventually } from '../../src/driver-contract/eventually.ts'
import { startProviderProcess } from '../helpers/provider-process.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const EXAMPLE = path.join(repoRoot, 'examples/driver-example')
const FIXTURE = path.join(EXAMPLE, 'test/fixtures/http-function.js')
const START_MS = 30_000

/**
 * base/app is a faas-bridge installation (a copy of the sources, the repository's node_modules);
 * base/node_modules holds driver packages, where Node looks after app/node_modules.
 */
async function installation (t: Test, drivers: Record<string, string>): Promise<{ base: string, app: string }> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fb-driver-package-'))
  t.teardown(async () => { await rm(base, { recursive: true, force: true }) })
  const app = path.join(base, 'app')
  await mkdir(app)
  await cp(path.join(repoRoot, 'package.json'), path.join(app, 'package.json'))
  for (const d of ['src', 'providers']) await cp(path.join(repoRoot, d), path.join(app, d), { recursive: true })
  await symlink(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'), 'dir')
  await mkdir(path.join(base, 'node_modules'))
  await symlink(EXAMPLE, path.join(base, 'node_modules', 'faas-bridge-driver-example'), 'dir')
  for (const [name, source] of Object.entries(drivers)) {
    const dir = path.join(base, 'node_modules', name)
    await mkdir(dir)
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', exports: './index.js' }))
    await writeFile(path.join(dir, 'index.js'), source)
  }
  return { base, app }
}

async function start (t: Test, where: { base: string, app: string }, driver: string, options: Record<string, unknown> = {}) {
  const configFile = path.join(where.base, 'backends.yaml')
  await writeFile(configFile, JSON.stringify({ backends: { plugin: { driver, namespaces: ['openfaas-fn'], options } } }))
  return await startProviderProcess(t, {
    args: [path.join(where.app, 'src/main.ts')],
    cwd: where.app,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: where.base, port: '0', config_file: configFile },
    timeoutMs: START_MS
  })
}

async function api (url: string, method: string, p: string, body?: unknown): Promise<{ status: number, text: string }> {
  const res = await fetch(url + p, {
    method,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000)
  })
  return { status: res.status, text: await res.text() }
}

t.test('the example driver package, loaded by name: deploy, scale, invoke, logs, remove through the API', async (t) => {
  const { url } = await start(t, await installation(t, {}), 'faas-bridge-driver-example', { restartDelayMs: 100, stopGraceMs: 1000 })
  const spec = { service: 'echo', image: 'ghcr.io/acme/echo:1', envProcess: `'${process.execPath}' '${FIXTURE}'`, envVars: { greeting: 'hi' } }
  t.equal((await api(url, 'POST', '/system/functions', spec)).status, 202, 'deploy')

  const dup = await api(url, 'POST', '/system/functions', spec)
  t.same(dup, { status: 409, text: 'function echo already exists in openfaas-fn\n' }, "the driver's conflict() is a 409 with its message")
  const missing = await api(url, 'GET', '/system/function/nope')
  t.same(missing, { status: 404, text: 'function nope not found in openfaas-fn\n' }, "its notFound() a 404")
  const noCommand = await api(url, 'POST', '/system/functions', { service: 'bare', image: 'x' })
  t.equal(noCommand.status, 400, 'its invalid() a 400')
  t.match(noCommand.text, /envProcess .* is required/)

  const available = async (n: number) => await eventually(async () => {
    const s = JSON.parse((await api(url, 'GET', '/system/function/echo')).text) as { replicas: number, availableReplicas: number }
    check(s.replicas === n && s.availableReplicas === n, `replicas ${s.replicas}, available ${s.availableReplicas}`)
  }, { timeoutMs: 20_000, what: `${n} available replicas` })
  await available(1)

  const invoked = await api(url, 'POST', '/function/echo/some/path?q=1', 'hello')
  t.equal(invoked.status, 200, 'invoke')
  t.match(JSON.parse(invoked.text), { method: 'POST', path: '/some/path?q=1', body: 'hello', greeting: 'hi' }, 'the replica answered, with the deployed env')

  t.equal((await api(url, 'POST', '/system/scale-function/echo', { serviceName: 'echo', replicas: 2 })).status, 202, 'scale to 2')
  await available(2)
  const list = JSON.parse((await api(url, 'GET', '/system/functions')).text) as Array<{ name: string, replicas: number, availableReplicas: number }>
  t.match(list, [{ name: 'echo', replicas: 2, availableReplicas: 2 }], 'list')

  const logs = await api(url, 'GET', '/system/logs?name=echo&follow=false')
  t.equal(logs.status, 200)
  const lines = logs.text.trim().split('\n').map((l) => JSON.parse(l) as { name: string, instance: string, text: string })
  t.ok(lines.some((l) => l.text === 'POST /some/path?q=1 5 bytes'), 'the invocation is in the logs')
  t.same(new Set(lines.filter((l) => l.text.startsWith('listening on')).map((l) => l.instance)), new Set(['echo-1', 'echo-2']), 'each replica is an instance')

  t.equal((await api(url, 'POST', '/system/scale-function/echo', { serviceName: 'echo', replicas: 0 })).status, 202, 'scale to 0')
  await available(0)
  // the gateway's plain answer only if the driver's unavailable() is faas-bridge's own ProviderError
  // (the package got the running kit, not a copy): anything else adds "The backend failed: …"
  t.same(await api(url, 'POST', '/function/echo', 'x'), { status: 503, text: 'No endpoints available for: echo.' },
    "its unavailable() is the contract's 503")
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'echo' })).status, 202, 'remove')
  t.equal((await api(url, 'GET', '/system/function/echo')).status, 404, 'gone')
})

const FAKE_METHODS = "deploy () {}, update () {}, remove () {}, list () { return [] }, status () {}, scale () {}, logs () {}, close () {}"

t.test('a broken package stops the start-up, naming the package and what is wrong', async (t) => {
  const where = await installation(t, {
    'fb-driver-incomplete': `export function createDriver () { return { kind: 'incomplete', ${FAKE_METHODS} } }\n`,
    'fb-driver-future': `export const driverApiVersion = 2\nexport function createDriver () { return { kind: 'future', ${FAKE_METHODS}, upstream () {} } }\n`,
    'fb-driver-nothing': 'export const hello = 1\n'
  })
  const cases: Array<[string, RegExp]> = [
    ['fb-driver-incomplete', /faas-bridge: Error: driver package "fb-driver-incomplete" is not a faas-bridge driver: upstream\(\) is missing\n/],
    ['fb-driver-future', /driver package "fb-driver-future" declares driverApiVersion 2, but this faas-bridge implements driver API version 1/],
    ['fb-driver-nothing', /driver package "fb-driver-nothing" does not export a createDriver\(options, context\) function/],
    ['fb-driver-not-installed', /driver "fb-driver-not-installed" is not built in \(local, .*\) and could not be imported as a package: Cannot find package 'fb-driver-not-installed'/]
  ]
  for (const [name, message] of cases) {
    const err = await start(t, where, name).then(() => undefined, (e: unknown) => e as Error)
    t.match(err?.message, /provider exited with 1 before listening/, `${name}: exits 1 without serving`)
    t.match(err?.message, message, `${name}: the reason`)
  }
})
