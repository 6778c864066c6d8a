/*
 * The streaming HTTP transport of the invoke proxy: one undici Agent (a keep-alive Pool per
 * upstream origin, pipelining 1) and a minimal dispatch handler that writes the upstream's
 * status, headers and body chunks straight to the caller's ServerResponse as they arrive, with
 * backpressure both ways. Nothing is buffered: the request body is the IncomingMessage itself,
 * every response chunk is written (so SSE/NDJSON are flushed) as soon as it comes.
 *
 * When the upstream offers another instance (ForwardRequest.retry) a connection failure before
 * any response (refused, reset, connect timeout) is tried once more per instance, but only for
 * idempotent methods (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE may be retried
 * automatically) and only when no byte of the request body was read yet, so nothing is replayed
 * half-sent and no POST or PATCH ever runs twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Dispatcher } from 'undici'
import { lazyRequire } from '../core/lazy-require.ts'
import { responseHeaders } from './headers.ts'
import { CLIENT_CLOSED, messages, sendProxyError } from './replies.ts'

export interface HttpForwarderOptions {
  /** headers timeout (no response headers in time → 504) and body idle timeout */
  readTimeoutMs: number
  /** connections per upstream origin (faas-provider's max_idle_conns_per_host) */
  connections: number
  /** idle keep-alive time for upstream sockets; Go's transport uses 5 s in faas-provider */
  keepAliveTimeoutMs?: number
  /** connect every origin through this Unix socket instead (an invoke thread's way to the main thread) */
  socketPath?: string
}

export const DEFAULT_UPSTREAM_KEEP_ALIVE_MS = 5_000

export interface ForwardRequest {
  /** upstream origin, e.g. http://127.0.0.1:8081 */
  origin: string
  /** path and raw query the function sees */
  path: string
  method: string
  /** flat header list (scanRequestHeaders) */
  headers: string[]
  /** the request body stream, or null when the request has none */
  body: IncomingMessage | null
  /** the request's Content-Type, for the response fallback */
  contentType: string | undefined
  /** the name segment as given, for error messages */
  name: string
  /** called exactly once with the status the caller got (499 when it went away first) and the proxy failure, if any */
  done: (status: number, err?: Error) => void
  /**
   * another instance's origin and path after a connection failure (undefined: none left); a
   * promise when another thread knows the instances (invoke threads)
   */
  retry?: () => RetryTarget | undefined | Promise<RetryTarget | undefined>
  /** relay the response as it is: no Content-Type fallback (the provider's own API, relayed by an invoke thread) */
  verbatim?: boolean
}

export interface RetryTarget { origin: string, path: string }

/** RFC 9110 §9.2.2 idempotent methods: safe to send again after a connection failure. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE'])

/** Connection failures before an answer: the request did not reach (or did not finish at) the instance. */
const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET'])

export interface HttpForwarder {
  forward (req: ForwardRequest, res: ServerResponse): void
  close (): Promise<void>
}

/** Error codes that mean "the upstream was reached but did not answer in time". */
function isTimeout (err: Error & { code?: string }): boolean {
  return err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_BODY_TIMEOUT'
}

/**
 * One in-flight invocation. A class (not closures) so V8 keeps one hidden class and the hot
 * path allocates a single object per request besides what undici and Node need.
 */
class ForwardHandler implements Dispatcher.DispatchHandler {
  private readonly res: ServerResponse
  private readonly req: ForwardRequest
  private readonly redispatch: ((req: ForwardRequest, res: ServerResponse) => void) | undefined
  private abortFn: ((err?: Error) => void) | undefined = undefined
  private status = 0
  private finished = false
  private gone = false
  private drainHooked = false

  constructor (req: ForwardRequest, res: ServerResponse, redispatch?: (req: ForwardRequest, res: ServerResponse) => void) {
    this.req = req
    this.res = res
    this.redispatch = redispatch
    res.once('close', this.onClientClose)
  }

  /** A connection failure of an idempotent request with nothing of its body read: try another instance. */
  private retried (err: Error & { code?: string }): boolean {
    const req = this.req
    if (req.retry === undefined || this.redispatch === undefined || this.status !== 0 || this.res.headersSent) return false
    if (!CONNECTION_FAILURES.has(err.code ?? '') || !IDEMPOTENT_METHODS.has(req.method)) return false
    if (req.body !== null && req.body.readableDidRead) return false
    const next = req.retry()
    if (next === undefined) return false
    this.finished = true // this attempt is over; the next handler reports to done
    this.res.off('close', this.onClientClose)
    const redispatch = this.redispatch
    if (next instanceof Promise) {
      const res = this.res
      next.then((n) => {
        if (n !== undefined) redispatch({ ...req, origin: n.origin, path: n.path }, res)
        else new ForwardHandler({ ...req, retry: undefined }, res).onError(err) // none left: answer as without retry
      }, () => { new ForwardHandler({ ...req, retry: undefined }, res).onError(err) })
      return true
    }
    redispatch({ ...req, origin: next.origin, path: next.path }, this.res)
    return true
  }

  /** The caller closed before we finished: abort the upstream request (frees the socket). */
  private readonly onClientClose = (): void => {
    if (this.finished || this.res.writableFinished) return
    this.gone = true
    if (this.abortFn !== undefined) this.abortFn()
  }

  private finish (status: number, err?: Error): void {
    if (this.finished) return
    this.finished = true
    this.req.done(status, err)
  }

  onConnect (abort: (err?: Error) => void): void {
    this.abortFn = abort
    if (this.gone) abort()
  }

  onHeaders (statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true // 1xx informational (e.g. 103): not forwarded
    if (this.gone) return false
    this.status = statusCode
    this.res.writeHead(statusCode, responseHeaders(rawHeaders, this.req.contentType, this.req.verbatim !== true))
    if (!this.drainHooked) {
      this.drainHooked = true
      this.res.on('drain', resume)
    }
    return true
  }

  onData (chunk: Buffer): boolean {
    return this.res.write(chunk)
  }

  onComplete (): void {
    this.res.end()
    this.finish(this.status)
  }

  onError (err: Error): void {
    if (this.finished) return
    if (!this.gone && this.retried(err)) return
    const res = this.res
    if (this.gone || res.destroyed) {
      this.finish(this.status === 0 ? CLIENT_CLOSED : this.status)
      return
    }
    if (res.headersSent) {
      // the response is under way: all we can do is cut it off
      res.destroy(err)
      this.finish(this.status, err)
      return
    }
    const timedOut = isTimeout(err)
    const status = timedOut ? 504 : 500
    sendProxyError(res, status, timedOut ? messages.timeout(this.req.name) : messages.unreachable(this.req.name))
    this.finish(status, err)
  }
}

/** undici is loaded with the first http invocation: an idle provider does not carry it */
const undici = lazyRequire<typeof import('undici')>('undici')

export function createHttpForwarder (options: HttpForwarderOptions): HttpForwarder {
  let agent: Dispatcher | undefined
  const getAgent = (): Dispatcher => (agent ??= new (undici().Agent)({
    connections: options.connections,
    pipelining: 1,
    headersTimeout: options.readTimeoutMs,
    bodyTimeout: options.readTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULT_UPSTREAM_KEEP_ALIVE_MS,
    connect: { timeout: options.readTimeoutMs, ...(options.socketPath !== undefined ? { socketPath: options.socketPath } : {}) }
  }))
  const forward = (req: ForwardRequest, res: ServerResponse): void => {
    getAgent().dispatch({
      origin: req.origin,
      path: req.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: req.headers,
      body: req.body
    }, new ForwardHandler(req, res, req.retry !== undefined ? forward : undefined))
  }
  return {
    forward,
    async close (): Promise<void> {
      await agent?.close()
    }
  }
}
