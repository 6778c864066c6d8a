/*
 * A counting semaphore over coordination.k8s.io/v1 Leases, for a maximum that must hold across
 * provider replicas: a key (one function) has `limit` slots, slot i is the Lease named
 * slotLeaseName(key, i), and holding slot i means having created that Lease. The API server makes
 * the claim atomic: of two replicas that create the same name in the same round trip one gets 201
 * and the other 409 AlreadyExists ("API Concepts", https://kubernetes.io/docs/reference/using-api/api-concepts/).
 *  - claim(): CREATE slot 0, 1, ... limit-1 in turn, skipping those this process holds or is
 *    creating (201 = ours, 409 = taken, next; n calls at once through one replica cost n creates,
 *    not n²/2). All taken: one
 *    LIST of the key's slot Leases; a missing one is created, an expired one taken over by UPDATE
 *    with the resourceVersion read (409 Conflict = another claimer won); otherwise a WATCH of those
 *    Leases from the LIST's resourceVersion until one is deleted or the first may expire, then again.
 *  - expiry as lease.ts (client-go's leaderelection): a Lease whose record (holder, renewTime,
 *    transitions) has not changed for its leaseDurationSeconds *on the claimer's own clock* is the
 *    slot of a holder that died (SIGKILL, lost node); no trust in other machines' clocks.
 *  - the holder renews (UPDATE renewTime) every third of the duration; a renewal whose outcome is
 *    unknown or that conflicts reads the Lease back (GET) and goes on if it is still ours.
 *  - release(): DELETE with preconditions uid + resourceVersion of our last write, so a Lease taken
 *    over meanwhile (409) or already gone (404) is never someone else's loss.
 * Slots at index >= limit are never claimed: lowering the limit takes effect as their runs end.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease, type V1LeaseList } from '@kubernetes/client-node'
import { isKubeCode, kubeCall, toProviderError } from './errors.ts'
import { leaseRecordKey } from './lease.ts'
import { makeKubeApi, type KubeRetryPolicy } from './transport.ts'
import { watchStream } from './watch-stream.ts'

export const LEASES_RESOURCE = 'leases.coordination.k8s.io'
/** DNS-1123 subdomain: what a Lease's name must be */
const MAX_NAME = 253
const SLOT_SUFFIX = '-slot-'
/** pause before a watch that ended without news is opened again (doubling up to the max) */
const REWATCH_MIN_MS = 25
const REWATCH_MAX_MS = 1000

export interface SlotLogger {
  warn: (obj: unknown, msg?: string) => void
}

export interface LeaseSlotsOptions {
  /** a slot not renewed for this long is free (whole seconds on the Lease) */
  leaseDurationMs: number
  /** this process, in holderIdentity (the call's id is appended) */
  identity: string
  /** the labels of a key's slot Leases (they select them for LIST, WATCH and removal) */
  labels: (key: string) => Record<string, string>
  logger: SlotLogger
  /** the local clock of expiry (tests inject one) */
  now?: () => number
}

/**
 * Slot `index` of `key`: "<key>-slot-<index>", or, when that would be longer than a Lease name may
 * be, the key cut short plus a hash of all of it (still deterministic, still one name per slot).
 */
export function slotLeaseName (key: string, index: number): string {
  const suffix = `${SLOT_SUFFIX}${index}`
  if (key.length + suffix.length <= MAX_NAME) return `${key}${suffix}`
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 16)
  const head = key.slice(0, MAX_NAME - suffix.length - hash.length - 1).replace(/[-.]+$/, '')
  return `${head}-${hash}${suffix}`
}

function selectorOf (labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',')
}

/** A claimed slot: renewed until release(). */
export interface SlotClaim {
  readonly name: string
  readonly index: number
  /** false once a renewal found the Lease taken over or gone */
  held: () => boolean
  /** stops the renewals and deletes the Lease (never throws; a failure leaves it to expire) */
  release: () => Promise<void>
}

export class LeaseSlots {
  private readonly api: CoordinationV1Api
  private readonly opts: LeaseSlotsOptions
  private readonly now: () => number
  private readonly config: KubeConfig
  /** namespace/name → the record last seen and when it changed (local clock) */
  private readonly observed = new Map<string, { key: string, at: number }>()
  private readonly releases = new Set<Promise<void>>()
  /**
   * namespace/name of the slots this process holds or is creating: its own concurrent claims try
   * different slots (without it, n calls at once each CREATE slot 0, 1, … in turn: n²/2 409s)
   */
  private readonly mine = new Set<string>()

  constructor (config: KubeConfig, policy: Partial<KubeRetryPolicy>, opts: LeaseSlotsOptions) {
    if (!(opts.leaseDurationMs >= 1000)) throw new Error('run slots: the lease duration must be at least 1s (a Lease counts whole seconds)')
    this.config = config
    this.api = makeKubeApi(config, CoordinationV1Api, policy)
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  private get seconds (): number {
    return Math.ceil(this.opts.leaseDurationMs / 1000)
  }

  /** Resolves with a slot of `key` (below `limit`); rejects when `signal` aborts or the API fails. */
  async claim (namespace: string, key: string, limit: number, holder: string, signal: AbortSignal): Promise<SlotClaim> {
    const labels = this.opts.labels(key)
    const selector = selectorOf(labels)
    const identity = `${this.opts.identity}/${holder}`
    let candidates = Array.from({ length: limit }, (_v, i) => i)
    let pause = REWATCH_MIN_MS
    // bounded by `signal` (the call's timeout): every round ends in a claim, an abort or a wait
    for (;;) {
      signal.throwIfAborted()
      for (const i of candidates) {
        const name = slotLeaseName(key, i)
        const id = `${namespace}/${name}`
        if (this.mine.has(id)) continue
        this.mine.add(id)
        let lease: V1Lease | undefined
        try {
          lease = await this.create(namespace, name, labels, identity)
        } finally {
          if (lease === undefined) this.mine.delete(id)
        }
        if (lease !== undefined) return this.hold(namespace, i, lease, identity)
      }
      signal.throwIfAborted()
      const list = await kubeCall({ verb: 'list', resource: LEASES_RESOURCE, namespace },
        async () => await this.api.listNamespacedLease({ namespace, labelSelector: selector }))
      const byName = new Map(list.items.map((l) => [l.metadata?.name ?? '', l]))
      const now = this.now()
      candidates = []
      let nextExpiry = Number.POSITIVE_INFINITY
      for (let i = 0; i < limit; i++) {
        const name = slotLeaseName(key, i)
        const id = `${namespace}/${name}`
        const lease = byName.get(name)
        if (lease === undefined) {
          this.observed.delete(id)
          // one this process is creating right now is not free (and would make this loop spin)
          if (!this.mine.has(id)) candidates.push(i)
          continue
        }
        const expiry = this.expiryOf(namespace, lease, now)
        if (expiry <= now && !this.mine.has(id)) {
          const taken = await this.takeOver(namespace, lease, identity)
          if (taken !== undefined) return this.hold(namespace, i, taken, identity)
        } else {
          nextExpiry = Math.min(nextExpiry, expiry)
        }
      }
      if (candidates.length > 0) continue
      const slotNames = new Set(Array.from({ length: limit }, (_v, i) => slotLeaseName(key, i)))
      const freed = await this.waitForChange(namespace, selector, list, slotNames, nextExpiry - now, signal)
      if (freed === undefined) {
        // the watch ended or failed without news: pause (growing) so a failing watch cannot spin
        await sleep(pause, undefined, { signal })
        pause = Math.min(REWATCH_MAX_MS, pause * 2)
      } else {
        pause = REWATCH_MIN_MS
        for (const name of freed) candidates.push(Number(name.slice(name.lastIndexOf(SLOT_SUFFIX) + SLOT_SUFFIX.length)))
      }
    }
  }

  /** Deletes every slot Lease of `key` (the function is gone); held ones included. */
  async removeAll (namespace: string, key: string): Promise<void> {
    const labelSelector = selectorOf(this.opts.labels(key))
    const list = await kubeCall({ verb: 'list', resource: LEASES_RESOURCE, namespace },
      async () => await this.api.listNamespacedLease({ namespace, labelSelector }))
    for (const l of list.items) {
      const name = l.metadata?.name ?? ''
      try {
        await this.api.deleteNamespacedLease({ name, namespace })
      } catch (err) {
        if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'delete', resource: LEASES_RESOURCE, namespace, name })
      }
      this.observed.delete(`${namespace}/${name}`)
    }
  }

  /** Waits for releases under way (close). */
  async idle (): Promise<void> {
    await Promise.allSettled([...this.releases])
  }

  private lease (namespace: string, name: string, labels: Record<string, string>, identity: string): V1Lease {
    const at = new V1MicroTime(this.now())
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, labels },
      spec: { holderIdentity: identity, leaseDurationSeconds: this.seconds, acquireTime: at, renewTime: at, leaseTransitions: 0 }
    }
  }

  /** CREATE: the Lease when ours, undefined when the slot is taken (409). */
  private async create (namespace: string, name: string, labels: Record<string, string>, identity: string): Promise<V1Lease | undefined> {
    try {
      return await this.api.createNamespacedLease({ namespace, body: this.lease(namespace, name, labels, identity) })
    } catch (err) {
      if (isKubeCode(err, 409)) return undefined
      throw toProviderError(err, { verb: 'create', resource: LEASES_RESOURCE, namespace, name })
    }
  }

  /** UPDATE of an expired Lease with the resourceVersion read: ours, or undefined when another claimer won (409) or it is gone (404). */
  private async takeOver (namespace: string, lease: V1Lease, identity: string): Promise<V1Lease | undefined> {
    const name = lease.metadata?.name ?? ''
    const at = new V1MicroTime(this.now())
    const body: V1Lease = {
      ...lease,
      spec: { holderIdentity: identity, leaseDurationSeconds: this.seconds, acquireTime: at, renewTime: at, leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 }
    }
    try {
      return await this.api.replaceNamespacedLease({ name, namespace, body })
    } catch (err) {
      if (isKubeCode(err, 409) || isKubeCode(err, 404)) return undefined
      throw toProviderError(err, { verb: 'update', resource: LEASES_RESOURCE, namespace, name })
    }
  }

  /** When (local clock) `lease` expires: its record unchanged for its duration since we first saw it so; a released holder (empty) at once. */
  private expiryOf (namespace: string, lease: V1Lease, now: number): number {
    const id = `${namespace}/${lease.metadata?.name ?? ''}`
    const key = leaseRecordKey(lease.spec)
    let seen = this.observed.get(id)
    if (seen?.key !== key) {
      seen = { key, at: now }
      this.observed.set(id, seen)
    }
    if ((lease.spec?.holderIdentity ?? '') === '') return now
    return seen.at + (lease.spec?.leaseDurationSeconds ?? this.seconds) * 1000
  }

  /**
   * WATCH the key's slot Leases from the LIST's resourceVersion: resolves with the names of slots
   * deleted, or undefined when the watch ended or failed, or when `untilMs` passed (a slot may
   * have expired: the caller lists again). Renewals seen meanwhile are observed (they keep a slot).
   */
  private async waitForChange (namespace: string, labelSelector: string, list: V1LeaseList, slots: Set<string>, untilMs: number, signal: AbortSignal): Promise<string[] | undefined> {
    signal.throwIfAborted()
    return await new Promise<string[] | undefined>((resolve, reject) => {
      let settled = false
      let watch: AbortController | undefined
      const finish = (v: string[] | undefined, err?: unknown): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        watch?.abort()
        if (err !== undefined) reject(err)
        else resolve(v)
      }
      const onAbort = (): void => { finish(undefined, signal.reason) }
      // an expiry a few ms late is harmless; the bound keeps a wait from outliving a lost event
      const timer = setTimeout(() => { finish(undefined) }, Math.max(0, Math.min(untilMs + 10, this.opts.leaseDurationMs)))
      signal.addEventListener('abort', onAbort, { once: true })
      const query: Record<string, string> = { labelSelector, allowWatchBookmarks: 'true' }
      if (list.metadata?.resourceVersion !== undefined) query.resourceVersion = list.metadata.resourceVersion
      void watchStream(this.config, `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`, query, (type, object) => {
        const lease = object as V1Lease
        const name = lease.metadata?.name ?? ''
        if (type === 'ERROR') { finish(undefined); return }
        if (!slots.has(name)) return
        if (type === 'DELETED') {
          this.observed.delete(`${namespace}/${name}`)
          finish([name])
        } else if (type === 'MODIFIED' || type === 'ADDED') {
          if ((lease.spec?.holderIdentity ?? '') === '') finish(undefined)
          else this.expiryOf(namespace, lease, this.now())
        }
      }, () => { finish(undefined) }).then((ac) => {
        watch = ac
        if (settled) ac.abort()
      })
    })
  }

  private hold (namespace: string, index: number, first: V1Lease, identity: string): SlotClaim {
    const name = first.metadata?.name ?? ''
    this.mine.add(`${namespace}/${name}`)
    let lease = first
    let held = true
    let renewing: Promise<void> | undefined
    const renew = async (): Promise<void> => {
      const body = (cur: V1Lease): V1Lease => ({ ...cur, spec: { ...cur.spec, holderIdentity: identity, renewTime: new V1MicroTime(this.now()) } })
      try {
        lease = await this.api.replaceNamespacedLease({ name, namespace, body: body(lease) })
        return
      } catch (err) {
        if (isKubeCode(err, 404)) { held = false; return }
        if (!isKubeCode(err, 409)) this.opts.logger.warn({ err: (err as Error).message, lease: `${namespace}/${name}` }, 'run slot: renewal failed; reading the Lease back')
      }
      // a conflict, or a write whose outcome is unknown: still ours (our own write went through)?
      try {
        const cur = await this.api.readNamespacedLease({ name, namespace })
        if (cur.spec?.holderIdentity !== identity) {
          held = false
          this.opts.logger.warn({ lease: `${namespace}/${name}`, holder: cur.spec?.holderIdentity }, 'run slot: taken over by another claimer (this holder did not renew within the lease duration); the run goes on')
          return
        }
        lease = await this.api.replaceNamespacedLease({ name, namespace, body: body(cur) })
      } catch (err) {
        if (isKubeCode(err, 404)) held = false
        else this.opts.logger.warn({ err: (err as Error).message, lease: `${namespace}/${name}` }, 'run slot: renewal failed; retrying at the next interval')
      }
    }
    const timer = setInterval(() => {
      if (renewing !== undefined || !held) return
      renewing = renew().finally(() => { renewing = undefined })
    }, Math.max(100, Math.floor(this.opts.leaseDurationMs / 3)))
    timer.unref()
    let released: Promise<void> | undefined
    const release = async (): Promise<void> => {
      clearInterval(timer)
      await renewing
      try {
        await deleteLease()
      } finally {
        this.mine.delete(`${namespace}/${name}`)
      }
    }
    const deleteLease = async (): Promise<void> => {
      if (!held) return
      held = false
      try {
        await this.api.deleteNamespacedLease({
          name,
          namespace,
          body: { preconditions: { uid: lease.metadata?.uid, resourceVersion: lease.metadata?.resourceVersion } }
        })
      } catch (err) {
        if (!isKubeCode(err, 404) && !isKubeCode(err, 409)) {
          this.opts.logger.warn({ err: (err as Error).message, lease: `${namespace}/${name}` }, 'run slot: could not release the Lease; it frees itself when it expires')
        }
      }
    }
    return {
      name,
      index,
      held: () => held,
      release: async () => {
        if (released === undefined) {
          released = release()
          this.releases.add(released)
          void released.finally(() => { if (released !== undefined) this.releases.delete(released) })
        }
        await released
      }
    }
  }
}
