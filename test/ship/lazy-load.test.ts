/*
 * What an idle provider on the local backend does not load (idle memory): no cloud or Kubernetes
 * SDK, no YAML parser without a config file, no undici before the first http invocation — and
 * that the first invocation then does load undici (so the check below can fail).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startProviderProcess } from '../helpers/provider-process.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const NOT_AT_IDLE = ['undici', 'yaml', '@aws-sdk', '@google-cloud', '@kubernetes/client-node']

async function loadedPackages (log: string): Promise<Set<string>> {
  const text = await readFile(log, 'utf8')
  const out = new Set<string>()
  for (const m of text.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)) out.add(m[1] as string)
  return out
}

t.test('an idle provider loads no SDK, no YAML parser and no undici; the first http invocation loads undici', async (t) => {
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
