/*
 * What the /system route plugins share: the backend table, the auth guard, the timeouts. Also the
 * namespace rule every route follows: query, then body, then the default.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import type { Backends, Resolved } from '../core/backends.ts'
import type { Coordination } from '../core/coordination.ts'

export interface SystemOptions {
  backends: Backends
  /** set when basic_auth=true */
  auth?: onRequestAsyncHookHandler
  writeTimeoutMs: number
  maxReplicas: number
  info: { release: string, sha: string }
  /** told when a function was removed through the API (the dashboard's history of it goes) */
  onFunctionRemoved?: (namespace: string, name: string) => void
  /** who leads among the replicas (shown in /system/info) */
  coordination?: Coordination
}

declare module 'fastify' {
  interface FastifyRequest {
    /** the backend that served this request, for logs and metrics */
    backendName: string
  }
}

export function queryValue (request: FastifyRequest, key: string): string | undefined {
  const v = (request.query as Record<string, string | string[] | undefined>)[key]
  // as Go's url.Values.Get for one value; for repeated keys the logs route wants the last
  return Array.isArray(v) ? v[v.length - 1] : v
}

/** Namespace from the query, then the body, then the default; 400 when no backend owns it. */
export function resolveNamespace (request: FastifyRequest, bodyNamespace: string | undefined, backends: Backends): Resolved {
  const fromQuery = queryValue(request, 'namespace')
  const resolved = backends.resolve(fromQuery !== undefined && fromQuery !== '' ? fromQuery : bodyNamespace)
  request.backendName = resolved.backend.name
  return resolved
}

export function accepted (reply: FastifyReply): FastifyReply {
  return reply.code(202).send()
}
