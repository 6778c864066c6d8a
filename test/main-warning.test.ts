/*
 * The start-up warning when basic_auth is off, read from the process's log as a user sees it: it
 * speaks of running commands only when a local backend is served (a lambda-only configuration
 * has none), and says what is open in every case.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import type { Test } from 'tap'
import { startFakeAws } from './fakes/lambda/server.ts'
import { startProvider } from './helpers/provider-process.ts'
import { fakeOptions } from './providers/lambda/helpers.ts'

/** the warn-level lines (pino level 40) of the start-up log about basic_auth */
function warnings (output: string): string[] {
  return output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number, msg: string })
    .filter((l) => l.level === 40 && l.msg.includes('basic_auth')).map((l) => l.msg)
}

async function lambdaOnlyConfig (t: Test): Promise<{ config: string, stateDir: string }> {
  const aws = await startFakeAws()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-warn-'))
  t.teardown(async () => {
    await aws.close()
    await rm(dir, { recursive: true, force: true })
  })
  const config = path.join(dir, 'backends.yaml')
  // JSON is YAML: the fake's endpoint and static credentials, as the lambda tests use them
  await writeFile(config, JSON.stringify({ backends: { aws: { driver: 'lambda', namespaces: ['openfaas-fn'], options: fakeOptions(aws) } } }))
  return { config, stateDir: path.join(dir, 'state') }
}

t.test('the default configuration (a local backend): the warning says it runs any command', async (t) => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fb-warn-local-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })
  const p = await startProvider(t, { state_dir: stateDir })
  t.same(warnings(p.output()), [
    'basic_auth is off, so faas-bridge listens on 127.0.0.1 only: anyone who reaches it can run any command on this host through the local backend (local). ' +
    'Set basic_auth=true (or bind_address explicitly) to serve other hosts.'
  ])
})

t.test('a lambda-only configuration: no word of a local backend or of commands', async (t) => {
  const { config, stateDir } = await lambdaOnlyConfig(t)
  const p = await startProvider(t, { config_file: config, state_dir: stateDir })
  t.same(warnings(p.output()), [
    'basic_auth is off, so faas-bridge listens on 127.0.0.1 only: anyone who reaches it can deploy, invoke and remove functions. ' +
    'Set basic_auth=true (or bind_address explicitly) to serve other hosts.'
  ])
  t.notMatch(p.output(), /local backend|command/, 'nothing in the start-up log speaks of a local backend')
  t.equal((await fetch(`${p.url}/system/functions`)).status, 200, 'and it serves the lambda backend')
})

t.test('a lambda-only configuration with bind_address set: the explicit-address warning, still without a local backend', async (t) => {
  const { config, stateDir } = await lambdaOnlyConfig(t)
  const p = await startProvider(t, { config_file: config, state_dir: stateDir, bind_address: '127.0.0.1' })
  t.same(warnings(p.output()), ['basic_auth is off and bind_address was set explicitly to 127.0.0.1: anyone who reaches it can deploy, invoke and remove functions'])
  t.notMatch(p.output(), /local backend|command/)
})
