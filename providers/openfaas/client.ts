/*
 * The one client for the remote provider's or gateway's HTTP API, on an undici Agent: builds the
 * URL (base + path, the namespace in the query), sends the system Authorization header, bounds
 * every call, decodes JSON, and turns every failure into a ProviderError in one place:
 *   remote 4xx/5xx → the code whose status is the remote's (404 NOT_FOUND, 409 CONFLICT, 400 INVALID,
 *   422, 429, 501, 503 …; anything else BACKEND) with the remote's own text;
 *   401/403 → FORBIDDEN "remote rejected our credentials" (a 401 here would blame the caller's);
 *   connection errors and timeouts → BAD_GATEWAY "remote … unreachable: reason".
 */
import type { Readable } from 'node:stream'
import { Agent, request, type Dispatcher } from 'undici'
import {
  backendError, badGateway, conflict, forbidden, invalid, notFound, ProviderError, tooManyRequests, unavailable, unprocessable, unsupported, type ErrorCode
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

  unreachable (err: unknown, what: string, timeoutMs: number): ProviderError {
    if (err instanceof ProviderError) return err
    if (this.closing.signal.aborted) return badGateway(`${what}: the openfaas backend is closed`, err)
    const e = err as { name?: string, code?: string }
    const timedOut = e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' ||
      e.code === 'UND_ERR_CONNECT_TIMEOUT'
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : reasonOf(err)
    return badGateway(`${this.label} unreachable while ${what}: ${reason}`, err)
  }

  private headers (body: boolean): Record<string, string> {
    const h: Record<string, string> = { accept: 'application/json', 'user-agent': 'faas-bridge' }
    if (this.opts.authorization !== undefined) h.authorization = this.opts.authorization
    if (body) h['content-type'] = 'application/json'
    return h
  }

  /** One bounded call; resolves with a 2xx answer, rejects with the mapped ProviderError otherwise. */
  async call (req: RemoteRequest): Promise<RemoteResponse> {
    const timeoutMs = this.opts.requestTimeoutMs
    const signal = AbortSignal.any([this.closing.signal, AbortSignal.timeout(timeoutMs)])
    const hasBody = req.body !== undefined
    let res: Dispatcher.ResponseData
    let text: string
    try {
      res = await request(this.urlOf(req.path, req.query), {
        dispatcher: this.agent,
        method: req.method,
        headers: this.headers(hasBody),
        ...(hasBody ? { body: JSON.stringify(req.body) } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal
      })
      text = await this.readText(res.body, req.what)
    } catch (err) {
      throw this.unreachable(err, req.what, timeoutMs)
    }
    if (res.statusCode < 200 || res.statusCode > 299) throw this.remoteError(res.statusCode, text, req.what, req.notFoundMessage)
    return { status: res.statusCode, text }
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
