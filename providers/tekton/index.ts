/*
 * The tekton backend: each function is a Tekton Task (mapping.ts) and each invocation a TaskRun
 * of it (invoke.ts), watched to its end; replicas are the maximum of concurrent runs
 * (concurrency.ts: a bounded queue, then 429; 0 answers 503); finished TaskRuns are pruned to the
 * newest N per function (cleanup.ts). Secrets, namespaces, pod logs and the client set-up are the
 * Kubernetes backend's shared code (../kubernetes/common/). Only Tasks labelled faas_function and
 * app.kubernetes.io/managed-by=<managedBy> are functions of this provider.
 *
 * Reads of Tasks (list, status, scale's and logs' existence check, each invocation's Task) come
 * from an informer cache per served namespace (cache.ts, the kubernetes backend's CacheSet and
 * Informer), and calls wait for their TaskRuns' ends through a TaskRun informer (run-waiter.ts).
 * A cache not synced yet, disconnected longer than `cacheStaleAfterMs`, or that has not yet seen
 * this driver's own last write of a Task is not trusted: that read goes to the API and is counted
 * as a fallback (/metrics, --check). Writes always go to the API.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { CacheReport, CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { backendError, conflict, invalid, notFound, unavailable } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { CacheSet, type CachedResource } from '../kubernetes/common/cache-set.ts'
import type { Informer } from '../kubernetes/common/informer.ts'
import { checkNamespace, checkRead, DEFAULT_CHECK_TIMEOUT_MS } from '../kubernetes/common/check.ts'
import { createKubeClients, type KubeClients } from '../kubernetes/common/client.ts'
import { closeKubeConnections } from '../kubernetes/common/connections.ts'
import { makeKubeApi } from '../kubernetes/common/transport.ts'
import { isKubeCode, kubeCall, toProviderError } from '../kubernetes/common/errors.ts'
import { FUNCTION_LABEL, initialReplicas, isManagedFunction, managedFunctionSelector } from '../kubernetes/common/function-spec.ts'
import { KubernetesNamespaceStore } from '../kubernetes/common/namespaces.ts'
import { openPodLogs } from '../kubernetes/common/pod-logs.ts'
import { KubernetesSecretStore } from '../kubernetes/common/secrets.ts'
import { deleteConfigMap, deleteRun, listRequestConfigMaps, listRuns, TaskRunJanitor } from './cleanup.ts'
import { runSlots } from './cluster-runs.ts'
import type { LeaseSlots } from '../kubernetes/common/lease-slots.ts'
import { taskRunsCache, tasksCache, TASKS_RESOURCE } from './cache.ts'
import { ConcurrencyLimiter } from './concurrency.ts'
import { makeCall } from './invoke.ts'
import { ANNOTATIONS, buildTask, maxConcurrencyOf, STEP_FUNCTION, stepContainer, toFunctionStatus } from './mapping.ts'
import { TASKRUN_TIMEOUT_MARGIN_MS, validateOptions, type TektonOptions } from './options.ts'
import { TaskRunWaiter } from './run-waiter.ts'
import type { RunClients } from './runs.ts'
import { TASKRUN_LABEL, TASKS, TEKTON_GROUP, TEKTON_VERSION, type Task, type TaskList, type TaskRun } from './tekton-types.ts'

export type { TektonOptions } from './options.ts'

type Deployment = FunctionDeployment & { namespace: string }

/** Read-modify-write attempts when another writer changes the Task in between (409). */
export const UPDATE_ATTEMPTS = 3

/** for tests: the caches' clock (what the staleness bound is measured on) and reconnect backoff */
export interface CacheTestOptions {
  now?: () => number
  backoffBaseMs?: number
}

export class TektonDriver implements Driver {
  readonly kind = 'tekton'
  readonly options: TektonOptions
  readonly clients: KubeClients
  readonly custom: CustomObjectsApi
  readonly secrets: KubernetesSecretStore
  readonly namespaces: KubernetesNamespaceStore
  readonly limiter: ConcurrencyLimiter
  readonly janitor: TaskRunJanitor
  readonly slots: LeaseSlots
  private readonly context: DriverContext
  private readonly logger: DriverContext['logger']
  private readonly inFlight = new Set<AbortController>()
  private closed = false
  /** undefined when the caches are off */
  readonly cacheSet: CacheSet | undefined
  private readonly taskSpec: CachedResource<Task>
  private readonly runSpec: CachedResource<TaskRun>
  private readonly runWaiter: TaskRunWaiter | undefined

  constructor (options: TektonOptions, context: DriverContext, clients: KubeClients, cacheOptions: CacheTestOptions = {}) {
    this.options = options
    this.clients = clients
    this.context = context
    this.logger = context.logger
    this.custom = makeKubeApi(clients.config, CustomObjectsApi, clients.policy)
    this.secrets = new KubernetesSecretStore(clients.core, { managedBy: options.managedBy })
    this.namespaces = new KubernetesNamespaceStore(clients.core, {
      marker: options.namespaceLabel,
      managedBy: options.managedBy,
      configured: context.namespaces,
      holdsWorkloads: async (ns) => (await this.listTasks(ns, 1)).length > 0
    })
    this.limiter = new ConcurrencyLimiter(options.maxQueue)
    this.slots = runSlots(clients.config, clients.policy, { managedBy: options.managedBy, slotLeaseSeconds: options.slotLeaseSeconds, logger: this.logger })
    this.janitor = new TaskRunJanitor(this.runClients, {
      keepTaskRuns: options.keepTaskRuns,
      managedBy: options.managedBy,
      orphanAfterMs: context.execTimeoutMs + TASKRUN_TIMEOUT_MARGIN_MS
    }, this.logger)
    const selector = managedFunctionSelector(options.managedBy)
    this.taskSpec = tasksCache(this.custom, selector)
    this.runSpec = taskRunsCache(this.custom, selector)
    // a --check run next to a live provider reads once and starts no watches until check() asks
    this.cacheSet = options.cache
      ? new CacheSet({
        config: clients.config,
        staleAfterMs: options.cacheStaleAfterMs,
        ...cacheOptions,
        onError: (err, where) => { this.logger.warn({ err, ...where }, 'tekton cache: list or watch failed; retrying with backoff') }
      })
      : undefined
    this.runWaiter = this.cacheSet !== undefined
      ? new TaskRunWaiter((ns) => this.informer(this.runSpec, ns), (ns) => { this.cacheSet?.fallback(this.runSpec.resource, ns) })
      : undefined
    if (context.checkOnly !== true) this.startCaches()
  }

  private startCaches (): void {
    for (const ns of this.context.namespaces) {
      this.informer(this.taskSpec, ns)
      this.informer(this.runSpec, ns)
    }
  }

  private informer<T extends Task | TaskRun> (spec: CachedResource<T>, namespace: string): Informer<T> | undefined {
    if (this.cacheSet === undefined || this.closed) return undefined
    return this.cacheSet.informer(spec, namespace)
  }

  /** The namespace's Task cache when it may answer for `name` (every function when undefined). */
  private trustedTasks (namespace: string, name?: string): Informer<Task> | undefined {
    return this.closed ? undefined : this.cacheSet?.trusted(this.taskSpec, namespace, name)
  }

  /** After a write of `name`: the cache is not trusted for it until it has seen `rv` (or its absence). */
  private wrote (namespace: string, name: string, rv: string | undefined | 'gone'): void {
    this.informer(this.taskSpec, namespace)?.expect(name, rv)
  }

  /** The function's Task, from the cache when it may answer; NOT_FOUND when absent or not one of ours. */
  private async cachedTask (namespace: string, name: string): Promise<Task> {
    const inf = this.trustedTasks(namespace, name)
    if (inf === undefined) return await this.readTask(namespace, name)
    const task = inf.get(name)
    if (task === undefined || !this.isFunction(task)) throw this.missing(namespace, name)
    return task
  }

  private get runClients (): RunClients {
    return { config: this.clients.config, core: this.clients.core, custom: this.custom }
  }

  private get selector (): string {
    return managedFunctionSelector(this.options.managedBy)
  }

  private assertOpen (): void {
    if (this.closed) throw backendError('the tekton backend is closed')
  }

  private isFunction (task: Task): boolean {
    return isManagedFunction(task.metadata?.labels, this.options.managedBy)
  }

  private missing (namespace: string, name: string): Error {
    return notFound(`function "${name}" not found in namespace "${namespace}"`)
  }

  private api (namespace: string): { group: string, version: string, namespace: string, plural: string } {
    return { group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKS }
  }

  /** The function's Task; NOT_FOUND when absent or not one of ours. */
  private async readTask (namespace: string, name: string): Promise<Task> {
    let task: Task
    try {
      task = await this.custom.getNamespacedCustomObject({ ...this.api(namespace), name }) as Task
    } catch (err) {
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'get', resource: TASKS_RESOURCE, namespace, name })
    }
    if (!this.isFunction(task)) throw this.missing(namespace, name)
    return task
  }

  private async listTasks (namespace: string, limit?: number): Promise<Task[]> {
    const res = await kubeCall({ verb: 'list', resource: TASKS_RESOURCE, namespace },
      async () => await this.custom.listNamespacedCustomObject({ ...this.api(namespace), labelSelector: this.selector, ...(limit !== undefined ? { limit } : {}) }) as TaskList)
    return res.items ?? []
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

  private taskSettings (fn: Deployment, maxConcurrency: number, secretTypes: ReadonlyMap<string, string>): Parameters<typeof buildTask>[1] {
    return {
      namespace: fn.namespace,
      managedBy: this.options.managedBy,
      imagePullPolicy: this.options.imagePullPolicy,
      resultLimitBytes: this.options.resultLimitBytes,
      maxConcurrency,
      secretTypes
    }
  }

  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    buildTask(fn, this.taskSettings(fn, 1, new Map())) // a bad spec is refused before anything is read or written
    const secretTypes = await this.secretTypes(fn)
    const body = buildTask(fn, this.taskSettings(fn, initialReplicas(fn), secretTypes))
    try {
      const created = await this.custom.createNamespacedCustomObject({ ...this.api(namespace), body }) as Task
      this.wrote(namespace, name, created.metadata?.resourceVersion)
    } catch (err) {
      this.wrote(namespace, name, undefined) // whatever happened, read it back from the API for a while
      if (isKubeCode(err, 409)) throw conflict(`function "${name}" already exists in namespace "${namespace}"`)
      throw toProviderError(err, { verb: 'create', resource: TASKS_RESOURCE, namespace, name })
    }
  }

  /** The Task is replaced in place (PUT with its resourceVersion); the maximum of concurrent runs is kept. */
  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    buildTask(fn, this.taskSettings(fn, 1, new Map()))
    await this.readTask(namespace, name)
    const secretTypes = await this.secretTypes(fn)
    for (let attempt = 1; ; attempt++) {
      const cur = await this.readTask(namespace, name)
      const next = buildTask(fn, this.taskSettings(fn, maxConcurrencyOf(cur), secretTypes))
      next.metadata = { ...next.metadata, resourceVersion: cur.metadata?.resourceVersion }
      try {
        const replaced = await this.custom.replaceNamespacedCustomObject({ ...this.api(namespace), name, body: next }) as Task
        this.wrote(namespace, name, replaced.metadata?.resourceVersion)
        return
      } catch (err) {
        this.wrote(namespace, name, undefined)
        if (isKubeCode(err, 404)) throw this.missing(namespace, name)
        if (!isKubeCode(err, 409) || attempt >= UPDATE_ATTEMPTS) throw toProviderError(err, { verb: 'update', resource: TASKS_RESOURCE, namespace, name })
      }
    }
  }

  /** The Task, then its TaskRuns (calls under way end with 500), request ConfigMaps and run slot Leases. */
  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    await this.readTask(namespace, name)
    try {
      await this.custom.deleteNamespacedCustomObject({ ...this.api(namespace), name })
    } catch (err) {
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'delete', resource: TASKS_RESOURCE, namespace, name })
    } finally {
      this.wrote(namespace, name, 'gone')
    }
    const selector = this.janitor.selector(name)
    for (const run of await listRuns(this.runClients, namespace, selector)) await deleteRun(this.runClients, namespace, run.metadata?.name ?? '')
    for (const cm of await listRequestConfigMaps(this.runClients, namespace, selector)) await deleteConfigMap(this.runClients, namespace, cm.metadata?.name ?? '')
    await this.slots.removeAll(namespace, name)
  }

  private usage (namespace: string, name: string): Record<string, string> {
    const u = this.limiter.usage(`${namespace}/${name}`)
    return { [ANNOTATIONS.inFlight]: String(u.running), [ANNOTATIONS.queued]: String(u.queued) }
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    // mapped per call: the runs-in-flight annotations are this process's live counts
    const cached = this.trustedTasks(namespace)
    const tasks = cached !== undefined ? cached.list().filter((t) => this.isFunction(t)) : await this.listTasks(namespace)
    return tasks
      .map((t) => toFunctionStatus(t, this.options.managedBy, this.usage(namespace, t.metadata?.name ?? '')))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    return toFunctionStatus(await this.cachedTask(namespace, name), this.options.managedBy, this.usage(namespace, name))
  }

  /** replicas = the maximum of concurrent runs, kept as an annotation on the Task (merge patch). */
  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid(`replicas must be an integer >= 0, got ${replicas}`)
    await this.cachedTask(namespace, name)
    try {
      const patched = await this.custom.patchNamespacedCustomObject({ ...this.api(namespace), name, body: { metadata: { annotations: { [ANNOTATIONS.maxConcurrency]: String(replicas) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch)) as Task
      this.wrote(namespace, name, patched.metadata?.resourceVersion)
    } catch (err) {
      this.wrote(namespace, name, undefined)
      if (isKubeCode(err, 404)) throw this.missing(namespace, name)
      throw toProviderError(err, { verb: 'patch', resource: TASKS_RESOURCE, namespace, name })
    }
  }

  /** Step `function`'s log of each of the function's TaskRun pods; instance = the TaskRun's name. */
  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    await this.cachedTask(query.namespace, query.name)
    return await openPodLogs(this.clients, {
      namespace: query.namespace,
      selector: `${FUNCTION_LABEL}=${query.name},${TASKRUN_LABEL}`,
      name: query.name,
      container: stepContainer(STEP_FUNCTION),
      instanceLabel: TASKRUN_LABEL,
      ...(query.instance !== undefined ? { instance: query.instance } : {}),
      ...(query.since !== undefined ? { since: query.since } : {}),
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      follow: query.follow
    }, signal, this.logger)
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const task = await this.cachedTask(namespace, name)
    if (maxConcurrencyOf(task) === 0) throw unavailable(`function "${name}" is scaled to 0 concurrent runs`)
    return {
      kind: 'call',
      call: makeCall({
        clients: this.runClients,
        options: this.options,
        limiter: this.limiter,
        slots: this.slots,
        logger: this.logger,
        execTimeoutMs: this.context.execTimeoutMs,
        onRunFinished: (ns, fn) => { if (!this.closed) this.janitor.schedule(ns, fn) },
        inFlight: this.inFlight,
        ...(this.runWaiter !== undefined ? { runWaiter: this.runWaiter } : {})
      }, namespace, task)
    }
  }

  /**
   * `--check`: per configured namespace, the namespace is read and one Task listed (limit=1), which
   * proves that the tekton.dev/v1 API is served (Tekton Pipelines installed) and RBAC allows both;
   * every read bounded by DEFAULT_CHECK_TIMEOUT_MS.
   */
  async check (): Promise<void> {
    this.assertOpen()
    const docs = 'docs/backends/tekton.md#rbac'
    for (const ns of this.context.namespaces) {
      await checkNamespace(this.clients, 'tekton', ns, DEFAULT_CHECK_TIMEOUT_MS, docs)
      await checkRead(this.clients, {
        backend: 'tekton',
        path: `/apis/${TEKTON_GROUP}/${TEKTON_VERSION}/namespaces/${encodeURIComponent(ns)}/${TASKS}?limit=1`,
        verb: 'list',
        resource: TASKS_RESOURCE,
        what: `the Tasks of namespace "${ns}"`,
        notFound: `the ${TEKTON_GROUP}/${TEKTON_VERSION} API is not served by the cluster: install Tekton Pipelines (v0.50 or later serves ${TEKTON_GROUP}/${TEKTON_VERSION})`,
        docs,
        timeoutMs: DEFAULT_CHECK_TIMEOUT_MS
      })
    }
    if (this.cacheSet === undefined) return
    // the caches list and watch: prove that works (RBAC list+watch) within the bound
    this.startCaches()
    if (!await this.cacheSet.waitForSync(DEFAULT_CHECK_TIMEOUT_MS)) {
      const stuck = this.cacheSet.reports().filter((r) => r.state !== 'synced').map((r) => `${r.resource} in "${r.namespace}"`)
      throw backendError(`tekton: the informer caches did not sync within ${DEFAULT_CHECK_TIMEOUT_MS} ms (${stuck.join(', ')}); check that RBAC allows list and watch on them (${docs})`)
    }
  }

  /** Driver.caches(): the informers' state for /metrics and --check. */
  caches (): CacheReport[] {
    return this.cacheSet?.reports() ?? []
  }

  /** Calls under way are abandoned (their TaskRuns cancelled); cleanup passes are awaited. */
  async close (): Promise<void> {
    this.closed = true
    for (const ac of this.inFlight) ac.abort(new Error('the tekton backend is closing'))
    await this.janitor.idle()
    await this.slots.idle()
    await this.cacheSet?.close()
    closeKubeConnections(this.clients.config)
  }
}

/** `cacheOptions`: the caches' clock and backoff, for tests */
export async function createDriver (options: Record<string, unknown>, context: DriverContext, cacheOptions: CacheTestOptions = {}): Promise<TektonDriver> {
  const opts = validateOptions(options)
  const clients = createKubeClients(opts)
  const driver = new TektonDriver(opts, context, clients, cacheOptions)
  context.logger.info({ server: clients.server, inCluster: clients.inCluster }, 'tekton backend ready')
  return driver
}
createDriver satisfies CreateDriver
