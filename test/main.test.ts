/*
 * The process as `npm start` runs it: serves the API, stops cleanly on SIGTERM, and brings back
 * what was stored after a restart or a crash (kill -9).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { startProvider } from './helpers/provider-process.ts'

async function deployEcho (url: string): Promise<void> {
  const res = await fetch(`${url}/system/functions`, { method: 'POST', body: JSON.stringify({ service: 'echo', image: 'ghcr.io/acme/echo:1', envProcess: 'cat', labels: {}, annotations: {} }) })
  if (res.status !== 202) throw new Error(`deploy: ${res.status} ${await res.text()}`)
}

async function invoke (url: string, body: string): Promise<{ status: number, text: string }> {
  const res = await fetch(`${url}/function/echo.openfaas-fn`, { method: 'POST', body })
  return { status: res.status, text: await res.text() }
}

t.test('start, serve, SIGTERM, restart: functions and secrets come back', async (t) => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fb-main-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })

  const first = await startProvider(t, { state_dir: stateDir })
  t.match(first.output(), /basic_auth is off, so faas-bridge listens on 127\.0\.0\.1 only/)
  await deployEcho(first.url)
  t.equal((await fetch(`${first.url}/system/secrets`, { method: 'POST', body: '{"name":"api-token","value":"s3cr3t-value-42"}' })).status, 202)
  t.same(await invoke(first.url, 'hello'), { status: 200, text: 'hello' })
  t.equal((await fetch(`${first.url}/system/function/nope`)).status, 404)
  const metrics = await (await fetch(`${first.url}/metrics`)).text()
  t.match(metrics, /faas_bridge_backend_call_duration_seconds_count\{backend="local",operation="deploy",outcome="ok"\} 1/, 'backend call latency per backend and operation')
  t.match(metrics, /faas_bridge_backend_call_errors_total\{backend="local",operation="status",code="NOT_FOUND"\} 1/, 'backend call errors by code')
  first.child.kill('SIGTERM')
  t.equal(await first.exited, 0, 'SIGTERM drains and exits 0')
  t.notMatch(first.output(), /s3cr3t-value-42/, 'the secret value never reaches the log')

  const second = await startProvider(t, { state_dir: stateDir })
  const list = await (await fetch(`${second.url}/system/functions`)).json() as Array<{ name: string }>
  t.same(list.map((f) => f.name), ['echo'])
  t.same(await (await fetch(`${second.url}/system/secrets`)).json(), [{ name: 'api-token', namespace: 'openfaas-fn' }])
  t.same(await invoke(second.url, 'again'), { status: 200, text: 'again' })
})

t.test('after kill -9 the provider restarts with everything it acknowledged', async (t) => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fb-crash-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })
  const first = await startProvider(t, { state_dir: stateDir })
  await deployEcho(first.url)
  const web = {
    service: 'web',
    image: 'ghcr.io/acme/web:1',
    envProcess: `${process.execPath} -e "require('http').createServer((q,s)=>s.end('web '+q.url)).listen(process.env.PORT,'127.0.0.1')"`,
    envVars: { mode: 'http' }
  }
  t.equal((await fetch(`${first.url}/system/functions`, { method: 'POST', body: JSON.stringify(web) })).status, 202)
  first.child.kill('SIGKILL')
  await first.exited

  const second = await startProvider(t, { state_dir: stateDir })
  t.same(await invoke(second.url, 'still here'), { status: 200, text: 'still here' })
  let webStatus = 0
  let webText = ''
  // bounded generously (30 s): the function process starts slowly on a loaded machine
  for (const until = Date.now() + 30_000; webStatus !== 200 && Date.now() < until;) {
    const res = await fetch(`${second.url}/function/web/x?y=1`)
    webStatus = res.status
    webText = await res.text()
    if (webStatus !== 200) await new Promise((resolve) => setTimeout(resolve, 25))
  }
  t.equal(webStatus, 200, 'the http-mode function runs again')
  t.equal(webText, 'web /x?y=1')
})

t.test('a configuration mistake exits 2 naming the key', async (t) => {
  await t.rejects(startProvider(t, { read_timeout: 'soon' }), /configuration error: read_timeout: "soon" is not a duration/)
})

t.test('basic_auth=true without credential files fails at start-up with the path', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-noauth-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await t.rejects(startProvider(t, { basic_auth: 'true', secret_mount_path: dir, state_dir: dir }), /basic-auth-user cannot be read/)
})

t.test('--check next to a live provider on the same state starts, reaps and cleans up nothing', async (t) => {
  const { execFile } = await import('node:child_process')
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fb-check-live-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })
  const live = await startProvider(t, { state_dir: stateDir })
  const web = {
    service: 'web',
    image: 'ghcr.io/acme/web:1',
    envProcess: `${process.execPath} -e "require('http').createServer((q,s)=>s.end(String(process.pid))).listen(process.env.PORT,'127.0.0.1')"`,
    envVars: { mode: 'http' }
  }
  t.equal((await fetch(`${live.url}/system/functions`, { method: 'POST', body: JSON.stringify(web) })).status, 202)
  let before = ''
  for (const until = Date.now() + 30_000; before === '' && Date.now() < until;) {
    const res = await fetch(`${live.url}/function/web`)
    if (res.status === 200) before = await res.text()
    else await new Promise((resolve) => setTimeout(resolve, 25))
  }
  t.not(before, '', 'the function serves')
  const result = await new Promise<{ code: number | null, out: string }>((resolve) => {
    execFile(process.execPath, ['src/main.ts', '--check'], {
      cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), '..'),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', state_dir: stateDir },
      timeout: 30_000
    }, (err, stdout, stderr) => { resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? 1, out: stdout + stderr }) })
  })
  t.equal(result.code, 0, result.out)
  const after = await (await fetch(`${live.url}/function/web`)).text()
  t.equal(after, before, 'the live provider\'s function process was left alone (same pid)')
  t.equal((await (await fetch(`${live.url}/system/functions`)).json() as unknown[]).length, 1)
})
