/*
 * Kubernetes failures → the contract's errors (src/core/errors.ts), as faas-netes'
 * ProcessErrorReasons does: NotFound/Gone → 404, AlreadyExists/Conflict → 409, Invalid → 422,
 * BadRequest → 400, Forbidden → 403 (naming the verb and resource that RBAC refused),
 * Timeout → 504, TooManyRequests → 429 (after the transport's retries), an unreachable API server,
 * a reset connection or a cut-off answer → 502, no answer within the request timeout → 504,
 * 502/503/504 from the API server → 502/503/504, any other 5xx → 500 with the API server's message.
 * A write whose outcome is unknown says so (it may or may not have been applied).
 * Every call goes through kubeCall() with the action it performs, so messages can say what failed.
 */
import {
  backendError, badGateway, conflict, forbidden, invalid, notFound, ProviderError, timeout, tooManyRequests, unavailable, unprocessable
} from '../../../src/core/errors.ts'
import { KubeTransportError } from './transport.ts'

/** What a call does, in RBAC terms: verb on resource (plural, with group: "deployments.apps"). */
export interface KubeAction {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete'
  resource: string
  namespace?: string
  name?: string
}

export interface KubeStatus {
  code?: number
  reason?: string
  message?: string
}

/** An error with an HTTP code and a Status body (ApiException, or our raw requests' errors). */
export class KubeHttpError extends Error {
  readonly code: number
  readonly body: unknown
  constructor (code: number, body: unknown) {
    super(`HTTP ${code}`)
    this.code = code
    this.body = body
  }
}

/** The Status body of a failed call, or undefined when it is not an HTTP failure. */
export function kubeStatusOf (err: unknown): KubeStatus | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || typeof err.code !== 'number') return undefined
  let body = (err as { body?: unknown }).body
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body)
    } catch {
      body = { message: body }
    }
  }
  const status = (typeof body === 'object' && body !== null ? body : {}) as KubeStatus
  return { code: err.code, reason: status.reason, message: status.message }
}

export function isKubeCode (err: unknown, code: number): boolean {
  return kubeStatusOf(err)?.code === code
}

function describe (a: KubeAction): string {
  const where = a.namespace !== undefined ? ` in namespace "${a.namespace}"` : ''
  return `${a.verb} ${a.resource}${a.name !== undefined ? ` "${a.name}"` : ''}${where}`
}

export function toProviderError (err: unknown, action: KubeAction): ProviderError {
  if (err instanceof ProviderError) return err
  if (err instanceof KubeTransportError) {
    const unknown = err.outcomeUnknown ? '; it may or may not have been applied, read it back before retrying' : ''
    if (err.failure === 'timeout') return timeout(`kubernetes: ${describe(action)} timed out: the API server gave ${err.message}${unknown}`)
    return badGateway(`kubernetes: could not ${describe(action)}: ${err.message}${unknown}`, err)
  }
  const status = kubeStatusOf(err)
  if (status === undefined) {
    const cause = (err as { cause?: { code?: string, message?: string } })?.cause
    const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)
    return badGateway(`kubernetes: could not ${describe(action)}: the API server could not be reached (${detail})`, err)
  }
  const text = status.message ?? `HTTP ${String(status.code)}`
  switch (status.reason ?? '') {
    case 'NotFound':
    case 'Gone':
      return notFound(text)
    case 'AlreadyExists':
    case 'Conflict':
      return conflict(text)
    case 'Invalid':
      return unprocessable(text)
    case 'BadRequest':
      return invalid(text)
    case 'Forbidden': {
      // the API server names the verb it refused ("User X cannot create resource ..."); a
      // server-side apply that creates is refused for create although the request is a patch
      const verb = /cannot ([a-z]+) resource/.exec(text)?.[1] ?? action.verb
      return forbidden(`kubernetes refused to ${describe(action)}: RBAC does not allow verb "${verb}" on resource "${action.resource}"; grant it to the provider's service account (docs/backends/kubernetes.md). API server said: ${text}`)
    }
    case 'Timeout':
      return timeout(`kubernetes: ${describe(action)} timed out: ${text}`)
    case 'TooManyRequests':
      return tooManyRequests(`kubernetes throttled ${describe(action)}: ${text}`)
  }
  switch (status.code) {
    case 401: return backendError(`kubernetes: ${describe(action)}: the API server did not accept the credentials (401)`, err)
    case 403: return forbidden(`kubernetes refused to ${describe(action)}: ${text}`)
    case 404: return notFound(text)
    case 409: return conflict(text)
    case 422: return unprocessable(text)
    case 429: return tooManyRequests(`kubernetes throttled ${describe(action)}: ${text}`)
    case 502: return badGateway(`kubernetes: could not ${describe(action)}: the API server answered 502: ${text}`, err)
    case 503: return unavailable(`kubernetes: could not ${describe(action)}: the API server is unavailable (503): ${text}`)
    case 504: return timeout(`kubernetes: ${describe(action)} timed out (504): ${text}`)
  }
  return backendError(`kubernetes: could not ${describe(action)}: ${text}`, err)
}

/** Runs one API call; failures become ProviderErrors that say which action failed. */
export async function kubeCall<T> (action: KubeAction, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (err) {
    throw toProviderError(err, action)
  }
}
