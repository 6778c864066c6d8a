/*
 * The namespace → backend table. Every route resolves its namespace here first (query, then
 * body, then the default). Namespaces come from configuration, plus those a backend creates at
 * run time through its NamespaceStore.
 */
import type { Driver } from './driver.ts'
import { conflict, invalid, notFound, unsupported } from './errors.ts'
import type { FunctionNamespace } from './types.ts'

export interface Backend {
  /** the configured backend name, e.g. "local" or "aws" */
  name: string
  driver: Driver
}

export interface Resolved {
  namespace: string
  backend: Backend
}

export class Backends {
  readonly defaultNamespace: string
  private readonly byNamespace = new Map<string, Backend>()
  private readonly all: Backend[]
  /** where namespaces created through the API live: the backend owning the default namespace */
  private readonly namespaceHome: Backend

  constructor (backends: Array<{ backend: Backend, namespaces: string[] }>, defaultNamespace: string) {
    this.defaultNamespace = defaultNamespace
    this.all = backends.map((b) => b.backend)
    for (const { backend, namespaces } of backends) {
      for (const ns of namespaces) {
        const owner = this.byNamespace.get(ns)
        if (owner !== undefined && owner !== backend) {
          throw new Error(`namespace "${ns}" is claimed by both backend "${owner.name}" and "${backend.name}"`)
        }
        this.byNamespace.set(ns, backend)
      }
    }
    const home = this.byNamespace.get(defaultNamespace)
    if (home === undefined) throw new Error(`the default namespace "${defaultNamespace}" belongs to no backend`)
    this.namespaceHome = home
  }

  /** Loads the namespaces each backend created at run time in an earlier life. */
  async init (): Promise<void> {
    for (const backend of this.all) {
      if (backend.driver.namespaces === undefined) continue
      for (const ns of await backend.driver.namespaces.list()) {
        if (!this.byNamespace.has(ns.name)) this.byNamespace.set(ns.name, backend)
      }
    }
  }

  backends (): readonly Backend[] {
    return this.all
  }

  namespaces (): string[] {
    return [...this.byNamespace.keys()].sort()
  }

  /** Every backend with its driver kind and the namespaces it serves (sorted), for the dashboard. */
  describe (): Array<{ name: string, kind: string, namespaces: string[] }> {
    return this.all.map((backend) => ({
      name: backend.name,
      kind: backend.driver.kind,
      namespaces: [...this.byNamespace].filter(([, b]) => b === backend).map(([ns]) => ns).sort()
    }))
  }

  /** `namespace` as given by the caller ('' or undefined = default); 400 when no backend owns it. */
  resolve (namespace: string | undefined): Resolved {
    const ns = namespace === undefined || namespace === '' ? this.defaultNamespace : namespace
    const backend = this.byNamespace.get(ns)
    if (backend === undefined) {
      throw invalid(`namespace "${ns}" is not served by this provider (known: ${this.namespaces().join(', ')})`)
    }
    return { namespace: ns, backend }
  }

  /** Like resolve, but an unknown namespace is "not found" (for lookups that answer 404). */
  lookup (namespace: string | undefined): Resolved | undefined {
    const ns = namespace === undefined || namespace === '' ? this.defaultNamespace : namespace
    const backend = this.byNamespace.get(ns)
    return backend === undefined ? undefined : { namespace: ns, backend }
  }

  // --- namespace CRUD (/system/namespace/{name}) ---

  async getNamespace (name: string): Promise<FunctionNamespace> {
    const backend = this.byNamespace.get(name)
    if (backend === undefined) throw notFound(`namespace "${name}" not found`)
    if (backend.driver.namespaces !== undefined) {
      try {
        return await backend.driver.namespaces.get(name)
      } catch (err) {
        // configured namespaces exist even when the store never saw them
        if (!(err instanceof Error && 'code' in err && err.code === 'NOT_FOUND')) throw err
      }
    }
    return { name, labels: { openfaas: '1' } }
  }

  async createNamespace (ns: FunctionNamespace): Promise<void> {
    if (this.byNamespace.has(ns.name)) throw conflict(`namespace "${ns.name}" already exists`)
    const store = this.namespaceHome.driver.namespaces
    if (store === undefined) {
      throw unsupported(`backend "${this.namespaceHome.name}" cannot create namespaces; add them to the configuration`)
    }
    await store.create(ns)
    this.byNamespace.set(ns.name, this.namespaceHome)
  }

  async updateNamespace (ns: FunctionNamespace): Promise<void> {
    const backend = this.byNamespace.get(ns.name)
    if (backend === undefined) throw notFound(`namespace "${ns.name}" not found`)
    const store = backend.driver.namespaces
    if (store === undefined) throw unsupported(`backend "${backend.name}" cannot update namespaces`)
    await store.update(ns)
  }

  async removeNamespace (name: string): Promise<void> {
    const backend = this.byNamespace.get(name)
    if (backend === undefined) throw notFound(`namespace "${name}" not found`)
    if (name === this.defaultNamespace) throw invalid(`namespace "${name}" is the default namespace and cannot be removed`)
    const store = backend.driver.namespaces
    if (store === undefined) throw unsupported(`namespace "${name}" comes from the configuration of backend "${backend.name}"; remove it there`)
    await store.remove(name)
    this.byNamespace.delete(name)
  }

  async close (): Promise<void> {
    await Promise.allSettled(this.all.map(async (b) => { await b.driver.close() }))
  }
}
