/*
 * Test helpers for the tekton backend: the fake Kubernetes API server (test/fakes/kubernetes)
 * with the function namespaces and the fake Tekton controller, a kubeconfig file pointing at it,
 * the real driver over the real @kubernetes/client-node, and the real app over that driver
 * (listening on 127.0.0.1:0). Everything stops when the test ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { createDriver, type TektonDriver } from '../../../providers/tekton/index.ts'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import { FakeKubernetes, type FakeKubernetesOptions } from '../../fakes/kubernetes/server.ts'
import { FakeTekton, type FakeTektonOptions } from '../../fakes/kubernetes/tekton.ts'

export { api } from '../kubernetes/helpers.ts'

export const NS = 'ci'
export const NAMESPACES = [NS, 'ci-staging']

export interface TektonSetup {
  fake: FakeKubernetes
  tekton: FakeTekton
  driver: TektonDriver
  kubeconfig: string
  cleanup: () => Promise<void>
}

export interface SetupOptions {
  driver?: Record<string, unknown>
  tekton?: FakeTektonOptions
  /** options of the fake API server (e.g. tekton: false — the tekton.dev API is not served) */
  fake?: FakeKubernetesOptions
  namespaces?: string[]
  /** read_timeout: the driver's execTimeoutMs and the app's readTimeoutMs */
  timeoutMs?: number
  /** the caches' clock (what their staleness bound is measured on) */
  clock?: () => number
}

export async function startTekton (opts: SetupOptions = {}): Promise<TektonSetup> {
  const fake = await new FakeKubernetes(opts.fake).start()
  const tekton = new FakeTekton(fake, opts.tekton)
  const namespaces = opts.namespaces ?? NAMESPACES
  for (const ns of namespaces) fake.createNamespace(ns)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-tekton-'))
  const kubeconfig = path.join(dir, 'config')
  await writeFile(kubeconfig, fake.kubeconfig(), { mode: 0o600 })
  const logger = pino({ level: 'silent' })
  const driver = await createDriver({ kubeconfig, inCluster: false, ...opts.driver }, { logger, namespaces, execTimeoutMs: opts.timeoutMs ?? 5000 }, opts.clock !== undefined ? { now: opts.clock } : {})
  let done = false
  const cleanup = async (): Promise<void> => {
    if (done) return
    done = true
    await driver.close()
    tekton.close()
    await fake.close()
    await rm(dir, { recursive: true, force: true })
  }
  return { fake, tekton, driver, kubeconfig, cleanup }
}

export interface TektonApp extends TektonSetup {
  app: FastifyInstance
  url: string
  backends: Backends
}

/** The real app over the tekton driver, listening on 127.0.0.1:0. */
export async function tektonApp (t: Test, opts: SetupOptions = {}): Promise<TektonApp> {
  const setup = await startTekton(opts)
  const namespaces = opts.namespaces ?? NAMESPACES
  const backends = new Backends([{ backend: { name: 'tekton', driver: setup.driver }, namespaces }], NS)
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs: opts.timeoutMs ?? 5000, writeTimeoutMs: 3000, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16 })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await backends.close()
    await setup.cleanup()
  })
  return { ...setup, app, url, backends }
}

export interface ReplicaApp {
  url: string
  driver: TektonDriver
}

/**
 * One more provider replica on the same fake cluster: its own kubeconfig, driver and app (a second
 * pod of the provider, as far as the cluster can tell). Stopped when the test ends.
 */
export async function replicaApp (t: Test, setup: TektonSetup, name: string, driverOpts: Record<string, unknown> = {}, timeoutMs = 5000): Promise<ReplicaApp> {
  const kubeconfig = path.join(path.dirname(setup.kubeconfig), `config-${name}`)
  await writeFile(kubeconfig, setup.fake.kubeconfig(), { mode: 0o600 })
  const driver = await createDriver({ kubeconfig, inCluster: false, ...driverOpts }, { logger: pino({ level: 'silent' }), namespaces: NAMESPACES, execTimeoutMs: timeoutMs })
  const backends = new Backends([{ backend: { name: 'tekton', driver }, namespaces: NAMESPACES }], NS)
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs: timeoutMs, writeTimeoutMs: 3000, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16 })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await backends.close()
  })
  return { url, driver }
}

export const fnSpec = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  service: name,
  image: 'ghcr.io/openfaas/alpine:latest',
  envProcess: 'cat',
  labels: {},
  annotations: {},
  ...extra
})
