/*
 * Shared setup for the Cloud Run backend's tests: the Google fake and a function server on
 * 127.0.0.1, the real driver over them (REST transport, no API token, an offline ID-token source),
 * and — for HTTP-API tests — the real app built over the driver, listening on 127.0.0.1:0.
 */
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { createDriver, type CloudRunDriver } from '../../../providers/cloudrun/index.ts'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import type { DriverContext } from '../../../src/core/driver.ts'
import { startFakeGoogle, type FakeGoogle } from '../../fakes/cloudrun/index.ts'
import { startFunctionServer, type FunctionServer } from '../../fakes/cloudrun/function-server.ts'

export const NS = 'gcp'
export const PROJECT = 'test-project'
export const REGION = 'europe-west1'
export const IMAGE = 'ghcr.io/openfaas/alpine:latest'

const silent: DriverContext['logger'] = {
  info () {}, warn () {}, error () {}, debug () {}, child () { return silent }
}

/** Mints unsigned JWT-shaped ID tokens offline; counts what it was asked for. */
export class FakeTokens {
  readonly audiences: string[] = []
  /** token lifetime; under five minutes makes every use fetch a fresh one */
  lifetimeMs = 3600_000
  readonly minted = new Set<string>()

  async fetchIdToken (audience: string): Promise<string> {
    this.audiences.push(audience)
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
    const exp = Math.floor((Date.now() + this.lifetimeMs) / 1000)
    const token = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ aud: audience, exp, n: this.audiences.length })}.c2ln`
    this.minted.add(token)
    return token
  }
}

export interface Setup {
  fake: FakeGoogle
  fn: FunctionServer
  tokens: FakeTokens
  driver: CloudRunDriver
  options: Record<string, unknown>
}

export interface SetupOptions {
  driverOptions?: Record<string, unknown>
  namespaces?: string[]
  pollsToFinish?: number
  maxPageSize?: number
}

export function driverOptions (fake: FakeGoogle, tokens: FakeTokens, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    project: PROJECT,
    region: REGION,
    auth: 'none',
    idTokenProvider: tokens,
    endpoints: { run: fake.url, secretManager: fake.url, logging: fake.url },
    operationPollMs: 5,
    operationPollMaxMs: 20,
    operationTimeoutMs: 3000,
    requestTimeoutMs: 3000,
    retryBaseMs: 5,
    logsPollMs: 30,
    ...over
  }
}

/** Fake, function server and driver; all closed at teardown. */
export async function setup (t: Test, opts: SetupOptions = {}): Promise<Setup> {
  const fn = await startFunctionServer()
  const fake = await startFakeGoogle({
    functionUrl: fn.url,
    ...(opts.pollsToFinish !== undefined ? { pollsToFinish: opts.pollsToFinish } : {}),
    ...(opts.maxPageSize !== undefined ? { maxPageSize: opts.maxPageSize } : {})
  })
  const tokens = new FakeTokens()
  const options = driverOptions(fake, tokens, opts.driverOptions)
  const driver = await createDriver(options, { logger: silent, namespaces: opts.namespaces ?? [NS], execTimeoutMs: 5000 })
  t.teardown(async () => {
    await driver.close()
    await fake.close()
    await fn.close()
  })
  return { fake, fn, tokens, driver, options }
}

export interface AppSetup extends Setup {
  app: FastifyInstance
  url: string
  /** fetch against the app: path relative to its URL */
  call (path: string, init?: RequestInit & { json?: unknown }): Promise<Response>
}

/** The real faas-bridge app over the Cloud Run driver (NS is the default namespace). */
export async function appSetup (t: Test, opts: SetupOptions = {}): Promise<AppSetup> {
  const s = await setup(t, opts)
  const namespaces = opts.namespaces ?? [NS]
  const backends = new Backends([{ backend: { name: 'cloudrun', driver: s.driver }, namespaces }], namespaces[0] as string)
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs: 5000, writeTimeoutMs: 1500, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16 })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const call = async (path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> => {
    const { json, ...rest } = init
    const headers = new Headers(rest.headers)
    if (json !== undefined) headers.set('content-type', 'application/json')
    return await fetch(url + path, { ...rest, headers, ...(json !== undefined ? { body: JSON.stringify(json) } : {}), signal: AbortSignal.timeout(10_000) })
  }
  return { ...s, app, url, call }
}

export function deployBody (name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { service: name, image: IMAGE, envProcess: 'env', labels: {}, annotations: {}, ...over }
}
