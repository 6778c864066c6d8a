/*
 * The typed clients' transport for the Kubernetes-based backends (kubernetes, tekton): every call
 * made through @kubernetes/client-node's generated APIs goes through ResilientKubeHttp, which
 *
 *  - bounds the whole call (all attempts, headers and body) by one deadline, the backend's
 *    `requestTimeoutMs` (DEFAULT_KUBE_REQUEST_TIMEOUT_MS), with an AbortSignal on each attempt, so a
 *    never-answering API server costs at most that long and its socket is closed;
 *  - reads the whole body inside that deadline, so a truncated body is seen here, as a failure of
 *    this attempt, not later as a JSON parse error;
 *  - retries reads (GET/HEAD) with bounded exponential backoff on 5xx, 429 (honouring Retry-After
 *    when it fits in the deadline), connection resets and truncated bodies;
 *  - retries writes only when they were certainly not applied: 429 (the API server's priority and
 *    fairness refused it before any handler ran) and a refused connection (nothing was sent).
 *    A write whose outcome is unknown (reset or truncated after sending, 5xx, no answer in time)
 *    is never retried here; it fails with a KubeTransportError or its HTTP status, so it is never
 *    reported as done.
 *
 * Failures that are not HTTP answers become KubeTransportError (errors.ts maps them: timeout → 504,
 * the rest → 502 with the reason).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createConfiguration, ResponseContext, ServerConfiguration, wrapHttpLibrary } from '@kubernetes/client-node'
import type { Configuration, KubeConfig, PromiseHttpLibrary, RequestContext, ResponseBody } from '@kubernetes/client-node'
import { PooledKubeHttp } from './connections.ts'

/** The bound on one API call, all retries included, unless the backend sets `requestTimeoutMs`. */
export const DEFAULT_KUBE_REQUEST_TIMEOUT_MS = 10_000
/** Allowed range of `requestTimeoutMs`. */
export const MIN_KUBE_REQUEST_TIMEOUT_MS = 100
export const MAX_KUBE_REQUEST_TIMEOUT_MS = 300_000
/** Attempts of one read (the first included). */
export const DEFAULT_KUBE_READ_ATTEMPTS = 4
/** Backoff between attempts: base · 2^(n-1), capped, with jitter in its upper half. */
export const DEFAULT_KUBE_RETRY_BASE_MS = 100
export const DEFAULT_KUBE_RETRY_MAX_MS = 2_000
/** Retry-After is honoured up to this (and only when it fits before the deadline). */
export const MAX_RETRY_AFTER_MS = 30_000

export interface KubeRetryPolicy {
  timeoutMs: number
  readAttempts: number
  baseDelayMs: number
  maxDelayMs: number
}

export const DEFAULT_KUBE_RETRY_POLICY: Readonly<KubeRetryPolicy> = {
  timeoutMs: DEFAULT_KUBE_REQUEST_TIMEOUT_MS,
  readAttempts: DEFAULT_KUBE_READ_ATTEMPTS,
  baseDelayMs: DEFAULT_KUBE_RETRY_BASE_MS,
  maxDelayMs: DEFAULT_KUBE_RETRY_MAX_MS
}

/** What went wrong below HTTP. */
export type KubeTransportFailure = 'timeout' | 'refused' | 'unreachable' | 'reset' | 'truncated'

/** A call that got no usable HTTP answer. `outcomeUnknown`: a write that may have been applied. */
export class KubeTransportError extends Error {
  readonly failure: KubeTransportFailure
  readonly method: string
  readonly attempts: number
  readonly outcomeUnknown: boolean
  constructor (failure: KubeTransportFailure, method: string, attempts: number, detail: string, cause?: unknown) {
    super(detail, { cause })
    this.name = 'KubeTransportError'
    this.failure = failure
    this.method = method
    this.attempts = attempts
    this.outcomeUnknown = !isRead(method) && failure !== 'refused' && failure !== 'unreachable'
  }
}

function isRead (method: string): boolean {
  return method === 'GET' || method === 'HEAD'
}

function errorCode (err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 4 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string') return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

function detailOf (err: unknown): string {
  const cause = (err as { cause?: { code?: string, message?: string } } | undefined)?.cause
  const code = errorCode(err)
  const message = cause?.message ?? (err as Error | undefined)?.message ?? String(err)
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}

function classify (err: unknown, phase: 'headers' | 'body'): KubeTransportFailure {
  const code = errorCode(err)
  if (code === 'ECONNREFUSED') return 'refused'
  if (code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EAI_AGAIN') return 'unreachable'
  return phase === 'body' ? 'truncated' : 'reset'
}

/** Retry-After in ms (delta-seconds or an HTTP date), or undefined. */
export function retryAfterMs (value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined
  const seconds = Number(value)
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS)
}

export function backoffMs (attempt: number, policy: KubeRetryPolicy, random = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))
  return Math.round(full / 2 + random() * full / 2)
}

function bufferedBody (data: Buffer): ResponseBody {
  return {
    text: async () => data.toString('utf8'),
    binary: async () => data,
    stream: () => new ReadableStream<Uint8Array>({
      start (controller) {
        controller.enqueue(new Uint8Array(data))
        controller.close()
      }
    })
  }
}

const FAILURE_TEXT: Record<KubeTransportFailure, string> = {
  timeout: 'no answer',
  refused: 'the API server could not be reached',
  unreachable: 'the API server could not be reached',
  reset: 'the connection was reset before an answer',
  truncated: 'the answer was cut off'
}

/** The HttpLibrary the typed clients use: deadline, whole-body reads, bounded retries, over `inner` (the pooled connections). */
export class ResilientKubeHttp {
  private readonly inner: PromiseHttpLibrary
  private readonly policy: KubeRetryPolicy

  constructor (policy: Partial<KubeRetryPolicy> = {}, inner: PromiseHttpLibrary) {
    this.policy = { ...DEFAULT_KUBE_RETRY_POLICY, ...policy }
    this.inner = inner
  }

  async send (request: RequestContext): Promise<ResponseContext> {
    const method = request.getHttpMethod().toString().toUpperCase()
    const read = isRead(method)
    const deadline = Date.now() + this.policy.timeoutMs
    const attempts = Math.max(1, this.policy.readAttempts)
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw this.timedOut(method, attempt - 1)
      const signal = AbortSignal.timeout(remaining)
      request.setSignal(signal)
      let phase: 'headers' | 'body' = 'headers'
      let res: ResponseContext
      let data: Buffer
      try {
        res = await this.inner.send(request)
        phase = 'body'
        data = await res.body.binary()
      } catch (err) {
        if (signal.aborted) throw this.timedOut(method, attempt, err)
        const failure = classify(err, phase)
        const retryable = failure === 'refused' || (read && failure !== 'unreachable')
        if (retryable && attempt < attempts && await this.pause(backoffMs(attempt, this.policy), deadline)) continue
        throw new KubeTransportError(failure, method, attempt,
          `${FAILURE_TEXT[failure]} (${detailOf(err)})${attempt > 1 ? ` after ${attempt} attempts` : ''}`, err)
      }
      const code = res.httpStatusCode
      const retryable = code === 429 || (read && code >= 500 && code !== 501)
      if (retryable && attempt < attempts) {
        const after = code === 429 || code === 503 ? retryAfterMs(res.headers['retry-after']) : undefined
        if (await this.pause(after ?? backoffMs(attempt, this.policy), deadline)) continue
      }
      return new ResponseContext(code, res.headers, bufferedBody(data))
    }
  }

  /** Sleeps `ms` when that leaves time for another attempt before the deadline; false otherwise. */
  private async pause (ms: number, deadline: number): Promise<boolean> {
    if (Date.now() + ms >= deadline - 10) return false
    await sleep(ms)
    return true
  }

  private timedOut (method: string, attempts: number, cause?: unknown): KubeTransportError {
    return new KubeTransportError('timeout', method, attempts,
      `${FAILURE_TEXT.timeout} within ${this.policy.timeoutMs} ms${attempts > 1 ? ` (${attempts} attempts)` : ''}`, cause)
  }
}

/** A generated API client (CoreV1Api, AppsV1Api, CustomObjectsApi...) on the resilient transport. */
export function makeKubeApi<T> (config: KubeConfig, Api: new (configuration: Configuration) => T, policy: Partial<KubeRetryPolicy> = {}): T {
  const cluster = config.getCurrentCluster()
  if (cluster === null) throw new Error('kubernetes: no current cluster in the kubeconfig')
  const http = new ResilientKubeHttp(policy, new PooledKubeHttp(config))
  return new Api(createConfiguration({
    baseServer: new ServerConfiguration<Record<string, string>>(cluster.server, {}),
    authMethods: { default: config },
    httpApi: wrapHttpLibrary(http)
  }))
}
