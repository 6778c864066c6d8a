/*
 * Two faas-bridges on loopback for the openfaas backend's tests: the *remote* is a real faas-bridge
 * over the local backend with basic auth on; the *front* is a faas-bridge whose namespaces `edge`
 * (→ remote `openfaas-fn`) and `staging-fn` (→ remote `staging-fn`) belong to the openfaas driver,
 * and whose default `openfaas-fn` is an in-memory driver. Everything is closed at teardown.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createDriver as createLocalDriver } from '../../../providers/local/index.ts'
import { createDriver, type OpenFaaSDriver } from '../../../providers/openfaas/index.ts'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import type { DriverContext } from '../../../src/core/driver.ts'
import type { FunctionDeployment } from '../../../src/core/types.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { MemoryDriver } from '../../helpers/memory-driver.ts'

export const CREDS = { user: 'admin', password: 'remote-s3cret' }
export const BASIC = { type: 'basic', user: CREDS.user, password: CREDS.password }
export const FIXTURE = resolve(import.meta.dirname, '../../fixtures/http-function.mjs')
export const STREAM_FIXTURE = resolve(import.meta.dirname, 'fixtures/stream-function.mjs')
/** local namespace → remote namespace in every front */
export const NAMESPACES = { edge: 'openfaas-fn' }

const silent: DriverContext['logger'] = {
  info () {}, warn () {}, error () {}, debug () {}, child () { return silent }
}

export function testContext (namespaces: string[] = ['edge', 'staging-fn']): DriverContext {
  return { logger: silent, namespaces, execTimeoutMs: 5000 }
}

export interface Remote {
  url: string
  app: FastifyInstance
  close (): Promise<void>
}

/** A real faas-bridge (local backend, basic auth) on 127.0.0.1:0. */
export async function startRemote (opts: { writeTimeoutMs?: number, readTimeoutMs?: number } = {}): Promise<Remote> {
  const stateDir = await mkdtemp(join(tmpdir(), 'fb-remote-'))
  const namespaces = ['openfaas-fn', 'staging-fn']
  const driver = await createLocalDriver(
    { stateDir, restartBackoffMs: 50, stopGraceMs: 1000, secretsMount: 'env' },
    { logger: silent, namespaces, execTimeoutMs: 5000 })
  const backends = new Backends([{ backend: { name: 'local', driver }, namespaces }], 'openfaas-fn')
  await backends.init()
  const app = await buildApp({
    backends,
    readTimeoutMs: opts.readTimeoutMs ?? 5000,
    writeTimeoutMs: opts.writeTimeoutMs ?? 2000,
    systemBodyLimit: 1024 * 1024,
    maxIdleConnsPerHost: 64,
    credentials: CREDS
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  let closed = false
  return {
    url,
    app,
    async close () {
      if (closed) return
      closed = true
      await app.close()
      await backends.close()
      await rm(stateDir, { recursive: true, force: true })
    }
  }
}

export async function remoteFor (t: Test, opts: Parameters<typeof startRemote>[0] = {}): Promise<Remote> {
  const remote = await startRemote(opts)
  t.teardown(remote.close)
  return remote
}

export interface Front {
  url: string
  app: FastifyInstance
  driver: OpenFaaSDriver
}

/** A faas-bridge whose `edge` and `staging-fn` namespaces are the remote's (options override). */
export async function frontFor (t: Test, remoteUrl: string, options: Record<string, unknown> = {}, app: { writeTimeoutMs?: number } = {}): Promise<Front> {
  const driver = await createDriver({ url: remoteUrl, auth: BASIC, namespaces: NAMESPACES, requestTimeoutMs: 5000, retryBaseMs: 5, ...options }, testContext())
  const backends = new Backends([
    { backend: { name: 'mem', driver: new MemoryDriver() }, namespaces: ['openfaas-fn'] },
    { backend: { name: 'remote', driver }, namespaces: ['edge', 'staging-fn'] }
  ], 'openfaas-fn')
  await backends.init()
  const fastify = await buildApp({
    backends,
    readTimeoutMs: 5000,
    writeTimeoutMs: app.writeTimeoutMs ?? 2000,
    systemBodyLimit: 1024 * 1024,
    maxIdleConnsPerHost: 16
  })
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await fastify.close()
    await backends.close()
  })
  return { url, app: fastify, driver }
}

/** A long-running http-mode function (echoes method, path and body as JSON; logs "handled ..."). */
export function httpSpec (name: string, namespace = 'edge', env: Record<string, string> = {}): FunctionDeployment {
  return {
    service: name,
    namespace,
    image: 'example/http-function:latest',
    envProcess: `'${process.execPath}' '${FIXTURE}'`,
    envVars: { mode: 'http', ...env },
    labels: {},
    annotations: {}
  }
}

export interface Answer {
  status: number
  text: string
  headers: Headers
}

/** One HTTP call to a faas-bridge; JSON bodies are sent with a Content-Type, as faas-cli does. */
export async function api (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000)
  })
  return { status: res.status, text: await res.text(), headers: res.headers }
}

export const basicHeader = (user: string, password: string): Record<string, string> =>
  ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` })

/** The remote's own API, with the remote's credentials. */
export async function remoteApi (remote: Remote, method: string, path: string, body?: unknown): Promise<Answer> {
  return await api(remote.url, method, path, body, basicHeader(CREDS.user, CREDS.password))
}

/** Deploys through the front and waits (bounded) until the function is ready there. */
export async function deployReady (front: Front, spec: FunctionDeployment, timeoutMs = 10_000): Promise<void> {
  const res = await api(front.url, 'POST', '/system/functions', spec)
  if (res.status !== 202) throw new Error(`deploy answered ${res.status}: ${res.text}`)
  await waitAvailable(front, spec.service, spec.namespace ?? 'edge', 1, timeoutMs)
}

export async function waitAvailable (front: Front, name: string, namespace: string, n: number, timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    const res = await api(front.url, 'GET', `/system/function/${name}?namespace=${namespace}`)
    check(res.status === 200, `status ${res.status}: ${res.text}`)
    const s = JSON.parse(res.text) as { availableReplicas?: number, replicas?: number }
    check((s.availableReplicas ?? 0) === n && (s.replicas ?? 0) === n, `replicas ${s.replicas}, available ${s.availableReplicas}, want ${n}`)
  }, { timeoutMs, intervalMs: 50, what: `${name}.${namespace} with ${n} available` })
}
