/*
 * An in-memory Driver for API-layer tests: it keeps what it is told and reports it back, so route
 * tests can check status codes, bodies and "changes nothing" without starting processes. Calls are
 * recorded in `calls`; `failNext` makes the next call of a method throw (a backend failure).
 */
import type { Driver, LogQuery, NamespaceStore, SecretInput, SecretStore, Upstream } from '../../src/core/driver.ts'
import { backendError, conflict, invalid, notFound, unavailable } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionNamespace, FunctionStatus, LogMessage } from '../../src/core/types.ts'

interface Stored { spec: FunctionDeployment & { namespace: string }, replicas: number, createdAt: string }

export class MemoryDriver implements Driver {
  readonly kind = 'memory'
  readonly functions = new Map<string, Stored>()
  readonly secretValues = new Map<string, Buffer>()
  readonly createdNamespaces = new Map<string, FunctionNamespace>()
  readonly logLines: LogMessage[] = []
  readonly calls: string[] = []
  private readonly failures = new Map<string, string>()
  upstreamUrl: URL | undefined

  failNext (method: string, reason: string): void {
    this.failures.set(method, reason)
  }

  private enter (method: string): void {
    this.calls.push(method)
    const reason = this.failures.get(method)
    if (reason !== undefined) {
      this.failures.delete(method)
      throw backendError(`memory backend: ${reason}`)
    }
  }

  private key (ns: string, name: string): string { return `${ns}/${name}` }

  private get (ns: string, name: string): Stored {
    const f = this.functions.get(this.key(ns, name))
    if (f === undefined) throw notFound(`function "${name}" not found in namespace "${ns}"`)
    return f
  }

  private assertSecretsExist (fn: FunctionDeployment & { namespace: string }): void {
    const missing = (fn.secrets ?? []).filter((s) => !this.secretValues.has(this.key(fn.namespace, s)))
    if (missing.length > 0) throw invalid(`unable to fetch secrets: "${missing.join('", "')}" not found in namespace "${fn.namespace}"`)
  }

  async deploy (fn: FunctionDeployment & { namespace: string }): Promise<void> {
    this.enter('deploy')
    this.assertSecretsExist(fn)
    if (this.functions.has(this.key(fn.namespace, fn.service))) throw conflict(`function "${fn.service}" already exists`)
    const min = Number(fn.labels?.['com.openfaas.scale.min'] ?? '1')
    this.functions.set(this.key(fn.namespace, fn.service), { spec: fn, replicas: min > 0 ? min : 1, createdAt: new Date().toISOString() })
  }

  async update (fn: FunctionDeployment & { namespace: string }): Promise<void> {
    this.enter('update')
    const f = this.get(fn.namespace, fn.service)
    this.assertSecretsExist(fn)
    f.spec = fn
  }

  async remove (ns: string, name: string): Promise<void> {
    this.enter('remove')
    this.get(ns, name)
    this.functions.delete(this.key(ns, name))
  }

  private toStatus (f: Stored): FunctionStatus {
    const { service, ...rest } = f.spec
    return { ...rest, name: service, replicas: f.replicas, availableReplicas: f.replicas, createdAt: f.createdAt }
  }

  async list (ns: string): Promise<FunctionStatus[]> {
    this.enter('list')
    return [...this.functions.values()].filter((f) => f.spec.namespace === ns).map((f) => this.toStatus(f))
  }

  async status (ns: string, name: string): Promise<FunctionStatus> {
    this.enter('status')
    return this.toStatus(this.get(ns, name))
  }

  async scale (ns: string, name: string, replicas: number): Promise<void> {
    this.enter('scale')
    this.get(ns, name).replicas = replicas
  }

  readonly secrets: SecretStore = {
    list: async (ns) => {
      this.enter('secrets.list')
      return [...this.secretValues.keys()].filter((k) => k.startsWith(`${ns}/`)).map((k) => ({ name: k.slice(ns.length + 1), namespace: ns }))
    },
    create: async (s: SecretInput) => {
      this.enter('secrets.create')
      if (this.secretValues.has(this.key(s.namespace, s.name))) throw conflict(`secret "${s.name}" already exists`)
      this.secretValues.set(this.key(s.namespace, s.name), s.value)
    },
    update: async (s: SecretInput) => {
      this.enter('secrets.update')
      if (!this.secretValues.has(this.key(s.namespace, s.name))) throw notFound(`secret "${s.name}" not found`)
      this.secretValues.set(this.key(s.namespace, s.name), s.value)
    },
    remove: async (ns, name) => {
      this.enter('secrets.remove')
      if (!this.secretValues.delete(this.key(ns, name))) throw notFound(`secret "${name}" not found`)
    }
  }

  readonly namespaces: NamespaceStore = {
    list: async () => [...this.createdNamespaces.values()],
    get: async (name) => {
      const ns = this.createdNamespaces.get(name)
      if (ns === undefined) throw notFound(`namespace "${name}" not found`)
      return ns
    },
    create: async (ns) => {
      if (this.createdNamespaces.has(ns.name)) throw conflict(`namespace "${ns.name}" already exists`)
      this.createdNamespaces.set(ns.name, ns)
    },
    update: async (ns) => {
      if (!this.createdNamespaces.has(ns.name)) throw notFound(`namespace "${ns.name}" not found`)
      this.createdNamespaces.set(ns.name, ns)
    },
    remove: async (name) => {
      if ([...this.functions.values()].some((f) => f.spec.namespace === name)) throw invalid(`namespace "${name}" still has functions`)
      if (!this.createdNamespaces.delete(name)) throw notFound(`namespace "${name}" not found`)
    }
  }

  async logs (q: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.enter('logs')
    this.get(q.namespace, q.name)
    return this.logStream(q, signal)
  }

  private async * logStream (q: LogQuery, signal: AbortSignal): AsyncIterable<LogMessage> {
    let lines = this.logLines.filter((l) => l.name === q.name && l.namespace === q.namespace &&
      (q.instance === undefined || l.instance === q.instance) &&
      (q.since === undefined || Date.parse(l.timestamp) >= q.since.getTime()))
    if (q.tail !== undefined) lines = lines.slice(-q.tail)
    yield * lines
    if (q.follow) {
      await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
    }
  }

  async upstream (ns: string, name: string): Promise<Upstream> {
    const f = this.get(ns, name)
    if (f.replicas === 0 || this.upstreamUrl === undefined) throw unavailable(`No endpoints available for: ${name}.`)
    return { kind: 'http', url: this.upstreamUrl }
  }

  async close (): Promise<void> {}
}
