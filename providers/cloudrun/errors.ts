/*
 * Google API errors → the contract's typed errors, keeping Google's message. gax reports gRPC
 * status codes (also in REST mode): NOT_FOUND 5 → 404, ALREADY_EXISTS 6 → 409, INVALID_ARGUMENT 3
 * → 400, PERMISSION_DENIED 7 / UNAUTHENTICATED 16 → 403, RESOURCE_EXHAUSTED 8 → 429,
 * DEADLINE_EXCEEDED 4 → 504, UNAVAILABLE 14 → 502 (also what gax reports for a refused or reset
 * connection and a body cut off mid-answer), UNIMPLEMENTED 12 → 501; anything else → 500.
 *
 * withRetry() is the one retry loop (gax's own retries are off: its first back-off is 1 s and it
 * retries only UNAVAILABLE): the whole call, retries included, ends within requestTimeoutMs; reads
 * are retried with jittered exponential back-off on UNAVAILABLE, INTERNAL, UNKNOWN and
 * RESOURCE_EXHAUSTED; writes only on RESOURCE_EXHAUSTED (Google did not act on it) — a write whose
 * outcome is unknown is an error, never a success.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  backendError, badGateway, conflict, forbidden, invalid, isProviderError, notFound, ProviderError, timeout,
  tooManyRequests, unsupported
} from '../../src/core/errors.ts'

export const GRPC = {
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16
} as const

/** The gRPC code of a Google error (gax GoogleError; 3.x clients reported HTTP 404 for not found). */
export function googleCode (err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'number') return undefined
  return code === 404 ? GRPC.NOT_FOUND : code
}

export function isNotFound (err: unknown): boolean {
  return googleCode(err) === GRPC.NOT_FOUND || isProviderError(err, 'NOT_FOUND')
}

/** `what` says what was attempted, e.g. 'creating Cloud Run service "fn"'. */
export function mapGoogleError (err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err
  const message = `${what}: ${(err as Error | undefined)?.message ?? String(err)}`
  switch (googleCode(err)) {
    case GRPC.NOT_FOUND: return notFound(message)
    case GRPC.ALREADY_EXISTS: return conflict(message)
    case GRPC.ABORTED: return conflict(message)
    case GRPC.INVALID_ARGUMENT: return invalid(message)
    case GRPC.FAILED_PRECONDITION: return invalid(message)
    case GRPC.PERMISSION_DENIED: return forbidden(message)
    case GRPC.UNAUTHENTICATED: return forbidden(message)
    case GRPC.RESOURCE_EXHAUSTED: return tooManyRequests(message)
    case GRPC.DEADLINE_EXCEEDED: return timeout(message)
    case GRPC.UNAVAILABLE: return badGateway(message, err)
    case GRPC.UNIMPLEMENTED: return unsupported(message)
    default: return backendError(message, err)
  }
}

/** per-attempt gax call options: the time left, and gax's own retries off */
export interface AttemptOptions {
  timeout: number
  retry: null
}

export interface GoogleRetryOptions {
  /** the whole call, retries included */
  timeoutMs: number
  /** first back-off; doubles per retry, with jitter */
  baseMs: number
  /** reads: retried on UNAVAILABLE / INTERNAL / UNKNOWN too, not only RESOURCE_EXHAUSTED */
  idempotent: boolean
}

const MAX_ATTEMPTS = 6
const READ_RETRIES: ReadonlySet<number> = new Set([GRPC.UNAVAILABLE, GRPC.INTERNAL, GRPC.UNKNOWN, GRPC.RESOURCE_EXHAUSTED])

/**
 * Runs one Google API call with bounded retries; rethrows the last error as it came (callers map
 * it with mapGoogleError, keeping their NOT_FOUND handling).
 */
export async function withRetry<T> (fn: (call: AttemptOptions) => Promise<T>, opts: GoogleRetryOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs
  let delay = opts.baseMs
  /** Google's answer to the attempt before, kept in case a retry only runs out of our time */
  let previous: unknown
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn({ timeout: Math.max(1, deadline - Date.now()), retry: null })
    } catch (err) {
      const code = googleCode(err)
      // a retry cut short by the call's own deadline says nothing about Google: report what Google
      // said last (429, 503, ...) rather than "did not respond within 1 ms" (seen on a loaded machine,
      // where the back-off sleep overran and left the retry almost no time)
      if (code === GRPC.DEADLINE_EXCEEDED && previous !== undefined && deadline - Date.now() < 10) throw previous
      const retryable = code !== undefined && (opts.idempotent ? READ_RETRIES.has(code) : code === GRPC.RESOURCE_EXHAUSTED)
      const wait = Math.round(delay * (0.5 + Math.random() * 0.5))
      if (!retryable || attempt >= MAX_ATTEMPTS || Date.now() + wait >= deadline) throw err
      previous = err
      delay *= 2
      await sleep(wait)
    }
  }
}
