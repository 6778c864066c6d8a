/*
 * Builds the real app over the real local backend in a temporary state directory, listening on
 * 127.0.0.1:0; everything is stopped and removed when the test ends.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { createDriver } from '../../providers/local/index.ts'
import { buildApp, type AppOptions } from '../../src/app.ts'
import { Backends } from '../../src/core/backends.ts'
import type { Driver } from '../../src/core/driver.ts'

export interface LocalApp {
  app: FastifyInstance
  url: string
  driver: Driver
  backends: Backends
  stateDir: string
  /** stops app and driver but keeps the state directory (for restart tests) */
  stop (): Promise<void>
}

export async function localApp (t: Test, opts: { stateDir?: string, namespaces?: string[], driverOptions?: Record<string, unknown>, app?: Partial<AppOptions> } = {}): Promise<LocalApp> {
  const stateDir = opts.stateDir ?? await mkdtemp(path.join(os.tmpdir(), 'fb-state-'))
  const namespaces = opts.namespaces ?? ['openfaas-fn', 'staging-fn']
  const logger = pino({ level: 'silent' })
  const driver = await createDriver({ stateDir, ...opts.driverOptions }, { logger, namespaces, execTimeoutMs: 5000 })
  const backends = new Backends([{ backend: { name: 'local', driver }, namespaces }], 'openfaas-fn')
  await backends.init()
  const app = await buildApp({
    backends,
    readTimeoutMs: 5000,
    writeTimeoutMs: 500,
    systemBodyLimit: 1024 * 1024,
    maxIdleConnsPerHost: 64,
    ...opts.app
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await app.close()
    await backends.close()
  }
  t.teardown(async () => {
    await stop()
    if (opts.stateDir === undefined) await rm(stateDir, { recursive: true, force: true })
  })
  return { app, url, driver, backends, stateDir, stop }
}
