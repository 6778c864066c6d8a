/*
 * The invocation routes `/function/NAME[.NAMESPACE][/path]` as an encapsulated Fastify plugin.
 * The request is hijacked in a route-level onRequest hook and served by the framework-free
 * invoker (src/proxy/invoker.ts) on Node's raw request/response: no body parsing, no body limit,
 * no 415 for odd media types, no per-request log line (the invocation metric covers it).
 * WebSocket upgrades never reach Fastify; `attachUpgrade` passes them through on the http.Server.
 */
import type http from 'node:http'
import type { Duplex } from 'node:stream'
import type { FastifyPluginAsync, onRequestHookHandler, RouteHandlerMethod } from 'fastify'
import type { Backends } from '../core/backends.ts'
import { INVOKE_PREFIX, isInvokeUrl } from '../proxy/invoke-path.ts'
import { createInvoker, INVOKE_METHODS, sendMethodNotAllowed } from '../proxy/invoker.ts'
import type { Autoscaling, Invoker } from '../proxy/invoker.ts'
import { createInvokeThreads } from '../proxy/invoke-threads.ts'
import type { InvokeThreads } from '../proxy/invoke-threads.ts'

export interface InvokeOptions {
  backends: Backends
  /** upstream timeout: no response headers (or body idle) for this long → 504 */
  readTimeoutMs: number
  /** upstream keep-alive connections per function origin */
  maxIdleConnsPerHost: number
  /** once per invocation, with the status the caller got and the duration in seconds */
  onInvocation?: (labels: { function: string, namespace: string, backend: string, code: number }, seconds: number) => void
  /** the autoscaler's load counters and wake-on-request (src/autoscale/) */
  autoscaling?: Autoscaling
  /**
   * Serve /function/ requests on the http.Server before Fastify routes them (default true).
   * About 15–25% less CPU per invocation (bench/invoke-proxy.ts); the routes stay registered
   * for `inject` and as the fallback. App-level Fastify hooks do not see fast-path requests.
   */
  fastPath?: boolean
  /**
   * Invoke threads (src/proxy/invoke-threads.ts): `count` worker threads that serve /function/ on
   * the same port (the server must listen with reusePort), started once the main thread serves
   * `startRps` invocations per second (0: as soon as the server listens). `listen` puts them on
   * another address instead of the server's (tests). Needs the fast path.
   */
  threads?: { count: number, startRps: number, listen?: { host: string, port: number }, created?: (threads: InvokeThreads) => void }
}

const ROUTES = ['/function/:name', '/function/:name/*']

/** Never reached: the onRequest hook hijacks every request on these routes. */
const unreachable: RouteHandlerMethod = async () => {}

function isWebSocketUpgrade (req: http.IncomingMessage): boolean {
  const upgrade = req.headers.upgrade
  return upgrade !== undefined && upgrade.toLowerCase() === 'websocket'
}

const attached = new WeakMap<http.Server, Invoker>()

/** `shouldUpgradeCallback` (Node ≥ 24.9) is not in @types/node's Server yet. */
type UpgradeAwareServer = http.Server & { shouldUpgradeCallback?: (req: http.IncomingMessage) => boolean }

function attachInvoker (server: http.Server, invoker: Invoker): void {
  if (attached.has(server)) return
  attached.set(server, invoker)
  // Node asks the server which requests to treat as upgrades: only WebSockets under /function/
  // are ours; any other Upgrade request stays an ordinary request (for Fastify) unless someone
  // else listens for upgrades too.
  const s = server as UpgradeAwareServer
  const previous = s.shouldUpgradeCallback
  s.shouldUpgradeCallback = function shouldUpgrade (this: http.Server, req: http.IncomingMessage): boolean {
    if (isInvokeUrl(req.url) && isWebSocketUpgrade(req)) return true
    if (this.listenerCount('upgrade') <= 1) return false
    return previous === undefined || previous.call(this, req)
  }
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (isInvokeUrl(req.url) && isWebSocketUpgrade(req)) invoker.upgrade(req, socket, head)
  })
}

/**
 * Passes WebSocket upgrades on /function/... through to the functions' HTTP upstreams.
 * `invokeRoutes` already does this for the Fastify instance's own server; call it only for a
 * server Fastify did not create. Idempotent per server.
 */
export function attachUpgrade (server: http.Server, opts: InvokeOptions): void {
  if (attached.has(server)) return
  const invoker = createInvoker(opts)
  attachInvoker(server, invoker)
  server.once('close', () => { void invoker.close() })
}

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void

/**
 * The fast path: /function/ requests go from the server's 'request' event straight to the
 * invoker (no routing, request/reply objects, child logger or hooks); everything else still goes
 * to Fastify's handler. Needs the server to have exactly one request listener (Fastify's).
 */
function installFastPath (server: http.Server, invoker: Invoker, onInvoke?: (req: http.IncomingMessage, res: http.ServerResponse) => void): boolean {
  const listeners = server.listeners('request') as RequestListener[]
  if (listeners.length !== 1) return false
  const fastify = listeners[0] as RequestListener
  server.removeListener('request', fastify)
  server.on('request', function invokeFastPath (req: http.IncomingMessage, res: http.ServerResponse) {
    if ((req.url as string).startsWith(INVOKE_PREFIX)) {
      onInvoke?.(req, res)
      invoker.handle(req, res)
    } else fastify(req, res)
  })
  return true
}

/** invocations counted per rate check: the check costs one clock read per window */
const RATE_WINDOW = 256

/**
 * The main thread's side of the invoke threads: starts them when the invocation rate passes
 * `startRps`, and once they run, ends each connection it accepted before (Connection: close after
 * its current response) once, so that long-lived keep-alive clients (the gateway's pool)
 * reconnect and spread over the threads too.
 */
function threadStarter (server: http.Server, threads: InvokeThreads, opts: NonNullable<InvokeOptions['threads']>): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  let count = 0
  let windowStart = performance.now()
  const windowMs = opts.startRps > 0 ? RATE_WINDOW / opts.startRps * 1000 : 0
  let fresh: WeakSet<object> | undefined
  const rebalanced = new WeakSet<object>()
  const start = (): void => {
    fresh = new WeakSet()
    const seen = fresh
    server.on('connection', (socket: object) => { seen.add(socket) })
    void threads.start(server, opts.listen)
  }
  if (opts.startRps === 0) {
    if (server.listening) start()
    else server.once('listening', start)
  }
  return (req, res) => {
    if (fresh === undefined) {
      if (++count < RATE_WINDOW) return
      const now = performance.now()
      if (now - windowStart < windowMs) start()
      count = 0
      windowStart = now
      return
    }
    const socket = req.socket
    if (!threads.started || fresh.has(socket) || rebalanced.has(socket)) return
    rebalanced.add(socket)
    res.shouldKeepAlive = false
  }
}

export const invokeRoutes: FastifyPluginAsync<InvokeOptions> = async (fastify, opts) => {
  const invoker = createInvoker({ ...opts, logger: fastify.log })
  const threads = opts.threads !== undefined && opts.threads.count > 0 && opts.fastPath !== false
    ? createInvokeThreads({ count: opts.threads.count, readTimeoutMs: opts.readTimeoutMs, maxIdleConnsPerHost: opts.maxIdleConnsPerHost, invoker, logger: fastify.log })
    : undefined
  fastify.addHook('preClose', () => { invoker.closing(); threads?.closing() })
  fastify.addHook('onClose', async () => { await threads?.close(); await invoker.close() })
  if (threads !== undefined) opts.threads?.created?.(threads)

  const invoke: onRequestHookHandler = (request, reply) => {
    // the lifecycle stops here on purpose (done is never called): the invoker owns the response
    reply.hijack()
    invoker.handle(request.raw, reply.raw)
  }
  const notAllowed: onRequestHookHandler = (_request, reply) => {
    reply.hijack()
    sendMethodNotAllowed(reply.raw)
  }
  const otherMethods = fastify.supportedMethods.filter((m) => !INVOKE_METHODS.includes(m))

  for (const url of ROUTES) {
    fastify.route({ method: [...INVOKE_METHODS], url, logLevel: 'warn', onRequest: invoke, handler: unreachable })
    if (otherMethods.length > 0) {
      fastify.route({ method: otherMethods, url, logLevel: 'warn', onRequest: notAllowed, handler: unreachable })
    }
  }

  const server = fastify.server as http.Server | undefined | null
  if (server !== undefined && server !== null) {
    attachInvoker(server, invoker)
    const onInvoke = threads !== undefined && opts.threads !== undefined ? threadStarter(server, threads, opts.threads) : undefined
    if (opts.fastPath !== false && !installFastPath(server, invoker, onInvoke)) {
      fastify.log.warn('invoke: the server has more than one request listener; /function/ requests go through Fastify routing')
    }
  }
}
