/*
 * The production bundle as the image runs it: `npm run build` in a copy of the sources, then
 * `node dist/src/main.js` (the Dockerfile's CMD) with the image's environment, a working directory
 * the process cannot write (a non-root user when the test runs as root, as the image does) and a
 * separate writable state volume. Health, info, metrics, a deploy + invoke, and SIGTERM draining an
 * in-flight invocation before exiting 0.
 */
import { chmod, chown, cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startProviderProcess } from '../helpers/provider-process.ts'
import { runCommand } from '../helpers/run-command.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** the image's non-root user when this test runs as root */
const RUN_AS = process.getuid?.() === 0 ? 65534 : undefined
// generous: tsc alone took over 45 s with the 2 cores loaded by other work (a build that hangs still fails)
const BUILD_TIMEOUT_MS = 240_000

async function walk (dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules') continue
    const full = path.join(dir, e.name)
    out.push(full)
    if (e.isDirectory()) await walk(full, out)
  }
  return out
}

/** chmod a-w on every file and directory under `dir` (node_modules is a symlink and stays as is) */
async function makeReadOnly (dir: string): Promise<void> {
  for (const f of (await walk(dir)).reverse()) {
    const st = await lstat(f)
    if (!st.isSymbolicLink()) await chmod(f, st.isDirectory() ? 0o555 : 0o444)
  }
  await chmod(dir, 0o555)
}

function bareImports (source: string): string[] {
  const out: string[] = []
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
    const spec = m[1] as string
    if (!spec.startsWith('.') && !spec.startsWith('/')) out.push(spec)
  }
  return out
}

function packageName (spec: string): string {
  const parts = spec.split('/')
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] as string
}

t.test('npm run build → node dist/src/main.js serves, counts and drains like the image', async (t) => {
  const base = await mkdtemp(path.join(os.tmpdir(), 'fb-bundle-'))
  t.teardown(async () => {
    await runCommand('chmod', ['-R', 'u+w', base], { cwd: base, timeoutMs: 5000 })
    await rm(base, { recursive: true, force: true })
  })
  await chmod(base, 0o755)
  const app = path.join(base, 'app')
  await mkdir(app)
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) await cp(path.join(repoRoot, f), path.join(app, f))
  for (const d of ['src', 'providers', 'scripts', 'ui']) await cp(path.join(repoRoot, d), path.join(app, d), { recursive: true })
  await symlink(path.join(repoRoot, 'node_modules'), path.join(app, 'node_modules'), 'dir')

  const build = await runCommand('npm', ['run', 'build'], { cwd: app, timeoutMs: BUILD_TIMEOUT_MS })
  t.equal(build.code, 0, 'npm run build succeeds')
  if (build.code !== 0) {
    t.comment(build.out)
    return
  }

  // the runtime stage installs dependencies only: the bundle may import nothing else
  const pkg = JSON.parse(await readFile(path.join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
  const allowed = new Set([...Object.keys(pkg.dependencies), ...builtinModules])
  const outside: string[] = []
  for (const f of await walk(path.join(app, 'dist'))) {
    if (!f.endsWith('.js')) continue
    for (const spec of bareImports(await readFile(f, 'utf8'))) {
      const name = spec.startsWith('node:') ? spec.slice(5) : packageName(spec)
      if (!allowed.has(name) && !allowed.has(spec)) outside.push(`${path.relative(app, f)}: ${spec}`)
    }
  }
  t.same(outside, [], 'dist/ imports only production dependencies and node built-ins')

  // the image: everything read-only except the state volume, owned by the unprivileged user
  const state = path.join(base, 'state')
  await mkdir(state, { mode: 0o700 })
  if (RUN_AS !== undefined) await chown(state, RUN_AS, RUN_AS)
  await makeReadOnly(app)
  const before = (await walk(app)).sort()

  const provider = await startProviderProcess(t, {
    args: ['dist/src/main.js'],
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'production',
      FAAS_BRIDGE_SHA: 'image-sha',
      port: '0',
      state_dir: state,
      HOME: '/nonexistent'
    },
    ...(RUN_AS !== undefined ? { uid: RUN_AS } : {}),
    timeoutMs: 10_000
  })
  const { url, child, exited } = provider

  t.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz')
  const dashboard = await fetch(`${url}/ui/`)
  t.equal(dashboard.status, 200, 'the dashboard is served from dist/ui')
  t.match(await dashboard.text(), /<div id="app">/)
  const info = await (await fetch(`${url}/system/info`)).json() as { version: { release: string, sha: string } }
  const { version } = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  t.same(info.version, { release: version, sha: 'image-sha' }, 'package.json found from dist/src; the sha comes from the image env')

  const deploy = await fetch(`${url}/system/functions`, {
    method: 'POST',
    body: JSON.stringify({ service: 'echo', image: 'ghcr.io/acme/echo:1', envProcess: 'cat' })
  })
  t.equal(deploy.status, 202, 'deploy')
  const invoked = await fetch(`${url}/function/echo`, { method: 'POST', body: 'hello' })
  t.same({ status: invoked.status, text: await invoked.text() }, { status: 200, text: 'hello' }, 'invoke')

  const metrics = await (await fetch(`${url}/metrics`)).text()
  t.match(metrics, /provider_http_requests_total\{[^}]*path="\/system\/functions"[^}]*backend="local"[^}]*\} 1/, 'requests per route and backend')
  t.match(metrics, /faas_bridge_invocations_total\{function_name="echo",namespace="openfaas-fn",backend="local",code="200"\} 1/, 'invocations per function')
  t.match(metrics, /provider_http_request_duration_seconds_bucket/, 'latency histogram')

  // SIGTERM while an invocation runs: it finishes, then the process exits 0
  const slow = await fetch(`${url}/system/functions`, {
    method: 'POST',
    body: JSON.stringify({ service: 'slow', image: 'ghcr.io/acme/slow:1', envProcess: 'sleep 0.5; cat' })
  })
  t.equal(slow.status, 202)
  const inflight = fetch(`${url}/function/slow`, { method: 'POST', body: 'drained' })
    .then(async (r) => ({ status: r.status, text: await r.text() }))
  await new Promise((resolve) => setTimeout(resolve, 150))
  child.kill('SIGTERM')
  t.same(await inflight, { status: 200, text: 'drained' }, 'the in-flight invocation completes')
  t.equal(await exited, 0, 'SIGTERM exits 0')
  const out = provider.output()
  t.match(out, /"msg":"stopping: draining requests, then stopping backends"/, 'structured shutdown log')
  t.match(out, /"reqId":"req-/, 'pino lines carry request ids')

  t.same((await walk(app)).sort(), before, 'nothing was written outside the state volume')
  t.ok((await readdir(state)).length > 0, 'state went to the volume')
})
