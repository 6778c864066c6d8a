/*
 * The shared driver contract, run against the local backend in both modes: fork-per-request
 * (the classic watchdog) and http (long-running servers).
 */
import t from 'tap'
import { createDriver } from '../../../providers/local/index.ts'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { httpSpec, NS, testContext } from './helpers.ts'

const makeDriver = async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'faas-bridge-contract-'))
  const driver = await createDriver({ stateDir, restartBackoffMs: 50, stopGraceMs: 1000 }, testContext())
  return {
    driver,
    cleanup: async () => {
      await driver.close()
      await rm(stateDir, { recursive: true, force: true })
    }
  }
}

await runDriverContract(t, {
  name: 'local (fork mode)',
  makeDriver,
  namespace: NS,
  functionSpec: (name) => ({ service: name, image: 'example/cat:latest', envProcess: 'cat' }),
  capabilities: {
    invoke: { body: 'hello contract', expectBody: (b) => b === 'hello contract' },
    logLine: 'Forking fprocess.'
  }
})

await runDriverContract(t, {
  name: 'local (http mode)',
  makeDriver,
  namespace: NS,
  functionSpec: (name) => httpSpec(name),
  capabilities: {
    invoke: { body: 'hi', expectBody: (b) => JSON.parse(b).body === 'hi' },
    logLine: 'listening on'
  }
})
