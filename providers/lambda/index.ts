/*
 * The AWS Lambda backend: OpenFaaS functions as Lambda container-image functions.
 *   deploy/update → CreateFunction / UpdateFunctionCode + UpdateFunctionConfiguration (update.ts)
 *   status/list   → GetFunction (+ ListFunctions by the namespace's name prefix), tags (status.ts)
 *   scale         → reserved concurrency 0 / deleted (scale.ts); with option provisionedConcurrency
 *                   also provisioned concurrency on an alias that deploy/update publish (provisioned.ts)
 *   invoke        → Invoke / InvokeWithResponseStream with an HTTP API event (invoke.ts)
 *   secrets       → Secrets Manager (secrets.ts); logs → CloudWatch Logs (logs.ts)
 * Only functions tagged faas-bridge:managed (with the right namespace and name tags) are seen.
 * Naming: naming.ts; options: options.ts; AWS errors and throttling retries: aws-errors.ts.
 */
import {
  CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, ListFunctionsCommand
} from '@aws-sdk/client-lambda'
import type { CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { backendError, conflict, invalid, isProviderError, notFound, unavailable } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { withRetry } from './aws-errors.ts'
import { ClientPool, type RegionClients } from './clients.ts'
import { invokeFunction } from './invoke.ts'
import { openLogs } from './logs.ts'
import { assertTagCount, functionSpec, initialReplicas, systemTags, type FunctionSpec } from './mapping.ts'
import { lambdaFunctionName, logGroupName } from './naming.ts'
import { validateOptions, type LambdaOptions, type NamespaceSettings } from './options.ts'
import { provisionedReplicas, publishToAlias, readProvisioned, setProvisioned, type ProvisionedSettings } from './provisioned.ts'
import { applyScale } from './scale.ts'
import { LambdaSecretStore } from './secrets.ts'
import { desiredReplicas, isManaged, isRunnable, toStatus, type LambdaFunction } from './status.ts'
import { applyUpdate } from './update.ts'

export type { LambdaOptions } from './options.ts'

type Deployment = FunctionDeployment & { namespace: string }

interface Located {
  settings: NamespaceSettings
  clients: RegionClients
  functionName: string
}

interface Found extends Located {
  fn: LambdaFunction
  arn: string
}

/** functions read in parallel when listing */
const LIST_CONCURRENCY = 8
const LIST_PAGE = 50

/** Runs one operation per key at a time (deploy/update/scale/remove of one function). */
class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>()

  async run<T> (key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve()
    const next = prev.catch(() => {}).then(fn)
    this.tails.set(key, next)
    try {
      return await next
    } finally {
      if (this.tails.get(key) === next) this.tails.delete(key)
    }
  }
}

export class LambdaDriver implements Driver {
  readonly kind = 'lambda'
  readonly options: LambdaOptions
  readonly secrets: LambdaSecretStore
  private readonly context: DriverContext
  private readonly clients: ClientPool
  private readonly mutex = new KeyedMutex()
  /** upstream(): last known "can it run" per function, for upstreamCacheMs */
  private readonly ready = new Map<string, { until: number, runnable: boolean }>()
  private closed = false

  constructor (options: LambdaOptions, context: DriverContext) {
    this.options = options
    this.context = context
    this.clients = new ClientPool({
      endpoints: options.endpoints,
      credentials: options.credentials,
      requestTimeoutMs: options.requestTimeoutMs,
      invokeTimeoutMs: context.execTimeoutMs
    })
    this.secrets = new LambdaSecretStore({
      scope: (ns) => {
        const settings = this.settingsOf(ns)
        return { client: this.clients.for(settings.region).secrets, prefix: settings.secretsPrefix }
      },
      requestTimeoutMs: options.requestTimeoutMs,
      retryBaseMs: options.retryBaseMs,
      maxPages: options.logMaxPages
    })
  }

  private assertOpen (): void {
    if (this.closed) throw backendError('the lambda backend is closed')
  }

  private settingsOf (namespace: string): NamespaceSettings {
    const s = this.options.namespaces[namespace]
    if (s === undefined) throw notFound(`namespace "${namespace}" is not served by this lambda backend`)
    return s
  }

  private locate (namespace: string, name: string): Located {
    const settings = this.settingsOf(namespace)
    return { settings, clients: this.clients.for(settings.region), functionName: lambdaFunctionName(settings, namespace, name) }
  }

  private call<T> (what: string, fn: (signal: AbortSignal) => Promise<T>, idempotent = false): Promise<T> {
    return withRetry(fn, { timeoutMs: this.options.requestTimeoutMs, baseMs: this.options.retryBaseMs, idempotent, what })
  }

  private async getFunction (clients: RegionClients, functionName: string): Promise<LambdaFunction | undefined> {
    try {
      return await this.call(`GetFunction ${functionName}`, (signal) =>
        clients.lambda.send(new GetFunctionCommand({ FunctionName: functionName }), { abortSignal: signal }), true)
    } catch (err) {
      if (isProviderError(err, 'NOT_FOUND')) return undefined
      throw err
    }
  }

  /** The managed function, or NOT_FOUND (also for a same-named function faas-bridge does not manage). */
  private async find (namespace: string, name: string): Promise<Found> {
    const where = this.locate(namespace, name)
    const fn = await this.getFunction(where.clients, where.functionName)
    if (fn === undefined || !isManaged(fn, namespace, name)) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    return { ...where, fn, arn: fn.Configuration?.FunctionArn ?? where.functionName }
  }

  private roleOf (settings: NamespaceSettings, namespace: string): string {
    if (settings.roleArn === undefined) {
      throw invalid(`the lambda backend has no execution role for namespace "${namespace}": set option "roleArn" (or namespaces.${namespace}.roleArn)`)
    }
    return settings.roleArn
  }

  private async spec (fn: Deployment, where: Located): Promise<FunctionSpec> {
    functionSpec(fn, this.options, where.settings.region, {}) // everything AWS need not answer, first
    const arns = await this.secrets.arns(fn.namespace, fn.secrets ?? [])
    return functionSpec(fn, this.options, where.settings.region, arns)
  }

  /** provisioned concurrency settings for this function, when the option is set */
  private provisioned (where: Located): ProvisionedSettings | undefined {
    const config = this.options.provisionedConcurrency
    if (config === undefined) return undefined
    return {
      client: where.clients.lambda,
      functionName: where.functionName,
      config,
      requestTimeoutMs: this.options.requestTimeoutMs,
      retryBaseMs: this.options.retryBaseMs,
      updateTimeoutMs: this.options.updateTimeoutMs,
      updatePollMs: this.options.updatePollMs
    }
  }

  /** toStatus, with availableReplicas from the alias's provisioned concurrency when that is managed */
  private async statusOf (where: Located, fn: LambdaFunction, namespace: string, name: string): Promise<FunctionStatus> {
    const status = toStatus(fn, namespace, name)
    const pc = this.provisioned(where)
    if (pc !== undefined && status.availableReplicas > 0) {
      status.availableReplicas = provisionedReplicas(await readProvisioned(pc), status.replicas, pc.config.perReplica)
    }
    return status
  }

  private forget (namespace: string, name: string): void {
    this.ready.delete(`${namespace}/${name}`)
  }

  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    const where = this.locate(namespace, name)
    const role = this.roleOf(where.settings, namespace)
    await this.mutex.run(`${namespace}/${name}`, async () => {
      const spec = await this.spec(fn, where)
      const tags = { ...spec.userTags, ...systemTags(namespace, name, initialReplicas(fn), new Date().toISOString()) }
      assertTagCount(tags)
      try {
        await this.call(`CreateFunction ${where.functionName}`, (signal) => where.clients.lambda.send(new CreateFunctionCommand({
          FunctionName: where.functionName,
          PackageType: 'Image',
          Code: { ImageUri: spec.imageUri },
          Role: role,
          MemorySize: spec.memorySize,
          Timeout: spec.timeout,
          Architectures: spec.architectures,
          Environment: { Variables: spec.environment },
          Description: `OpenFaaS function ${name} in namespace ${namespace} (faas-bridge)`,
          Tags: tags
        }), { abortSignal: signal }))
      } catch (err) {
        if (isProviderError(err, 'CONFLICT')) throw conflict(`function "${name}" already exists in namespace "${namespace}" (Lambda: ${err.message})`)
        throw err
      }
      this.forget(namespace, name)
      const pc = this.provisioned(where)
      if (pc !== undefined) {
        // the function exists from here on: a failure below leaves it for update/scale to finish
        await publishToAlias(pc)
        await setProvisioned(pc, initialReplicas(fn))
      }
    })
  }

  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    const { namespace, service: name } = fn
    await this.mutex.run(`${namespace}/${name}`, async () => {
      const found = await this.find(namespace, name)
      const role = this.roleOf(found.settings, namespace)
      const spec = await this.spec(fn, found)
      const tags = { ...spec.userTags, ...systemTags(namespace, name, 0, '') }
      assertTagCount(tags)
      try {
        await applyUpdate({
          client: found.clients.lambda,
          functionName: found.functionName,
          arn: found.arn,
          roleArn: role,
          requestTimeoutMs: this.options.requestTimeoutMs,
          retryBaseMs: this.options.retryBaseMs,
          updateTimeoutMs: this.options.updateTimeoutMs,
          updatePollMs: this.options.updatePollMs
        }, spec, found.fn.Tags ?? {})
        const pc = this.provisioned(found)
        if (pc !== undefined) {
          await publishToAlias(pc)
          // Lambda moves the alias's provisioned concurrency to the new version by itself; a
          // function from before the option was set gets its configuration now
          const replicas = desiredReplicas(found.fn)
          if (replicas > 0 && isRunnable(found.fn) && await readProvisioned(pc) === undefined) await setProvisioned(pc, replicas)
        }
      } finally {
        this.forget(namespace, name)
      }
    })
  }

  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    await this.mutex.run(`${namespace}/${name}`, async () => {
      const found = await this.find(namespace, name)
      await this.call(`DeleteFunction ${found.functionName}`, (signal) =>
        found.clients.lambda.send(new DeleteFunctionCommand({ FunctionName: found.functionName }), { abortSignal: signal }))
      this.forget(namespace, name)
    })
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    const settings = this.settingsOf(namespace)
    const clients = this.clients.for(settings.region)
    const candidates: string[] = []
    let marker: string | undefined
    for (let pages = 0; pages < 1000; pages++) {
      const out = await this.call('ListFunctions', (signal) => clients.lambda.send(new ListFunctionsCommand({
        MaxItems: LIST_PAGE, ...(marker !== undefined ? { Marker: marker } : {})
      }), { abortSignal: signal }), true)
      for (const f of out.Functions ?? []) {
        const n = f.FunctionName ?? ''
        if (n.startsWith(settings.functionPrefix) && f.PackageType === 'Image') candidates.push(n)
      }
      marker = out.NextMarker
      if (marker === undefined || marker === '') break
    }
    const out: FunctionStatus[] = []
    for (let i = 0; i < candidates.length; i += LIST_CONCURRENCY) {
      const batch = await Promise.all(candidates.slice(i, i + LIST_CONCURRENCY).map(async (n) => {
        const fn = await this.getFunction(clients, n)
        const name = fn?.Tags?.['faas-bridge:name']
        if (fn === undefined || name === undefined || !isManaged(fn, namespace, name)) return undefined
        return await this.statusOf({ settings, clients, functionName: n }, fn, namespace, name)
      }))
      for (const status of batch) if (status !== undefined) out.push(status)
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    const found = await this.find(namespace, name)
    return await this.statusOf(found, found.fn, namespace, name)
  }

  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid(`replicas must be an integer >= 0, got ${replicas}`)
    await this.mutex.run(`${namespace}/${name}`, async () => {
      const found = await this.find(namespace, name)
      const pc = this.provisioned(found)
      try {
        // provisioned concurrency goes before reserved concurrency 0, and comes after it is lifted
        if (pc !== undefined && replicas === 0) await setProvisioned(pc, 0)
        await applyScale({
          client: found.clients.lambda,
          functionName: found.functionName,
          arn: found.arn,
          requestTimeoutMs: this.options.requestTimeoutMs,
          retryBaseMs: this.options.retryBaseMs
        }, replicas, found.fn.Concurrency?.ReservedConcurrentExecutions)
        if (pc !== undefined && replicas > 0) await setProvisioned(pc, replicas)
      } finally {
        this.forget(namespace, name)
      }
    })
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const key = `${namespace}/${name}`
    const where = this.locate(namespace, name)
    const cached = this.ready.get(key)
    let runnable: boolean
    if (cached !== undefined && cached.until > Date.now()) {
      runnable = cached.runnable
    } else {
      let found: Found
      try {
        found = await this.find(namespace, name)
      } catch (err) {
        this.ready.delete(key)
        throw err
      }
      runnable = isRunnable(found.fn)
      if (this.options.upstreamCacheMs > 0) this.ready.set(key, { until: Date.now() + this.options.upstreamCacheMs, runnable })
    }
    if (!runnable) throw unavailable(`No endpoints available for: ${name}.`)
    const settings = {
      client: where.clients.invoke,
      functionName: where.functionName,
      ...(this.options.provisionedConcurrency !== undefined ? { qualifier: this.options.provisionedConcurrency.alias } : {}),
      maxPayloadBytes: this.options.maxPayloadBytes,
      timeoutMs: this.context.execTimeoutMs,
      retryBaseMs: this.options.retryBaseMs
    }
    return { kind: 'call', call: async (req) => await invokeFunction(settings, req) }
  }

  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    const found = await this.find(query.namespace, query.name)
    return await openLogs({
      client: found.clients.logs,
      logGroup: logGroupName(this.options.logGroupPattern, found.functionName),
      pollMs: this.options.logPollMs,
      maxPages: this.options.logMaxPages,
      requestTimeoutMs: this.options.requestTimeoutMs,
      retryBaseMs: this.options.retryBaseMs,
      onError: (err) => { this.context.logger.warn({ err, function: query.name, namespace: query.namespace }, 'lambda logs: the stream ended on an error') }
    }, query, signal)
  }

  /**
   * `--check`: one ListFunctions (MaxItems 1) per region the namespaces use proves the endpoint
   * answers and the credentials may list functions. Throttles are retried within requestTimeoutMs;
   * a connection failure is reported at once (with the endpoint), not retried until the timeout.
   */
  async check (): Promise<void> {
    this.assertOpen()
    const regions = [...new Set(Object.values(this.options.namespaces).map((n) => n.region))]
    for (const region of regions) {
      const endpoint = this.options.endpoints.lambda ?? `https://lambda.${region}.amazonaws.com`
      try {
        await this.call(`ListFunctions in ${region}`, (signal) =>
          this.clients.for(region).lambda.send(new ListFunctionsCommand({ MaxItems: 1 }), { abortSignal: signal }))
      } catch (err) {
        const hint = isProviderError(err, 'FORBIDDEN') ? '; the credentials need the IAM permission lambda:ListFunctions (docs/backends/lambda.md#iam-policy)' : ''
        throw new Error(`lambda backend: ListFunctions (MaxItems 1) in ${region} at ${endpoint} failed: ${(err as Error).message}${hint}`, { cause: err })
      }
    }
    for (const [ns, settings] of Object.entries(this.options.namespaces)) {
      if (settings.roleArn === undefined) this.context.logger.warn({ namespace: ns }, 'lambda backend: no execution role (option roleArn): deploys will fail')
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.clients.destroy()
  }
}

export async function createDriver (options: Record<string, unknown>, context: DriverContext): Promise<LambdaDriver> {
  return new LambdaDriver(validateOptions(options, context.namespaces), context)
}
createDriver satisfies CreateDriver
