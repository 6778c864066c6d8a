/*
 * The provider's own short history of every function, for the dashboard's charts (no Prometheus
 * needed): per function a 15-minute ring of 5 s buckets and a 1-hour ring of 30 s buckets, each
 * bucket with invocations per status class, p50/p99 latency, in flight and replicas as the
 * autoscaler sampled them; and the autoscaler's last decisions. Per backend, one minute of backend
 * calls (count, errors, latency). Memory is fixed per function (measured by bench/history-memory.ts,
 * see README) and everything is lost on restart: it is a view of recent load, not a record.
 *
 * Fed by listeners, knowing nothing of where the numbers come from: invocations (the invoke
 * proxy's outcome callback — functions that do not exist are never recorded, as /metrics counts
 * them without a name), the autoscaler's ticks and decisions, and the instrumented drivers.
 */
import { binOf } from './latency.ts'
import { Tier, type Sample, type TierSeries } from './tier.ts'

export const FINE_MS = 5000
export const COARSE_MS = 30_000
/** the chart windows: which ring and how many of its closed buckets */
export const WINDOWS = {
  '15m': { tier: 'fine', buckets: 180 },
  '1h': { tier: 'coarse', buckets: 120 }
} as const
export type HistoryWindow = keyof typeof WINDOWS
export const isHistoryWindow = (w: string): w is HistoryWindow => Object.hasOwn(WINDOWS, w)

/** decisions kept per function (the autoscaler acts at most once per tick per function) */
export const MAX_DECISIONS = 100
/** functions kept; past this new ones are not recorded (the memory bound) */
export const DEFAULT_MAX_FUNCTIONS = 10_000
/** the overview's sparkline: the last 3 minutes of 5 s buckets */
export const SPARK_BUCKETS = 36
/** the fine ring's histograms: the last minute's, merged for the overview's "p99 now" */
const RECENT_HISTOGRAMS = 12

/** status classes: 1xx and 3xx count with 2xx (answered, not failed) */
const CLASS_OK = 0
const CLASS_CLIENT = 1
const CLASS_SERVER = 2

export interface HistoryDecision {
  /** ms since the epoch */
  at: number
  /** the autoscaler's action: up, down, zero (park: scale to zero), wake */
  action: string
  from: number
  to: number
  /** the rule that fired, as the autoscaler words it */
  reason: string
  ok: boolean
}

export interface FunctionHistory {
  namespace: string
  name: string
  window: HistoryWindow
  bucketSeconds: number
  series: {
    t: number[]
    rps2xx: number[]
    rps4xx: number[]
    rps5xx: number[]
    p50Ms: Array<number | null>
    p99Ms: Array<number | null>
    inflightMax: Array<number | null>
    inflightAvg: Array<number | null>
    replicas: Array<number | null>
    available: Array<number | null>
    target: Array<number | null>
  }
  decisions: HistoryDecision[]
}

export interface FunctionSummary {
  namespace: string
  name: string
  /** requests per second (all classes) in the last SPARK_BUCKETS closed 5 s buckets, oldest first */
  rps: number[]
  /** over the last minute */
  p99Ms: number | null
  errorRate: number | null
}

export interface BackendSummary {
  backend: string
  /** over the last minute */
  callsPerSecond: number
  errorRate: number | null
  p50Ms: number | null
  p99Ms: number | null
}

export interface HistorySummary {
  bucketSeconds: number
  windowSeconds: number
  functions: FunctionSummary[]
  backends: BackendSummary[]
}

interface Entry { fine: Tier, coarse: Tier, decisions: HistoryDecision[] }

export interface HistoryStoreOptions {
  /** the clock (ms since the epoch); tests pass a fake one */
  now?: () => number
  maxFunctions?: number
}

const classOf = (code: number): number => (code >= 500 ? CLASS_SERVER : code >= 400 ? CLASS_CLIENT : CLASS_OK)
const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits
const ms = (v: number | undefined): number | null => (v === undefined ? null : round(v))

export class HistoryStore {
  private readonly now: () => number
  private readonly maxFunctions: number
  /** namespace → name → entry (nested so the invoke path builds no key string) */
  private readonly byNamespace = new Map<string, Map<string, Entry>>()
  private size = 0
  private readonly backends = new Map<string, Tier>()

  constructor (opts: HistoryStoreOptions = {}) {
    this.now = opts.now ?? Date.now
    this.maxFunctions = opts.maxFunctions ?? DEFAULT_MAX_FUNCTIONS
  }

  private entry (namespace: string, name: string): Entry | undefined {
    let names = this.byNamespace.get(namespace)
    const found = names?.get(name)
    if (found !== undefined) return found
    if (this.size >= this.maxFunctions) return undefined
    if (names === undefined) {
      names = new Map()
      this.byNamespace.set(namespace, names)
    }
    const e: Entry = {
      fine: new Tier({ widthMs: FINE_MS, slots: WINDOWS['15m'].buckets + 1, classes: 3, histograms: RECENT_HISTOGRAMS }),
      coarse: new Tier({ widthMs: COARSE_MS, slots: WINDOWS['1h'].buckets + 1, classes: 3, histograms: 1 }),
      decisions: []
    }
    names.set(name, e)
    this.size++
    return e
  }

  /** One invocation of an existing function (the invoke path: a few increments, nothing allocated after the first). */
  observeInvocation (namespace: string, name: string, code: number, seconds: number): void {
    if (name === '') return
    const e = this.entry(namespace, name)
    if (e === undefined) return
    const now = this.now()
    const cls = classOf(code)
    const bin = binOf(seconds * 1000)
    e.fine.observe(now, cls, bin)
    e.coarse.observe(now, cls, bin)
  }

  /** What the autoscaler saw of a function at a tick. */
  sample (namespace: string, name: string, s: Sample): void {
    const e = this.entry(namespace, name)
    if (e === undefined) return
    const now = this.now()
    e.fine.sample(now, s)
    e.coarse.sample(now, s)
  }

  decision (namespace: string, name: string, d: Omit<HistoryDecision, 'at'>): void {
    const e = this.entry(namespace, name)
    if (e === undefined) return
    e.decisions.push({ at: this.now(), ...d })
    if (e.decisions.length > MAX_DECISIONS) e.decisions.splice(0, e.decisions.length - MAX_DECISIONS)
  }

  /** The function is gone: its history goes with it. */
  forget (namespace: string, name: string): void {
    const names = this.byNamespace.get(namespace)
    if (names?.delete(name) !== true) return
    this.size--
    if (names.size === 0) this.byNamespace.delete(namespace)
  }

  observeBackendCall (backend: string, ok: boolean, seconds: number): void {
    let tier = this.backends.get(backend)
    if (tier === undefined) {
      tier = new Tier({ widthMs: FINE_MS, slots: RECENT_HISTOGRAMS, classes: 2, histograms: RECENT_HISTOGRAMS })
      this.backends.set(backend, tier)
    }
    tier.observe(this.now(), ok ? 0 : 1, binOf(seconds * 1000))
  }

  has (namespace: string, name: string): boolean {
    return this.byNamespace.get(namespace)?.has(name) === true
  }

  get functions (): number {
    return this.size
  }

  /** The function's charts over a window; an empty history (all gaps) when nothing was recorded yet. */
  history (namespace: string, name: string, window: HistoryWindow): FunctionHistory {
    const e = this.byNamespace.get(namespace)?.get(name)
    const w = WINDOWS[window]
    const now = this.now()
    const tier = e === undefined
      ? new Tier({ widthMs: w.tier === 'fine' ? FINE_MS : COARSE_MS, slots: w.buckets + 1, classes: 3, histograms: 1 })
      : w.tier === 'fine' ? e.fine : e.coarse
    const s: TierSeries = tier.series(now, w.buckets)
    const start = s.t[0] ?? now
    const nulls = (xs: Array<number | null>) => xs.map((v) => (v === null ? null : round(v)))
    return {
      namespace,
      name,
      window,
      bucketSeconds: tier.widthMs / 1000,
      series: {
        t: s.t,
        rps2xx: s.rates[CLASS_OK].map((v) => round(v)),
        rps4xx: s.rates[CLASS_CLIENT].map((v) => round(v)),
        rps5xx: s.rates[CLASS_SERVER].map((v) => round(v)),
        p50Ms: nulls(s.p50),
        p99Ms: nulls(s.p99),
        inflightMax: s.inflightMax,
        inflightAvg: nulls(s.inflightAvg),
        replicas: s.replicas,
        available: s.available,
        target: s.target
      },
      decisions: (e?.decisions ?? []).filter((d) => d.at >= start)
    }
  }

  /** The overview's figures: per function a sparkline and the last minute's p99; per backend the last minute's calls. */
  summary (namespaces?: readonly string[]): HistorySummary {
    const now = this.now()
    const functions: FunctionSummary[] = []
    for (const [namespace, names] of this.byNamespace) {
      if (namespaces !== undefined && !namespaces.includes(namespace)) continue
      for (const [name, e] of names) {
        const s = e.fine.series(now, SPARK_BUCKETS)
        const rps = s.t.map((_, i) => round(s.rates[CLASS_OK][i] + s.rates[CLASS_CLIENT][i] + s.rates[CLASS_SERVER][i]))
        const r = e.fine.recent(now, [0.99])
        const total = r.counts[CLASS_OK] + r.counts[CLASS_CLIENT] + r.counts[CLASS_SERVER]
        functions.push({ namespace, name, rps, p99Ms: ms(r.quantiles[0]), errorRate: total === 0 ? null : round(r.counts[CLASS_SERVER] / total, 4) })
      }
    }
    functions.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    const backends: BackendSummary[] = [...this.backends].map(([backend, tier]) => {
      const r = tier.recent(now, [0.5, 0.99])
      const total = r.counts[0] + r.counts[1]
      return {
        backend,
        callsPerSecond: round(total / r.seconds),
        errorRate: total === 0 ? null : round(r.counts[1] / total, 4),
        p50Ms: ms(r.quantiles[0]),
        p99Ms: ms(r.quantiles[1])
      }
    }).sort((a, b) => a.backend.localeCompare(b.backend))
    return { bucketSeconds: FINE_MS / 1000, windowSeconds: (RECENT_HISTOGRAMS * FINE_MS) / 1000, functions, backends }
  }
}
