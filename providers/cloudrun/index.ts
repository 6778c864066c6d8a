/*
 * The Google Cloud Run backend: each OpenFaaS function is a Cloud Run service (v2 API) in the
 * project/region its namespace maps to. deploy/update create a new revision with all traffic on the
 * latest and wait (bounded) on the long-running operation; scale sets the service's
 * minInstanceCount (0 = Cloud Run's own scale to zero); invoke proxies to the service URL with a
 * Google ID token; secrets live in Secret Manager, logs come from Cloud Logging.
 * See docs/backends/cloudrun.md for options, IAM roles and the replica mapping.
 */
import type { protos } from '@google-cloud/run'
import type { CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { backendError, invalid, isProviderError, notFound, timeout, unavailable } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { createClients, type GoogleClients } from './clients.ts'
import { googleCode, GRPC, isNotFound, mapGoogleError, withRetry, type AttemptOptions } from './errors.ts'
import { audienceOf, IdTokens } from './invoke.ts'
import { openLogs } from './logs.ts'
import { assertDeployable, buildService, scaleLabels, type IService } from './mapping.ts'
import {
  FUNCTION_LABEL, functionNameOf, isManagedIn, lastSegment, locationPath, serviceId, servicePath
} from './naming.ts'
import { validateOptions, type CloudRunOptions, type NamespaceTarget } from './options.ts'
import { CloudRunSecretStore } from './secrets.ts'
import { keptMetadata, normalise, toFunctionStatus, type ServiceView } from './status.ts'

export type { CloudRunOptions } from './options.ts'

type Deployment = FunctionDeployment & { namespace: string }

/** the Service fields an update writes: everything else on the service (set by others) stays */
const UPDATE_MASK = ['labels', 'annotations', 'template', 'scaling.min_instance_count', 'ingress', 'traffic']
/** read-merge-write rounds when the service keeps changing under the update (etag refused) */
export const UPDATE_ATTEMPTS = 3
type Operation = { name?: string | null, promise (): Promise<[IService, ...unknown[]]> }

interface CachedUpstream {
  url: URL
  audience?: string
  expires: number
}

export class CloudRunDriver implements Driver {
  readonly kind = 'cloudrun'
  readonly secrets: CloudRunSecretStore
  readonly options: CloudRunOptions
  private readonly clients: GoogleClients
  private readonly tokens: IdTokens
  private readonly logger: DriverContext['logger']
  private readonly upstreams = new Map<string, CachedUpstream>()
  private closed = false

  constructor (options: CloudRunOptions, context: DriverContext, clients: GoogleClients) {
    this.options = options
    this.clients = clients
    this.logger = context.logger
    this.tokens = new IdTokens(options)
    this.secrets = new CloudRunSecretStore(clients.secrets, options, (ns) => this.target(ns))
  }

  private target (namespace: string): NamespaceTarget {
    const t = this.options.targets.get(namespace)
    if (t === undefined) throw invalid(`namespace "${namespace}" is not served by the Cloud Run backend`)
    return t
  }

  private assertOpen (): void {
    if (this.closed) throw backendError('the Cloud Run backend is closed')
  }

  /** One API call within requestTimeoutMs, retried (bounded) as errors.ts says; reads are idempotent. */
  private retrying<T> (fn: (call: AttemptOptions) => Promise<T>, idempotent: boolean): Promise<T> {
    return withRetry(fn, { timeoutMs: this.options.requestTimeoutMs, baseMs: this.options.retryBaseMs, idempotent })
  }

  /** Call options for methods that return a long-running operation: its polling is bounded too. */
  private lroCall (call: AttemptOptions): AttemptOptions & { longrunning: { initialRetryDelayMillis: number, retryDelayMultiplier: number, maxRetryDelayMillis: number, totalTimeoutMillis: number } } {
    return {
      ...call,
      longrunning: {
        initialRetryDelayMillis: this.options.operationPollMs,
        retryDelayMultiplier: 1.3,
        maxRetryDelayMillis: this.options.operationPollMaxMs,
        totalTimeoutMillis: this.options.operationTimeoutMs
      }
    }
  }

  /** Starts an operation and waits for its result; the wait ends after operationTimeoutMs (504). */
  private async operate (what: string, start: () => Promise<[Operation, ...unknown[]]>): Promise<IService> {
    let op: Operation
    try {
      [op] = await start()
    } catch (err) {
      throw mapGoogleError(err, what)
    }
    try {
      const [result] = await op.promise()
      return result
    } catch (err) {
      if (googleCode(err) === GRPC.DEADLINE_EXCEEDED && /total timeout/i.test((err as Error).message)) {
        throw timeout(`${what}: operation ${op.name ?? ''} did not finish within ${this.options.operationTimeoutMs} ms`)
      }
      throw mapGoogleError(err, `${what}: operation ${op.name ?? ''} failed`)
    }
  }

  /** The function's service, NOT_FOUND when it does not exist or is not this namespace's. */
  private async managed (namespace: string, name: string): Promise<{ target: NamespaceTarget, id: string, view: ServiceView }> {
    const target = this.target(namespace)
    let id: string
    try {
      id = serviceId(target, name)
    } catch {
      throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    }
    let svc: IService
    try {
      [svc] = await this.retrying(async (call) => await this.clients.run.getService({ name: servicePath(target, id) }, call), true)
    } catch (err) {
      if (isNotFound(err)) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
      throw mapGoogleError(err, `reading Cloud Run service "${id}"`)
    }
    const view = normalise(svc)
    if (!isManagedIn(view.labels, namespace)) {
      throw notFound(`function "${name}" not found in namespace "${namespace}" (Cloud Run service "${id}" is not managed by faas-bridge for this namespace)`)
    }
    return { target, id, view }
  }

  private async assertSecrets (fn: Deployment): Promise<void> {
    for (const s of fn.secrets ?? []) {
      try {
        await this.secrets.assertExists(fn.namespace, s)
      } catch (err) {
        if (isProviderError(err, 'NOT_FOUND')) throw invalid(`unable to fetch secrets: secret "${s}" not found in namespace "${fn.namespace}"`)
        throw err
      }
    }
  }

  private forget (namespace: string, name: string): void {
    this.upstreams.delete(`${namespace}/${name}`)
  }

  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    const target = this.target(fn.namespace)
    const id = serviceId(target, fn.service)
    assertDeployable(fn)
    await this.assertSecrets(fn)
    const minInstances = scaleLabels(fn.labels).min ?? this.options.defaultMinInstances
    const service = buildService(fn, { target, namespace: fn.namespace, secretPrefix: this.options.secretPrefix, minInstances, now: new Date() })
    this.forget(fn.namespace, fn.service)
    await this.operate(`creating Cloud Run service "${id}"`, async () =>
      await this.retrying(async (call) => await this.clients.run.createService({ parent: locationPath(target), serviceId: id, service }, this.lroCall(call)), false))
    this.logger.info({ function: fn.service, namespace: fn.namespace, service: id }, 'cloudrun: service created')
  }

  /**
   * Read, merge, write: the service as read keeps the labels and annotations other tools wrote
   * (keptMetadata), the write names only the fields the backend owns (update mask) and carries the
   * etag read, so a change made in between is refused (ABORTED → CONFLICT) and the merge is done
   * again on a fresh read, a bounded number of times.
   */
  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    for (let attempt = 1; ; attempt++) {
      const { target, id, view } = await this.managed(fn.namespace, fn.service)
      if (attempt === 1) {
        assertDeployable(fn)
        await this.assertSecrets(fn)
      }
      const { min, max } = scaleLabels(fn.labels)
      // the replica count survives an update (as faas-netes keeps it), within the new min/max labels
      let minInstances = view.minInstances
      if (min !== undefined && minInstances < min) minInstances = min
      if (max !== undefined && minInstances > max) minInstances = max
      const service = buildService(fn, {
        target, namespace: fn.namespace, secretPrefix: this.options.secretPrefix, minInstances, now: new Date(), keep: keptMetadata(view)
      })
      service.name = servicePath(target, id)
      if (view.etag !== '') service.etag = view.etag
      this.forget(fn.namespace, fn.service)
      try {
        await this.operate(`updating Cloud Run service "${id}"`, async () =>
          await this.retrying(async (call) => await this.clients.run.updateService({ service, updateMask: { paths: UPDATE_MASK } }, this.lroCall(call)), false))
        return
      } catch (err) {
        if (!isProviderError(err, 'CONFLICT') || attempt >= UPDATE_ATTEMPTS) throw err
      }
    }
  }

  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    const { target, id } = await this.managed(namespace, name)
    this.forget(namespace, name)
    await this.operate(`deleting Cloud Run service "${id}"`, async () =>
      await this.retrying(async (call) => await this.clients.run.deleteService({ name: servicePath(target, id) }, this.lroCall(call)), false))
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    const target = this.target(namespace)
    const out: FunctionStatus[] = []
    let pageToken: string | undefined
    for (let page = 0; page < this.options.maxListPages; page++) {
      let services: IService[]
      let next: protos.google.cloud.run.v2.IListServicesRequest | null
      try {
        const request = { parent: locationPath(target), pageSize: 100, ...(pageToken !== undefined ? { pageToken } : {}) };
        [services, next] = await this.retrying(async (call) => await this.clients.run.listServices(request, { ...call, autoPaginate: false }), true)
      } catch (err) {
        throw mapGoogleError(err, `listing Cloud Run services in ${locationPath(target)}`)
      }
      for (const svc of services) {
        const view = normalise(svc)
        if (!isManagedIn(view.labels, namespace)) continue
        const name = view.labels[FUNCTION_LABEL] ?? functionNameOf(target, view.id)
        if (name === undefined) continue
        out.push(toFunctionStatus(view, namespace, name, target, this.options.scaleToZero))
      }
      pageToken = next?.pageToken ?? undefined
      if (pageToken === undefined || pageToken === '') break
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    const { target, view } = await this.managed(namespace, name)
    return toFunctionStatus(view, namespace, name, target, this.options.scaleToZero)
  }

  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid(`replicas must be an integer >= 0, got ${replicas}`)
    const { target, id, view } = await this.managed(namespace, name)
    if (view.maxInstances !== undefined && replicas > view.maxInstances) {
      throw invalid(`replicas ${replicas} is above the function's maximum of ${view.maxInstances} (label com.openfaas.scale.max)`)
    }
    this.forget(namespace, name)
    await this.operate(`scaling Cloud Run service "${id}"`, async () =>
      await this.retrying(async (call) => await this.clients.run.updateService({
        service: { name: servicePath(target, id), scaling: { minInstanceCount: replicas } },
        updateMask: { paths: ['scaling.min_instance_count'] }
      }, this.lroCall(call)), false))
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const key = `${namespace}/${name}`
    let cached = this.upstreams.get(key)
    if (cached === undefined || cached.expires <= Date.now()) {
      this.upstreams.delete(key)
      const { view } = await this.managed(namespace, name)
      const off = this.options.scaleToZero === 'gateway' && view.minInstances === 0
      if (!view.ready || off || view.uri === '') throw unavailable(`No endpoints available for: ${name}.`)
      cached = { url: new URL(view.uri), expires: Date.now() + this.options.upstreamCacheMs }
      if (this.options.invokeAuth === 'id-token' && !view.invokerIamDisabled) cached.audience = audienceOf(view.uri)
      if (this.options.upstreamCacheMs > 0) this.upstreams.set(key, cached)
    }
    if (cached.audience === undefined) return { kind: 'http', url: cached.url }
    // Cloud Run checks X-Serverless-Authorization first and strips it, so the caller's own
    // Authorization header still reaches the function
    return { kind: 'http', url: cached.url, headers: { 'x-serverless-authorization': await this.tokens.authorization(cached.audience) } }
  }

  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    const { target, id } = await this.managed(query.namespace, query.name)
    return await openLogs({ logging: this.clients.logging, opts: this.options, target, serviceId: id, query }, signal)
  }

  /**
   * `--check`: one services.list (pageSize 1) per project + region the namespaces use, bounded by
   * requestTimeoutMs: the API answers, the credentials work and may list services (run.services.list).
   */
  async check (): Promise<void> {
    this.assertOpen()
    const run = this.options.endpoints.run
    const endpoint = run !== undefined ? `${run.protocol}://${run.apiEndpoint}:${run.port}` : 'https://run.googleapis.com'
    const parents = [...new Set([...this.options.targets.values()].map((t) => locationPath(t)))]
    for (const parent of parents) {
      try {
        await this.clients.run.listServices({ parent, pageSize: 1 }, { timeout: this.options.requestTimeoutMs, autoPaginate: false, retry: null })
      } catch (err) {
        const code = googleCode(err)
        const hint = code === GRPC.PERMISSION_DENIED || code === GRPC.UNAUTHENTICATED
          ? '; the credentials need the IAM permission run.services.list on the project (roles/run.viewer or roles/run.developer, docs/backends/cloudrun.md)'
          : code === GRPC.DEADLINE_EXCEEDED ? ` (no answer within ${this.options.requestTimeoutMs} ms)` : ''
        throw new Error(`cloudrun backend: listing Cloud Run services (pageSize 1) in ${parent} at ${endpoint} failed: ${(err as Error).message}${hint}`, { cause: err })
      }
    }
  }

  /** The Cloud Run service id of a function (diagnostics and tests). */
  serviceIdOf (namespace: string, name: string): string {
    return lastSegment(servicePath(this.target(namespace), serviceId(this.target(namespace), name)))
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.upstreams.clear()
    await this.clients.close()
  }
}

export async function createDriver (options: Record<string, unknown>, context: DriverContext): Promise<CloudRunDriver> {
  const opts = validateOptions(options, context.namespaces)
  const first = opts.targets.values().next().value as NamespaceTarget
  return new CloudRunDriver(opts, context, createClients(opts, first.project))
}
createDriver satisfies CreateDriver
