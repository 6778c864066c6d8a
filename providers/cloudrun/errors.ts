/*
 * Google API errors → the contract's typed errors, keeping Google's message. gax reports gRPC
 * status codes (also in REST mode): NOT_FOUND 5 → 404, ALREADY_EXISTS 6 → 409, INVALID_ARGUMENT 3
 * → 400, PERMISSION_DENIED 7 / UNAUTHENTICATED 16 → 403, RESOURCE_EXHAUSTED 8 → 429,
 * DEADLINE_EXCEEDED 4 → 504, UNAVAILABLE 14 → 502, UNIMPLEMENTED 12 → 501; anything else → 500.
 */
import {
  backendError, badGateway, conflict, forbidden, invalid, isProviderError, notFound, ProviderError, timeout,
  tooManyRequests, unsupported
} from '../../src/core/errors.ts'

export const GRPC = {
  CANCELLED: 1,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  UNIMPLEMENTED: 12,
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
