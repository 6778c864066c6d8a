/*
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does it
 * (k8s.io/client-go/tools/leaderelection): every retry period each candidate reads the Lease; the
 * holder renews it (replace with the resourceVersion it read, so two writers cannot both win: the
 * API server answers 409 to the second); a candidate takes it only when the holder is empty or the
 * record has not changed for leaseDurationSeconds *as observed on the candidate's own clock* (no
 * trust in other machines' clocks). A leader that has not renewed within the renew deadline stops
 * leading before anyone else may take over (renew deadline < lease duration). stop() releases the
 * Lease (holder emptied) so a successor takes over on its next retry instead of waiting.
 */
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node'
import { isKubeCode } from './errors.ts'
import { makeKubeApi, MIN_KUBE_REQUEST_TIMEOUT_MS } from './transport.ts'

export interface LeaseElectionOptions {
  name: string
  namespace: string
  identity: string
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
}

export interface LeaseLogger {
  info: (obj: unknown, msg?: string) => void
  warn: (obj: unknown, msg?: string) => void
}

/** "leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0", as client-go checks; the message names the wrong pair. */
export function leaseTimingProblem (o: Pick<LeaseElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): string | undefined {
  if (!(o.retryPeriodMs > 0)) return 'the retry period must be above 0'
  if (o.leaseDurationMs < 1000) return 'the lease duration must be at least 1s (a Lease counts whole seconds)'
  if (!(o.leaseDurationMs > o.renewDeadlineMs)) return 'the lease duration must be longer than the renew deadline'
  if (!(o.renewDeadlineMs > o.retryPeriodMs)) return 'the renew deadline must be longer than the retry period'
  return undefined
}

/**
 * What identifies one write of a Lease's record: holder, renewTime and transitions. A candidate
 * notes on its own clock when this last changed; unchanged for leaseDurationSeconds = expired.
 * Shared with the run slots (lease-slots.ts).
 */
export function leaseRecordKey (spec: V1Lease['spec']): string {
  // renewTime as ms: the typed client gives a Date, a raw watch event the RFC 3339 text
  const t = spec?.renewTime as Date | string | undefined
  const renewed = t instanceof Date ? t.getTime() : Date.parse(t ?? '')
  return JSON.stringify([spec?.holderIdentity ?? '', Number.isNaN(renewed) ? '' : renewed, spec?.leaseTransitions ?? 0])
}

export class LeaseElector {
  private readonly api: CoordinationV1Api
  private readonly opts: LeaseElectionOptions
  private readonly logger: LeaseLogger
  private readonly now: () => number
  private readonly listeners = new Set<(leading: boolean) => void>()
  /** the record as last read, and when (local clock) it last changed */
  private observedKey = ''
  private observedAt = 0
  private holder: string | undefined
  /** local time at which our last successful acquire or renew began */
  private renewedAt = Number.NEGATIVE_INFINITY
  private notified = false
  private timer: NodeJS.Timeout | undefined
  private wakeUp: (() => void) | undefined
  private loop: Promise<void> | undefined
  private stopped = false
  private failing = false

  constructor (config: KubeConfig, opts: LeaseElectionOptions, logger: LeaseLogger, now: () => number = Date.now) {
    const problem = leaseTimingProblem(opts)
    if (problem !== undefined) throw new Error(`leader election: ${problem}`)
    this.opts = opts
    this.logger = logger
    this.now = now
    // one attempt may take at most the renew deadline (as client-go bounds its renew calls)
    this.api = makeKubeApi(config, CoordinationV1Api, { timeoutMs: Math.max(MIN_KUBE_REQUEST_TIMEOUT_MS, opts.renewDeadlineMs) })
  }

  get identity (): string {
    return this.opts.identity
  }

  /** Leading: we hold the Lease and renewed it less than the renew deadline ago. */
  isLeader (): boolean {
    return !this.stopped && this.now() - this.renewedAt < this.opts.renewDeadlineMs
  }

  /** the holder as last read (ourselves while leading) */
  leader (): string | undefined {
    return this.isLeader() ? this.opts.identity : this.holder
  }

  onChange (listener: (leading: boolean) => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  start (): void {
    if (this.loop !== undefined || this.stopped) return
    const step = async (): Promise<void> => {
      await this.attempt()
      this.notify()
      if (this.stopped) return
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve
        this.timer = setTimeout(resolve, this.opts.retryPeriodMs)
        this.timer.unref()
      })
      this.timer = undefined
      this.wakeUp = undefined
      if (!this.stopped) await step()
    }
    this.loop = step()
  }

  /** Stops trying; when holding the Lease, releases it (holder emptied) so a peer takes it at once. */
  async stop (): Promise<void> {
    const wasLeading = this.isLeader()
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.wakeUp?.()
    await this.loop?.catch(() => {})
    this.notify()
    if (wasLeading) await this.release()
  }

  private notify (): void {
    const leading = this.isLeader()
    if (leading === this.notified) return
    this.notified = leading
    this.logger.info({ identity: this.opts.identity, lease: `${this.opts.namespace}/${this.opts.name}` }, leading ? 'leader election: leading' : 'leader election: not leading')
    for (const l of this.listeners) l(leading)
  }

  private get leaseSeconds (): number {
    return Math.ceil(this.opts.leaseDurationMs / 1000)
  }

  /** One try to acquire or renew; failures are logged once per streak and retried next period. */
  private async attempt (): Promise<void> {
    const began = this.now()
    const { name, namespace, identity } = this.opts
    try {
      let lease: V1Lease
      try {
        lease = await this.api.readNamespacedLease({ name, namespace })
      } catch (err) {
        if (!isKubeCode(err, 404)) throw err
        const created = await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds: this.leaseSeconds, acquireTime: new V1MicroTime(began), renewTime: new V1MicroTime(began), leaseTransitions: 0 }
          }
        })
        this.won(created, began)
        return
      }
      const spec = lease.spec ?? {}
      const holder = spec.holderIdentity ?? ''
      const key = leaseRecordKey(spec)
      if (key !== this.observedKey) {
        this.observedKey = key
        this.observedAt = began
      }
      this.holder = holder === '' ? undefined : holder
      const durationMs = (spec.leaseDurationSeconds ?? this.leaseSeconds) * 1000
      if (holder !== '' && holder !== identity && began < this.observedAt + durationMs) {
        this.renewedAt = Number.NEGATIVE_INFINITY
        this.ok()
        return
      }
      const transitions = spec.leaseTransitions ?? 0
      const renewing = holder === identity
      const next: V1Lease = {
        ...lease,
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds: this.leaseSeconds,
          acquireTime: renewing && spec.acquireTime !== undefined ? new V1MicroTime(spec.acquireTime) : new V1MicroTime(began),
          renewTime: new V1MicroTime(began),
          leaseTransitions: renewing ? transitions : transitions + 1
        }
      }
      // the resourceVersion read above rides along: a concurrent writer makes this a 409
      const updated = await this.api.replaceNamespacedLease({ name, namespace, body: next })
      this.won(updated, began)
    } catch (err) {
      if (isKubeCode(err, 409)) {
        // another candidate wrote first: it leads (we learn who on the next read)
        this.renewedAt = Number.NEGATIVE_INFINITY
        return
      }
      if (!this.failing) this.logger.warn({ err, lease: `${namespace}/${name}` }, 'leader election: cannot read or write the Lease; retrying')
      this.failing = true
    }
  }

  private won (lease: V1Lease, began: number): void {
    this.renewedAt = began
    this.holder = this.opts.identity
    const spec = lease.spec ?? {}
    this.observedKey = leaseRecordKey(spec)
    this.observedAt = began
    this.ok()
  }

  private ok (): void {
    if (this.failing) this.logger.info({ lease: `${this.opts.namespace}/${this.opts.name}` }, 'leader election: the Lease is reachable again')
    this.failing = false
  }

  private async release (): Promise<void> {
    const { name, namespace, identity } = this.opts
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace })
      if (lease.spec?.holderIdentity !== identity) return
      const at = new V1MicroTime(this.now())
      // as client-go's ReleaseOnCancel: empty holder, 1 s duration
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: at, renewTime: at, leaseTransitions: lease.spec?.leaseTransitions ?? 0 } }
      })
      this.holder = undefined
      this.logger.info({ identity, lease: `${namespace}/${name}` }, 'leader election: released the Lease')
    } catch (err) {
      this.logger.warn({ err, lease: `${namespace}/${name}` }, 'leader election: could not release the Lease; a peer takes over when it expires')
    }
  }
}
