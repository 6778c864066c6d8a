/*
 * The kit as a third party gets it: `npm run build:kit` in a copy of faas-bridge, then a driver
 * package (a copy of examples/driver-example) with that faas-bridge in its node_modules, as
 * `npm install` of a file: or git dependency leaves it. Its contract test runs the exported suite
 * from the built JS, its JSDoc types check against the built .d.ts, and nothing but the two
 * entry points is reachable.
 */
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { runCommand } from '../helpers/run-command.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const STEP_TIMEOUT_MS = 90_000
// three steps that each compile or run a suite: generous, the machine may be busy
t.setTimeout(4 * STEP_TIMEOUT_MS)

/** this environment without what tap tells its own subprocesses: the steps run as in a fresh shell */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(_?TAP|NODE_OPTIONS$)/.test(k)))

const run = async (cmd: string, args: string[], cwd: string) => await runCommand(cmd, args, { cwd, env, timeoutMs: STEP_TIMEOUT_MS })

t.test('a driver package tests and type-checks against the built kit', async (t) => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fb-kit-'))
  t.teardown(async () => { await rm(base, { recursive: true, force: true }) })

  const kit = path.join(base, 'faas-bridge')
  await mkdir(kit)
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'tsconfig.kit.json']) await cp(path.join(repoRoot, f), path.join(kit, f))
  for (const d of ['src', 'providers']) await cp(path.join(repoRoot, d), path.join(kit, d), { recursive: true })
  await symlink(path.join(repoRoot, 'node_modules'), path.join(kit, 'node_modules'), 'dir')
  const build = await run('npm', ['run', 'build:kit'], kit)
  t.equal(build.code, 0, 'npm run build:kit')
  if (build.code !== 0) {
    t.comment(build.out)
    return
  }

  const driver = path.join(base, 'driver')
  await cp(path.join(repoRoot, 'examples/driver-example'), driver, { recursive: true })
  await mkdir(path.join(driver, 'node_modules'))
  await symlink(kit, path.join(driver, 'node_modules', 'faas-bridge'), 'dir')
  for (const dep of ['tap', 'typescript', '@types']) await symlink(path.join(repoRoot, 'node_modules', dep), path.join(driver, 'node_modules', dep), 'dir')

  const contract = await run(process.execPath, ['test/contract.test.js'], driver)
  t.equal(contract.code, 0, 'the driver passes the exported contract suite')
  const summary = /# \{ total: (\d+), pass: (\d+) \}/.exec(contract.out)
  t.ok(summary !== null && Number(summary[1]) > 40 && summary[1] === summary[2], `every assertion passed: ${summary?.[0] ?? contract.out.slice(-2000)}`)
  t.match(contract.out, /ok \d+ - driver contract: example/, 'it ran the suite')

  const types = await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], driver)
  t.same({ code: types.code, out: types.out }, { code: 0, out: '' }, 'its JSDoc types check against faas-bridge/driver and faas-bridge/driver-contract')

  const probe = await run(process.execPath, ['--input-type=module', '-e', [
    "const d = await import('faas-bridge/driver')",
    "const c = await import('faas-bridge/driver-contract')",
    "const deep = await import('faas-bridge/src/core/errors.ts').then(() => 'imported', (e) => e.code)",
    'console.log(JSON.stringify({ driver: Object.keys(d).sort(), contract: Object.keys(c).sort(), version: d.DRIVER_API_VERSION, status: d.notFound("x").statusCode, deep }))'
  ].join('\n')], driver)
  t.equal(probe.code, 0, probe.out)
  t.same(JSON.parse(probe.out), {
    driver: ['DRIVER_API_VERSION', 'FUNCTION_LABEL', 'ProviderError', 'STATUS_BY_CODE', 'backendError', 'badGateway', 'conflict', 'forbidden', 'invalid',
      'isProviderError', 'notFound', 'timeout', 'tooManyRequests', 'unavailable', 'unprocessable', 'unsupported', 'withFunctionLabel'],
    contract: ['check', 'eventually', 'invokeUpstream', 'runDriverContract', 'testDriverContext'],
    version: 1,
    status: 404,
    deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED'
  }, 'the two entry points export what a driver needs, and nothing else is reachable')
})
