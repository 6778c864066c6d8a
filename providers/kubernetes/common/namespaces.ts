/*
 * The NamespaceStore over Kubernetes Namespaces (shared by the kubernetes and tekton backends).
 * An OpenFaaS namespace is a Kubernetes Namespace carrying a marker label (default openfaas=1,
 * as faasd and go-sdk use it). Create makes a labelled Namespace; update rewrites its labels and
 * annotations (the marker stays); remove deletes it only when faas-bridge created it, it is not a
 * configured namespace, and it holds no functions.
 */
import type { CoreV1Api, V1Namespace } from '@kubernetes/client-node'
import type { NamespaceStore } from '../../../src/core/driver.ts'
import { invalid, notFound } from '../../../src/core/errors.ts'
import type { FunctionNamespace } from '../../../src/core/types.ts'
import { kubeCall } from './errors.ts'
import type { Label } from './secrets.ts'

export interface NamespaceStoreConfig {
  /** the label that marks a Namespace for functions */
  marker: Label
  /** the label that says faas-bridge created it (only those can be removed) */
  managedBy: Label
  /** namespaces from the configuration: always served, never removed here */
  configured: readonly string[]
  /** true when the namespace still holds workloads of this backend */
  holdsWorkloads: (namespace: string) => Promise<boolean>
}

/** Labels Kubernetes sets itself; not shown, never written. */
const SYSTEM_LABEL = 'kubernetes.io/metadata.name'
const RESOURCE = 'namespaces'
export const NAMESPACE_UPDATE_ATTEMPTS = 3

export class KubernetesNamespaceStore implements NamespaceStore {
  private readonly core: CoreV1Api
  private readonly config: NamespaceStoreConfig
  private readonly configured: ReadonlySet<string>

  constructor (core: CoreV1Api, config: NamespaceStoreConfig) {
    this.core = core
    this.config = config
    this.configured = new Set(config.configured)
  }

  private marked (ns: V1Namespace): boolean {
    return ns.metadata?.labels?.[this.config.marker.key] === this.config.marker.value
  }

  private toFunctionNamespace (ns: V1Namespace): FunctionNamespace {
    const labels = { ...(ns.metadata?.labels ?? {}) }
    delete labels[SYSTEM_LABEL]
    const out: FunctionNamespace = { name: ns.metadata?.name ?? '', labels }
    const annotations = ns.metadata?.annotations
    if (annotations !== undefined && Object.keys(annotations).length > 0) out.annotations = { ...annotations }
    return out
  }

  async list (): Promise<FunctionNamespace[]> {
    const { key, value } = this.config.marker
    const res = await kubeCall({ verb: 'list', resource: RESOURCE },
      async () => await this.core.listNamespace({ labelSelector: `${key}=${value}` }))
    return res.items.map((n) => this.toFunctionNamespace(n)).sort((a, b) => a.name.localeCompare(b.name))
  }

  private async read (name: string): Promise<V1Namespace> {
    const ns = await kubeCall({ verb: 'get', resource: RESOURCE, name }, async () => await this.core.readNamespace({ name }))
    if (!this.marked(ns) && !this.configured.has(name)) {
      throw notFound(`namespace "${name}" exists in Kubernetes but is not labelled ${this.config.marker.key}=${this.config.marker.value} for functions`)
    }
    return ns
  }

  async get (name: string): Promise<FunctionNamespace> {
    return this.toFunctionNamespace(await this.read(name))
  }

  async create (ns: FunctionNamespace): Promise<void> {
    const { marker, managedBy } = this.config
    await kubeCall({ verb: 'create', resource: RESOURCE, name: ns.name }, async () => await this.core.createNamespace({
      body: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: ns.name,
          labels: { ...(ns.labels ?? {}), [marker.key]: marker.value, [managedBy.key]: managedBy.value },
          ...(ns.annotations !== undefined ? { annotations: { ...ns.annotations } } : {})
        }
      }
    }))
  }

  async update (ns: FunctionNamespace): Promise<void> {
    const { marker, managedBy } = this.config
    for (let attempt = 1; ; attempt++) {
      const cur = await this.read(ns.name)
      const keep: Record<string, string> = {}
      for (const k of [SYSTEM_LABEL, managedBy.key]) {
        const v = cur.metadata?.labels?.[k]
        if (v !== undefined) keep[k] = v
      }
      const body: V1Namespace = {
        ...cur,
        metadata: { ...cur.metadata, labels: { ...(ns.labels ?? {}), ...keep, [marker.key]: marker.value }, annotations: { ...(ns.annotations ?? {}) } }
      }
      try {
        await kubeCall({ verb: 'update', resource: RESOURCE, name: ns.name }, async () => await this.core.replaceNamespace({ name: ns.name, body }))
        return
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'CONFLICT') || attempt >= NAMESPACE_UPDATE_ATTEMPTS) throw err
      }
    }
  }

  async remove (name: string): Promise<void> {
    const cur = await this.read(name)
    if (this.configured.has(name)) throw invalid(`namespace "${name}" comes from the configuration and cannot be removed here`)
    const { managedBy } = this.config
    if (cur.metadata?.labels?.[managedBy.key] !== managedBy.value) {
      throw invalid(`namespace "${name}" was not created by faas-bridge (no label ${managedBy.key}=${managedBy.value}); delete it with kubectl if you mean to`)
    }
    if (await this.config.holdsWorkloads(name)) throw invalid(`namespace "${name}" still holds functions; remove them first`)
    await kubeCall({ verb: 'delete', resource: RESOURCE, name }, async () => await this.core.deleteNamespace({ name }))
  }
}
