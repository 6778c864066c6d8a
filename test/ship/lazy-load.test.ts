/*
 * What an idle provider on the local backend does not load (idle memory): no cloud or Kubernetes
 * SDK, no YAML parser without a config file, no undici before the first http invocation, no
 * static-file sender before the first dashboard request — and that the first /ui/ request and the
 * first invocation then do load them and work (so the checks below can fail).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startProviderProcess } from '../helpers/provider-process.ts'
import { ensureUi } from '../helpers/ui.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const NOT_AT_IDLE = ['undici', 'yaml', '@aws-sdk', '@google-cloud', '@kubernetes/client-node', '@fastify/send', 'mime']

t.before(async () => { await ensureUi() })

async function loadedPackages (log: string): Promise<Set<string>> {
  const text = await readFile(log, 'utf8')
  const out = new Set<string>()
  for (const m of text.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)) out.add(m[1] as string)
  return out
}

t.test('an idle provider loads no SDK, no YAML parser, no undici and no static-file sender; first use loads and uses them', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-lazy-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const log = path.join(dir, 'loaded.txt')
  const p = await startProviderProcess(t, {
    args: ['--import', path.join(repoRoot, 'test/fixtures/load-recorder.mjs'), path.join(repoRoot, 'src/main.ts')],
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, port: '0', state_dir: path.join(dir, 'state'), FB_LOAD_LOG: log },
    timeoutMs: 60_000
  })
  const idle = await loadedPackages(log)
  t.ok(idle.has('fastify'), 'the recorder sees packages')
  for (const pkg of NOT_AT_IDLE) t.notOk([...idle].some((p) => p === pkg || p.startsWith(pkg + '/')), `${pkg} is not loaded at idle`)

  // the dashboard: its sender is loaded by the first request, which serves index.html and an asset
  const index = await fetch(`${p.url}/ui/`)
  t.equal(index.status, 200, 'GET /ui/ on first use')
  t.match(index.headers.get('content-type'), /^text\/html/)
  const html = await index.text()
  t.match(html, /<div id="app">/)
  const script = /src="(assets\/[^"]+\.js)"/.exec(html)?.[1]
  t.type(script, 'string', 'index.html names its script')
  const asset = await fetch(`${p.url}/ui/${script ?? ''}`)
  t.equal(asset.status, 200)
  t.match(asset.headers.get('content-type'), /javascript/)
  t.ok((await loadedPackages(log)).has('@fastify/send'), '@fastify/send is loaded by the first /ui/ request')

  // route schemas are compiled on first use: the first invalid deploy is still refused by them
  const invalid = await fetch(`${p.url}/system/functions`, { method: 'POST', body: JSON.stringify({ service: 5, image: 'x' }) })
  t.equal(invalid.status, 400)
  t.match(await invalid.text(), /body\.service must be string/)

  const fprocess = `node ${path.join(repoRoot, 'test/fixtures/http-function.mjs')}`
  const deploy = await fetch(`${p.url}/system/functions`, {
    method: 'POST',
    body: JSON.stringify({ service: 'lazy', image: 'x', envProcess: fprocess, envVars: { mode: 'http' } })
  })
  t.equal(deploy.status, 202)
  let status = 0
  for (let i = 0; i < 600 && status !== 200; i++) {
    status = (await fetch(`${p.url}/function/lazy`, { method: 'POST', body: 'hi' })).status
    if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  t.equal(status, 200, 'the function answers')
  t.ok((await loadedPackages(log)).has('undici'), 'undici is loaded by the first invocation')
})
