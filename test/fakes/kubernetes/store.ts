/*
 * The fake API server's object store: objects by resource, namespace and name, one global
 * resourceVersion counter (as etcd's revision), optimistic concurrency on writes, and change
 * events for ?watch=true streams and the controller, and a bounded history of those events so a
 * watch can resume from a resourceVersion ("API Concepts", efficient detection of changes:
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
 * The API server keeps a limited window of history (etcd compaction, the watch cache); a version
 * older than that window is answered with 410 Gone, which compact() lets tests provoke.
 */
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'

export interface KubeObject {
  apiVersion?: string
  kind?: string
  metadata: {
    name: string
    namespace?: string
    uid?: string
    resourceVersion?: string
    creationTimestamp?: string
    generation?: number
    labels?: Record<string, string>
    annotations?: Record<string, string>
    ownerReferences?: Array<Record<string, unknown>>
    [k: string]: unknown
  }
  spec?: any
  status?: any
  data?: Record<string, string>
  [k: string]: unknown
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED'

export interface StoreEvent {
  resource: string
  type: WatchEventType
  object: KubeObject
  /** the revision this change made (its object's resourceVersion) */
  revision: number
}

/** events kept for watches that resume from a resourceVersion (the API server keeps ~5 minutes) */
export const DEFAULT_HISTORY = 10_000

/** The reason and code of a store failure, turned into a Status body by the server. */
export class StoreError extends Error {
  readonly reason: string
  readonly code: number
  constructor (reason: string, code: number, message: string) {
    super(message)
    this.reason = reason
    this.code = code
  }
}

/** Kubernetes timestamps have whole seconds. */
export function kubeNow (): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export class ObjectStore {
  readonly events = new EventEmitter()
  private revision = 1
  private readonly objects = new Map<string, Map<string, KubeObject>>()
  private readonly history: StoreEvent[] = []
  private readonly maxHistory: number
  /** revisions at or below this are compacted away: a watch from them is 410 Gone */
  private compactedTo = 0

  constructor (maxHistory = DEFAULT_HISTORY) {
    this.events.setMaxListeners(0)
    this.maxHistory = maxHistory
  }

  /** The current revision as a number. */
  get revisionNumber (): number {
    return this.revision
  }

  /**
   * The changes after `from`, oldest first, or undefined when `from` is older than the kept
   * history (the caller answers 410 Gone, as the API server does for a compacted version).
   */
  since (from: number): StoreEvent[] | undefined {
    if (from < this.compactedTo) return undefined
    return this.history.filter((e) => e.revision > from)
  }

  /** Test hook: forget all history up to now, as etcd compaction does. */
  compact (): void {
    this.history.length = 0
    this.compactedTo = this.revision
  }

  get resourceVersion (): string {
    return String(this.revision)
  }

  private table (resource: string): Map<string, KubeObject> {
    let t = this.objects.get(resource)
    if (t === undefined) {
      t = new Map()
      this.objects.set(resource, t)
    }
    return t
  }

  private key (namespace: string | undefined, name: string): string {
    return `${namespace ?? ''}/${name}`
  }

  private emit (resource: string, type: WatchEventType, object: KubeObject): void {
    const event: StoreEvent = { resource, type, object: structuredClone(object), revision: this.revision }
    this.history.push(event)
    if (this.history.length > this.maxHistory) {
      const dropped = this.history.splice(0, this.history.length - this.maxHistory)
      this.compactedTo = Math.max(this.compactedTo, (dropped.at(-1) as StoreEvent).revision)
    }
    this.events.emit('change', event)
  }

  get (resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.table(resource).get(this.key(namespace, name))
    return o === undefined ? undefined : structuredClone(o)
  }

  /** The stored objects themselves, unsorted and not copied: for the fake's own controllers, which must not change them. */
  peek (resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = []
    for (const o of this.table(resource).values()) if (namespace === undefined || o.metadata.namespace === namespace) out.push(o)
    return out
  }

  list (resource: string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = []
    for (const o of this.table(resource).values()) {
      if (namespace === undefined || o.metadata.namespace === namespace) out.push(structuredClone(o))
    }
    return out.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  }

  create (resource: string, qualified: string, obj: KubeObject): KubeObject {
    const t = this.table(resource)
    const k = this.key(obj.metadata.namespace, obj.metadata.name)
    if (t.has(k)) throw new StoreError('AlreadyExists', 409, `${qualified} "${obj.metadata.name}" already exists`)
    const stored = structuredClone(obj)
    stored.metadata.uid = randomUUID()
    stored.metadata.creationTimestamp = kubeNow()
    stored.metadata.resourceVersion = String(++this.revision)
    if (stored.spec !== undefined) stored.metadata.generation = 1
    t.set(k, stored)
    this.emit(resource, 'ADDED', stored)
    return structuredClone(stored)
  }

  /**
   * Replaces an object. A resourceVersion in `obj` must match the stored one (409 Conflict
   * otherwise); none means an unconditional update. uid and creationTimestamp are kept, the
   * generation grows when the spec changes, and `status` is kept unless `withStatus` is set.
   */
  update (resource: string, qualified: string, obj: KubeObject, withStatus = false): KubeObject {
    const t = this.table(resource)
    const k = this.key(obj.metadata.namespace, obj.metadata.name)
    const cur = t.get(k)
    if (cur === undefined) throw new StoreError('NotFound', 404, `${qualified} "${obj.metadata.name}" not found`)
    const rv = obj.metadata.resourceVersion
    if (rv !== undefined && rv !== '' && rv !== cur.metadata.resourceVersion) {
      throw new StoreError('Conflict', 409, `Operation cannot be fulfilled on ${qualified} "${obj.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`)
    }
    const next = structuredClone(obj)
    next.metadata.uid = cur.metadata.uid
    next.metadata.creationTimestamp = cur.metadata.creationTimestamp
    if (!withStatus && cur.status !== undefined) next.status = cur.status
    if (cur.spec !== undefined || next.spec !== undefined) {
      const gen = cur.metadata.generation ?? 1
      next.metadata.generation = JSON.stringify(cur.spec) === JSON.stringify(next.spec) ? gen : gen + 1
    }
    next.metadata.resourceVersion = String(++this.revision)
    t.set(k, next)
    this.emit(resource, 'MODIFIED', next)
    return structuredClone(next)
  }

  delete (resource: string, qualified: string, namespace: string | undefined, name: string): KubeObject {
    const t = this.table(resource)
    const k = this.key(namespace, name)
    const cur = t.get(k)
    if (cur === undefined) throw new StoreError('NotFound', 404, `${qualified} "${name}" not found`)
    t.delete(k)
    cur.metadata.resourceVersion = String(++this.revision)
    this.emit(resource, 'DELETED', cur)
    return structuredClone(cur)
  }

  /** Everything in a namespace goes with it. */
  deleteNamespaceContents (namespace: string): void {
    for (const [resource, t] of this.objects) {
      for (const o of [...t.values()]) {
        // a controller reacting to an earlier delete may have removed it already
        if (o.metadata.namespace === namespace && t.has(this.key(namespace, o.metadata.name))) this.delete(resource, resource, namespace, o.metadata.name)
      }
    }
  }
}
