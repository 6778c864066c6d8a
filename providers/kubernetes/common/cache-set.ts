/*
 * The informers of one Kubernetes-based driver: one per (resource, namespace), made on first use
 * and started at once (a namespace created at run time gets its caches when first read), plus
 * the count of reads that had to go to the API because a cache could not be trusted. The driver
 * owns it and closes it; reports() is what Driver.caches() returns.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import type { CacheReport } from '../../../src/core/driver.ts'
import { Informer, type InformerOptions, type KubeListed, type NamedObject } from './informer.ts'

/** How one resource is listed and watched in a namespace. */
export interface CachedResource<T> {
  resource: string
  path: (namespace: string) => string
  labelSelector?: string
  list: (namespace: string) => Promise<KubeListed<T>>
}

export interface CacheSetOptions {
  config: KubeConfig
  staleAfterMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  now?: () => number
  onError?: (err: unknown, where: { resource: string, namespace: string, what: 'list' | 'watch' }) => void
}

export class CacheSet {
  private readonly opts: CacheSetOptions
  private readonly informers = new Map<string, Informer<NamedObject>>()
  private readonly fallbacks = new Map<string, number>()
  private closed = false

  constructor (opts: CacheSetOptions) {
    this.opts = opts
  }

  /** The informer of `spec` in `namespace`, started on first use. */
  informer<T extends NamedObject> (spec: CachedResource<T>, namespace: string): Informer<T> {
    const key = `${spec.resource}/${namespace}`
    let inf = this.informers.get(key) as Informer<T> | undefined
    if (inf === undefined) {
      const o: InformerOptions<T> = {
        resource: spec.resource,
        namespace,
        path: spec.path(namespace),
        list: async () => await spec.list(namespace),
        config: this.opts.config,
        ...(spec.labelSelector !== undefined ? { labelSelector: spec.labelSelector } : {}),
        ...(this.opts.staleAfterMs !== undefined ? { staleAfterMs: this.opts.staleAfterMs } : {}),
        ...(this.opts.backoffBaseMs !== undefined ? { backoffBaseMs: this.opts.backoffBaseMs } : {}),
        ...(this.opts.backoffMaxMs !== undefined ? { backoffMaxMs: this.opts.backoffMaxMs } : {}),
        ...(this.opts.now !== undefined ? { now: this.opts.now } : {}),
        onError: (err, what) => { this.opts.onError?.(err, { resource: spec.resource, namespace, what }) }
      }
      inf = new Informer<T>(o)
      this.informers.set(key, inf as unknown as Informer<NamedObject>)
      if (!this.closed) inf.start()
    }
    return inf
  }

  /** A read of `resource` in `namespace` went to the API instead of the cache. */
  /**
   * The namespace's cache of `spec` when it may answer for `name` (for every object when name is
   * undefined); otherwise undefined, and the read that goes to the API instead is counted.
   */
  trusted<T extends NamedObject> (spec: CachedResource<T>, namespace: string, name?: string): Informer<T> | undefined {
    if (this.closed) return undefined
    const inf = this.informer(spec, namespace)
    if (name !== undefined ? inf.trusted(name) : inf.trustedAll()) return inf
    this.fallback(spec.resource, namespace)
    return undefined
  }

  fallback (resource: string, namespace: string): void {
    const key = `${resource}/${namespace}`
    this.fallbacks.set(key, (this.fallbacks.get(key) ?? 0) + 1)
  }

  /** Waits (bounded) until every informer made so far has listed once; true when all did. */
  async waitForSync (timeoutMs: number): Promise<boolean> {
    const all = await Promise.all([...this.informers.values()].map(async (i) => await i.waitForSync(timeoutMs)))
    return all.every(Boolean)
  }

  reports (): CacheReport[] {
    return [...this.informers.values()].map((i) => {
      const s = i.stats()
      return {
        resource: s.resource,
        namespace: s.namespace,
        state: s.state,
        lastSyncAt: s.lastSyncAt,
        events: s.events,
        bookmarks: s.bookmarks,
        relists: s.relists,
        reconnects: s.reconnects,
        fallbacks: this.fallbacks.get(`${s.resource}/${s.namespace}`) ?? 0,
        objects: s.objects
      }
    })
  }

  async close (): Promise<void> {
    this.closed = true
    await Promise.all([...this.informers.values()].map(async (i) => { await i.stop() }))
  }
}
