/*
 * Builds the real app over a MemoryDriver (or any drivers) for API tests, and closes it after the test.
 */
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../../src/app.ts'
import { Backends } from '../../src/core/backends.ts'
import type { Driver } from '../../src/core/driver.ts'
import { MemoryDriver } from './memory-driver.ts'

export interface TestApp {
  app: FastifyInstance
  driver: MemoryDriver
  backends: Backends
}

export async function memoryApp (t: Test, overrides: Partial<AppOptions> = {}, extra: Array<{ name: string, driver: Driver, namespaces: string[] }> = []): Promise<TestApp> {
  const driver = new MemoryDriver()
  const backends = new Backends([
    { backend: { name: 'mem', driver }, namespaces: ['openfaas-fn', 'staging-fn'] },
    ...extra.map((e) => ({ backend: { name: e.name, driver: e.driver }, namespaces: e.namespaces }))
  ], 'openfaas-fn')
  await backends.init()
  const app = await buildApp({
    backends,
    readTimeoutMs: 5000,
    writeTimeoutMs: 2000,
    systemBodyLimit: 64 * 1024,
    maxIdleConnsPerHost: 16,
    ...overrides
  })
  t.teardown(async () => { await app.close() })
  return { app, driver, backends }
}
