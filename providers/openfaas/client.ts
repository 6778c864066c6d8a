/*
 * The one client for the remote provider's or gateway's HTTP API, on an undici Agent: builds the
 * URL (base + path, the namespace in the query), sends the system Authorization header, bounds
 * every call, decodes JSON, and turns every failure into a ProviderError in one place:
 *   remote 4xx/5xx → the code whose status is the remote's (404 NOT_FOUND, 409 CONFLICT, 400 INVALID,
 *   422, 429, 501, 503 …; anything else BACKEND) with the remote's own text;
 *   401/403 → FORBIDDEN "remote rejected our credentials" (a 401 here would blame the caller's);
 *   connection errors, resets and cut-off bodies → BAD_GATEWAY "remote … unreachable: reason";
 *   no answer within requestTimeoutMs → TIMEOUT "remote … timed out …".
 * Retries: the whole call, retries included, ends within requestTimeoutMs. Reads (GET) are retried
 * with jittered exponential back-off on 5xx (not 501), 429 and transport failures; every method is
 * retried on 429 (the remote did not act on it). Retry-After is honoured when it fits in the time
 * left, otherwise the 429 is answered at once. A write whose outcome is unknown (reset, cut off,
 * timed out) is never retried and never reported as done.
 */
import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { Agent, request, type Dispatcher } from 'undici'
import {
  backendError, badGateway, conflict, forbidden, invalid, notFound, ProviderError, timeout, tooManyRequests, unavailable, unprocessable, unsupported, type ErrorCode
} from '../../src/core/errors.ts'
import type { OpenFaaSOptions } from './options.ts'

export interface RemoteRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** below the base URL, without a leading "/": "system/functions" */
  path: string
  query?: Record<string, string | undefined>
  /** sent as JSON */
  body?: unknown
  /** what we were doing, for messages: 'deploying function "x"' */
  what: string
  /** the message when the remote answers 404 with an empty body */
  notFoundMessage?: string
}

export interface RemoteResponse {
  status: number
  text: string
}

export interface RemoteStream {
  status: number
  body: Readable
}

/** The longest part of a remote's error text that reaches our caller. */
const MAX_ERROR_TEXT = 2_000
/** attempts of one call at most (the request timeout usually ends them first) */
const MAX_ATTEMPTS = 4

/** Retry-After (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMs (header: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(header) ? header[0] : header
  if (v === undefined || v.trim() === '') return undefined
  const seconds = Number(v)
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000))
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

function reasonOf (err: unknown): string {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.cause?.code ?? e.code
  const message = e.cause?.message ?? e.message ?? String(err)
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message
}

export class RemoteClient {
  readonly base: URL
  /** "remote OpenFaaS at http://host:8080/" */
  readonly label: string
  private readonly opts: OpenFaaSOptions
  private readonly agent: Agent
  /** aborts every call in flight when the driver closes */
  private readonly closing = new AbortController()

  constructor (opts: OpenFaaSOptions) {
    this.opts = opts
    this.base = opts.url
    this.label = `remote OpenFaaS at ${opts.url.href}`
    this.agent = new Agent({
      connections: opts.connections,
      connect: {
        timeout: opts.connectTimeoutMs,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        ...(opts.insecure ? { rejectUnauthorized: false } : {})
      }
    })
  }

  get dispatcher (): Dispatcher {
    return this.agent
  }

  urlOf (path: string, query?: Record<string, string | undefined>): URL {
    const url = new URL(path, this.base)
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v)
    return url
  }

  /** Maps a non-2xx answer to the error our caller sees, keeping the remote's status meaning and text. */
  remoteError (status: number, text: string, what: string, notFoundMessage?: string): ProviderError {
    const body = text.trim().slice(0, MAX_ERROR_TEXT)
    const said = body === '' ? `answered ${status} with no message` : body
    if (status === 401 || status === 403) {
      return forbidden(`${this.label} rejected our credentials while ${what} (${status}${body === '' ? '' : `: ${body}`}); ` +
        `check the ${this.opts.authKind === 'none' ? 'missing' : this.opts.authKind} "auth" option of the openfaas backend`)
    }
    const make: Partial<Record<number, (m: string) => ProviderError>> = {
      400: invalid,
      404: notFound,
      409: conflict,
      422: unprocessable,
      429: tooManyRequests,
      501: unsupported,
      503: unavailable
    }
    if (status === 404 && body === '' && notFoundMessage !== undefined) return notFound(notFoundMessage)
    const ctor = make[status]
    if (ctor !== undefined) return ctor(body === '' ? `${what}: ${this.label} ${said}` : body)
    const code: ErrorCode = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 502 ? 'BAD_GATEWAY' : status === 504 ? 'TIMEOUT' : 'BACKEND'
    if (code !== 'BACKEND') return new ProviderError(code, `${what}: ${this.label} answered ${status}: ${said}`)
    return backendError(`${what}: ${this.label} answered ${status}: ${said}`)
  }

  /** A failure without an answer: TIMEOUT when time ran out (`timedOut`), BAD_GATEWAY otherwise. */
  unreachable (err: unknown, what: string, timeoutMs: number, timedOut = false): ProviderError {
    if (err instanceof ProviderError) return err
    if (this.closing.signal.aborted) return badGateway(`${what}: the openfaas backend is closed`, err)
    const e = err as { name?: string, code?: string }
    if (timedOut || e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
      const t = timeout(`${this.label} timed out while ${what}: no answer within ${timeoutMs} ms`)
      Object.defineProperty(t, 'cause', { value: err, enumerable: false })
      return t
    }
    if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return badGateway(`${this.label} unreachable while ${what}: no connection within ${this.opts.connectTimeoutMs} ms`, err)
    return badGateway(`${this.label} unreachable while ${what}: ${reasonOf(err)}`, err)
  }

  private headers (body: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'faas-bridge' }
    if (this.opts.authorization !== undefined) h.authorization = this.opts.authorization
    if (body) h['content-type'] = 'application/json'
    return h
  }

  /**
   * One bounded call (retries included, see the header); resolves with a 2xx answer, rejects with
   * the mapped ProviderError otherwise.
   */
  async call (req: RemoteRequest): Promise<RemoteResponse> {
    const timeoutMs = this.opts.requestTimeoutMs
    const deadline = Date.now() + timeoutMs
    const timer = AbortSignal.timeout(timeoutMs)
    const signal = AbortSignal.any([this.closing.signal, timer])
    const hasBody = req.body !== undefined
    const body = hasBody ? JSON.stringify(req.body) : undefined
    const read = req.method === 'GET'
    let delay = this.opts.retryBaseMs
    for (let attempt = 1; ; attempt++) {
      let failure: ProviderError
      let retryable: boolean
      let waitMs: number | undefined
      try {
        const left = Math.max(1, deadline - Date.now())
        const res = await request(this.urlOf(req.path, req.query), {
          dispatcher: this.agent,
          method: req.method,
          headers: this.headers(hasBody),
          ...(body !== undefined ? { body } : {}),
          headersTimeout: left,
          bodyTimeout: left,
          signal
        })
        const text = await this.readText(res.body, req.what)
        if (res.statusCode >= 200 && res.statusCode <= 299) return { status: res.statusCode, text }
        failure = this.remoteError(res.statusCode, text, req.what, req.notFoundMessage)
        retryable = res.statusCode === 429 || (read && res.statusCode >= 500 && res.statusCode !== 501)
        if (res.statusCode === 429 || res.statusCode === 503) waitMs = retryAfterMs(res.headers['retry-after'])
      } catch (err) {
        failure = this.unreachable(err, req.what, timeoutMs, timer.aborted)
        // a ProviderError here is our own verdict on the answer (too large): final
        retryable = read && !(err instanceof ProviderError) && failure.code === 'BAD_GATEWAY' && !signal.aborted
      }
      const wait = waitMs ?? Math.round(delay * (0.5 + Math.random() * 0.5))
      if (!retryable || attempt >= MAX_ATTEMPTS || signal.aborted || Date.now() + wait >= deadline) {
        if (retryable && failure.code === 'TOO_MANY_REQUESTS' && waitMs !== undefined && Date.now() + waitMs >= deadline) {
          throw new ProviderError('TOO_MANY_REQUESTS', `${failure.message} (the remote asks to retry after ${waitMs} ms, beyond the ${timeoutMs} ms request timeout)`)
        }
        throw failure
      }
      delay *= 2
      await sleep(wait, undefined, { signal }).catch(() => {})
      if (signal.aborted) {
        throw timer.aborted && !this.closing.signal.aborted ? failure : this.unreachable(new Error('closed'), req.what, timeoutMs)
      }
    }
  }

  /** A call whose 2xx answer is JSON; `null` (Go's nil slice) comes back as null. */
  async json (req: RemoteRequest): Promise<unknown> {
    const { text } = await this.call(req)
    if (text.trim() === '') return null
    try {
      return JSON.parse(text) as unknown
    } catch {
      throw badGateway(`${req.what}: ${this.label} answered with something that is not JSON: ${JSON.stringify(text.slice(0, 200))}`)
    }
  }

  /**
   * A streaming GET (logs): resolves once the remote answered 2xx, with the body still streaming
   * (no body timeout when `follow`); a non-2xx answer rejects with the mapped error.
   */
  async stream (req: RemoteRequest, signal: AbortSignal, follow: boolean): Promise<RemoteStream> {
    const timeoutMs = this.opts.requestTimeoutMs
    let res: Dispatcher.ResponseData
    try {
      res = await request(this.urlOf(req.path, req.query), {
        dispatcher: this.agent,
        method: 'GET',
        headers: { ...this.headers(false), accept: 'application/x-ndjson' },
        headersTimeout: timeoutMs,
        bodyTimeout: follow ? 0 : timeoutMs,
        signal: AbortSignal.any([this.closing.signal, signal])
      })
    } catch (err) {
      throw this.unreachable(err, req.what, timeoutMs)
    }
    if (res.statusCode < 200 || res.statusCode > 299) {
      let text = ''
      try {
        text = await this.readText(res.body, req.what)
      } catch {
        // the status says enough
      }
      throw this.remoteError(res.statusCode, text, req.what, req.notFoundMessage)
    }
    return { status: res.statusCode, body: res.body }
  }

  /** The whole body as text, at most maxResponseBytes (then BAD_GATEWAY: a remote should not send that). */
  private async readText (body: Dispatcher.ResponseData['body'], what: string): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of body) {
      const buf = chunk as Buffer
      size += buf.length
      if (size > this.opts.maxResponseBytes) {
        body.destroy()
        throw badGateway(`${what}: ${this.label} answered more than ${this.opts.maxResponseBytes} bytes`)
      }
      chunks.push(buf)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  async close (): Promise<void> {
    this.closing.abort(new Error('the openfaas backend is closing'))
    await this.agent.destroy()
  }
}
