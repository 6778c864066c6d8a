/*
 * Test helpers for the kubernetes backend: a fake API server (test/fakes/kubernetes) with the
 * function namespaces, a kubeconfig file pointing at it, the real driver over the real
 * @kubernetes/client-node, the real app over that driver (listening on 127.0.0.1:0), and tiny
 * function servers the fake's service proxy forwards to. Everything stops when the test ends.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { createDriver, type KubernetesDriver } from '../../../providers/kubernetes/index.ts'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import { FakeKubernetes, type FakeKubernetesOptions } from '../../fakes/kubernetes/server.ts'
import type { CreateForeignSecret } from '../../../src/driver-contract/suite.ts'

export const NS = 'openfaas-fn'
export const NAMESPACES = [NS, 'staging-fn']

export interface KubeSetup {
  fake: FakeKubernetes
  driver: KubernetesDriver
  kubeconfig: string
  cleanup: () => Promise<void>
}

/** A fake API server with the configured namespaces, and a driver on it through a kubeconfig file. */
/** `clock`: the driver's caches read time from it (their staleness bound), instead of Date.now */
export async function startKube (opts: { fake?: FakeKubernetesOptions, driver?: Record<string, unknown>, namespaces?: string[], seed?: (fake: FakeKubernetes) => void, clock?: () => number } = {}): Promise<KubeSetup> {
  const fake = await new FakeKubernetes(opts.fake).start()
  const namespaces = opts.namespaces ?? NAMESPACES
  for (const ns of namespaces) fake.createNamespace(ns)
  opts.seed?.(fake)
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-kube-'))
  const kubeconfig = path.join(dir, 'config')
  await writeFile(kubeconfig, fake.kubeconfig(), { mode: 0o600 })
  const logger = pino({ level: 'silent' })
  const driver = await createDriver({ kubeconfig, inCluster: false, ...opts.driver }, { logger, namespaces, execTimeoutMs: 5000 }, opts.clock !== undefined ? { now: opts.clock } : {})
  let done = false
  const cleanup = async (): Promise<void> => {
    if (done) return
    done = true
    await driver.close()
    await fake.close()
    await rm(dir, { recursive: true, force: true })
  }
  return { fake, driver, kubeconfig, cleanup }
}

export interface KubeApp extends KubeSetup {
  app: FastifyInstance
  url: string
  backends: Backends
}

/** The real app over the kubernetes driver, listening on 127.0.0.1:0. */
export async function kubeApp (t: Test, opts: Parameters<typeof startKube>[0] = {}): Promise<KubeApp> {
  const setup = await startKube(opts)
  const namespaces = opts.namespaces ?? NAMESPACES
  const backends = new Backends([{ backend: { name: 'kubernetes', driver: setup.driver }, namespaces }], NS)
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs: 5000, writeTimeoutMs: 3000, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16 })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await backends.close()
    await setup.cleanup()
  })
  return { ...setup, app, url, backends }
}

/**
 * A function "container": a real HTTP server on loopback that the fake's service proxy reaches
 * for Service `name`. It answers with what it got and writes a log line to the first pod, as a
 * watchdog would to stdout.
 */
export async function functionServer (t: Test | undefined, fake: FakeKubernetes, namespace: string, name: string): Promise<{ url: string, close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const pod = fake.pods(namespace, name).find((p) => p.status?.phase === 'Running')
      if (pod !== undefined) fake.appendLog(namespace, pod.metadata.name, `handled ${req.method ?? ''} ${req.url ?? ''} ${body}`)
      res.writeHead(200, { 'content-type': 'application/json', 'x-function': name })
      res.end(JSON.stringify({ function: name, method: req.method, url: req.url, body, authorization: req.headers.authorization ?? null, header: req.headers['x-test'] ?? null }))
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  fake.setServiceBackend(namespace, name, url)
  const close = async (): Promise<void> => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
  t?.teardown(close)
  return { url, close }
}

export async function api (base: string, method: string, p: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, text: string, json: () => any, headers: Headers }> {
  const res = await fetch(base + p, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers }
}

export const figlet = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  service: name,
  image: 'ghcr.io/openfaas/figlet:latest',
  envProcess: 'figlet',
  labels: {},
  annotations: {},
  ...extra
})

/**
 * The contract suite's createForeignSecret for the Kubernetes fakes (kubernetes and tekton): an
 * Opaque Secret written straight into the fake API server, named and keyed as the driver would,
 * without the managed-by label.
 */
export function foreignSecretIn (fake: FakeKubernetes): CreateForeignSecret {
  return async (ns, name, value) => {
    const data = { [name]: Buffer.from(value).toString('base64') }
    fake.store.create('secrets', 'secrets', { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name, namespace: ns }, data })
    return async () => {
      const v = fake.store.get('secrets', ns, name)?.data?.[name]
      return typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined
    }
  }
}
