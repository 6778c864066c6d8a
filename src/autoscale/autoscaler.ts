/*
 * The autoscaler: on a fixed interval it lists the functions of every backend it scales, samples
 * their load (counted by the invoke proxy), asks the policy (./policy.ts) for the desired count and
 * acts through the Driver only — `scale`, the same call as POST /system/scale-function, and the
 * optional `park` for scale to zero. It also wakes sleeping functions on their first request
 * (`wake`, called by the invoke path), holding every concurrent request on one wake.
 *
 * Which backends: those that do not scale on their own (local and kubernetes by default) are
 * scaled; the others (lambda, cloudrun, openfaas, plugins) are only reported in /metrics. Each
 * backend's mode can be set in the config file (`autoscale: scale | report | off`).
 *
 * Several replicas (src/core/coordination.ts): every replica lists, counts its own load and wakes
 * sleepers on their first request; only the leader decides and writes scale/park, on the sum of
 * every replica's load (cluster-load.ts), read on each of its ticks. A peer that did not answer
 * makes the leader hold that tick (never a decision on missing data). A replica that has just
 * become leader starts its decision state afresh from the cluster's replica counts, so it parks
 * nothing before a whole zero-duration of load it has seen itself.
 */
import type { Backend, Backends } from '../core/backends.ts'
import { SingleProcess, type Coordination, type FunctionLoad } from '../core/coordination.ts'
import { isProviderError } from '../core/errors.ts'
import type { FunctionStatus } from '../core/types.ts'
import type { Autoscaling, LoadCounter } from '../proxy/invoker.ts'
import { ClusterLoad } from './cluster-load.ts'
import { LoadMeter, LoadWindow } from './load.ts'
import { decide, initialState, policyFor, type Action, type Decision, type DecisionState, type Load, type Policy } from './policy.ts'

export type BackendMode = 'scale' | 'report' | 'off'
export const BACKEND_MODES: readonly BackendMode[] = ['scale', 'report', 'off']

/** Driver kinds that do not scale functions themselves: the autoscaler scales them by default. */
export const SCALED_KINDS: readonly string[] = ['local', 'kubernetes']

export function defaultMode (driverKind: string): BackendMode {
  return SCALED_KINDS.includes(driverKind) ? 'scale' : 'report'
}

/** how often the autoscaler decides (env autoscale_interval) */
export const DEFAULT_INTERVAL_MS = 2000
/** the rate window: CE's alert rule reads rate(...[10s]) */
export const DEFAULT_WINDOW_MS = 10_000
/** a higher count must be asked for this long before scaling up (CE's `for: 5s`) */
export const DEFAULT_UP_STABILISATION_MS = 5000
/** a lower count must be asked for this long before scaling down */
export const DEFAULT_DOWN_STABILISATION_MS = 30_000
/** report-only backends are listed every Nth tick (a cloud API call each) */
export const DEFAULT_REPORT_EVERY = 15
/** the wake path polls for a ready instance this often at first, backing off to WAKE_POLL_MAX_MS */
const WAKE_POLL_MIN_MS = 1
const WAKE_POLL_MAX_MS = 25

export interface AutoscaleLogger {
  info (obj: unknown, msg?: string): void
  warn (obj: unknown, msg?: string): void
}

export interface AutoscalerOptions {
  backends: Backends
  /** per backend name; a backend not named gets defaultMode(driver.kind) */
  modes?: Readonly<Record<string, BackendMode>>
  intervalMs?: number
  windowMs?: number
  upStabilisationMs?: number
  downStabilisationMs?: number
  reportEvery?: number
  /** the provider-wide idle time before scale to zero; label scale.zero-duration overrides it */
  zeroDurationMs: number
  /** the provider's max_replicas: no policy goes above it */
  maxReplicas: number
  /** how long a wake may take before held requests get 503 (read_timeout) */
  wakeTimeoutMs: number
  logger: AutoscaleLogger
  /** the clock (ms); tests pass a fake one and call tick() themselves */
  now?: () => number
  /** hears every decision and sample (metrics, the dashboard's history) */
  listener?: AutoscaleListener
  /** who decides among several replicas, and their load; default: this process alone */
  coordination?: Coordination
}

/**
 * What the autoscaler tells whoever listens, knowing nothing of them (/metrics, the history the
 * dashboard charts): every scaling action once carried out, every tracked function once per tick,
 * and a function that its backend no longer lists.
 */
export interface AutoscaleListener {
  decision? (d: DecisionEvent): void
  /** after the tick sampled it: what it has of the function now */
  sampled? (r: FunctionReport): void
  /** the backend no longer lists it (removed) */
  forgotten? (namespace: string, name: string): void
}

export interface DecisionEvent {
  function: string
  namespace: string
  backend: string
  action: Exclude<Action, 'none'>
  from: number
  to: number
  reason: string
  ok: boolean
}

/** One function as /metrics reports it. */
export interface FunctionReport {
  function: string
  namespace: string
  backend: string
  replicas: number
  availableReplicas: number
  /** undefined when the function is not autoscaled */
  desiredReplicas: number | undefined
  inflight: number
  rps: number
  concurrency: number
}

interface Tracked {
  backend: Backend
  namespace: string
  name: string
  counter: LoadCounter
  window: LoadWindow
  state: DecisionState
  policy: Policy | undefined
  policyKey: string
  replicas: number
  available: number
  desired: number | undefined
  load: Load
  /** a scale call for it is under way */
  busy: boolean
  /** the scale call of an action (up, down, zero) under way: a wake waits for it before its own */
  acting: Promise<void> | undefined
  /**
   * this.changes when the last scale call for it ended: a list begun before that may predate the
   * call (a slow API server answers with the old count), so its replicas are not taken
   */
  changedAt: number
  listedAt: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export class Autoscaler implements Autoscaling {
  readonly load = new LoadMeter()
  private readonly opts: AutoscalerOptions
  private readonly intervalMs: number
  private readonly windowMs: number
  private readonly timing: { upMs: number, downMs: number }
  private readonly reportEvery: number
  private readonly now: () => number
  private readonly tracked = new Map<string, Tracked>()
  private readonly waking = new Map<string, Promise<boolean>>()
  private readonly pending = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private ticks = 0
  /** counts the scale calls that ended (see Tracked.changedAt) */
  private changes = 0
  private stopped = false
  private readonly coordination: Coordination
  private readonly cluster = new ClusterLoad()
  /** the leadership seen on the previous tick */
  private leading = false
  /** a hold (a peer missing) is logged once per streak */
  private holding = false
  /** led before; and whether another replica was seen leading since (then our decision state is stale) */
  private everLed = false
  private othersLed = false

  constructor (opts: AutoscalerOptions) {
    this.coordination = opts.coordination ?? new SingleProcess()
    this.opts = opts
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    this.windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS
    this.timing = { upMs: opts.upStabilisationMs ?? DEFAULT_UP_STABILISATION_MS, downMs: opts.downStabilisationMs ?? DEFAULT_DOWN_STABILISATION_MS }
    this.reportEvery = opts.reportEvery ?? DEFAULT_REPORT_EVERY
    this.now = opts.now ?? Date.now
  }

  modeOf (backend: Backend): BackendMode {
    return this.opts.modes?.[backend.name] ?? defaultMode(backend.driver.kind)
  }

  /** Ticks every intervalMs until stop(); the timer does not keep the process alive. */
  start (): void {
    if (this.stopped || this.timer !== undefined) return
    const loop = (): void => {
      this.timer = setTimeout(() => {
        void this.tick().finally(() => { if (!this.stopped) loop() })
      }, this.intervalMs)
      this.timer.unref()
    }
    loop()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
    while (this.pending.size > 0) await Promise.all([...this.pending])
  }

  /** One round: list, sample, decide, act. Overlapping calls share the round in progress. */
  async tick (): Promise<void> {
    if (this.running !== undefined) return await this.running
    this.running = this.round().finally(() => { this.running = undefined })
    await this.running
  }

  private key (namespace: string, name: string): string {
    return `${namespace}/${name}`
  }

  private async round (): Promise<void> {
    const first = this.ticks === 0
    this.ticks++
    for (const backend of this.opts.backends.backends()) {
      const mode = this.modeOf(backend)
      if (mode === 'off') continue
      if (mode === 'report' && !first && this.ticks % this.reportEvery !== 0) continue
      for (const namespace of this.opts.backends.namespaces()) {
        if (this.opts.backends.lookup(namespace)?.backend !== backend) continue
        let list: FunctionStatus[]
        const listedFrom = this.changes
        try {
          list = await backend.driver.list(namespace)
        } catch (err) {
          this.opts.logger.warn({ backend: backend.name, namespace, err }, 'autoscale: listing functions failed; keeping the last view')
          continue
        }
        this.refresh(backend, namespace, list, mode, listedFrom)
      }
    }
    if (!this.coordination.isLeader()) {
      // a follower lists (its counters and the wake path need the functions) but decides nothing
      if (this.leading) this.opts.logger.info({ identity: this.coordination.identity }, 'autoscale: no longer the leader; not deciding')
      this.leading = false
      const seen = this.coordination.view().leader
      if (seen !== undefined && seen !== this.coordination.identity) this.othersLed = true
      for (const t of this.tracked.values()) t.desired = undefined
      return
    }
    if (!this.leading) this.takeOver()
    // after the lists: a wake by a peer that the lists show was preceded by its counting the request
    const missing = await this.gatherPeers()
    const now = this.now()
    for (const t of this.tracked.values()) {
      const { load, active } = t.window.sample(now, this.cluster.combined(t.namespace, t.name, t.counter))
      t.load = load
      this.decideFor(t, now, load, active, missing)
      this.opts.listener?.sampled?.(this.reportOf(t))
    }
  }

  /** The leader's decision for one function this tick (none while a peer's load is missing). */
  private decideFor (t: Tracked, now: number, load: Load, active: boolean, missing: boolean): void {
    if (t.policy === undefined) {
      t.desired = undefined
      return
    }
    if (missing) {
      if (active) t.state.lastActive = now
      return
    }
    if (t.busy) return
    const d = decide(t.policy, t.state, { now, current: t.replicas, load, active }, this.timing)
    t.desired = d.desired
    // leadership may have gone while this tick listed and read peers
    if (d.action !== 'none' && this.coordination.isLeader()) this.act(t, d)
  }

  /**
   * Leadership was just taken (or this is the first tick): decide from the cluster's state, without
   * history — unless we only lost it for a while (a slow API server) with nobody else leading
   * meanwhile: then our streaks and idle times are still the truth and are kept.
   */
  private takeOver (): void {
    this.leading = true
    const regained = this.everLed && !this.othersLed
    this.everLed = true
    this.othersLed = false
    if (regained) {
      this.opts.logger.info({ identity: this.coordination.identity }, 'autoscale: leading again (nobody else led meanwhile); carrying on')
      return
    }
    const now = this.now()
    this.cluster.reset()
    for (const t of this.tracked.values()) {
      t.state = initialState(now)
      t.window.reset()
    }
    const view = this.coordination.view()
    if (view.mode !== 'single') this.opts.logger.info({ identity: view.identity, functions: this.tracked.size }, 'autoscale: leading; deciding for every replica')
  }

  /** Reads the peers' counters into the cluster load; true when a peer did not answer (hold). */
  private async gatherPeers (): Promise<boolean> {
    let missing: string[]
    try {
      const load = await this.coordination.peerLoad()
      missing = load.missing
      this.cluster.absorb(load.peers, load.missing)
    } catch (err) {
      missing = ['(peer discovery failed)']
      if (!this.holding) this.opts.logger.warn({ err }, 'autoscale: could not read the peers\' load; holding')
    }
    if (missing.length > 0 && !this.holding) this.opts.logger.warn({ missing }, 'autoscale: a peer did not report its load; holding every decision until it does')
    if (missing.length === 0 && this.holding) this.opts.logger.info('autoscale: every peer reports again; deciding')
    this.holding = missing.length > 0
    return this.holding
  }

  /** This replica's own counters for every function it tracks (what a leader reads from its peers). */
  localLoad (): FunctionLoad[] {
    const out: FunctionLoad[] = []
    for (const t of this.tracked.values()) {
      const c = t.counter
      out.push({ namespace: t.namespace, name: t.name, inflight: c.inflight, completed: c.completed, ok: c.ok, busySeconds: c.busySeconds })
    }
    return out
  }

  /**
   * Brings the tracked set of one backend namespace in line with its list, which was asked for
   * when this.changes was `listedFrom`.
   */
  private refresh (backend: Backend, namespace: string, list: FunctionStatus[], mode: BackendMode, listedFrom: number): void {
    const now = this.now()
    const stamp = this.ticks
    for (const fn of list) {
      const key = this.key(namespace, fn.name)
      let t = this.tracked.get(key)
      if (t === undefined || t.backend !== backend) {
        t = {
          backend,
          namespace,
          name: fn.name,
          counter: this.load.track(namespace, fn.name),
          window: new LoadWindow(this.windowMs),
          state: initialState(now),
          policy: undefined,
          policyKey: '',
          replicas: fn.replicas ?? 0,
          available: fn.availableReplicas ?? 0,
          desired: undefined,
          load: { rps: 0, concurrency: 0, inflight: 0 },
          busy: false,
          acting: undefined,
          changedAt: 0,
          listedAt: stamp
        }
        this.tracked.set(key, t)
      }
      t.listedAt = stamp
      // not while we scale it, nor from a list that may be older than our last scale call (it would
      // undo that call in our view: park a woken function again, or race a wake with a stale park)
      if (!t.busy && t.changedAt <= listedFrom) t.replicas = fn.replicas ?? 0
      t.available = fn.availableReplicas ?? 0
      const policy = mode === 'scale' ? policyFor(fn.labels, this.opts) : undefined
      const policyKey = policy === undefined ? '' : JSON.stringify(policy)
      if (policyKey !== t.policyKey) {
        if (policy !== undefined) {
          this.opts.logger.info({ function: fn.name, namespace, backend: backend.name, policy }, 'autoscale: function is autoscaled')
        } else if (t.policy !== undefined) {
          this.opts.logger.info({ function: fn.name, namespace, backend: backend.name }, 'autoscale: function is no longer autoscaled')
        }
        t.policy = policy
        t.policyKey = policyKey
        t.state = { ...initialState(now), lastActive: t.state.lastActive }
      }
    }
    for (const [key, t] of this.tracked) {
      if (t.backend === backend && t.namespace === namespace && t.listedAt !== stamp) {
        this.tracked.delete(key)
        this.load.untrack(namespace, t.name)
        this.opts.listener?.forgotten?.(namespace, t.name)
        this.cluster.forget(namespace, t.name)
      }
    }
  }

  private track (p: Promise<void>): void {
    const tracked = p.finally(() => { this.pending.delete(tracked) })
    this.pending.add(tracked)
  }

  private act (t: Tracked, d: Decision): void {
    if (d.action === 'wake') {
      this.track(this.wake(t.backend, t.namespace, t.name).then(() => {}))
      return
    }
    const from = t.replicas
    t.busy = true
    const scaling = (async (): Promise<boolean> => {
      const { driver } = t.backend
      let ok = false
      try {
        if (d.action === 'zero') {
          if (driver.park !== undefined) await driver.park(t.namespace, t.name)
          else await driver.scale(t.namespace, t.name, 0)
        } else {
          await driver.scale(t.namespace, t.name, d.desired)
        }
        ok = true
        t.replicas = d.desired
        t.window.reset()
        this.opts.logger.info({
          function: t.name, namespace: t.namespace, backend: t.backend.name, action: d.action, from, to: d.desired,
          reason: d.reason, rps: round(t.load.rps), concurrency: round(t.load.concurrency), inflight: t.load.inflight
        }, `autoscale: ${d.action === 'zero' ? 'scaled to zero' : `scaled ${d.action} ${from} → ${d.desired}`}`)
      } catch (err) {
        this.opts.logger.warn({ function: t.name, namespace: t.namespace, backend: t.backend.name, action: d.action, from, to: d.desired, err },
          'autoscale: scaling failed')
      } finally {
        t.busy = false
        t.changedAt = ++this.changes
        this.opts.listener?.decision?.({ function: t.name, namespace: t.namespace, backend: t.backend.name, action: d.action as DecisionEvent['action'], from, to: d.desired, reason: d.reason, ok })
      }
      return ok
    })()
    const acting = scaling.then(() => {})
    t.acting = acting
    this.track((async () => {
      const ok = await scaling
      if (t.acting === acting) t.acting = undefined
      // a request slipped in while the function was being parked: it is held, wake at once
      if (ok && d.action === 'zero' && t.counter.inflight > 0) await this.wake(t.backend, t.namespace, t.name)
    })())
  }

  /** See Autoscaling.wake. */
  async wake (backend: Backend, namespace: string, name: string): Promise<boolean> {
    if (this.stopped || this.modeOf(backend) !== 'scale') return false
    const t = this.tracked.get(this.key(namespace, name))
    // listed on the last tick and not a sleeper: answer without asking the backend (a label
    // changed since then is seen on the next tick)
    if (t !== undefined && t.backend === backend && t.policy?.zero !== true) return false
    const key = this.key(namespace, name)
    let p = this.waking.get(key)
    if (p === undefined) {
      p = this.wakeOnce(backend, namespace, name).finally(() => { this.waking.delete(key) })
      this.waking.set(key, p)
    }
    return await p
  }

  private async wakeOnce (backend: Backend, namespace: string, name: string): Promise<boolean> {
    const started = this.now()
    const { driver } = backend
    // a park (or any scale call of ours) on its way: let it land first, or it could land after
    // the wake's scale up and put the function back to sleep under the held requests
    const acting = this.tracked.get(this.key(namespace, name))?.acting
    if (acting !== undefined) await acting
    let status: FunctionStatus
    try {
      status = await driver.status(namespace, name)
    } catch {
      return false
    }
    const policy = policyFor(status.labels, this.opts)
    if (policy === undefined || !policy.zero) return false
    const t = this.tracked.get(this.key(namespace, name))
    if (t !== undefined) {
      t.state.lastActive = started
      t.window.reset()
    }
    let scaling: Promise<void> | undefined
    let failed: unknown
    const from = status.replicas ?? 0
    if (from === 0) {
      const to = policy.floor
      if (t !== undefined) {
        t.busy = true
        t.replicas = to
        t.desired = to
      }
      scaling = driver.scale(namespace, name, to).then(() => {
        this.opts.listener?.decision?.({ function: name, namespace, backend: backend.name, action: 'wake', from, to, reason: 'a request arrived', ok: true })
      }, (err: unknown) => {
        failed = err ?? new Error('scale failed')
        this.opts.listener?.decision?.({ function: name, namespace, backend: backend.name, action: 'wake', from, to, reason: 'a request arrived', ok: false })
      }).finally(() => {
        if (t !== undefined) {
          t.busy = false
          t.changedAt = ++this.changes
        }
      })
      this.track(scaling)
    }
    // wait for an instance, polling fast at first: a parked process resumes in a millisecond
    const deadline = started + this.opts.wakeTimeoutMs
    let delay = WAKE_POLL_MIN_MS
    for (;;) {
      try {
        await driver.upstream(namespace, name)
        if (from === 0) {
          this.opts.logger.info({ function: name, namespace, backend: backend.name, action: 'wake', from, to: policy.floor, ms: Math.round((this.now() - started) * 10) / 10 },
            'autoscale: woke a sleeping function for a request')
        }
        return true
      } catch (err) {
        if (!isProviderError(err, 'UNAVAILABLE')) return false
      }
      if (failed !== undefined) {
        this.opts.logger.warn({ function: name, namespace, backend: backend.name, err: failed }, 'autoscale: waking failed')
        return false
      }
      if (this.stopped || this.now() >= deadline) {
        this.opts.logger.warn({ function: name, namespace, backend: backend.name, waitedMs: this.now() - started }, 'autoscale: no instance became ready within read_timeout')
        return false
      }
      await sleep(delay)
      delay = Math.min(WAKE_POLL_MAX_MS, delay * 2)
    }
  }

  /** Every tracked function, for /metrics. */
  report (): FunctionReport[] {
    return [...this.tracked.values()].map((t) => this.reportOf(t))
  }

  private reportOf (t: Tracked): FunctionReport {
    return {
      function: t.name,
      namespace: t.namespace,
      backend: t.backend.name,
      replicas: t.replicas,
      availableReplicas: t.available,
      desiredReplicas: t.desired,
      inflight: t.counter.inflight,
      rps: t.load.rps,
      concurrency: t.load.concurrency
    }
  }
}

function round (n: number): number {
  return Math.round(n * 100) / 100
}
