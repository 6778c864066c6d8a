/*
 * The kubernetes backend: each function is a Deployment plus a ClusterIP Service (mapping.ts),
 * read back into FunctionStatus with where it runs (status.ts); scale through the /scale
 * subresource; secrets as Opaque Secrets, logs from the function's pods and namespaces as
 * labelled Kubernetes Namespaces (common/, shared with the tekton backend); invocations through
 * the Service, a ready endpoint or the API server's proxy (invoke.ts). Only Deployments labelled
 * app.kubernetes.io/managed-by=<managedBy> and faas_function are functions of this provider.
 *
 * Reads (upstream, status, list, the autoscaler's list) come from informer caches (cache.ts,
 * common/informer.ts) of each served namespace's Deployments, Pods and EndpointSlices; writes go
 * to the API. A cache not synced yet, disconnected longer than `cacheStaleAfterMs`, or that has
 * not yet seen this driver's own last write of a function (its resourceVersion, or its absence
 * after a delete) is not trusted: that read goes to the API and is counted as a fallback. The
 * list from the caches is mapped once per change (status-cache.ts). In the endpoints mode a
 * scale from 0 by this driver starts a wake probe (wake-probe.ts): invocations may reach a new
 * pod that answers its readiness check before the EndpointSlice says it is ready.
 */
import type { V1Deployment, V1EndpointSlice, V1Pod } from '@kubernetes/client-node'
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { CacheReport, CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { backendError, conflict, invalid, notFound } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { deploymentsCache, endpointSlicesCache, podsCache } from './cache.ts'
import { CacheSet, type CachedResource } from './common/cache-set.ts'
import { ServerSideApply } from './common/apply.ts'
import { checkNamespace, DEFAULT_CHECK_TIMEOUT_MS } from './common/check.ts'
import type { Informer } from './common/informer.ts'
import { CachedEndpoints } from './endpoints.ts'
import { createKubeClients, type KubeClients } from './common/client.ts'
import { closeKubeConnections } from './common/connections.ts'
import { isManagedFunction, managedFunctionSelector } from './common/function-spec.ts'
import { isKubeCode, kubeCall, toProviderError } from './common/errors.ts'
import { KubernetesNamespaceStore } from './common/namespaces.ts'
import { openPodLogs } from './common/pod-logs.ts'
import { KubernetesSecretStore } from './common/secrets.ts'
import { UpstreamResolver } from './invoke.ts'
import { buildDeployment, buildService, FUNCTION_LABEL, initialReplicas, type MappingSettings } from './mapping.ts'
import { validateOptions, type KubernetesOptions } from './options.ts'
import { podsByFunction, toFunctionStatus } from './status.ts'
import { StatusCache } from './status-cache.ts'
import { WakeProber } from './wake-probe.ts'

export type { KubernetesOptions } from './options.ts'

type Deployment = FunctionDeployment & { namespace: string }

const DEPLOYMENTS = 'deployments.apps'
const SERVICES = 'services'

export class KubernetesDriver implements Driver {
  readonly kind = 'kubernetes'
  readonly options: KubernetesOptions
  readonly clients: KubeClients
  readonly secrets: KubernetesSecretStore
  readonly namespaces: KubernetesNamespaceStore
  readonly resolver: UpstreamResolver
  private readonly apply: ServerSideApply
  private readonly logger: DriverContext['logger']
  private readonly configured: readonly string[]
  private closed = false
  /** undefined when the cache is off */
  readonly cacheSet: CacheSet | undefined
  private readonly deploymentSpec: CachedResource<V1Deployment>
  private readonly podSpec: CachedResource<V1Pod>
  private readonly sliceSpec: CachedResource<V1EndpointSlice>
  /** endpoints mode with the caches: probes pods itself while it wakes a function (wake-probe.ts) */
  private readonly waker: WakeProber | undefined
  /** per namespace: the list mapped from the caches, kept until they change */
  private readonly statusCaches = new Map<string, StatusCache>()

  constructor (options: KubernetesOptions, context: DriverContext, clients: KubeClients, cacheOptions: { now?: () => number, backoffBaseMs?: number } = {}) {
    this.options = options
    this.clients = clients
    this.apply = new ServerSideApply(clients)
    this.logger = context.logger
    this.configured = [...context.namespaces]
    this.secrets = new KubernetesSecretStore(clients.core, { managedBy: options.managedBy })
    this.namespaces = new KubernetesNamespaceStore(clients.core, {
      marker: options.namespaceLabel,
      managedBy: options.managedBy,
      configured: context.namespaces,
      holdsWorkloads: async (ns) => (await this.listDeployments(ns, 1)).length > 0
    })
    const mode = options.invoke === 'auto' ? (clients.inCluster ? 'service' : 'proxy') : options.invoke
    this.deploymentSpec = deploymentsCache(clients.apps, managedFunctionSelector(options.managedBy))
    this.podSpec = podsCache(clients.core)
    this.sliceSpec = endpointSlicesCache(clients.discovery)
    // a --check run next to a live provider reads once and starts no watches until check() asks
    this.cacheSet = options.cache
      ? new CacheSet({
        config: clients.config,
        staleAfterMs: options.cacheStaleAfterMs,
        ...cacheOptions,
        onError: (err, where) => { this.logger.warn({ err, ...where }, 'kubernetes cache: list or watch failed; retrying with backoff') }
      })
      : undefined
    const endpoints = this.cacheSet !== undefined && mode === 'endpoints'
      ? new CachedEndpoints((ns) => this.informer(this.sliceSpec, ns) as Informer<V1EndpointSlice>, (ns) => { this.cacheSet?.fallback(this.sliceSpec.resource, ns) })
      : undefined
    this.waker = endpoints !== undefined && options.wakeProbe
      ? new WakeProber({
        deployment: (ns, name) => {
          const inf = this.informer(this.deploymentSpec, ns)
          return inf?.fresh() === true ? inf.get(name) : undefined
        },
        pods: (ns) => {
          const inf = this.informer(this.podSpec, ns)
          return inf?.fresh() === true ? inf.list() : undefined
        },
        // read only when fresh, so the wake's polling is not counted as cache fallbacks
        settled: (ns, name) => this.informer(this.sliceSpec, ns)?.fresh() === true && (endpoints.lookup(ns, name)?.length ?? 0) > 0
      })
      : undefined
    const waker = this.waker
    this.resolver = new UpstreamResolver(mode, options.clusterDomain, clients.config, clients.discovery, endpoints?.lookup,
      waker !== undefined ? (ns, name) => waker.answered(ns, name) : undefined)
    if (context.checkOnly !== true) this.startCaches(mode)
  }

  private startCaches (mode: string): void {
    for (const ns of this.configured) {
      this.informer(this.deploymentSpec, ns)
      this.informer(this.podSpec, ns)
      if (mode === 'endpoints') this.informer(this.sliceSpec, ns)
    }
  }

  private informer<T extends V1Deployment | V1Pod | V1EndpointSlice> (spec: CachedResource<T>, namespace: string): Informer<T> | undefined {
    if (this.cacheSet === undefined || this.closed) return undefined
    return this.cacheSet.informer(spec, namespace)
  }

  /** The namespace's Deployment cache when it may answer for `name` (every function when undefined). */
  private trustedDeployments (namespace: string, name?: string): Informer<V1Deployment> | undefined {
    return this.closed ? undefined : this.cacheSet?.trusted(this.deploymentSpec, namespace, name)
  }

  private trustedPods (namespace: string): Informer<V1Pod> | undefined {
    const inf = this.informer(this.podSpec, namespace)
    if (inf === undefined) return undefined
    if (inf.fresh()) return inf
    this.cacheSet?.fallback(this.podSpec.resource, namespace)
    return undefined
  }

  /** After a write of `name`: the cache is not trusted for it until it has seen `rv` (or its absence). */
  private wrote (namespace: string, name: string, rv: string | undefined | 'gone'): void {
    this.informer(this.deploymentSpec, namespace)?.expect(name, rv)
  }

  private get selector (): string {
    return managedFunctionSelector(this.options.managedBy)
  }

  private assertOpen (): void {
    if (this.closed) throw backendError('the kubernetes backend is closed')
  }

  private isFunction (dep: V1Deployment): boolean {
    return isManagedFunction(dep.metadata?.labels, this.options.managedBy)
  }

  private missing (namespace: string, name: string): Error {
    return notFound(`function "${name}" not found in namespace "${namespace}"`)
  }

  /** The function's Deployment, from the cache when it may answer; NOT_FOUND when absent or not one of ours. */
  private async cachedDeployment (namespace: string, name: string): Promise<V1Deployment> {
    const inf = this.trustedDeployments(namespace, name)
    if (inf === undefined) return await this.readDeployment(namespace, name)
    const dep = inf.get(name)
    if (dep === undefined || !this.isFunction(dep)) throw this.missing(namespace, name)
    return dep
  }

  /** The function's Deployment from the API; NOT_FOUND when absent or not one of ours. */
  private async readDeployment (namespace: string, name: string): Promise<V1Deployment> {
    let dep: V1Deployment
    try {
      dep = await this.clients.apps.readNamespacedDeployment({ name, namespace })
    } catch (err) {
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'get', resource: DEPLOYMENTS, namespace, name })
    }
    if (!this.isFunction(dep)) throw this.missing(namespace, name)
    return dep
  }

  private async listDeployments (namespace: string, limit?: number): Promise<V1Deployment[]> {
    const res = await kubeCall({ verb: 'list', resource: DEPLOYMENTS, namespace },
      async () => await this.clients.apps.listNamespacedDeployment({ namespace, labelSelector: this.selector, ...(limit !== undefined ? { limit } : {}) }))
    return res.items
  }

  /** Pods of one function (`fn`) or of all (undefined), from the cache when it is fresh. */
  private async functionPods (namespace: string, fn?: string): Promise<V1Pod[]> {
    const inf = this.trustedPods(namespace)
    if (inf === undefined) return await this.listPods(namespace, fn === undefined ? FUNCTION_LABEL : `${FUNCTION_LABEL}=${fn}`)
    const pods = inf.list()
    return fn === undefined ? pods : pods.filter((p) => p.metadata?.labels?.[FUNCTION_LABEL] === fn)
  }

  private async listPods (namespace: string, selector: string): Promise<V1Pod[]> {
    const res = await kubeCall({ verb: 'list', resource: 'pods', namespace },
      async () => await this.clients.core.listNamespacedPod({ namespace, labelSelector: selector }))
    return res.items
  }

  /** Secret types of the function's secrets; INVALID (400) when one is missing, as faas-netes. */
  private async secretTypes (fn: Deployment): Promise<Map<string, string>> {
    const found = await this.secrets.lookup(fn.namespace, [...new Set(fn.secrets ?? [])])
    const out = new Map<string, string>()
    for (const [name, type] of found) {
      if (type === undefined) throw invalid(`unable to fetch secrets: secret "${name}" not found in namespace "${fn.namespace}"`)
      out.set(name, type)
    }
    return out
  }

  /**
   * A new function: the Deployment and Service are created by server-side apply, so this
   * provider's field manager owns every field it sets from the first write on (a later update can
   * then remove what the user removed). An existing Deployment of that name (ours or not) is a
   * conflict; a concurrent create by another writer is too (apply without force → 409).
   */
  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    const settings = this.mappingSettings(namespace)
    // a bad spec is refused before anything is read or written
    buildDeployment(fn, { ...settings, replicas: 1, secretTypes: new Map() })
    const exists = (): Error => conflict(`function "${name}" already exists in namespace "${namespace}"`)
    let found = true
    try {
      await this.clients.apps.readNamespacedDeployment({ name, namespace })
    } catch (err) {
      if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'get', resource: DEPLOYMENTS, namespace, name })
      found = false
    }
    if (found) throw exists()
    const secretTypes = await this.secretTypes(fn)
    const deployment = buildDeployment(fn, { ...settings, replicas: initialReplicas(fn), secretTypes })
    try {
      const created = await this.apply.deployment(deployment, { force: false })
      this.wrote(namespace, name, created.metadata?.resourceVersion)
    } catch (err) {
      this.wrote(namespace, name, undefined) // whatever happened, read it back from the API for a while
      if (isKubeCode(err, 409)) throw exists()
      // named for what it does (a create); a 403 names the verb RBAC refused (create or patch)
      throw toProviderError(err, { verb: 'create', resource: DEPLOYMENTS, namespace, name })
    }
    try {
      await this.applyService(fn)
    } catch (err) {
      // no half-made functions: the Deployment goes again
      this.wrote(namespace, name, 'gone')
      await this.clients.apps.deleteNamespacedDeployment({ name, namespace }).catch((cleanupErr: unknown) => {
        this.logger.error({ err: cleanupErr, function: name, namespace }, 'could not remove the Deployment after its Service failed')
      })
      throw err
    }
  }

  private mappingSettings (namespace: string): Omit<MappingSettings, 'replicas' | 'secretTypes'> {
    return { namespace, imagePullPolicy: this.options.imagePullPolicy, probe: this.options.probe, managedBy: this.options.managedBy }
  }

  /**
   * Creates the Service, or brings an existing one (an earlier life's) to the spec, by
   * server-side apply with force: fields the API server allocated (clusterIP) are kept.
   */
  private async applyService (fn: Deployment): Promise<void> {
    const { namespace, service: name } = fn
    try {
      await this.apply.service(buildService(fn, { namespace, managedBy: this.options.managedBy }), { force: true })
    } catch (err) {
      throw toProviderError(err, { verb: 'patch', resource: SERVICES, namespace, name })
    }
  }

  /**
   * In-place rollout: the Deployment is patched by server-side apply (no resourceVersion, so the
   * controller's status writes never conflict), never deleted; its uid stays. The replica count
   * read here is applied back unchanged, so the rollout does not scale the function.
   */
  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    const settings = this.mappingSettings(namespace)
    buildDeployment(fn, { ...settings, replicas: 1, secretTypes: new Map() })
    const cur = await this.readDeployment(namespace, name)
    const secretTypes = await this.secretTypes(fn)
    const next = buildDeployment(fn, { ...settings, replicas: cur.spec?.replicas ?? 1, secretTypes, updatedAt: new Date().toISOString() })
    try {
      const applied = await this.apply.deployment(next, { force: true })
      this.wrote(namespace, name, applied.metadata?.resourceVersion)
    } catch (err) {
      this.wrote(namespace, name, undefined)
      throw toProviderError(err, { verb: 'patch', resource: DEPLOYMENTS, namespace, name })
    }
    await this.applyService(fn)
  }

  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    await this.readDeployment(namespace, name)
    try {
      await this.clients.apps.deleteNamespacedDeployment({ name, namespace })
    } catch (err) {
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'delete', resource: DEPLOYMENTS, namespace, name })
    } finally {
      this.wrote(namespace, name, 'gone')
    }
    try {
      await this.clients.core.deleteNamespacedService({ name, namespace })
    } catch (err) {
      if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'delete', resource: SERVICES, namespace, name })
    }
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    const cached = this.trustedDeployments(namespace)
    if (cached === undefined) return await this.listFromApi(namespace, await this.listDeployments(namespace))
    if (cached.size === 0) return []
    const cachedPods = this.trustedPods(namespace)
    if (cachedPods === undefined) return await this.listFromApi(namespace, cached.list().filter((d) => this.isFunction(d)), false)
    let statuses = this.statusCaches.get(namespace)
    if (statuses === undefined) {
      statuses = new StatusCache(this.options.managedBy, (d) => this.isFunction(d))
      this.statusCaches.set(namespace, statuses)
    }
    // frozen and shared (status-cache.ts); typed mutable as the Driver interface is
    return statuses.list(cached, cachedPods) as FunctionStatus[]
  }

  /** The list mapped per call: the Deployments (or Pods, `podsFromCache` false) came from the API. */
  private async listFromApi (namespace: string, deployments: V1Deployment[], podsFromCache = true): Promise<FunctionStatus[]> {
    if (deployments.length === 0) return []
    const pods = podsByFunction(podsFromCache ? await this.functionPods(namespace) : await this.listPods(namespace, FUNCTION_LABEL))
    return deployments
      .map((d) => toFunctionStatus(d, pods.get(d.metadata?.name ?? '') ?? [], this.options.managedBy))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    const dep = await this.cachedDeployment(namespace, name)
    const pods = await this.functionPods(namespace, name)
    return toFunctionStatus(dep, pods, this.options.managedBy)
  }

  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid(`replicas must be an integer >= 0, got ${replicas}`)
    const before = await this.cachedDeployment(namespace, name)
    try {
      const scaled = await this.clients.apps.patchNamespacedDeploymentScale({ name, namespace, body: { spec: { replicas } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
      // the Scale carries the Deployment's resourceVersion after the change
      this.wrote(namespace, name, scaled.metadata?.resourceVersion)
    } catch (err) {
      this.wrote(namespace, name, undefined)
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'patch', resource: `${DEPLOYMENTS}/scale`, namespace, name })
    }
    if (replicas === 0) this.waker?.end(namespace, name)
    else if ((before.spec?.replicas ?? 1) === 0) this.waker?.begin(namespace, name)
  }

  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    await this.cachedDeployment(query.namespace, query.name)
    return await openPodLogs(this.clients, {
      namespace: query.namespace,
      selector: `${FUNCTION_LABEL}=${query.name}`,
      name: query.name,
      container: query.name,
      ...(query.instance !== undefined ? { instance: query.instance } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      follow: query.follow
    }, signal, this.logger)
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const dep = await this.cachedDeployment(namespace, name)
    const available = Math.min(dep.status?.availableReplicas ?? 0, dep.spec?.replicas ?? 1)
    return await this.resolver.resolve(namespace, name, available)
  }

  /**
   * `--check`: each configured namespace is read (GET /api/v1/namespaces/NAME, what the namespace
   * store does), bounded by DEFAULT_CHECK_TIMEOUT_MS: the API server answers, the credentials work,
   * RBAC allows reading namespaces, and the namespace exists.
   */
  async check (): Promise<void> {
    this.assertOpen()
    for (const ns of this.configured) {
      await checkNamespace(this.clients, 'kubernetes', ns, DEFAULT_CHECK_TIMEOUT_MS, 'docs/backends/kubernetes.md#rbac')
    }
    if (this.cacheSet === undefined) return
    // the caches list and watch: prove that works (RBAC list+watch) within the bound
    this.startCaches(this.resolver.resolvedMode)
    if (!await this.cacheSet.waitForSync(DEFAULT_CHECK_TIMEOUT_MS)) {
      const stuck = this.cacheSet.reports().filter((r) => r.state !== 'synced').map((r) => `${r.resource} in "${r.namespace}"`)
      throw backendError(`kubernetes: the informer caches did not sync within ${DEFAULT_CHECK_TIMEOUT_MS} ms (${stuck.join(', ')}); check that RBAC allows list and watch on them (docs/backends/kubernetes.md#rbac)`)
    }
  }

  /** Driver.caches(): the informers' state for /metrics and --check. */
  caches (): CacheReport[] {
    return this.cacheSet?.reports() ?? []
  }

  async close (): Promise<void> {
    this.closed = true
    this.waker?.close()
    await this.cacheSet?.close()
    closeKubeConnections(this.clients.config)
  }
}

/** `cacheOptions`: the caches' clock (what the staleness bound is measured on) and backoff, for tests */
export async function createDriver (options: Record<string, unknown>, context: DriverContext, cacheOptions: { now?: () => number, backoffBaseMs?: number } = {}): Promise<KubernetesDriver> {
  const opts = validateOptions(options)
  const clients = createKubeClients(opts)
  const driver = new KubernetesDriver(opts, context, clients, cacheOptions)
  context.logger.info({ server: clients.server, inCluster: clients.inCluster, invoke: driver.resolver.resolvedMode }, 'kubernetes backend ready')
  return driver
}
createDriver satisfies CreateDriver

