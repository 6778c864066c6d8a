/*
 * The openfaas backend: federates another OpenFaaS installation. Every route for the namespaces it
 * owns is forwarded to a remote provider (faas-netes, faasd, another faas-bridge) or gateway, with
 * its own credentials, timeouts and TLS settings; each local namespace maps to a remote namespace
 * (rewritten both ways); invocations are proxied to the remote's /function/NAME.NS/, streaming.
 * Remote errors keep their status and message; an unreachable remote is a 502 that says so;
 * replicas are the remote's, as reported. See docs/backends/openfaas.md.
 */
import type { CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { badGateway, conflict, isProviderError, notFound, unavailable, unsupported } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { RemoteClient } from './client.ts'
import { callUpstream, functionUrl } from './invoke.ts'
import { logsQuery, readLogLines } from './logs.ts'
import { fromRemoteList, fromRemoteStatus, toRemoteDeployment } from './mapping.ts'
import { validateOptions, type OpenFaaSOptions } from './options.ts'
import { RemoteSecretStore } from './secrets.ts'

export type { OpenFaaSOptions } from './options.ts'

type Deployment = FunctionDeployment & { namespace: string }

interface CachedUpstream {
  upstream: Upstream
  expires: number
}

/** faas-netes answers a duplicate deploy with 500 "... already exists" instead of 409. */
const ALREADY_EXISTS = /already exists/i

export class OpenFaaSDriver implements Driver {
  readonly kind = 'openfaas'
  readonly secrets: RemoteSecretStore
  readonly options: OpenFaaSOptions
  readonly client: RemoteClient
  private readonly logger: DriverContext['logger']
  private readonly execTimeoutMs: number
  private readonly upstreams = new Map<string, CachedUpstream>()
  private closed = false

  constructor (options: OpenFaaSOptions, context: DriverContext) {
    this.options = options
    this.logger = context.logger
    this.execTimeoutMs = context.execTimeoutMs
    this.client = new RemoteClient(options)
    this.secrets = new RemoteSecretStore(this.client, (ns) => this.remoteNs(ns))
  }

  /** The remote namespace of a local one (validateOptions gave every owned namespace one). */
  remoteNs (namespace: string): string {
    const remote = this.options.remoteNamespaces.get(namespace)
    if (remote === undefined) throw notFound(`namespace "${namespace}" is not served by the openfaas backend`)
    return remote
  }

  private assertOpen (): void {
    if (this.closed) throw badGateway('the openfaas backend is closed')
  }

  private forget (namespace: string, name: string): void {
    this.upstreams.delete(`${namespace}/${name}`)
  }

  private notFoundMessage (namespace: string, name: string): string {
    return `function "${name}" not found in namespace "${namespace}"`
  }

  /** After a failed call: is the function there at all? (faas-netes answers 500 where it means 404) */
  private async missing (namespace: string, name: string): Promise<boolean> {
    try {
      await this.status(namespace, name)
      return false
    } catch (err) {
      return isProviderError(err, 'NOT_FOUND')
    }
  }

  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    this.forget(fn.namespace, fn.service)
    const what = `deploying function "${fn.service}" in namespace "${fn.namespace}"`
    try {
      await this.client.call({ method: 'POST', path: 'system/functions', body: toRemoteDeployment(fn, this.remoteNs(fn.namespace)), what })
    } catch (err) {
      if (isProviderError(err, 'BACKEND') && ALREADY_EXISTS.test(err.message)) {
        throw conflict(`function "${fn.service}" already exists in namespace "${fn.namespace}" (${err.message})`)
      }
      throw err
    }
  }

  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    this.forget(fn.namespace, fn.service)
    await this.client.call({
      method: 'PUT',
      path: 'system/functions',
      body: toRemoteDeployment(fn, this.remoteNs(fn.namespace)),
      what: `updating function "${fn.service}" in namespace "${fn.namespace}"`,
      notFoundMessage: this.notFoundMessage(fn.namespace, fn.service)
    })
  }

  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    this.forget(namespace, name)
    const remote = this.remoteNs(namespace)
    // faas-netes reads the namespace from the query, faasd from the body: send both
    await this.client.call({
      method: 'DELETE',
      path: 'system/functions',
      query: { namespace: remote },
      body: { functionName: name, namespace: remote },
      what: `removing function "${name}" from namespace "${namespace}"`,
      notFoundMessage: this.notFoundMessage(namespace, name)
    })
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    const what = `listing functions of namespace "${namespace}"`
    const raw = await this.client.json({ method: 'GET', path: 'system/functions', query: { namespace: this.remoteNs(namespace) }, what })
    return fromRemoteList(raw, namespace, what)
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    const what = `reading function "${name}" in namespace "${namespace}"`
    const raw = await this.client.json({
      method: 'GET',
      path: `system/function/${encodeURIComponent(name)}`,
      query: { namespace: this.remoteNs(namespace) },
      what,
      notFoundMessage: this.notFoundMessage(namespace, name)
    })
    return fromRemoteStatus(raw, namespace, what)
  }

  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    this.forget(namespace, name)
    const remote = this.remoteNs(namespace)
    try {
      // the gateway and faas-netes read the namespace from the query, faasd and faas-cli use the body
      await this.client.call({
        method: 'POST',
        path: `system/scale-function/${encodeURIComponent(name)}`,
        query: { namespace: remote },
        body: { serviceName: name, replicas, namespace: remote },
        what: `scaling function "${name}" in namespace "${namespace}" to ${replicas}`,
        notFoundMessage: this.notFoundMessage(namespace, name)
      })
    } catch (err) {
      // faas-netes answers an unknown function with 500 "Unable to lookup function deployment"
      if (isProviderError(err, 'BACKEND') && await this.missing(namespace, name)) throw notFound(this.notFoundMessage(namespace, name))
      throw err
    }
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const key = `${namespace}/${name}`
    const cached = this.upstreams.get(key)
    if (cached !== undefined && cached.expires > Date.now()) return cached.upstream
    this.upstreams.delete(key)
    const s = await this.status(namespace, name)
    if (s.availableReplicas === 0 && !this.options.invokeWhenUnready) throw unavailable(`No endpoints available for: ${name}.`)
    const url = functionUrl(this.options.url, name, this.remoteNs(namespace))
    const extra = this.options.invokeAuth && this.options.authorization !== undefined
      ? { authorization: this.options.authorization }
      : undefined
    const upstream: Upstream = this.options.invokeVia === 'driver'
      ? callUpstream(this.client, url, extra, this.execTimeoutMs)
      : { kind: 'http', url, ...(extra !== undefined ? { headers: extra } : {}) }
    // only a ready answer is reused: an unready function is asked again on the next call
    if (this.options.statusCacheMs > 0 && s.availableReplicas > 0) {
      this.upstreams.set(key, { upstream, expires: Date.now() + this.options.statusCacheMs })
    }
    return upstream
  }

  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    const what = `reading the logs of function "${query.name}" in namespace "${query.namespace}"`
    let stream
    try {
      stream = await this.client.stream({
        method: 'GET',
        path: 'system/logs',
        query: logsQuery(query, this.remoteNs(query.namespace)),
        what,
        notFoundMessage: this.notFoundMessage(query.namespace, query.name)
      }, signal, query.follow)
    } catch (err) {
      // a gateway answers 501 both when its provider has no logs and when it answered 404 (§6);
      // faas-netes answers 500 for a function without pods: ask whether the function exists
      if (isProviderError(err) && (err.code === 'UNSUPPORTED' || err.code === 'BACKEND') && await this.missing(query.namespace, query.name)) {
        throw notFound(this.notFoundMessage(query.namespace, query.name))
      }
      if (isProviderError(err, 'UNSUPPORTED')) throw unsupported(`${this.client.label} serves no logs for this function (${err.message})`)
      throw err
    }
    this.logger.debug({ function: query.name, namespace: query.namespace, follow: query.follow }, 'openfaas: log stream open')
    return readLogLines(stream.body, query.namespace, query.name, this.options.maxLogLineBytes)
  }

  /**
   * `--check`: GET /system/info and GET /system/namespaces with the configured auth, each bounded
   * by requestTimeoutMs: the remote answers, accepts our credentials, and (when it lists
   * namespaces) serves every remote namespace this backend maps to.
   */
  async check (): Promise<void> {
    this.assertOpen()
    const fail = (err: unknown, what: string): Error =>
      new Error(`openfaas backend: ${what} of ${this.client.label} failed: ${(err as Error).message}`, { cause: err })
    try {
      await this.client.json({ method: 'GET', path: 'system/info', what: 'reading /system/info' })
    } catch (err) {
      throw fail(err, 'GET /system/info')
    }
    let raw: unknown
    try {
      raw = await this.client.json({ method: 'GET', path: 'system/namespaces', what: 'listing /system/namespaces' })
    } catch (err) {
      throw fail(err, 'GET /system/namespaces')
    }
    if (raw !== null && (!Array.isArray(raw) || raw.some((n) => typeof n !== 'string'))) {
      throw new Error(`openfaas backend: GET /system/namespaces of ${this.client.label} answered something that is not a list of names: ${JSON.stringify(raw).slice(0, 200)}`)
    }
    const served = (raw ?? []) as string[]
    if (served.length === 0) return // a remote without namespace support lists none: nothing to compare
    for (const [local, remote] of this.options.remoteNamespaces) {
      if (!served.includes(remote)) {
        throw new Error(`openfaas backend: namespace "${local}" maps to remote namespace "${remote}", which ${this.client.label} does not serve (it serves: ${served.join(', ')})`)
      }
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.upstreams.clear()
    await this.client.close()
  }
}

export async function createDriver (options: Record<string, unknown>, context: DriverContext): Promise<OpenFaaSDriver> {
  return new OpenFaaSDriver(validateOptions(options, context.namespaces), context)
}
createDriver satisfies CreateDriver
