/*
 * The streaming HTTP transport of the invoke proxy: one undici Agent (a keep-alive Pool per
 * upstream origin, pipelining 1) and a minimal dispatch handler that writes the upstream's
 * status, headers and body chunks straight to the caller's ServerResponse as they arrive, with
 * backpressure both ways. Nothing is buffered: the request body is the IncomingMessage itself,
 * every response chunk is written (so SSE/NDJSON are flushed) as soon as it comes.
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
}

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
  private abortFn: ((err?: Error) => void) | undefined = undefined
  private status = 0
  private finished = false
  private gone = false
  private drainHooked = false

  constructor (req: ForwardRequest, res: ServerResponse) {
    this.req = req
    this.res = res
    res.once('close', this.onClientClose)
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
    this.res.writeHead(statusCode, responseHeaders(rawHeaders, this.req.contentType))
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
    connect: { timeout: options.readTimeoutMs }
  }))
  return {
    forward (req: ForwardRequest, res: ServerResponse): void {
      getAgent().dispatch({
        origin: req.origin,
        path: req.path,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: req.body
      }, new ForwardHandler(req, res))
    },
    async close (): Promise<void> {
      await agent?.close()
    }
  }
}
