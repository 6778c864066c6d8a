/*
 * Shared setup for the local backend's tests: a driver over a fresh temp state dir, closed and
 * cleaned up at teardown; http-mode fixture specs; process-liveness checks.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Test } from 'tap'
import type { DriverContext } from '../../../src/core/driver.ts'
import type { FunctionDeployment } from '../../../src/core/types.ts'
import { createDriver, type LocalDriver } from '../../../providers/local/index.ts'

export const NS = 'openfaas-fn'
export const FIXTURE = resolve(import.meta.dirname, '../../fixtures/http-function.mjs')

const silent: DriverContext['logger'] = {
  info () {}, warn () {}, error () {}, debug () {}, child () { return silent }
}

export function testContext (over: Partial<DriverContext> = {}): DriverContext {
  return { logger: silent, namespaces: [NS], execTimeoutMs: 5000, ...over }
}

export async function tempStateDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'faas-bridge-local-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A driver over `stateDir` (a fresh temp dir by default), closed at teardown. */
export async function makeLocalDriver (t: Test, options: Record<string, unknown> = {}, context = testContext()): Promise<LocalDriver> {
  const stateDir = (options.stateDir as string | undefined) ?? await tempStateDir(t)
  const driver = await createDriver({ restartBackoffMs: 50, stopGraceMs: 1000, ...options, stateDir }, context)
  t.teardown(async () => { await driver.close() })
  return driver
}

export function httpSpec (name: string, env: Record<string, string> = {}): FunctionDeployment & { namespace: string } {
  return {
    service: name,
    namespace: NS,
    image: 'example/http-function:latest',
    envProcess: `'${process.execPath}' '${FIXTURE}'`,
    envVars: { mode: 'http', ...env }
  }
}

export function forkSpec (name: string, envProcess: string, env: Record<string, string> = {}): FunctionDeployment & { namespace: string } {
  return { service: name, namespace: NS, image: 'example/fork:latest', envProcess, envVars: env }
}

export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
