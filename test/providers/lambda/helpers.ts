/*
 * Shared setup for the Lambda backend's tests: the fake AWS on 127.0.0.1, a driver over it (static
 * test credentials, explicit endpoint, short waits), and the real app over that driver listening
 * on 127.0.0.1:0 for tests through the HTTP API. Everything is closed at teardown.
 */
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import type { DriverContext } from '../../../src/core/driver.ts'
import type { FunctionDeployment } from '../../../src/core/types.ts'
import { createDriver, type LambdaDriver } from '../../../providers/lambda/index.ts'
import { startFakeAws, type FakeAws } from '../../fakes/lambda/server.ts'
import type { FakeSettings } from '../../fakes/lambda/state.ts'

export const NS = 'aws'
export const NS2 = 'aws-staging'
export const ROLE = 'arn:aws:iam::123456789012:role/faas-bridge-functions'
export const image = (repo: string, tag = '1'): string => `123456789012.dkr.ecr.us-east-1.amazonaws.com/${repo}:${tag}`

const silent: DriverContext['logger'] = {
  info () {}, warn () {}, error () {}, debug () {}, child () { return silent }
}

export function testContext (over: Partial<DriverContext> = {}): DriverContext {
  return { logger: silent, namespaces: [NS, NS2], execTimeoutMs: 5000, ...over }
}

/** driver options for the fake: static credentials, the fake's endpoint, fast polling */
export function fakeOptions (fake: FakeAws, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    roleArn: ROLE,
    requestTimeoutMs: 3000,
    retryBaseMs: 5,
    updatePollMs: 10,
    updateTimeoutMs: 3000,
    logPollMs: 20,
    upstreamCacheMs: 0,
    ...over
  }
}

export async function fakeAws (t: Test, settings: Partial<FakeSettings> = {}): Promise<FakeAws> {
  const fake = await startFakeAws(settings)
  t.teardown(async () => { await fake.close() })
  return fake
}

/** an echo function: replies with the event it got */
export function registerEcho (fake: FakeAws): void {
  fake.handle('echo', (event, ctx) => {
    ctx.log(`echo invoked: ${JSON.stringify((event as { body?: unknown }).body ?? null)}`)
    return event
  })
}

export async function makeDriver (t: Test, fake: FakeAws, over: Record<string, unknown> = {}, context = testContext()): Promise<LambdaDriver> {
  const driver = await createDriver(fakeOptions(fake, over), context)
  t.teardown(async () => { await driver.close() })
  return driver
}

export function spec (name: string, repo = 'echo', more: Partial<FunctionDeployment> = {}): FunctionDeployment & { namespace: string } {
  return { service: name, namespace: NS, image: image(repo), ...more }
}

export interface LambdaApp {
  app: FastifyInstance
  url: string
  driver: LambdaDriver
  fake: FakeAws
}

/** The real app over a Lambda driver over a fresh fake; namespaces aws (default) and aws-staging. */
export async function lambdaApp (t: Test, opts: { driverOptions?: Record<string, unknown>, fake?: Partial<FakeSettings>, readTimeoutMs?: number } = {}): Promise<LambdaApp> {
  const fake = await fakeAws(t, opts.fake)
  registerEcho(fake)
  const driver = await createDriver(fakeOptions(fake, opts.driverOptions), testContext())
  const backends = new Backends([{ backend: { name: 'lambda', driver }, namespaces: [NS, NS2] }], NS)
  await backends.init()
  const app = await buildApp({
    backends,
    readTimeoutMs: opts.readTimeoutMs ?? 5000,
    writeTimeoutMs: 2000,
    systemBodyLimit: 1024 * 1024,
    maxIdleConnsPerHost: 16
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await app.close()
    await backends.close()
  })
  return { app, url, driver, fake }
}

/** JSON helper for the HTTP API */
export async function api (base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number, text: string, json: () => unknown, headers: Headers }> {
  const res = await fetch(base + path, {
    method,
    headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000)
  })
  const text = await res.text()
  return { status: res.status, text, json: () => JSON.parse(text) as unknown, headers: res.headers }
}

/** deploys through the API and waits (bounded) until the function is ready */
export async function deployReady (base: string, body: Record<string, unknown>): Promise<void> {
  const r = await api(base, 'POST', '/system/functions', body)
  if (r.status !== 202) throw new Error(`deploy: ${r.status} ${r.text}`)
  const ns = typeof body.namespace === 'string' ? `?namespace=${body.namespace}` : ''
  const deadline = Date.now() + 30_000 // generous: a met condition returns at once
  for (;;) {
    const s = await api(base, 'GET', `/system/function/${body.service as string}${ns}`)
    if (s.status === 200 && (s.json() as { availableReplicas?: number }).availableReplicas !== undefined &&
      ((s.json() as { availableReplicas?: number }).availableReplicas ?? 0) > 0) return
    if (Date.now() > deadline) throw new Error(`${body.service as string} not ready: ${s.status} ${s.text}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
