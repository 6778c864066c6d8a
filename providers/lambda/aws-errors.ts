/*
 * AWS failures → the contract's error codes, with AWS's own message; and the one retry loop:
 * throttles (and, for reads, AWS 5xx) are retried with jittered exponential back-off while the
 * request timeout allows, then surface as 429 (or the mapped error). A Retry-After from AWS is
 * honoured when it fits in the time left (otherwise the 429 is answered at once). Resets and
 * bodies cut off mid-answer are BAD_GATEWAY (retried for reads only: a write whose outcome is
 * unknown is an error, never a success); no answer within the request timeout is TIMEOUT.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  backendError, badGateway, conflict, forbidden, invalid, isProviderError, notFound, ProviderError,
  timeout, tooManyRequests, unavailable
} from '../../src/core/errors.ts'

interface AwsErrorLike {
  name?: string
  message?: string
  code?: string
  Reason?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
  retryAfterSeconds?: string | number
}

/** socket-level failures: the connection broke (before or during the answer) */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH'])

const THROTTLES = new Set([
  'TooManyRequestsException', 'ThrottlingException', 'ThrottledException', 'Throttling',
  'RequestLimitExceeded', 'EC2ThrottledException'
])
const NOT_FOUND = new Set(['ResourceNotFoundException'])
const CONFLICT = new Set(['ResourceConflictException', 'ResourceExistsException', 'ResourceInUseException', 'ResourceAlreadyExistsException'])
const INVALID = new Set([
  'InvalidParameterValueException', 'InvalidParameterException', 'InvalidRequestException', 'ValidationException',
  'InvalidRequestContentException', 'UnsupportedMediaTypeException', 'MalformedPolicyDocumentException',
  'InvalidNextTokenException', 'CodeStorageExceededException', 'LimitExceededException'
])
const FORBIDDEN = new Set([
  'AccessDeniedException', 'AccessDenied', 'UnrecognizedClientException', 'InvalidSignatureException',
  'ExpiredTokenException', 'KMSAccessDeniedException', 'InvalidClientTokenId', 'MissingAuthenticationTokenException'
])
const UNAVAILABLE = new Set(['ResourceNotReadyException', 'ServiceUnavailableException', 'EC2UnexpectedException'])
/** a function whose reserved concurrency is 0 (scaled to zero) answers invokes with this reason */
export const RESERVED_ZERO_REASON = 'ReservedFunctionConcurrentInvocationLimitExceeded'

function shape (err: unknown): AwsErrorLike {
  return typeof err === 'object' && err !== null ? err as AwsErrorLike : { message: String(err) }
}

export function awsErrorName (err: unknown): string {
  return shape(err).name ?? ''
}

export function isThrottle (err: unknown): boolean {
  const e = shape(err)
  return THROTTLES.has(e.name ?? '') || e.$metadata?.httpStatusCode === 429
}

function isServerFault (err: unknown): boolean {
  const e = shape(err)
  const status = e.$metadata?.httpStatusCode
  return e.$fault === 'server' || (status !== undefined && status >= 500)
}

/** the connection broke: refused, reset, or the body was cut off (the SDK then has a 2xx status) */
function isNetwork (err: unknown): boolean {
  const e = shape(err)
  return NETWORK_CODES.has(e.code ?? '') && (e.$metadata?.httpStatusCode === undefined || e.$metadata.httpStatusCode < 300)
}

function isTransport (err: unknown): boolean {
  const e = shape(err)
  return isNetwork(err) || (e.$metadata?.httpStatusCode === undefined &&
    (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError' || e.name === 'RequestTimeout'))
}

/** AWS's Retry-After (header, or Lambda's retryAfterSeconds member) in ms */
function retryAfterMs (err: unknown): number | undefined {
  const e = shape(err)
  const raw = e.$response?.headers?.['retry-after'] ?? e.retryAfterSeconds
  if (raw === undefined || raw === '') return undefined
  const seconds = Number(raw)
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined
}

/** An AWS SDK failure as a ProviderError; `what` says which call failed (for transport errors). */
export function mapAwsError (err: unknown, what: string): ProviderError {
  if (isProviderError(err)) return err
  const e = shape(err)
  const name = e.name ?? 'Error'
  const message = e.message !== undefined && e.message !== '' ? e.message : name
  const status = e.$metadata?.httpStatusCode
  const mapped = ((): ProviderError => {
    if (NOT_FOUND.has(name) || (status === 404 && e.$fault === 'client')) return notFound(message)
    if (CONFLICT.has(name)) return conflict(message)
    if (e.Reason === RESERVED_ZERO_REASON) return unavailable(message)
    if (isThrottle(err)) return tooManyRequests(message)
    if (FORBIDDEN.has(name) || status === 403) return forbidden(message)
    if (name === 'RequestTooLargeException' || status === 413) return new ProviderError('PAYLOAD_TOO_LARGE', message)
    if (INVALID.has(name) || (status === 400 && e.$fault === 'client')) return invalid(message)
    if (UNAVAILABLE.has(name) || status === 503) return unavailable(message)
    if (isNetwork(err)) {
      const cut = status !== undefined ? ` (the answer was cut off after HTTP ${status})` : ''
      return badGateway(`${what}: AWS could not be reached: ${e.code ?? ''} ${message.split('\n')[0] ?? message}${cut}`, err)
    }
    if (e.name === 'TimeoutError' || e.name === 'RequestTimeout' || e.code === 'ETIMEDOUT') return timeout(`${what}: AWS did not answer in time`)
    if (isTransport(err)) return badGateway(`${what}: AWS could not be reached: ${message}`, err)
    if (e.name === 'AbortError') return timeout(`${what}: aborted`)
    return backendError(`${what}: ${name}: ${message}`, err)
  })()
  if (mapped.cause === undefined) Object.defineProperty(mapped, 'cause', { value: err, enumerable: false })
  return mapped
}

export interface RetryOptions {
  /** the whole call, retries included, must end within this */
  timeoutMs: number
  baseMs: number
  /** reads may also be retried on AWS 5xx and transport failures */
  idempotent?: boolean
  signal?: AbortSignal
  /** which call, for error messages */
  what: string
}

const MAX_ATTEMPTS = 12

/** Runs `fn`, retrying throttles (and, when idempotent, 5xx) with back-off within the timeout. */
export async function withRetry<T> (fn: (signal: AbortSignal) => Promise<T>, opts: RetryOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs
  const signal = opts.signal === undefined
    ? AbortSignal.timeout(opts.timeoutMs)
    : AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)])
  let delay = opts.baseMs
  /** AWS's last answer (an error with an HTTP status), the reason when a later attempt is cut off */
  let lastAnswer: unknown
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(signal)
    } catch (err) {
      if (shape(err).$metadata?.httpStatusCode !== undefined) lastAnswer = err
      const retryable = shape(err).Reason !== RESERVED_ZERO_REASON &&
        (isThrottle(err) || (opts.idempotent === true && (isServerFault(err) || isTransport(err))))
      const jittered = Math.round(delay * (0.5 + Math.random() * 0.5))
      const asked = isThrottle(err) ? retryAfterMs(err) : undefined
      const wait = asked !== undefined ? Math.max(asked, 1) : jittered
      if (!retryable || attempt >= MAX_ATTEMPTS || Date.now() + wait >= deadline || signal.aborted) {
        // our own time limit cut the call off (not the caller, and not an answer from AWS)
        const cutOff = signal.aborted && opts.signal?.aborted !== true && shape(err).$metadata?.httpStatusCode === undefined
        if (cutOff && lastAnswer !== undefined) throw mapAwsError(lastAnswer, opts.what)
        if (cutOff) throw timeout(`${opts.what}: AWS did not answer within ${opts.timeoutMs} ms`)
        if (asked !== undefined && Date.now() + asked >= deadline) {
          const mapped = mapAwsError(err, opts.what)
          throw new ProviderError(mapped.code, `${mapped.message} (AWS asks to retry after ${asked} ms: that does not fit in the ${opts.timeoutMs} ms request timeout)`, { cause: err })
        }
        throw mapAwsError(err, opts.what)
      }
      delay *= 2
      await sleep(wait, undefined, { signal }).catch(() => {})
      // the time ran out while waiting: AWS's last answer is the reason, not our own abort
      if (signal.aborted) throw mapAwsError(err, opts.what)
    }
  }
}
