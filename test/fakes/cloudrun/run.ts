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
 *
 * Rules enforced on every create and update (the resulting service), as Google documents them
 * (protos: google/cloud/run/v2/{service,revision_template,k8s.min,vendor_settings}.proto):
 * - labels and annotations of the Service and its template in the run.googleapis.com,
 *   cloud.googleapis.com, serving.knative.dev or autoscaling.knative.dev namespaces "will be
 *   rejected" (Service.labels/annotations, RevisionTemplate.labels/annotations);
 * - label keys and values follow Google's label rules (at most 64; keys 1-63 characters starting
 *   with a lower-case letter; keys and values of lower-case letters, digits, "_" and "-";
 *   cloud.google.com/resource-manager/docs/creating-managing-labels#requirements);
 * - ResourceRequirements.cpu_idle: "true by default. However, if ResourceRequirements is set, the
 *   caller must explicitly set this field to true to preserve the default behavior" — a container
 *   with `resources` but without cpuIdle: true is instance-based billing (billing() reads it);
 * - CPU below 1 (cloud.google.com/run/docs/configuring/services/cpu, "If you use less than 1 vCPU,
 *   the following requirements are enforced"): request-based billing (cpuIdle true), maximum
 *   concurrency 1 (maxInstanceRequestConcurrency; 0/unset "defaults to 1 when requested CPU < 1",
 *   RevisionTemplate), the first generation execution environment (GEN2 refused; unset is accepted:
 *   Cloud Run then "selects" one, and whether it picks gen1 for CPU < 1 is not documented), memory
 *   above 512MiB needs at least 0.5 CPU and above 1GiB at least 1. The exact error texts Cloud Run
 *   answers with are not documented; the fake's are its own, as INVALID_ARGUMENT.
 * Updates (UpdateServiceRequest): update_mask is "Optional. The list of fields to be updated." With
 * one, only those paths change. Without one Cloud Run does not document what happens; the fake
 * replaces every mutable field, dropping what the body leaves out (the strictest reading, and
 * what an independent emulator did). Service.etag: "May be used to detect modification conflict
 * during updates" — a body etag that is not the current one is refused; which error Cloud Run
 * answers is not documented, the fake answers ABORTED, as Google APIs do for a stale etag.
 * Annotations "may be set by external tools ... and should be preserved when modifying objects":
 * touch() changes a service as such a tool would (and moves its etag).
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
  /** called at the start of every PATCH (before its etag is checked): to change the service under a writer */
  onPatch: ((name: string) => void) | undefined
  private readonly queuedFailures: Array<{ status: string, message: string }> = []
  private readonly onRevisionReady: ((service: Json) => void) | undefined
  private opSeq = 0
  private etagSeq = 0

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
      reconciling: false,
      etag: this.nextEtag()
    }
    this.services.set(svc.name as string, svc)
    return svc
  }

  /** Changes a service as another tool would (console, gcloud, Terraform): a new etag, no new revision. */
  touch (id: string, change: (svc: Json) => void): void {
    const svc = this.serviceById(id)
    if (svc === undefined) throw new Error(`no service ${id}`)
    change(svc)
    svc.etag = this.nextEtag()
  }

  /**
   * How the service's containers are billed: 'request' (CPU only during requests) when no
   * container sets resources or each that does sets cpuIdle true; else 'instance' (k8s.min.proto
   * ResourceRequirements.cpu_idle).
   */
  billing (id: string): 'request' | 'instance' {
    const containers = (this.serviceById(id)?.template?.containers ?? []) as Json[]
    return containers.every((c) => c.resources === undefined || c.resources.cpuIdle === true) ? 'request' : 'instance'
  }

  /** The labels Cloud Billing and Cloud Logging receive: the revision template's (run/docs/configuring/labels). */
  billingLabels (id: string): Record<string, string> {
    return { ...(this.serviceById(id)?.template?.labels ?? {}) }
  }

  private nextEtag (): string {
    return `"e${++this.etagSeq}"`
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
    validate(svc)
    svc.etag = this.nextEtag()
    svc.uri = this.functionUrl
    svc.urls = [this.functionUrl]
    this.newRevision(svc)
    svc.terminalCondition = { type: 'Ready', state: STATE.PENDING }
    this.services.set(name, svc)
    return this.startOperation(name, 'create')
  }

  private update (name: string, mask: string | null, body: Json): Json {
    this.onPatch?.(name)
    const current = this.services.get(name)
    if (current === undefined) throw new GoogleHttpError('NOT_FOUND', `Resource '${name.split('/').pop() ?? ''}' of kind 'SERVICE' does not exist.`)
    if (typeof body.etag === 'string' && body.etag !== '' && body.etag !== current.etag) {
      throw new GoogleHttpError('ABORTED', `The service '${name.split('/').pop() ?? ''}' was changed by another request (etag ${body.etag as string} is not the current one); read it again and retry.`)
    }
    const svc = structuredClone(current)
    const before = JSON.stringify(svc.template)
    if (mask !== null && mask !== '') {
      for (const path of mask.split(',')) setPath(svc, body, path.trim())
    } else {
      for (const k of MUTABLE) {
        if (body[k] !== undefined) svc[k] = structuredClone(body[k])
        else delete svc[k]
      }
    }
    validate(svc)
    this.services.set(name, svc)
    svc.etag = this.nextEtag()
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

const RESERVED_NAMESPACES = ['run.googleapis.com', 'cloud.googleapis.com', 'serving.knative.dev', 'autoscaling.knative.dev']
/** cloud.google.com/resource-manager/docs/creating-managing-labels#requirements */
const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u
const GEN2 = 2

function checkMetadata (where: string, labels: unknown, annotations: unknown): void {
  const l = (labels ?? {}) as Record<string, string>
  const a = (annotations ?? {}) as Record<string, string>
  for (const [kind, map] of [['label', l], ['annotation', a]] as const) {
    for (const key of Object.keys(map)) {
      const ns = key.includes('/') ? key.slice(0, key.indexOf('/')) : ''
      if (RESERVED_NAMESPACES.some((r) => ns === r || ns.endsWith(`.${r}`))) {
        throw new GoogleHttpError('INVALID_ARGUMENT', `${where}: ${kind} "${key}" uses a namespace reserved by Cloud Run.`)
      }
    }
  }
  if (Object.keys(l).length > 64) throw new GoogleHttpError('INVALID_ARGUMENT', `${where}: at most 64 labels, got ${Object.keys(l).length}.`)
  for (const [k, v] of Object.entries(l)) {
    if (!LABEL_KEY.test(k) || typeof v !== 'string' || !LABEL_VALUE.test(v)) {
      throw new GoogleHttpError('INVALID_ARGUMENT', `${where}: label "${k}": "${String(v)}" is not a valid Google label.`)
    }
  }
}

function cpuOf (text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim())
  return m === null ? undefined : Number(m[1]) / (m[2] === 'm' ? 1000 : 1)
}

function memoryOf (text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|k|M|G)?$/.exec(text.trim())
  if (m === null) return undefined
  const unit: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }
  return Number(m[1]) * (unit[m[2] ?? ''] as number)
}

/** The documented rules above, on a service as it would be stored. */
function validate (svc: Json): void {
  checkMetadata('service', svc.labels, svc.annotations)
  const tpl = (svc.template ?? {}) as Json
  checkMetadata('template', tpl.labels, tpl.annotations)
  for (const c of (tpl.containers ?? []) as Json[]) {
    const cpu = cpuOf(c.resources?.limits?.cpu) ?? 1
    if (cpu >= 1) continue
    const memory = memoryOf(c.resources?.limits?.memory) ?? 512 * 1024 ** 2
    if (c.resources?.cpuIdle !== true) {
      throw new GoogleHttpError('INVALID_ARGUMENT', `Invalid value for CPU limit "${String(c.resources?.limits?.cpu)}": less than 1 CPU requires request-based billing (resources.cpuIdle true).`)
    }
    const concurrency = Number(tpl.maxInstanceRequestConcurrency ?? 0)
    if (concurrency > 1) throw new GoogleHttpError('INVALID_ARGUMENT', `less than 1 CPU requires a maximum concurrency of 1, got ${concurrency}.`)
    if (Number(tpl.executionEnvironment ?? 0) === GEN2) throw new GoogleHttpError('INVALID_ARGUMENT', 'less than 1 CPU requires the first generation execution environment.')
    if (memory > 1024 ** 3) throw new GoogleHttpError('INVALID_ARGUMENT', 'a memory limit above 1Gi requires at least 1 CPU.')
    if (memory > 512 * 1024 ** 2 && cpu < 0.5) throw new GoogleHttpError('INVALID_ARGUMENT', 'a memory limit above 512Mi requires at least 0.5 CPU.')
  }
}
