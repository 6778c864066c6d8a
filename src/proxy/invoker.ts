/*
 * The invoke proxy without a web framework: `handle(req, res)` serves one
 * `/function/NAME[.NAMESPACE][/path]` request on Node's raw objects, `upgrade(...)` one WebSocket
 * upgrade. Resolves the function through Backends → Driver.upstream(), then streams to an HTTP
 * upstream (http-forwarder.ts) or runs a `call` upstream (call-forwarder.ts). Every failure the
 * proxy answers itself carries X-OpenFaaS-Internal: proxy; onInvocation hears every outcome once.
 * With `autoscaling`, each invocation bumps its function's load counters (in flight while it runs,
 * then completed), and a function with no ready instance is woken, its requests held meanwhile.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Backend, Backends } from '../core/backends.ts'
import type { Upstream } from '../core/driver.ts'
import { isProviderError } from '../core/errors.ts'
import { dns1123Problem, splitQualifiedName } from '../core/names.ts'
import { forwardCall } from './call-forwarder.ts'
import { scanRequestHeaders } from './headers.ts'
import { createHttpForwarder } from './http-forwarder.ts'
import { parseInvokeUrl } from './invoke-path.ts'
import type { InvokeTarget } from './invoke-path.ts'
import { CLIENT_CLOSED, messages, sendProxyError } from './replies.ts'
import { rejectUpgrade, tunnelWebSocket } from './websocket.ts'

export interface InvocationLabels {
  function: string
  namespace: string
  backend: string
  code: number
}

/**
 * One function's load counters, bumped on the invoke path (the autoscaler samples them per tick):
 * plain numbers in an object that exists before the request, so counting allocates nothing.
 */
export interface LoadCounter {
  /** requests being served, or held while the function wakes */
  inflight: number
  completed: number
  /** completed with a 2xx status */
  ok: number
  /** the completed requests' durations summed: their mean concurrency is Δbusy / Δt */
  busySeconds: number
}

export interface LoadSource {
  /** the function's counters; undefined for a function nobody tracks (then nothing is counted) */
  counter (namespace: string, name: string): LoadCounter | undefined
}

/** The autoscaler as the invoke path sees it (src/autoscale/). */
export interface Autoscaling {
  load: LoadSource
  /**
   * The function has no ready instance. When the autoscaler put it to sleep (scale to zero), wake
   * it and resolve true once an instance is ready (bounded by read_timeout); resolve false when it
   * is not a sleeping function (the caller answers 503 as always). Concurrent calls share one wake.
   */
  wake (backend: Backend, namespace: string, name: string): Promise<boolean>
}

export interface InvokerOptions {
  backends: Backends
  /** no response headers (or body idle) for this long → 504 */
  readTimeoutMs: number
  /** upstream connections per origin */
  maxIdleConnsPerHost: number
  onInvocation?: (labels: InvocationLabels, seconds: number) => void
  /** load counters and wake-on-request for the autoscaler */
  autoscaling?: Autoscaling
  /** proxy failures (upstream unreachable, timeouts, resolver errors) are logged here at warn */
  logger?: { warn (obj: unknown, msg?: string): void }
}

/**
 * What an invoke thread (invoke-threads.ts) learns from the main thread about one /function/
 * request: where to stream it (and `done` to report back), the answer to give instead, or that
 * the upstream is a `call` the main thread must run itself.
 */
export type RemoteResolution =
  | {
    kind: 'http'
    origin: string
    path: string
    /** the upstream base URL (WebSocket tunnels) */
    base: string
    headers: Record<string, string> | undefined
    done: (status: number, err?: unknown) => void
    retry: (() => { origin: string, path: string } | undefined) | undefined
  }
  | { kind: 'refused', status: number, message: string }
  | { kind: 'call' }

export interface Invoker {
  /** serves a request whose URL starts with /function/ */
  handle (req: IncomingMessage, res: ServerResponse): void
  /**
   * Resolves a /function/ URL for a request another thread serves, with the same rules, wake and
   * bookkeeping as `handle` (its load counter counts it in flight until `done`).
   */
  resolveRemote (url: string): Promise<RemoteResolution>
  /** serves a WebSocket upgrade whose URL starts with /function/ */
  upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void
  /** from now on answer 503 (the server is shutting down) */
  closing (): void
  close (): Promise<void>
}

/** faas-provider's allowed methods; anything else is 405 with an empty body. */
export const INVOKE_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']
const ALLOWED = new Set(INVOKE_METHODS)

/** `unknown`: the function does not exist; it is counted without its name (see recorder) */
type Done = (status: number, err?: unknown, unknown?: boolean) => void

interface Origin { origin: string, prefix: string }
/** drivers usually hand out the same URL object per function: cache its serialisation */
const origins = new WeakMap<URL, Origin>()
function originOf (url: URL): Origin {
  let o = origins.get(url)
  if (o === undefined) {
    const p = url.pathname
    o = { origin: url.origin, prefix: p === '/' ? '' : p.endsWith('/') ? p.slice(0, -1) : p }
    origins.set(url, o)
  }
  return o
}

export function sendMethodNotAllowed (res: ServerResponse): void {
  res.writeHead(405, ['Content-Length', '0', 'Allow', INVOKE_METHODS.join(', ')])
  res.end()
}

/**
 * The checks before a /function/ request is resolved, on any thread: 503 while shutting down,
 * 405 for a method faas-provider does not allow. False when it was answered here.
 */
export function admit (req: IncomingMessage, res: ServerResponse, shuttingDown: boolean): boolean {
  if (shuttingDown) {
    res.setHeader('Connection', 'close')
    sendProxyError(res, 503, messages.shuttingDown)
    return false
  }
  if (!ALLOWED.has(req.method as string)) {
    sendMethodNotAllowed(res)
    return false
  }
  return true
}

/** ForwardRequest.retry from Upstream.alternate: the next instance's origin and path. */
function retryVia (alternate: () => URL | undefined, pathAndQuery: string): () => { origin: string, path: string } | undefined {
  return () => {
    const url = alternate()
    if (url === undefined) return undefined
    const o = originOf(url)
    return { origin: o.origin, path: o.prefix === '' ? pathAndQuery : o.prefix + pathAndQuery }
  }
}

export function createInvoker (options: InvokerOptions): Invoker {
  const { backends, readTimeoutMs, onInvocation, logger, autoscaling } = options
  const forwarder = createHttpForwarder({ readTimeoutMs, connections: options.maxIdleConnsPerHost })
  let shuttingDown = false

  /** One invocation's bookkeeping: its labels and start time, reported once; failures logged. */
  function recorder (name: string, namespace: string, backend: string, load?: LoadCounter): Done {
    const start = onInvocation === undefined && load === undefined ? 0 : performance.now()
    if (load !== undefined) load.inflight++
    return (code: number, err?: unknown, unknown?: boolean) => {
      if (err !== undefined && logger !== undefined) {
        logger.warn({ function: name, namespace, backend, code, err }, 'invoke: proxy failure')
      }
      if (onInvocation === undefined && load === undefined) return
      const seconds = (performance.now() - start) / 1000
      if (load !== undefined) {
        load.inflight--
        load.completed++
        if (code >= 200 && code < 300) load.ok++
        load.busySeconds += seconds
      }
      // calls to functions that do not exist are counted under function_name="": anyone may call
      // /function/ANYTHING, and a label value per made-up name would grow the metrics without bound
      if (onInvocation !== undefined) onInvocation({ function: unknown === true ? '' : name, namespace, backend, code }, seconds)
    }
  }

  function dispatch (
    upstream: Upstream, target: InvokeTarget, req: IncomingMessage, res: ServerResponse, done: Done
  ): void {
    if (res.destroyed) {
      done(CLIENT_CLOSED)
      return
    }
    if (upstream.kind === 'http') {
      const o = originOf(upstream.url)
      const scan = scanRequestHeaders(req, upstream.headers)
      forwarder.forward({
        origin: o.origin,
        path: o.prefix === '' ? target.pathAndQuery : o.prefix + target.pathAndQuery,
        method: req.method as string,
        headers: scan.headers,
        body: scan.hasBody ? req : null,
        contentType: scan.contentType,
        name: target.segment,
        done,
        ...(upstream.alternate !== undefined ? { retry: retryVia(upstream.alternate, target.pathAndQuery) } : {})
      }, res)
      return
    }
    const scan = scanRequestHeaders(req, undefined)
    forwardCall(upstream, {
      method: req.method as string,
      path: target.path,
      query: target.query,
      headers: scan.headers,
      contentType: scan.contentType,
      name: target.segment,
      readTimeoutMs
    }, req, res).then((status) => { done(status) }, (err: unknown) => {
      sendProxyError(res, 500, messages.unreachable(target.segment))
      done(500, err)
    })
  }

  interface Resolution {
    target: InvokeTarget
    done: Done
    upstream: Promise<Upstream>
    backend: Backend
    namespace: string
    name: string
    load: LoadCounter | undefined
  }

  /**
   * The function a /function/ URL names, and its upstream (pending). When the URL names none the
   * caller is answered through `refuse` (a response, or a refused upgrade) and nothing is returned.
   */
  function resolve (url: string, refuse: (status: number, message: string) => void): Resolution | undefined {
    const target = parseInvokeUrl(url)
    if (target.segment === '') {
      refuse(400, messages.noName)
      return undefined
    }
    const { name, namespace } = splitQualifiedName(target.segment, backends.defaultNamespace)
    // a name that cannot exist (not a DNS-1123 label: `..`, `a/b`, …) never reaches a backend, whose
    // URLs or file paths it could bend, nor the metrics (anyone may call /function/)
    if (dns1123Problem(name) !== undefined || dns1123Problem(namespace) !== undefined) {
      refuse(503, messages.noEndpoints(target.segment))
      return undefined
    }
    const resolved = backends.lookup(namespace)
    if (resolved === undefined) {
      refuse(503, messages.noEndpoints(target.segment))
      recorder('', '', '')(503)
      return undefined
    }
    const load = autoscaling?.load.counter(resolved.namespace, name)
    const done = recorder(name, resolved.namespace, resolved.backend.name, load)
    let upstream: Promise<Upstream>
    try {
      upstream = resolved.backend.driver.upstream(resolved.namespace, name)
    } catch (err) {
      upstream = Promise.reject(err)
    }
    return { target, done, upstream, backend: resolved.backend, namespace: resolved.namespace, name, load }
  }

  /**
   * `err` came from upstream(): when the function is asleep, wake it (the request waits, held)
   * and take a fresh upstream; otherwise, or when waking fails, `fail` with the error.
   */
  function afterWake (r: Resolution, err: unknown, ok: (upstream: Upstream) => void, fail: (err: unknown) => void): void {
    if (autoscaling === undefined || !isProviderError(err, 'UNAVAILABLE')) {
      fail(err)
      return
    }
    autoscaling.wake(r.backend, r.namespace, r.name).then((woken) => {
      if (!woken) {
        fail(err)
        return
      }
      let upstream: Promise<Upstream>
      try {
        upstream = r.backend.driver.upstream(r.namespace, r.name)
      } catch (e) {
        upstream = Promise.reject(e)
      }
      upstream.then(ok, fail)
    }, fail)
  }

  /** faas-provider: any resolver error (unknown, not ready, backend down) is a 503; only the unexpected ones are logged */
  const unexpected = (err: unknown): unknown =>
    isProviderError(err, 'NOT_FOUND') || isProviderError(err, 'UNAVAILABLE') ? undefined : err

  /** the contract's 503 text, plus the backend's reason when the backend itself failed */
  const noEndpoints = (segment: string, err: unknown): string =>
    unexpected(err) !== undefined && err instanceof Error
      ? `${messages.noEndpoints(segment)} The backend failed: ${err.message}`
      : messages.noEndpoints(segment)

  function handle (req: IncomingMessage, res: ServerResponse): void {
    if (!admit(req, res, shuttingDown)) return
    const r = resolve(req.url as string, (status, message) => { sendProxyError(res, status, message) })
    if (r === undefined) return
    const { target, done } = r
    // the success path allocates only its own closure; the wake path builds what it needs
    r.upstream.then(
      (upstream) => { dispatch(upstream, target, req, res, done) },
      (err: unknown) => {
        afterWake(r, err, (upstream) => { dispatch(upstream, target, req, res, done) }, (e: unknown) => {
          sendProxyError(res, 503, noEndpoints(target.segment, e))
          done(503, unexpected(e), isProviderError(e, 'NOT_FOUND'))
        })
      }
    )
  }

  async function resolveRemote (url: string): Promise<RemoteResolution> {
    if (shuttingDown) return { kind: 'refused', status: 503, message: messages.shuttingDown }
    let refused: RemoteResolution = { kind: 'refused', status: 503, message: '' }
    const r = resolve(url, (status, message) => { refused = { kind: 'refused', status, message } })
    if (r === undefined) return refused
    return await new Promise<RemoteResolution>((ok) => {
      const use = (upstream: Upstream): void => {
        if (upstream.kind !== 'http') {
          // the main thread serves it again in full (handle), which counts it there: undo this count
          if (r.load !== undefined) r.load.inflight--
          ok({ kind: 'call' })
          return
        }
        const o = originOf(upstream.url)
        const pathAndQuery = r.target.pathAndQuery
        ok({
          kind: 'http',
          origin: o.origin,
          path: o.prefix === '' ? pathAndQuery : o.prefix + pathAndQuery,
          base: upstream.url.href,
          headers: upstream.headers,
          done: r.done,
          retry: upstream.alternate !== undefined ? retryVia(upstream.alternate, pathAndQuery) : undefined
        })
      }
      r.upstream.then(use, (err: unknown) => {
        afterWake(r, err, use, (e: unknown) => {
          const message = noEndpoints(r.target.segment, e)
          r.done(503, unexpected(e), isProviderError(e, 'NOT_FOUND'))
          ok({ kind: 'refused', status: 503, message })
        })
      })
    })
  }

  function upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (req.method !== 'GET') {
      rejectUpgrade(socket, 405, '')
      return
    }
    const r = resolve(req.url as string, (status, message) => { rejectUpgrade(socket, status, message) })
    if (r === undefined) return
    const { target, done } = r
    const tunnel = (upstream: Upstream): void => {
      if (upstream.kind !== 'http') {
        rejectUpgrade(socket, 501, `WebSocket is not supported by the backend of: ${target.segment}.`)
        done(501)
        return
      }
      const scan = scanRequestHeaders(req, upstream.headers)
      tunnelWebSocket(req, socket, head, {
        url: upstream.url,
        path: target.pathAndQuery,
        headers: scan.headers,
        name: target.segment,
        readTimeoutMs
      }, done)
    }
    const fail = (err: unknown): void => {
      rejectUpgrade(socket, 503, noEndpoints(target.segment, err))
      done(503, unexpected(err), isProviderError(err, 'NOT_FOUND'))
    }
    r.upstream.then(tunnel, (err: unknown) => { afterWake(r, err, tunnel, fail) })
  }

  return {
    handle,
    resolveRemote,
    upgrade,
    closing (): void { shuttingDown = true },
    async close (): Promise<void> {
      await forwarder.close()
    }
  }
}

