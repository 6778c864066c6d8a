/*
 * Shared set-up for the invoke tests: real upstream servers on 127.0.0.1:0 and a minimal Fastify
 * app that registers only the invoke plugin over a FakeDriver, listening on a real socket
 * (streaming cannot be tested with inject). Everything is closed on the test's teardown.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import type { FastifyInstance } from 'fastify'
import { invokeRoutes } from '../../src/api/invoke.ts'
import type { InvokeOptions } from '../../src/api/invoke.ts'
import type { Upstream } from '../../src/core/driver.ts'
import { FakeDriver, fakeBackends } from '../helpers/fake-driver.ts'

interface Teardown { teardown (fn: () => unknown): void }

export interface Upstreams {
  server: http.Server
  url: URL
}

/** Starts an HTTP server on 127.0.0.1:0 that serves `handler`. */
export async function startUpstream (t: Teardown, handler: http.RequestListener): Promise<Upstreams> {
  const server = http.createServer(handler)
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => { server.close(resolve) })
  })
  const { port } = server.address() as AddressInfo
  return { server, url: new URL(`http://127.0.0.1:${port}/`) }
}

export interface Proxy {
  app: FastifyInstance
  driver: FakeDriver
  /** http://127.0.0.1:PORT */
  base: string
  port: number
  invocations: Array<{ labels: { function: string, namespace: string, backend: string, code: number }, seconds: number }>
}

export interface ProxyOptions {
  /** "name" or "name.namespace" → upstream (or an Error to throw) */
  functions?: Record<string, Upstream | Error>
  namespaces?: string[]
  readTimeoutMs?: number
  /** default true */
  fastPath?: boolean
}

/** Starts a Fastify app with only the invoke plugin, on a real socket. */
export async function startProxy (t: Teardown, options: ProxyOptions = {}): Promise<Proxy> {
  const namespaces = options.namespaces ?? ['openfaas-fn']
  const driver = new FakeDriver()
  for (const [qualified, upstream] of Object.entries(options.functions ?? {})) {
    const dot = qualified.lastIndexOf('.')
    if (dot === -1) driver.set(namespaces[0] as string, qualified, upstream)
    else driver.set(qualified.slice(dot + 1), qualified.slice(0, dot), upstream)
  }
  const invocations: Proxy['invocations'] = []
  const app = Fastify({ logger: false })
  const opts: InvokeOptions = {
    backends: fakeBackends(driver, namespaces),
    readTimeoutMs: options.readTimeoutMs ?? 5_000,
    maxIdleConnsPerHost: 16,
    onInvocation: (labels, seconds) => { invocations.push({ labels, seconds }) },
    fastPath: options.fastPath ?? true
  }
  await app.register(invokeRoutes, opts)
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  const { port } = app.server.address() as AddressInfo
  return { app, driver, base: `http://127.0.0.1:${port}`, port, invocations }
}

export function httpUpstream (url: URL, headers?: Record<string, string>): Upstream {
  return headers === undefined ? { kind: 'http', url } : { kind: 'http', url, headers }
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  rawHeaders: string[]
  body: Buffer
}

/**
 * Sends one request with node:http (no header normalisation beyond Node's) and collects the
 * whole response. `headers` may be a flat raw list to control names, order and duplicates.
 */
export async function send (
  base: string, path: string,
  init: { method?: string, headers?: Record<string, string> | string[], body?: Buffer | string } = {}
): Promise<RawResponse> {
  const url = new URL(base)
  let headers = init.headers
  if (Array.isArray(headers) && !headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')) {
    headers = ['Host', url.host, ...headers] // node:http adds no Host to a raw header list
  }
  if (init.body !== undefined && !Array.isArray(headers) && headers?.['transfer-encoding'] === undefined) {
    // node:http sends DELETE/OPTIONS bodies without framing unless told the length
    headers = { 'content-length': String(Buffer.byteLength(init.body)), ...headers }
  }
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: init.method ?? 'GET',
      path,
      headers,
      agent: false
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) })
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** What an echo upstream saw. */
export interface Seen {
  method: string
  url: string
  rawHeaders: string[]
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** An upstream that answers 200 with a JSON description of the request it got. */
export async function startEcho (t: Teardown): Promise<Upstreams> {
  return await startUpstream(t, (req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const seen: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        headers: req.headers,
        body: Buffer.concat(chunks)
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ...seen, body: seen.body.toString('base64') }))
    })
  })
}

export function parseSeen (body: Buffer): Seen {
  const raw = JSON.parse(body.toString()) as Omit<Seen, 'body'> & { body: string }
  return { ...raw, body: Buffer.from(raw.body, 'base64') }
}
