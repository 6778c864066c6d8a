/*
 * The typed errors every layer throws, and the one table that maps them to HTTP. Drivers throw
 * these; the API layer's single error handler turns them into status codes. Nothing else decides
 * a status code for a failure.
 */

export type ErrorCode =
  | 'INVALID' // the request is wrong: 400
  | 'UNPROCESSABLE' // well-formed but unusable parameters (bad log query): 422
  | 'NOT_FOUND' // 404
  | 'CONFLICT' // already exists: 409
  | 'FORBIDDEN' // the backend refused our credentials this action (RBAC, IAM): 403
  | 'TOO_MANY_REQUESTS' // the backend throttled us and retries ran out: 429
  | 'PAYLOAD_TOO_LARGE' // 413
  | 'UNSUPPORTED' // the backend cannot do this: 501
  | 'BACKEND' // the backend failed; message carries its reason: 500
  | 'BAD_GATEWAY' // the backend could not be reached or answered nonsense: 502
  | 'UNAVAILABLE' // no ready instance to serve the call: 503
  | 'TIMEOUT' // the backend or function did not answer in time: 504

export const STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  INVALID: 400,
  UNPROCESSABLE: 422,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FORBIDDEN: 403,
  TOO_MANY_REQUESTS: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED: 501,
  BACKEND: 500,
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
  TIMEOUT: 504
}

export class ProviderError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = 'ProviderError'
  }

  get statusCode (): number {
    return STATUS_BY_CODE[this.code]
  }
}

export const invalid = (message: string): ProviderError => new ProviderError('INVALID', message)
export const unprocessable = (message: string): ProviderError => new ProviderError('UNPROCESSABLE', message)
export const notFound = (message: string): ProviderError => new ProviderError('NOT_FOUND', message)
export const conflict = (message: string): ProviderError => new ProviderError('CONFLICT', message)
export const unsupported = (message: string): ProviderError => new ProviderError('UNSUPPORTED', message)
export const forbidden = (message: string): ProviderError => new ProviderError('FORBIDDEN', message)
export const tooManyRequests = (message: string): ProviderError => new ProviderError('TOO_MANY_REQUESTS', message)
export const badGateway = (message: string, cause?: unknown): ProviderError => new ProviderError('BAD_GATEWAY', message, { cause })
export const unavailable = (message: string): ProviderError => new ProviderError('UNAVAILABLE', message)
export const timeout = (message: string): ProviderError => new ProviderError('TIMEOUT', message)
export const backendError = (message: string, cause?: unknown): ProviderError =>
  new ProviderError('BACKEND', message, { cause })

export function isProviderError (err: unknown, code?: ErrorCode): err is ProviderError {
  return err instanceof ProviderError && (code === undefined || err.code === code)
}
