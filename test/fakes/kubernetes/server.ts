/*
 * A wire-level fake of the Kubernetes API server for the kubernetes and tekton backends' tests:
 * node:http on 127.0.0.1:0, the real REST paths of the resources the backends use (apps/v1
 * deployments and their /scale subresource, v1 namespaces, services, secrets, configmaps, pods,
 * pods/log per container, discovery.k8s.io/v1 endpointslices, the service proxy, and the Tekton
 * CRDs tekton.dev/v1 tasks and taskruns, which test/fakes/kubernetes/tekton.ts runs, and
 * coordination.k8s.io/v1 leases for leader election; with the `functions` option, OpenFaaS's
 * openfaas.com/v1 functions with their status subresource and finalizers), Status error bodies, resourceVersion conflicts, JSON and
 * merge patches, label selectors and ?watch=true streams, legacy discovery (/api, /api/v1, /apis,
 * /apis/<group>/<version>). A bearer token is required unless `anonymous` (several
 * tokens may each name a user; every request is recorded with its user and arrival time, and every
 * /scale write in scaleWrites, as the audit log would record them). Tests can
 * refuse a verb on a resource (RBAC), hold pods Pending, crash containers, append pod log lines and
 * point a Service's proxy at a real HTTP server on loopback, and inject wire faults (fault():
 * added latency, 5xx Status answers, 429 with Retry-After, connection resets, truncated bodies and
 * requests that are never answered), on every request or on those matching a method and path.
 *
 * Watch as the API server speaks it ("API Concepts", https://kubernetes.io/docs/reference/using-api/api-concepts/):
 * `?watch=1&resourceVersion=RV` streams, as chunked newline-delimited JSON `{"type","object"}`,
 * every change after RV from a bounded history (store.ts), then live ones; without RV (or "0") it
 * starts with the current objects as ADDED ("Semantics for watch": unset/0 = start at most
 * recent / any). A version older than the history is answered as the API server does from its
 * watch cache: 200 with one ERROR event carrying a 410 Expired Status, then the end of the stream
 * ("410 Gone responses"). With `allowWatchBookmarks=true` it sends BOOKMARK events whose object
 * holds only the current resourceVersion ("Watch bookmarks"), every `bookmarkIntervalMs` and on
 * bookmark(). Tests can drop every open watch (dropWatches(): the connections are reset) and
 * compact the history (compactHistory(): older versions become 410).
 * EndpointSlices are kept in the store by a small endpointslice controller (endpointSliceSync):
 * one slice per Service, rewritten when its Pods change, so they are listed and watched like any
 * object; a Pod's IPs come from the `podIp` option when given (tests bind real servers there).
 * Server-side apply (application/apply-patch+yaml, JSON bodies only) with field ownership in
 * metadata.managedFields: managed-fields.ts, with its own list of simplifications.
 *
 * Simplifications (honest list): strategic merge patch is applied as a merge patch; deleting a
 * namespace removes its contents at once (no Terminating phase); one EndpointSlice per Service with
 * a selector, kept by the controller below; those of selector-less Services are stored as users
 * create them (putEndpointSlice).
 */
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { FakeController, DEPLOYMENTS, logKey, PODS, type CrashReport } from './controller.ts'
import { apply, ApplyConflict, recordUpdate } from './managed-fields.ts'
import { jsonPatch, mergePatch, PatchError } from './patch.ts'
import { matches, matchesMap, parseSelector, type Requirement } from './selectors.ts'
import { kubeNow, ObjectStore, StoreError, type KubeObject, type StoreEvent } from './store.ts'

/** store tables of the Tekton CRDs (tekton.dev/v1); test/fakes/kubernetes/tekton.ts runs them */
export const TASKS = 'tekton.dev/tasks'
export const TASKRUNS = 'tekton.dev/taskruns'
/** store table of OpenFaaS's Function custom resource (openfaas.com/v1, served when the `functions` option is on) */
export const FUNCTIONS = 'openfaas.com/functions'
export const DEFAULT_READY_DELAY_MS = 30
export const FAKE_TOKEN = 'fake-kubernetes-token'
const MAX_BODY_BYTES = 4 * 1024 * 1024

interface ResourceInfo {
  /** store table */
  table: string
  kind: string
  apiVersion: string
  /** plural.group as API messages name it */
  qualified: string
  group: string
  plural: string
  namespaced: boolean
}

const RESOURCES: Record<string, ResourceInfo> = {
  'v1/namespaces': { table: 'namespaces', kind: 'Namespace', apiVersion: 'v1', qualified: 'namespaces', group: '', plural: 'namespaces', namespaced: false },
  'v1/services': { table: 'services', kind: 'Service', apiVersion: 'v1', qualified: 'services', group: '', plural: 'services', namespaced: true },
  'v1/secrets': { table: 'secrets', kind: 'Secret', apiVersion: 'v1', qualified: 'secrets', group: '', plural: 'secrets', namespaced: true },
  'v1/pods': { table: PODS, kind: 'Pod', apiVersion: 'v1', qualified: 'pods', group: '', plural: 'pods', namespaced: true },
  'apps/v1/deployments': { table: DEPLOYMENTS, kind: 'Deployment', apiVersion: 'apps/v1', qualified: 'deployments.apps', group: 'apps', plural: 'deployments', namespaced: true },
  'v1/configmaps': { table: 'configmaps', kind: 'ConfigMap', apiVersion: 'v1', qualified: 'configmaps', group: '', plural: 'configmaps', namespaced: true },
  'tekton.dev/v1/tasks': { table: TASKS, kind: 'Task', apiVersion: 'tekton.dev/v1', qualified: 'tasks.tekton.dev', group: 'tekton.dev', plural: 'tasks', namespaced: true },
  'tekton.dev/v1/taskruns': { table: TASKRUNS, kind: 'TaskRun', apiVersion: 'tekton.dev/v1', qualified: 'taskruns.tekton.dev', group: 'tekton.dev', plural: 'taskruns', namespaced: true },
  'openfaas.com/v1/functions': { table: FUNCTIONS, kind: 'Function', apiVersion: 'openfaas.com/v1', qualified: 'functions.openfaas.com', group: 'openfaas.com', plural: 'functions', namespaced: true },
  // Lease (https://kubernetes.io/docs/concepts/architecture/leases/): optimistic concurrency as for
  // every object — an update carrying a stale metadata.resourceVersion is 409 Conflict
  // (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions), a create of an
  // existing name 409 AlreadyExists; the ObjectStore enforces both
  'coordination.k8s.io/v1/leases': { table: 'leases', kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', qualified: 'leases.coordination.k8s.io', group: 'coordination.k8s.io', plural: 'leases', namespaced: true },
  'discovery.k8s.io/v1/endpointslices': { table: 'endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', qualified: 'endpointslices.discovery.k8s.io', group: 'discovery.k8s.io', plural: 'endpointslices', namespaced: true }
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/

class HttpError extends Error {
  readonly code: number
  readonly reason: string
  readonly details: Record<string, unknown> | undefined
  constructor (code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message)
    this.code = code
    this.reason = reason
    this.details = details
  }
}

export interface RecordedRequest {
  method: string
  path: string
  query: string
  contentType: string | undefined
  /** the user the bearer token names (undefined: no valid token) */
  user?: string | undefined
  /** Date.now() on arrival */
  at?: number
}

/** One write of a Deployment's /scale subresource that was applied. */
export interface ScaleWrite {
  /** Date.now() when it was applied */
  at: number
  user: string
  namespace: string
  name: string
  from: number
  to: number
}

/**
 * A wire fault (FakeKubernetes.fault). Kinds:
 *  - 'latency': wait `latencyMs` (default 200), then serve the request normally;
 *  - 'status': answer `status` (default 500; 5xx) with a Status body carrying `message`; nothing is applied;
 *  - 'throttle': answer 429 TooManyRequests with Retry-After: `retryAfterSeconds` (default 1); nothing is applied;
 *  - 'reset': reset the connection (TCP RST) before reading the request; nothing is applied;
 *  - 'truncate': serve the request (a write IS applied), send the headers with the full
 *    content-length and half the JSON body, then destroy the socket;
 *  - 'hang': never answer; the request is held until the client gives up (or close()).
 * Matching: `method` (exact), `path` (a RegExp tested on, or a substring of, the URL path),
 * `match` (any predicate, e.g. to leave ?watch=true streams alone); all given must hold. Of the
 * matching requests, `every` (default 1) faults one in n (the first, then every n-th; `offset`
 * shifts the start), and at most `times` (default: no limit) are faulted. Latency rules add up; of the other rules the first that fires wins.
 */
export type FaultKind = 'latency' | 'status' | 'throttle' | 'reset' | 'truncate' | 'hang'

export interface FaultRule {
  kind: FaultKind
  method?: string
  path?: RegExp | string
  match?: (r: RecordedRequest) => boolean
  times?: number
  every?: number
  /** with `every`: skip this many matching requests first (offset 1, every 3: the 2nd, 5th, 8th...) */
  offset?: number
  latencyMs?: number
  status?: number
  message?: string
  retryAfterSeconds?: number
}

export interface FaultHandle {
  readonly rule: FaultRule
  /** matching requests seen */
  readonly seen: number
  /** requests this rule faulted */
  readonly hits: number
  /** removes the rule */
  clear: () => void
}

interface ActiveFault { rule: FaultRule, seen: number, hits: number }

const STATUS_REASONS: Record<number, string> = { 500: 'InternalError', 502: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout' }

interface Route {
  res: ResourceInfo
  namespace: string | undefined
  name: string | undefined
  sub: string[]
}

export interface FakeKubernetesOptions {
  /** delay between controller steps: a new Pod is Running and ready about two steps after it is asked for */
  readyDelayMs?: number
  token?: string
  /** the user named in 403 messages */
  user?: string
  /** false: the tekton.dev API group is not served (Tekton Pipelines not installed): its paths are 404 */
  tekton?: boolean
  /**
   * true: requests without an Authorization header are served too, as kube-apiserver's
   * --anonymous-auth does when RBAC allows system:anonymous (client-go sends no bearer token
   * over plain http, and this fake has no TLS); a wrong token is still 401
   */
  anonymous?: boolean
  /** true: the openfaas.com/v1 Function CRD is installed (functions and functions/status are served) */
  functions?: boolean
  /** more bearer tokens → the user each authenticates as (the API server's static token file) */
  tokens?: Record<string, string>
  /** the n-th Running pod's IP (from 0); default 10.244.0.x */
  podIp?: (n: number) => string
  /** period of BOOKMARK events on watches that allow them; 0 = only on bookmark() (default 1000) */
  bookmarkIntervalMs?: number
  /** watch events kept for resuming watches (store.ts DEFAULT_HISTORY) */
  historySize?: number
  /**
   * Honour httpGet readiness probes: a pod is ready once GET path on its Service's backend
   * (setServiceBackend) answers 2xx, probed on the probe's schedule (controller.ts), seconds
   * multiplied by `probeTimeScale` (default 1).
   */
  probes?: boolean
  probeTimeScale?: number
  /** serve HTTPS with this key and certificate (PEM); kubeconfig() then names the certificate as the cluster CA */
  tls?: { key: string, cert: string }
}

export const DEFAULT_BOOKMARK_INTERVAL_MS = 1000

function labelProblem (labels: unknown): string | undefined {
  if (labels === undefined || labels === null) return undefined
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    const name = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k
    const prefix = k.includes('/') ? k.slice(0, k.indexOf('/')) : undefined
    if (name.length > 63 || !LABEL_NAME.test(name) || (prefix !== undefined && !DNS1123_SUBDOMAIN.test(prefix))) {
      return `metadata.labels: Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'`
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      return `metadata.labels: Invalid value: "${String(v)}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`
    }
  }
  return undefined
}

export class FakeKubernetes {
  readonly store: ObjectStore
  readonly controller: FakeController
  readonly token: string
  readonly requests: RecordedRequest[] = []
  /** every applied /scale write, with its user, in order */
  readonly scaleWrites: ScaleWrite[] = []
  private readonly users = new Map<string, string>()
  /** TCP connections accepted so far (tests of connection reuse) */
  connections = 0
  /** TLS handshakes completed so far (with `tls`) */
  tlsHandshakes = 0
  /** called as each request arrives, before it is served (tests inject concurrent writers here) */
  onRequest: ((r: RecordedRequest) => void) | undefined
  private readonly user: string
  private readonly servesTekton: boolean
  private readonly anonymous: boolean
  private readonly servesFunctions: boolean
  private readonly server: http.Server | https.Server
  private readonly tls: { key: string, cert: string } | undefined
  private readonly denied = new Set<string>()
  private readonly backends = new Map<string, string>()
  private readonly streams = new Set<ServerResponse>()
  /** open ?watch streams, with how to send them a bookmark */
  private readonly watches = new Map<ServerResponse, () => void>()
  private readonly bookmarkIntervalMs: number
  private readonly faults: ActiveFault[] = []
  /** responses a 'truncate' fault cuts off */
  private readonly truncating = new WeakSet<ServerResponse>()
  /** requests a 'hang' fault holds, and pending 'latency' timers */
  private readonly held = new Set<ServerResponse>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private port = 0

  constructor (opts: FakeKubernetesOptions = {}) {
    this.token = opts.token ?? FAKE_TOKEN
    this.user = opts.user ?? 'system:serviceaccount:openfaas:faas-bridge'
    this.servesTekton = opts.tekton ?? true
    this.anonymous = opts.anonymous ?? false
    this.servesFunctions = opts.functions ?? false
    this.users.set(this.token, this.user)
    for (const [token, user] of Object.entries(opts.tokens ?? {})) this.users.set(token, user)
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS
    this.store = new ObjectStore(opts.historySize)
    this.controller = new FakeController(this.store, opts.readyDelayMs ?? DEFAULT_READY_DELAY_MS, opts.podIp)
    this.store.events.on('change', (ev: StoreEvent) => { this.endpointSliceSync(ev) })
    if (opts.probes === true) {
      this.controller.prober = async (pod, path) => await this.probeBackend(pod, path)
      this.controller.probeTimeScale = opts.probeTimeScale ?? 1
    }
    this.tls = opts.tls
    const handler = (req: IncomingMessage, res: ServerResponse): void => { this.handle(req, res) }
    this.server = this.tls !== undefined ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, handler) : http.createServer(handler)
    this.server.on('connection', () => { this.connections++ })
    this.server.on('secureConnection', () => { this.tlsHandshakes++ })
    // idle keep-alive connections stay open a while, as the API server's (Go net/http) do,
    // rather than node's 5 s default, so reuse does not depend on how fast a test runs
    this.server.keepAliveTimeout = 90_000
  }

  get url (): string {
    return `${this.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${this.port}`
  }

  async start (): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => { resolve() })
    })
    this.port = (this.server.address() as AddressInfo).port
    return this
  }

  async close (): Promise<void> {
    this.controller.close()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const s of this.streams) s.destroy()
    for (const h of this.held) h.destroy()
    this.held.clear()
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => { this.server.close(() => { resolve() }) })
  }

  /** A kubeconfig (YAML is a superset of JSON) for this server with a bearer token. */
  kubeconfig (contextName = 'fake', token = this.token): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      // client-node refuses plain http unless TLS verification is off, as for any non-TLS server
      clusters: [{
        name: 'fake',
        cluster: this.tls !== undefined
          ? { server: this.url, 'certificate-authority-data': Buffer.from(this.tls.cert).toString('base64') }
          : { server: this.url, 'insecure-skip-tls-verify': true }
      }],
      users: [{ name: 'fake', user: { token } }],
      contexts: [{ name: contextName, context: { cluster: 'fake', user: 'fake' } }],
      'current-context': contextName
    }, null, 2)
  }

  // --- test controls ---

  /** RBAC: refuse `verb` ("create", "patch", ...) on `resource` ("deployments", "deployments/scale", "secrets"...) */
  deny (verb: string, resource: string): void {
    this.denied.add(`${verb} ${resource}`)
  }

  allow (verb: string, resource: string): void {
    this.denied.delete(`${verb} ${resource}`)
  }

  /** Where the service proxy sends requests for this Service (a real server on loopback). */
  setServiceBackend (namespace: string, service: string, url: string): void {
    this.backends.set(`${namespace}/${service}`, url)
  }

  /**
   * Creates or replaces a stored EndpointSlice for a selector-less Service (one slice per call; a
   * Service may have several, each with its own ports — discovery.k8s.io/v1 EndpointSlice).
   */
  putEndpointSlice (namespace: string, name: string, service: string, endpoints: Array<{ address: string, ready: boolean, pod?: string }>, ports: Array<{ name: string, port: number }>): KubeObject {
    const body: KubeObject = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      endpoints: endpoints.map((e) => ({
        addresses: [e.address],
        conditions: { ready: e.ready, serving: e.ready, terminating: false },
        ...(e.pod !== undefined ? { targetRef: { kind: 'Pod', name: e.pod, namespace } } : {})
      })),
      ports: ports.map((p) => ({ ...p, protocol: 'TCP' }))
    }
    const cur = this.store.get('endpointslices', namespace, name)
    return cur === undefined ? this.store.create('endpointslices', 'endpointslices.discovery.k8s.io', body) : this.store.update('endpointslices', 'endpointslices.discovery.k8s.io', body)
  }

  createNamespace (name: string, labels?: Record<string, string>): KubeObject {
    return this.store.create('namespaces', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, ...(labels !== undefined ? { labels } : {}) }, status: { phase: 'Active' } })
  }

  /** Pods of a function (label faas_function), sorted by name. */
  pods (namespace: string, fn: string): KubeObject[] {
    return this.store.list(PODS, namespace).filter((p) => p.metadata.labels?.faas_function === fn)
  }

  appendLog (namespace: string, pod: string, text: string, time?: Date, container?: string): void {
    this.controller.appendLog(namespace, pod, text, time, container)
  }

  crash (namespace: string, pod: string, report: CrashReport): void {
    this.controller.crash(namespace, pod, report)
  }

  /** Keep a Deployment's new pods Pending (not ready) until released. */
  holdPods (namespace: string, deployment: string, on: boolean): void {
    this.controller.hold(namespace, deployment, on)
  }

  /** Injects a wire fault (see FaultRule) until cleared; returns a handle with its counts. */
  fault (rule: FaultRule): FaultHandle {
    const active: ActiveFault = { rule, seen: 0, hits: 0 }
    this.faults.push(active)
    return {
      rule,
      get seen () { return active.seen },
      get hits () { return active.hits },
      clear: () => {
        const i = this.faults.indexOf(active)
        if (i >= 0) this.faults.splice(i, 1)
      }
    }
  }

  /** Removes every fault rule (requests already held by 'hang' stay held until their client goes). */
  clearFaults (): void {
    this.faults.length = 0
  }

  /** Requests a 'hang' fault is holding now. */
  get heldRequests (): number {
    return this.held.size
  }

  /** Resets every open watch connection (a dropped connection, as a restarting API server or a proxy does). */
  dropWatches (): number {
    const n = this.watches.size
    for (const res of [...this.watches.keys()]) res.destroy()
    return n
  }

  /**
   * Ends every open watch cleanly (the chunked answer completes; the connection stays open for
   * keep-alive), as the API server does when a watch's timeout is up: "API Concepts", Efficient
   * detection of changes — the server may end a watch, and the client watches again from the last
   * resourceVersion it saw.
   */
  endWatches (): number {
    const n = this.watches.size
    for (const res of [...this.watches.keys()]) res.end()
    return n
  }

  /** Watch connections open now. */
  get openWatches (): number {
    return this.watches.size
  }

  /** Forgets the watch history: a watch resuming from any version up to now gets 410 Gone. */
  compactHistory (): void {
    this.store.compact()
  }

  /** Sends a BOOKMARK now on every watch that allows them. */
  bookmark (): void {
    for (const send of this.watches.values()) send()
  }

  requestsTo (pattern: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.path}`))
  }

  // --- HTTP ---

  private handle (req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake')
    const auth = req.headers.authorization ?? ''
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'],
      user: auth.startsWith('Bearer ') ? this.users.get(auth.slice(7)) : undefined,
      at: Date.now()
    }
    this.requests.push(recorded)
    this.onRequest?.(recorded)
    const { latencyMs, fault } = this.pickFaults(recorded)
    if (latencyMs > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        if (!res.destroyed) this.serve(req, res, url, fault, recorded.user)
      }, latencyMs)
      this.timers.add(timer)
      return
    }
    this.serve(req, res, url, fault, recorded.user)
  }

  private pickFaults (r: RecordedRequest): { latencyMs: number, fault: FaultRule | undefined } {
    let latencyMs = 0
    let fault: FaultRule | undefined
    for (const f of this.faults) {
      const rule = f.rule
      if (rule.method !== undefined && rule.method.toUpperCase() !== r.method.toUpperCase()) continue
      if (rule.path !== undefined && !(typeof rule.path === 'string' ? r.path.includes(rule.path) : rule.path.test(r.path))) continue
      if (rule.match !== undefined && !rule.match(r)) continue
      f.seen++
      if (rule.kind !== 'latency' && fault !== undefined) continue
      if (rule.times !== undefined && f.hits >= rule.times) continue
      if ((f.seen - 1 - (rule.offset ?? 0)) % Math.max(1, rule.every ?? 1) !== 0) continue
      f.hits++
      if (rule.kind === 'latency') latencyMs += rule.latencyMs ?? 200
      else fault = rule
    }
    return { latencyMs, fault }
  }

  private serve (req: IncomingMessage, res: ServerResponse, url: URL, fault: FaultRule | undefined, user: string | undefined): void {
    switch (fault?.kind) {
      case 'status': {
        req.resume()
        const code = fault.status ?? 500
        this.sendStatus(res, new HttpError(code, STATUS_REASONS[code] ?? 'InternalError', fault.message ?? `Internal error occurred: injected fault (${code})`))
        return
      }
      case 'throttle': {
        req.resume()
        const after = fault.retryAfterSeconds ?? 1
        const text = JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: fault.message ?? 'the server has received too many requests and has asked us to try again later',
          reason: 'TooManyRequests',
          details: { retryAfterSeconds: after },
          code: 429
        })
        res.writeHead(429, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'retry-after': String(after) })
        res.end(text)
        return
      }
      case 'reset':
        req.socket.resetAndDestroy()
        return
      case 'hang':
        req.resume()
        this.held.add(res)
        res.once('close', () => { this.held.delete(res) })
        return
      case 'truncate':
        this.truncating.add(res)
        break
    }
    // --anonymous-auth: a request without credentials is system:anonymous when the fake allows it
    if (user === undefined && this.anonymous && req.headers.authorization === undefined) user = 'system:anonymous'
    if (user === undefined) {
      req.resume()
      this.sendStatus(res, new HttpError(401, 'Unauthorized', 'Unauthorized'))
      return
    }
    this.route(req, res, url, user).catch((err: unknown) => {
      if (err instanceof HttpError) this.sendStatus(res, err)
      else if (err instanceof StoreError) this.sendStatus(res, new HttpError(err.code, err.reason, err.message))
      else this.sendStatus(res, new HttpError(500, 'InternalError', (err as Error).message))
    })
  }

  private sendStatus (res: ServerResponse, err: HttpError): void {
    if (res.headersSent) {
      res.destroy()
      return
    }
    this.sendJson(res, err.code, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: err.message,
      reason: err.reason,
      ...(err.details !== undefined ? { details: err.details } : {}),
      code: err.code
    })
  }

  private sendJson (res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body)
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    if (this.truncating.has(res)) {
      const bytes = Buffer.from(text)
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => { res.socket?.destroy() })
      return
    }
    res.end(text)
  }

  private parseRoute (pathname: string): Route {
    const parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p))
    let gv: string
    let rest: string[]
    if (parts[0] === 'api' && parts[1] === 'v1') {
      gv = 'v1'
      rest = parts.slice(2)
    } else if (parts[0] === 'apis' && parts.length >= 3) {
      gv = `${parts[1] as string}/${parts[2] as string}`
      rest = parts.slice(3)
    } else {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    }
    let namespace: string | undefined
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1]
      rest = rest.slice(2)
    }
    const res = RESOURCES[`${gv}/${rest[0] ?? ''}`]
    if (res === undefined || (res.namespaced && namespace === undefined && rest.length > 1) || (res.group === 'tekton.dev' && !this.servesTekton) || (res.group === 'openfaas.com' && !this.servesFunctions)) {
      throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    }
    return { res, namespace, name: rest[1], sub: rest.slice(2) }
  }

  private authorize (verb: string, route: Route, sub?: string): void {
    const resource = sub === undefined ? route.res.plural : `${route.res.plural}/${sub}`
    if (!this.denied.has(`${verb} ${resource}`)) return
    const group = route.res.group === '' ? '""' : `"${route.res.group}"`
    const where = route.namespace !== undefined ? ` in the namespace "${route.namespace}"` : ' at the cluster scope'
    const nameText = route.name !== undefined ? `${route.res.qualified} "${route.name}"` : route.res.qualified
    throw new HttpError(403, 'Forbidden',
      `${nameText} is forbidden: User "${this.user}" cannot ${verb} resource "${resource}" in API group ${group}${where}`,
      { ...(route.name !== undefined ? { name: route.name } : {}), group: route.res.group, kind: route.res.plural })
  }

  private async readText (req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of req) {
      size += (c as Buffer).length
      if (size > MAX_BODY_BYTES) throw new HttpError(413, 'RequestEntityTooLarge', 'request entity too large')
      chunks.push(c as Buffer)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  private parseBody (text: string): unknown {
    try {
      return JSON.parse(text)
    } catch {
      throw new HttpError(400, 'BadRequest', `the body of the request was in an unknown format - accepted media types include: application/json`)
    }
  }

  private async readBody (req: IncomingMessage): Promise<unknown> {
    return this.parseBody(await this.readText(req))
  }

  /** A body that may be absent (DELETE's DeleteOptions): undefined when empty. */
  private async readOptionalBody (req: IncomingMessage): Promise<unknown> {
    const text = await this.readText(req)
    return text.trim() === '' ? undefined : this.parseBody(text)
  }

  /**
   * Legacy discovery documents for the served resources: /api (APIVersions), /api/v1 and
   * /apis/<group>/<version> (APIResourceList), /apis (APIGroupList), as
   * https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api describes them.
   * Aggregated discovery (v2) is not offered: clients fall back to these when the answer is plain JSON.
   */
  private discovery (pathname: string): unknown {
    const served = Object.values(RESOURCES).filter((r) => (r.group !== 'tekton.dev' || this.servesTekton) && (r.group !== 'openfaas.com' || this.servesFunctions))
    const path = pathname.replace(/\/+$/, '')
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] }
    const groups = [...new Set(served.filter((r) => r.group !== '').map((r) => r.apiVersion))]
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((gv) => {
          const [name, version] = gv.split('/') as [string, string]
          return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } }
        })
      }
    }
    const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : undefined
    if (gv === undefined || (gv !== 'v1' && !groups.includes(gv))) return undefined
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: served.filter((r) => r.apiVersion === gv).map((r) => ({
        name: r.plural,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
      }))
    }
  }

  private async route (req: IncomingMessage, res: ServerResponse, url: URL, user: string): Promise<void> {
    if (req.method === 'GET') {
      const doc = this.discovery(url.pathname)
      if (doc !== undefined) {
        this.sendJson(res, 200, doc)
        return
      }
    }
    const route = this.parseRoute(url.pathname)
    const method = req.method ?? 'GET'
    const q = url.searchParams
    const { res: info, namespace, name, sub } = route
    const manager = managerOf(req, q)
    if (info.namespaced && namespace !== undefined && method !== 'GET' && method !== 'DELETE' && this.store.get('namespaces', undefined, namespace) === undefined) {
      throw new HttpError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' })
    }
    if (info.plural === 'services' && name !== undefined && sub[0] === 'proxy') {
      this.authorize(method === 'GET' ? 'get' : 'create', { ...route, name: name.split(':')[0] }, 'proxy')
      await this.proxy(req, res, namespace as string, name, sub.slice(1), url.search)
      return
    }
    if (info.plural === 'pods' && name !== undefined && sub[0] === 'log') {
      this.authorize('get', route, 'log')
      this.podLog(res, namespace as string, name, q)
      return
    }
    if (info.plural === 'deployments' && name !== undefined && sub[0] === 'scale') {
      await this.scale(req, res, route, method, user)
      return
    }
    if (info.kind === 'Function' && name !== undefined && sub[0] === 'status' && sub.length === 1) {
      await this.statusSubresource(req, res, route, method)
      return
    }
    if (sub.length > 0) throw new HttpError(404, 'NotFound', 'the server could not find the requested resource')
    if (name === undefined) {
      if (method === 'GET') {
        const watch = q.get('watch') === 'true' || q.get('watch') === '1'
        this.authorize(watch ? 'watch' : 'list', route)
        const selector = this.selector(q)
        if (watch) this.watch(req, res, info, namespace, selector, q)
        else this.sendJson(res, 200, { kind: `${info.kind}List`, apiVersion: info.apiVersion, metadata: { resourceVersion: this.store.resourceVersion }, items: this.listObjects(info, namespace, selector) })
        return
      }
      if (method === 'POST') {
        this.authorize('create', route)
        const body = await this.readBody(req) as KubeObject
        this.validate(info, namespace, body)
        const obj = this.normalise(info, namespace, body)
        obj.metadata.managedFields = recordUpdate(undefined, obj, manager, info.apiVersion)
        this.sendJson(res, 201, this.store.create(info.table, info.qualified, obj))
        return
      }
      throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
    }
    switch (method) {
      case 'GET': {
        this.authorize('get', route)
        const obj = this.store.get(info.table, namespace, name)
        if (obj === undefined) throw this.notFound(info, name)
        this.sendJson(res, 200, obj)
        return
      }
      case 'PUT': {
        this.authorize('update', route)
        const body = await this.readBody(req) as KubeObject
        if (body?.metadata?.name !== name) throw new HttpError(400, 'BadRequest', `the name of the object (${String(body?.metadata?.name)}) does not match the name on the URL (${name})`)
        this.validate(info, namespace, body)
        const next = this.normalise(info, namespace, body)
        next.metadata.managedFields = recordUpdate(this.store.get(info.table, namespace, name), next, manager, info.apiVersion)
        this.sendJson(res, 200, this.write(info, next))
        return
      }
      case 'PATCH': {
        this.authorize('patch', route)
        const cur = this.store.get(info.table, namespace, name)
        if (patchType(req) === APPLY_PATCH) {
          await this.serverSideApply(req, res, info, namespace as string, name, cur, q)
          return
        }
        if (q.has('force')) throw new HttpError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch')
        if (cur === undefined) throw this.notFound(info, name)
        const raw = this.applyPatch(req, cur, await this.readBody(req)) as KubeObject
        this.validate(info, namespace, raw)
        const patched = this.normalise(info, namespace, raw)
        patched.metadata.managedFields = recordUpdate(cur, patched, manager, info.apiVersion)
        this.sendJson(res, 200, this.write(info, patched))
        return
      }
      case 'DELETE': {
        this.authorize('delete', route)
        const held = this.store.get(info.table, namespace, name)
        // DeleteOptions.preconditions (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/delete-options/):
        // "Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned."
        // uid and resourceVersion, with the API server's messages (staging/src/k8s.io/apiserver/pkg/storage: Precondition.Check)
        const options = await this.readOptionalBody(req) as { preconditions?: { uid?: string, resourceVersion?: string } } | undefined
        const pre = options?.preconditions
        if (held !== undefined && pre !== undefined && pre !== null) {
          if (pre.uid !== undefined && pre.uid !== null && pre.uid !== held.metadata.uid) {
            throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${info.qualified} "${name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(held.metadata.uid)}`)
          }
          if (pre.resourceVersion !== undefined && pre.resourceVersion !== null && pre.resourceVersion !== held.metadata.resourceVersion) {
            throw new HttpError(409, 'Conflict', `Operation cannot be fulfilled on ${info.qualified} "${name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(held.metadata.resourceVersion)}`)
          }
        }
        if (held !== undefined && (held.metadata.finalizers as string[] | undefined ?? []).length > 0) {
          // https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/: a delete of an
          // object with finalizers only marks it (metadata.deletionTimestamp); it stays, readable and
          // updatable, until its finalizers are all removed; the answer is the object, 200
          if (held.metadata.deletionTimestamp === undefined) held.metadata.deletionTimestamp = kubeNow()
          this.sendJson(res, 200, this.store.update(info.table, info.qualified, { ...held, metadata: { ...held.metadata, resourceVersion: undefined } }))
          return
        }
        if (info.table === 'namespaces') this.store.deleteNamespaceContents(name)
        const gone = this.store.delete(info.table, info.qualified, namespace, name)
        this.sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: info.group, kind: info.plural, uid: gone.metadata.uid } })
        return
      }
    }
    throw new HttpError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`)
  }

  /**
   * An update through PUT or PATCH, with the finalizer rules of
   * https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/ and
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#object-lifecycle: deletionTimestamp
   * is the server's (a client cannot set or clear it), no finalizer can be added to an object
   * being deleted, and an object being deleted whose last finalizer goes is removed then.
   */
  private write (info: ResourceInfo, next: KubeObject): KubeObject {
    const cur = this.store.get(info.table, next.metadata.namespace, next.metadata.name)
    const deleting = cur?.metadata.deletionTimestamp
    if (deleting === undefined) delete next.metadata.deletionTimestamp
    else next.metadata.deletionTimestamp = deleting
    const finalizers = (next.metadata.finalizers as string[] | undefined) ?? []
    if (deleting !== undefined) {
      const had = new Set((cur?.metadata.finalizers as string[] | undefined) ?? [])
      const added = finalizers.filter((f) => !had.has(f))
      if (added.length > 0) throw new HttpError(422, 'Invalid', `${info.kind}${info.group !== '' ? '.' + info.group : ''} "${next.metadata.name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`)
    }
    const updated = this.store.update(info.table, info.qualified, next)
    if (deleting !== undefined && finalizers.length === 0) this.store.delete(info.table, info.qualified, next.metadata.namespace, next.metadata.name)
    return updated
  }

  /**
   * functions/status: the status subresource of a CRD that enables it
   * (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource):
   * writes here change only .status (spec and metadata other than resourceVersion are ignored),
   * do not bump metadata.generation; writes to the main resource leave .status alone (store.update).
   */
  private async statusSubresource (req: IncomingMessage, res: ServerResponse, route: Route, method: string): Promise<void> {
    const { res: info, namespace, name } = route as Route & { name: string }
    const verb = method === 'GET' ? 'get' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : ''
    if (verb === '') throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    this.authorize(verb, route, 'status')
    const cur = this.store.get(info.table, namespace, name)
    if (cur === undefined) throw this.notFound(info, name)
    if (method === 'GET') {
      this.sendJson(res, 200, cur)
      return
    }
    const body = await this.readBody(req) as KubeObject
    const next = (method === 'PUT' ? body : this.applyPatch(req, cur, body)) as KubeObject
    const rv = method === 'PUT' ? next?.metadata?.resourceVersion : undefined
    this.sendJson(res, 200, this.store.update(info.table, info.qualified, { ...cur, metadata: { ...cur.metadata, resourceVersion: rv }, status: next?.status }, true))
  }

  private notFound (info: ResourceInfo, name: string): HttpError {
    return new HttpError(404, 'NotFound', `${info.qualified} "${name}" not found`, { name, group: info.group, kind: info.plural })
  }

  private selector (q: URLSearchParams): Requirement[] {
    try {
      const reqs = parseSelector(q.get('labelSelector'))
      const field = q.get('fieldSelector')
      if (field !== null && field !== '') {
        const m = /^metadata\.name=(.+)$/.exec(field)
        if (m === null) throw new Error(`field label not supported: ${field}`)
        reqs.push({ op: 'eq', key: '\u0000metadata.name', value: m[1] as string })
      }
      return reqs
    } catch (err) {
      throw new HttpError(400, 'BadRequest', (err as Error).message)
    }
  }

  private selects (reqs: Requirement[], obj: KubeObject): boolean {
    return matches(reqs, { ...(obj.metadata.labels ?? {}), '\u0000metadata.name': obj.metadata.name })
  }

  private listObjects (info: ResourceInfo, namespace: string | undefined, reqs: Requirement[]): KubeObject[] {
    return this.store.list(info.table, namespace).filter((o) => this.selects(reqs, o))
  }

  private validate (info: ResourceInfo, namespace: string | undefined, body: KubeObject): void {
    if (typeof body !== 'object' || body === null || typeof body.metadata !== 'object' || body.metadata === null) {
      throw new HttpError(400, 'BadRequest', 'the object has no metadata')
    }
    if (info.namespaced && body.metadata.namespace !== undefined && body.metadata.namespace !== namespace) {
      throw new HttpError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request')
    }
    const name = body.metadata.name
    const invalid = (msg: string): HttpError => new HttpError(422, 'Invalid', `${info.kind}${info.group !== '' ? '.' + info.group : ''} "${String(name)}" is invalid: ${msg}`,
      { name, group: info.group, kind: info.kind, causes: [{ reason: 'FieldValueInvalid', message: msg }] })
    if (typeof name !== 'string' || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
      throw invalid(`metadata.name: Invalid value: "${String(name)}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`)
    }
    const lp = labelProblem(body.metadata.labels)
    if (lp !== undefined) throw invalid(lp)
    if (info.kind === 'Task') {
      const steps = body.spec?.steps
      if (!Array.isArray(steps) || steps.length === 0) throw invalid('spec.steps: Required value')
      for (const st of steps) {
        if (typeof st?.name !== 'string' || typeof st?.image !== 'string' || st.image === '') throw invalid('spec.steps: Invalid value: every step needs a name and an image')
        for (const kind of ['limits', 'requests']) {
          for (const [k, v] of Object.entries((st?.computeResources?.[kind] ?? {}) as Record<string, unknown>)) {
            if (typeof v !== 'string' || !QUANTITY.test(v)) throw new HttpError(400, 'BadRequest', `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (${kind}.${k})`)
          }
        }
      }
    }
    if (info.kind === 'Function') {
      // the openAPIV3Schema of OpenFaaS's Function CRD (and ours, charts/faas-bridge/templates/function-crd.yaml):
      // spec required, with name and image strings; the other fields typed as faas-cli generate writes them
      const spec = body.spec
      if (typeof spec !== 'object' || spec === null) throw invalid('spec: Required value')
      for (const k of ['name', 'image']) if (typeof spec[k] !== 'string') throw invalid(`spec.${k}: Required value`)
    }
    if (info.kind === 'TaskRun') {
      if (typeof body.spec?.taskRef?.name !== 'string' && typeof body.spec?.taskSpec !== 'object') throw invalid('spec: expected exactly one, got neither: spec.taskRef, spec.taskSpec')
      const st = body.spec?.status
      if (st !== undefined && st !== 'TaskRunCancelled') throw invalid(`spec.status: Invalid value: ${String(st)}`)
    }
    if (info.kind === 'Lease') {
      // pkg/apis/coordination/validation: leaseDurationSeconds and leaseTransitions, when set, are > 0 and >= 0
      const d = body.spec?.leaseDurationSeconds
      if (d !== undefined && d !== null && (!Number.isInteger(d) || d <= 0)) throw invalid(`spec.leaseDurationSeconds: Invalid value: ${String(d)}: must be greater than 0`)
      const n = body.spec?.leaseTransitions
      if (n !== undefined && n !== null && (!Number.isInteger(n) || n < 0)) throw invalid(`spec.leaseTransitions: Invalid value: ${String(n)}: must be greater than or equal to 0`)
    }
    if (info.kind === 'Deployment') {
      const template = body.spec?.template
      const lt = labelProblem(template?.metadata?.labels)
      if (lt !== undefined) throw invalid(`spec.template.${lt}`)
      if (!matchesMap(body.spec?.selector?.matchLabels, template?.metadata?.labels)) {
        throw invalid('spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`')
      }
      const containers = template?.spec?.containers
      if (!Array.isArray(containers) || containers.length === 0) throw invalid('spec.template.spec.containers: Required value')
      for (const c of containers) {
        for (const kind of ['limits', 'requests']) {
          for (const [k, v] of Object.entries((c?.resources?.[kind] ?? {}) as Record<string, unknown>)) {
            if (typeof v !== 'string' || !QUANTITY.test(v)) {
              throw new HttpError(400, 'BadRequest', `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (${kind}.${k})`)
            }
          }
        }
      }
      const replicas = body.spec?.replicas
      if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) throw invalid('spec.replicas: Invalid value: must be greater than or equal to 0')
    }
  }

  private normalise (info: ResourceInfo, namespace: string | undefined, body: KubeObject): KubeObject {
    const obj = structuredClone(body)
    obj.apiVersion = info.apiVersion
    obj.kind = info.kind
    if (info.namespaced) obj.metadata.namespace = namespace
    if (info.kind === 'Deployment') obj.spec = { replicas: 1, ...obj.spec }
    if (info.kind === 'Secret') {
      const data: Record<string, string> = { ...(obj.data ?? {}) }
      for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v).toString('base64')
      delete obj.stringData
      obj.data = data
      obj.type ??= 'Opaque'
    }
    if (info.kind === 'Service') obj.spec = { type: 'ClusterIP', clusterIP: '10.96.0.' + String(10 + (obj.metadata.name.length % 200)), ...obj.spec }
    if (info.kind === 'Namespace') obj.status = { phase: 'Active' }
    return obj
  }

  /**
   * PATCH with application/apply-patch+yaml (https://kubernetes.io/docs/reference/using-api/server-side-apply/):
   * creates the object when absent, needs no resourceVersion (one in the body is a precondition),
   * requires fieldManager, and resolves ownership in managed-fields.ts; a conflict without
   * force=true is 409 Conflict with FieldManagerConflict causes. Status is never written.
   */
  private async serverSideApply (req: IncomingMessage, res: ServerResponse, info: ResourceInfo, namespace: string, name: string, cur: KubeObject | undefined, q: URLSearchParams): Promise<void> {
    const manager = q.get('fieldManager')
    if (manager === null || manager === '') throw new HttpError(400, 'BadRequest', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch')
    const force = q.get('force') === 'true'
    const config = await this.readBody(req) as KubeObject
    if (typeof config !== 'object' || config === null || config.apiVersion !== info.apiVersion || config.kind !== info.kind) {
      throw new HttpError(400, 'BadRequest', `the apply configuration must name apiVersion "${info.apiVersion}" and kind "${info.kind}"`)
    }
    if (config.metadata?.name !== name) throw new HttpError(400, 'BadRequest', `the name of the object (${String(config.metadata?.name)}) does not match the name on the URL (${name})`)
    if (config.metadata.managedFields !== undefined) throw new HttpError(400, 'BadRequest', 'metadata.managedFields must be nil')
    delete config.status // a main-resource write never sets status
    // an apply that creates also needs the create verb (the API server authorizes the create it becomes)
    if (cur === undefined) this.authorize('create', { res: info, namespace, name, sub: [] })
    let merged: { object: KubeObject, managedFields: unknown }
    try {
      const r = apply(cur, config, manager, force, info.apiVersion)
      merged = { object: r.object as KubeObject, managedFields: r.managedFields }
    } catch (err) {
      if (!(err instanceof ApplyConflict)) throw err
      throw new HttpError(409, 'Conflict', err.message, { name, group: info.group, kind: info.plural, causes: err.causes })
    }
    this.validate(info, namespace, merged.object)
    const obj = this.normalise(info, namespace, merged.object)
    obj.metadata.managedFields = merged.managedFields as KubeObject['metadata']['managedFields']
    if (cur === undefined) {
      this.sendJson(res, 201, this.store.create(info.table, info.qualified, obj))
      return
    }
    this.sendJson(res, 200, this.store.update(info.table, info.qualified, obj))
  }

  private applyPatch (req: IncomingMessage, cur: unknown, patch: unknown): unknown {
    const type = patchType(req)
    try {
      if (type === 'application/json-patch+json') return jsonPatch(cur, patch)
      if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') return mergePatch(cur, patch)
    } catch (err) {
      if (err instanceof PatchError) throw new HttpError(422, 'Invalid', err.message)
      throw err
    }
    throw new HttpError(415, 'UnsupportedMediaType', `the server does not support the media type ${String(type)} for a patch`)
  }

  // --- deployments/scale ---

  private async scale (req: IncomingMessage, res: ServerResponse, route: Route, method: string, user: string): Promise<void> {
    const namespace = route.namespace as string
    const name = route.name as string
    const toScale = (d: KubeObject): Record<string, unknown> => ({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: { name, namespace, uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion, creationTimestamp: d.metadata.creationTimestamp },
      spec: { replicas: d.spec?.replicas ?? 1 },
      status: { replicas: d.status?.replicas ?? 0, selector: Object.entries(d.spec?.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',') }
    })
    const verb = method === 'GET' ? 'get' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : ''
    if (verb === '') throw new HttpError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource')
    this.authorize(verb, route, 'scale')
    const dep = this.store.get(DEPLOYMENTS, namespace, name)
    if (dep === undefined) throw this.notFound(route.res, name)
    if (method === 'GET') {
      this.sendJson(res, 200, toScale(dep))
      return
    }
    const body = await this.readBody(req)
    const next = (method === 'PUT' ? body : this.applyPatch(req, toScale(dep), body)) as { metadata?: { resourceVersion?: string }, spec?: { replicas?: unknown } }
    const replicas = next?.spec?.replicas
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new HttpError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${String(replicas)}: must be greater than or equal to 0`)
    }
    const rv = method === 'PUT' ? next.metadata?.resourceVersion : undefined
    const scaled: KubeObject = { ...dep, metadata: { ...dep.metadata, resourceVersion: rv }, spec: { ...dep.spec, replicas } }
    // a write through /scale is an Update of spec.replicas by its manager (server-side-apply docs, "Field management")
    scaled.metadata.managedFields = recordUpdate(dep, scaled, managerOf(req, new URL(req.url ?? '/', 'http://fake').searchParams), route.res.apiVersion, 'scale')
    const updated = this.store.update(DEPLOYMENTS, route.res.qualified, scaled)
    this.scaleWrites.push({ at: Date.now(), user, namespace, name, from: dep.spec?.replicas ?? 1, to: replicas })
    this.sendJson(res, 200, toScale(updated))
  }

  // --- watch ---

  private watch (req: IncomingMessage, res: ServerResponse, info: ResourceInfo, namespace: string | undefined, reqs: Requirement[], q: URLSearchParams): void {
    const rv = q.get('resourceVersion')
    const from = rv === null || rv === '' || rv === '0' ? undefined : Number(rv)
    if (from !== undefined && !Number.isInteger(from)) throw new HttpError(400, 'BadRequest', `invalid resource version: ${String(rv)}`)
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })
    res.flushHeaders() // as the API server: the client learns the watch is open before the first event
    this.streams.add(res)
    const send = (type: string, object: unknown): void => { res.write(JSON.stringify({ type, object }) + '\n') }
    const wanted = (ev: StoreEvent): boolean => ev.resource === info.table &&
      (namespace === undefined || ev.object.metadata.namespace === namespace) && this.selects(reqs, ev.object)
    if (from === undefined) {
      for (const o of this.listObjects(info, namespace, reqs)) send('ADDED', o)
    } else {
      const past = this.store.since(from)
      if (past === undefined) {
        // "410 Gone responses": the version is older than the kept history; the client must re-list
        send('ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${from} (${this.store.revisionNumber})`, reason: 'Expired', code: 410 })
        this.streams.delete(res)
        res.end()
        req.resume()
        return
      }
      for (const ev of past) if (wanted(ev)) send(ev.type, ev.object)
    }
    const onChange = (ev: StoreEvent): void => { if (wanted(ev)) send(ev.type, ev.object) }
    this.store.events.on('change', onChange)
    const bookmarks = q.get('allowWatchBookmarks') === 'true' || q.get('allowWatchBookmarks') === '1'
    const sendBookmark = (): void => {
      if (bookmarks) send('BOOKMARK', { kind: info.kind, apiVersion: info.apiVersion, metadata: { resourceVersion: this.store.resourceVersion } })
    }
    this.watches.set(res, sendBookmark)
    const ticker = bookmarks && this.bookmarkIntervalMs > 0 ? setInterval(sendBookmark, this.bookmarkIntervalMs) : undefined
    ticker?.unref()
    const timeout = Number(q.get('timeoutSeconds') ?? '0')
    const timer = timeout > 0 ? setTimeout(() => { res.end() }, timeout * 1000) : undefined
    timer?.unref()
    res.once('close', () => {
      this.store.events.off('change', onChange)
      if (timer !== undefined) clearTimeout(timer)
      if (ticker !== undefined) clearInterval(ticker)
      this.watches.delete(res)
      this.streams.delete(res)
    })
    req.resume()
  }

  // --- pods/log ---

  private podLog (res: ServerResponse, namespace: string, name: string, q: URLSearchParams): void {
    const pod = this.store.get(PODS, namespace, name)
    if (pod === undefined) throw this.notFound(RESOURCES['v1/pods'] as ResourceInfo, name)
    const containers: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name)
    const container = q.get('container') ?? containers[0]
    if (container === undefined || !containers.includes(container)) {
      throw new HttpError(400, 'BadRequest', `container ${String(container)} is not valid for pod ${name}`)
    }
    const phase = pod.status?.phase
    if (phase !== 'Running' && phase !== 'Succeeded' && phase !== 'Failed') {
      throw new HttpError(400, 'BadRequest', `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`)
    }
    // the first container's log is kept under the pod's key; other containers' under pod/container
    const key = logKey(namespace, name, container === containers[0] ? undefined : container)
    let lines = [...(this.controller.logs.get(key) ?? [])]
    const sinceTime = q.get('sinceTime')
    const sinceSeconds = q.get('sinceSeconds')
    if (sinceTime !== null && sinceSeconds !== null) throw new HttpError(422, 'Invalid', 'at most one of sinceTime or sinceSeconds may be specified')
    const since = sinceTime !== null ? Date.parse(sinceTime) : sinceSeconds !== null ? Date.now() - Number(sinceSeconds) * 1000 : undefined
    if (since !== undefined && Number.isNaN(since)) throw new HttpError(400, 'BadRequest', `invalid sinceTime ${String(sinceTime)}`)
    if (since !== undefined) lines = lines.filter((l) => l.time.getTime() >= since)
    const tail = q.get('tailLines')
    if (tail !== null && Number(tail) >= 0) lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail))
    const stamps = q.get('timestamps') === 'true'
    const format = (l: { time: Date, text: string }): string =>
      (stamps ? l.time.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z') + ' ' : '') + l.text + '\n'
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' })
    for (const l of lines) res.write(format(l))
    if (q.get('follow') !== 'true' || phase !== 'Running') {
      res.end()
      return
    }
    this.streams.add(res)
    const onAppend = (k: string, line: { time: Date, text: string }): void => { if (k === key) res.write(format(line)) }
    const onEnd = (k: string): void => { if (k === key) res.end() }
    this.controller.logEvents.on('append', onAppend)
    this.controller.logEvents.on('end', onEnd)
    res.once('close', () => {
      this.controller.logEvents.off('append', onAppend)
      this.controller.logEvents.off('end', onEnd)
      this.streams.delete(res)
    })
  }

  // --- endpointslices (computed) and the service proxy ---

  private readyPods (namespace: string, selector: Record<string, string> | undefined): KubeObject[] {
    return this.store.peek(PODS, namespace).filter((p) => matchesMap(selector, p.metadata.labels) && p.status?.podIP !== undefined)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  }

  /** The EndpointSlice of a Service from its Pods now (a Pod with an IP is listed; ready as its containers). */
  private endpointSliceFor (svc: KubeObject): KubeObject {
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc.metadata.name}-fake1`,
        namespace: svc.metadata.namespace,
        labels: { 'kubernetes.io/service-name': svc.metadata.name, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }
      },
      addressType: 'IPv4',
      endpoints: this.readyPods(svc.metadata.namespace as string, svc.spec?.selector).map((p) => {
        const ready = p.status?.containerStatuses?.every((c: { ready: boolean }) => c.ready) === true
        return {
          addresses: [p.status.podIP],
          conditions: { ready, serving: ready, terminating: false },
          targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace },
          nodeName: p.spec?.nodeName
        }
      }),
      ports: (svc.spec?.ports ?? []).map((p: { name?: string, port: number }) => ({ name: p.name ?? '', port: p.port, protocol: 'TCP' }))
    }
  }

  /**
   * The endpointslice controller: a change to a Pod or a Service rewrites the slices of that
   * namespace's Services whose endpoints changed (only then: an unchanged slice makes no event).
   */
  private endpointSliceSync (ev: StoreEvent): void {
    if (ev.resource !== PODS && ev.resource !== 'services') return
    const ns = ev.object.metadata.namespace as string
    // only the Services the change concerns: the changed one, or those selecting the changed Pod
    // the EndpointSlice controller manages slices only for Services with a selector
    // (https://kubernetes.io/docs/concepts/services-networking/service/#services-without-selectors)
    const affected = ev.resource === 'services'
      ? (ev.object.spec?.selector !== undefined ? [ev.object] : [])
      : this.store.peek('services', ns).filter((svc) => svc.spec?.selector !== undefined && matchesMap(svc.spec.selector, ev.object.metadata.labels))
    for (const svc of affected) {
      const sliceName = `${svc.metadata.name}-fake1`
      const cur = this.store.get('endpointslices', ns, sliceName)
      if (ev.resource === 'services' && ev.type === 'DELETED') {
        if (cur !== undefined) this.store.delete('endpointslices', 'endpointslices.discovery.k8s.io', ns, sliceName)
        continue
      }
      const next = this.endpointSliceFor(svc)
      if (cur === undefined) this.store.create('endpointslices', 'endpointslices.discovery.k8s.io', next)
      else if (JSON.stringify(cur.endpoints) !== JSON.stringify(next.endpoints) || JSON.stringify(cur.ports) !== JSON.stringify(next.ports)) {
        this.store.update('endpointslices', 'endpointslices.discovery.k8s.io', { ...next, metadata: { ...cur.metadata, ...next.metadata, resourceVersion: undefined } })
      }
    }
  }

  /** The kubelet's httpGet probe, sent to the backend of a Service that selects the pod. */
  private async probeBackend (pod: KubeObject, path: string): Promise<boolean> {
    const ns = pod.metadata.namespace as string
    const svc = this.store.list('services', ns).find((s) => matchesMap(s.spec?.selector, pod.metadata.labels))
    const backend = svc === undefined ? undefined : this.backends.get(`${ns}/${svc.metadata.name}`)
    if (backend === undefined) return false
    try {
      // the kubelet's default probe timeout is 1 s
      const res = await fetch(new URL(path, backend), { signal: AbortSignal.timeout(1000) })
      await res.arrayBuffer()
      return res.status >= 200 && res.status < 400
    } catch {
      return false
    }
  }

  private async proxy (req: IncomingMessage, res: ServerResponse, namespace: string, nameAndPort: string, rest: string[], search: string): Promise<void> {
    const name = nameAndPort.replace(/^https?:/, '').split(':')[0] as string
    const svc = this.store.get('services', namespace, name)
    if (svc === undefined) throw this.notFound(RESOURCES['v1/services'] as ResourceInfo, name)
    const ready = this.readyPods(namespace, svc.spec?.selector).filter((p) => p.status?.containerStatuses?.every((c: { ready: boolean }) => c.ready) === true)
    if (ready.length === 0) throw new HttpError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`)
    const backend = this.backends.get(`${namespace}/${name}`)
    const ip = ready[0]?.status.podIP as string
    if (backend === undefined) throw new HttpError(503, 'ServiceUnavailable', `error trying to reach service: dial tcp ${ip}:8080: connect: connection refused`)
    const target = new URL('/' + rest.map(encodeURIComponent).join('/') + search, backend)
    const headers = { ...req.headers }
    delete headers.authorization
    delete headers.host
    delete headers.connection
    await new Promise<void>((resolve) => {
      const up = http.request(target, { method: req.method, headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
        upRes.once('end', resolve)
        upRes.once('error', () => { res.destroy(); resolve() })
      })
      up.once('error', (err) => {
        this.sendStatus(res, new HttpError(503, 'ServiceUnavailable', `error trying to reach service: ${err.message}`))
        resolve()
      })
      res.once('close', () => { up.destroy(); resolve() })
      req.pipe(up)
    })
  }
}

const APPLY_PATCH = 'application/apply-patch+yaml'

function patchType (req: IncomingMessage): string | undefined {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim()
}

/** The manager of a non-apply write: fieldManager, else the user agent's product name (server-side-apply docs, "Field management"). */
function managerOf (req: IncomingMessage, q: URLSearchParams): string {
  const named = q.get('fieldManager')
  if (named !== null && named !== '') return named
  const agent = (req.headers['user-agent'] ?? '').split('/')[0]?.trim()
  return agent === undefined || agent === '' ? 'unknown' : agent
}

export async function startFakeKubernetes (opts: FakeKubernetesOptions = {}): Promise<FakeKubernetes> {
  return await new FakeKubernetes(opts).start()
}
