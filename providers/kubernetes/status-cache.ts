/*
 * The function list of one namespace as read from the informer caches, mapped once per change
 * instead of once per request: with 1,000 functions, mapping every Deployment (and its pods) to a
 * FunctionStatus on each GET /system/functions was most of the request's CPU time and garbage.
 *
 *  - while neither cache changed (Informer.version), the same list is returned;
 *  - after a change, a function's status is mapped again only when its Deployment object or one
 *    of its Pod objects is not the one it was mapped from (the informer replaces an object on
 *    every event, so identity says "changed"); the order is sorted again only when the set of
 *    functions changed.
 *
 * Everything returned is frozen: it is shared by every caller, and a frozen list tells the HTTP
 * layer (src/api/frozen-json.ts) that its items' JSON may be kept too.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import type { FunctionStatus } from '../../src/core/types.ts'
import type { Informer } from './common/informer.ts'
import type { Label } from './common/secrets.ts'
import { podsByFunction, toFunctionStatus } from './status.ts'

interface Entry {
  dep: V1Deployment
  pods: readonly V1Pod[]
  status: FunctionStatus
}

const NO_PODS: readonly V1Pod[] = Object.freeze([])

function samePods (a: readonly V1Pod[], b: readonly V1Pod[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** A status and the objects and arrays in it, frozen (one level deep is all a status has). */
export function freezeStatus (s: FunctionStatus): FunctionStatus {
  for (const v of Object.values(s)) if (typeof v === 'object' && v !== null) Object.freeze(v)
  return Object.freeze(s)
}

export class StatusCache {
  private readonly managedBy: Label
  private readonly isFunction: (dep: V1Deployment) => boolean
  private entries = new Map<string, Entry>()
  private sorted: readonly FunctionStatus[] = Object.freeze([])
  private seen: { deployments: number, pods: number } | undefined

  constructor (managedBy: Label, isFunction: (dep: V1Deployment) => boolean) {
    this.managedBy = managedBy
    this.isFunction = isFunction
  }

  /** The namespace's functions sorted by name; the caller has checked that both caches may answer. */
  list (deployments: Informer<V1Deployment>, pods: Informer<V1Pod>): readonly FunctionStatus[] {
    if (this.seen?.deployments === deployments.version && this.seen.pods === pods.version) return this.sorted
    const seen = { deployments: deployments.version, pods: pods.version }
    const byFunction = podsByFunction(pods.list())
    const next = new Map<string, Entry>()
    let membershipChanged = false
    for (const dep of deployments.list()) {
      if (!this.isFunction(dep)) continue
      const name = dep.metadata?.name ?? ''
      const fnPods = byFunction.get(name) ?? NO_PODS
      const old = this.entries.get(name)
      if (old === undefined) membershipChanged = true
      next.set(name, old !== undefined && old.dep === dep && samePods(old.pods, fnPods)
        ? old
        : { dep, pods: fnPods, status: freezeStatus(toFunctionStatus(dep, fnPods, this.managedBy)) })
    }
    if (next.size !== this.entries.size) membershipChanged = true
    const order = membershipChanged
      ? [...next.keys()].sort((a, b) => a.localeCompare(b))
      : this.sorted.map((s) => s.name)
    this.entries = next
    this.sorted = Object.freeze(order.map((n) => (next.get(n) as Entry).status))
    this.seen = seen
    return this.sorted
  }
}
