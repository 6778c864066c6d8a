/*
 * Ready endpoints per Service from the EndpointSlice informers, for the endpoints invoke mode:
 * computed once per change, not per request. A slice event for a Service forgets that Service's
 * list (so a pod that stops being ready is out after that one event); a re-list forgets the
 * namespace's. While the namespace's slice cache cannot be trusted the source answers undefined
 * and the resolver lists the slices from the API.
 */
import type { V1EndpointSlice } from '@kubernetes/client-node'
import type { Informer } from './common/informer.ts'
import { readyAddresses } from './invoke.ts'
import { SERVICE_NAME_LABEL } from './cache.ts'

export class CachedEndpoints {
  private readonly informerOf: (namespace: string) => Informer<V1EndpointSlice>
  private readonly onFallback: (namespace: string) => void
  private readonly ready = new Map<string, Map<string, readonly string[]>>()
  private readonly hooked = new Set<string>()

  constructor (informerOf: (namespace: string) => Informer<V1EndpointSlice>, onFallback: (namespace: string) => void) {
    this.informerOf = informerOf
    this.onFallback = onFallback
  }

  private hook (namespace: string, inf: Informer<V1EndpointSlice>): void {
    if (this.hooked.has(namespace)) return
    this.hooked.add(namespace)
    inf.on((type, slice) => {
      const services = this.ready.get(namespace)
      if (services === undefined) return
      const name = slice?.metadata?.labels?.[SERVICE_NAME_LABEL]
      if (type === 'RESYNC' || name === undefined) services.clear()
      else services.delete(name)
    })
  }

  /** Sorted ready addresses of Service `name`, or undefined when the cache cannot answer. */
  readonly lookup = (namespace: string, name: string): readonly string[] | undefined => {
    const inf = this.informerOf(namespace)
    this.hook(namespace, inf)
    if (!inf.fresh()) {
      this.onFallback(namespace)
      return undefined
    }
    let services = this.ready.get(namespace)
    if (services === undefined) {
      services = new Map()
      this.ready.set(namespace, services)
    }
    let ips = services.get(name)
    if (ips === undefined) {
      ips = readyAddresses(inf.list().filter((s) => s.metadata?.labels?.[SERVICE_NAME_LABEL] === name))
      services.set(name, ips)
    }
    return ips
  }
}
