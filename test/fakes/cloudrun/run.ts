/*
 * Fake Cloud Run Admin API v2 (REST, as the client sends it in fallback mode):
 *   POST   /v2/projects/P/locations/L/services?serviceId=ID        → Operation
 *   GET    /v2/projects/P/locations/L/services?pageSize&pageToken   → {services, nextPageToken}
 *   GET    /v2/projects/P/locations/L/services/ID                   → Service
 *   PATCH  /v2/projects/P/locations/L/services/ID?updateMask=a.b    → Operation (no mask: replace)
 *   DELETE /v2/projects/P/locations/L/services/ID                   → Operation
 *   GET    /v2/projects/P/locations/L/operations/OP                 → {name, done, metadata, response|error}
 * Enums are numbers (the client asks for enum-encoding=int), int64 are strings, timestamps RFC3339.
 * An operation is done after `pollsToFinish` GETs; then the service turns Ready (or failed, when a
 * failure was queued with failNextOperation). Every service's uri is `functionUrl`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GoogleHttpError, GRPC_BY_STATUS, readJson, rfc3339, sendJson } from './http.ts'

const SERVICE_TYPE = 'type.googleapis.com/google.cloud.run.v2.Service'
const SERVICE_ID = /^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$/
/** fields a create/replace may set; everything else is output-only */
const MUTABLE = ['labels', 'annotations', 'template', 'scaling', 'ingress', 'traffic', 'invokerIamDisabled', 'description', 'launchStage']
const STATE = { PENDING: 1, RECONCILING: 2, FAILED: 3, SUCCEEDED: 4 }

export type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

interface FakeOperation {
  name: string
  service: string
  kind: 'create' | 'update' | 'delete'
  polls: number
  done: boolean
  error?: { code: number, message: string }
}

export interface RunFakeOptions {
  /** the uri every service gets (the test's function server) */
  functionUrl: string
  /** GETs of an operation before it is done (0 = done in the first response) */
  pollsToFinish?: number
  /** the largest page list returns, whatever pageSize asks */
  maxPageSize?: number
  /** told when a revision becomes ready (the fake logging writes a startup line) */
  onRevisionReady?: (service: Json) => void
}

export class FakeRun {
  readonly services = new Map<string, Json>()
  readonly operations = new Map<string, FakeOperation>()
  /** every request body the fake accepted, in order (for wire assertions) */
  readonly requests: Array<{ method: string, path: string, query: URLSearchParams, body: Json }> = []
  functionUrl: string
  pollsToFinish: number
  maxPageSize: number
  /** operations never finish while true */
  hangOperations = false
  private readonly queuedFailures: Array<{ status: string, message: string }> = []
  private readonly onRevisionReady: ((service: Json) => void) | undefined
  private opSeq = 0

  constructor (opts: RunFakeOptions) {
    this.functionUrl = opts.functionUrl
    this.pollsToFinish = opts.pollsToFinish ?? 1
    this.maxPageSize = opts.maxPageSize ?? 100
    this.onRevisionReady = opts.onRevisionReady
  }

  /** The next operation to finish ends in this error (the service's revision fails). */
  failNextOperation (status: string, message: string): void {
    this.queuedFailures.push({ status, message })
  }

  /** Adds a service as if someone else created it (not managed by faas-bridge, unless labels say so). */
  seed (parent: string, id: string, service: Json = {}): Json {
    const now = new Date()
    const svc: Json = {
      ...service,
      name: `${parent}/services/${id}`,
      uid: `uid-${id}`,
      generation: '1',
      createTime: rfc3339(now),
      updateTime: rfc3339(now),
      uri: this.functionUrl,
      urls: [this.functionUrl],
      terminalCondition: { type: 'Ready', state: STATE.SUCCEEDED },
      reconciling: false
    }
    this.services.set(svc.name as string, svc)
    return svc
  }

  serviceById (id: string): Json | undefined {
    for (const [name, svc] of this.services) if (name.endsWith(`/services/${id}`)) return svc
    return undefined
  }

  handles (path: string): boolean {
    return /^\/v2\/projects\/[^/]+\/locations\/[^/]+\/(services|operations)(\/|$)/.test(path)
  }

  async handle (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = decodeURIComponent(url.pathname)
    const method = req.method ?? 'GET'
    const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : {}
    this.requests.push({ method, path, query: url.searchParams, body })
    let m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+)\/services$/.exec(path)
    if (m !== null) {
      const parent = m[1] as string
      if (method === 'POST') return sendJson(res, 200, this.create(parent, url.searchParams.get('serviceId') ?? '', body))
      if (method === 'GET') return sendJson(res, 200, this.list(parent, url.searchParams))
    }
    m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+)$/.exec(path)
    if (m !== null) {
      const name = m[1] as string
      if (method === 'GET') return sendJson(res, 200, this.get(name))
      if (method === 'PATCH') return sendJson(res, 200, this.update(name, url.searchParams.get('updateMask'), body))
      if (method === 'DELETE') return sendJson(res, 200, this.remove(name))
    }
    m = /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/operations\/[^/]+)$/.exec(path)
    if (m !== null && method === 'GET') return sendJson(res, 200, this.poll(m[1] as string))
    throw new GoogleHttpError('NOT_FOUND', `The requested URL ${path} was not found on this server.`)
  }

  private get (name: string): Json {
    const svc = this.services.get(name)
    if (svc === undefined) throw new GoogleHttpError('NOT_FOUND', `Resource '${name.split('/').pop() ?? ''}' of kind 'SERVICE' in region '${name.split('/')[3] ?? ''}' in project '${name.split('/')[1] ?? ''}' does not exist.`)
    return structuredClone(svc)
  }

  private list (parent: string, q: URLSearchParams): Json {
    const all = [...this.services.values()].filter((s) => (s.name as string).startsWith(`${parent}/services/`))
      .sort((a, b) => (a.name as string).localeCompare(b.name as string))
    const size = Math.min(Number(q.get('pageSize') ?? '100') || 100, this.maxPageSize)
    const start = Number(q.get('pageToken') ?? '0') || 0
    const page = all.slice(start, start + size)
    const out: Json = { services: page.map((s) => structuredClone(s)) }
    if (start + size < all.length) out.nextPageToken = String(start + size)
    return out
  }

  private newRevision (svc: Json): void {
    const n = Number(svc.generation)
    const id = (svc.name as string).split('/').pop() as string
    svc.latestCreatedRevision = `${svc.name as string}/revisions/${id}-${String(n).padStart(5, '0')}-abc`
    svc.terminalCondition = { type: 'Ready', state: STATE.RECONCILING, message: 'Deploying revision.' }
    svc.reconciling = true
  }

  private create (parent: string, id: string, body: Json): Json {
    if (!SERVICE_ID.test(id)) throw new GoogleHttpError('INVALID_ARGUMENT', `service_id "${id}" must use only lowercase alphanumeric characters and dashes, cannot begin or end with a dash, and cannot be longer than 49 characters.`)
    const name = `${parent}/services/${id}`
    if (this.services.has(name)) throw new GoogleHttpError('ALREADY_EXISTS', `Resource '${id}' already exists.`)
    if (body.name !== undefined && body.name !== '') throw new GoogleHttpError('INVALID_ARGUMENT', 'service.name must be empty on create')
    const now = new Date()
    const svc: Json = { name, uid: `uid-${id}`, generation: '1', createTime: rfc3339(now, 123), updateTime: rfc3339(now, 123), creator: 'fake@example.com' }
    for (const k of MUTABLE) if (body[k] !== undefined) svc[k] = structuredClone(body[k])
    svc.uri = this.functionUrl
    svc.urls = [this.functionUrl]
    this.newRevision(svc)
    svc.terminalCondition = { type: 'Ready', state: STATE.PENDING }
    this.services.set(name, svc)
    return this.startOperation(name, 'create')
  }

  private update (name: string, mask: string | null, body: Json): Json {
    const svc = this.services.get(name)
    if (svc === undefined) throw new GoogleHttpError('NOT_FOUND', `Resource '${name.split('/').pop() ?? ''}' of kind 'SERVICE' does not exist.`)
    const before = JSON.stringify(svc.template)
    if (mask !== null && mask !== '') {
      for (const path of mask.split(',')) setPath(svc, body, path.trim())
    } else {
      for (const k of MUTABLE) {
        if (body[k] !== undefined) svc[k] = structuredClone(body[k])
        else delete svc[k]
      }
    }
    svc.generation = String(Number(svc.generation) + 1)
    svc.updateTime = rfc3339(new Date())
    if (JSON.stringify(svc.template) !== before) this.newRevision(svc)
    else {
      svc.terminalCondition = { type: 'Ready', state: STATE.RECONCILING }
      svc.reconciling = true
    }
    return this.startOperation(name, 'update')
  }

  private remove (name: string): Json {
    if (!this.services.has(name)) throw new GoogleHttpError('NOT_FOUND', `Resource '${name.split('/').pop() ?? ''}' of kind 'SERVICE' does not exist.`)
    return this.startOperation(name, 'delete')
  }

  private startOperation (service: string, kind: FakeOperation['kind']): Json {
    const location = service.split('/services/')[0] as string
    const op: FakeOperation = { name: `${location}/operations/op-${++this.opSeq}`, service, kind, polls: 0, done: false }
    this.operations.set(op.name, op)
    if (this.pollsToFinish === 0) this.finish(op)
    return this.operationJson(op)
  }

  private finish (op: FakeOperation): void {
    if (this.hangOperations) return
    op.done = true
    const failure = this.queuedFailures.shift()
    const svc = this.services.get(op.service)
    if (failure !== undefined) {
      op.error = { code: GRPC_BY_STATUS[failure.status] ?? 13, message: failure.message }
      if (svc !== undefined) {
        svc.terminalCondition = { type: 'Ready', state: STATE.FAILED, message: failure.message }
        svc.reconciling = false
      }
      return
    }
    if (svc === undefined) return
    if (op.kind === 'delete') {
      this.services.delete(op.service)
      return
    }
    svc.terminalCondition = { type: 'Ready', state: STATE.SUCCEEDED, lastTransitionTime: rfc3339(new Date()) }
    svc.reconciling = false
    svc.latestReadyRevision = svc.latestCreatedRevision
    svc.observedGeneration = svc.generation
    this.onRevisionReady?.(svc)
  }

  private poll (name: string): Json {
    const op = this.operations.get(name)
    if (op === undefined) throw new GoogleHttpError('NOT_FOUND', `Operation ${name} not found.`)
    op.polls++
    if (!op.done && op.polls >= this.pollsToFinish) this.finish(op)
    return this.operationJson(op)
  }

  private operationJson (op: FakeOperation): Json {
    const svc = this.services.get(op.service) ?? { name: op.service }
    const out: Json = { name: op.name, metadata: { '@type': SERVICE_TYPE, ...structuredClone(svc) }, done: op.done }
    if (op.error !== undefined) out.error = op.error
    else if (op.done) out.response = { '@type': SERVICE_TYPE, ...structuredClone(svc) }
    return out
  }
}

function camel (s: string): string {
  return s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
}

/** Copies one field-mask path (snake_case or camelCase) from body into target. */
function setPath (target: Json, body: Json, path: string): void {
  const keys = path.split('.').map(camel)
  let src: Json | undefined = body
  let dst: Json = target
  for (let i = 0; i < keys.length - 1; i++) {
    const k = keys[i] as string
    src = src?.[k] as Json | undefined
    dst[k] ??= {}
    dst = dst[k] as Json
  }
  const last = keys[keys.length - 1] as string
  if (src?.[last] === undefined) delete dst[last]
  else dst[last] = structuredClone(src[last])
}
