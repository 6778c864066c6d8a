/*
 * One resolution of a history: a fixed ring of time buckets (e.g. 5 s × 181), each holding
 * counts per class (2xx / 4xx / 5xx), the bucket's p50 and p99 latency (computed from a
 * log-scale histogram when the bucket closes), and what was sampled during it (in flight max and
 * mean, replicas). All storage is typed arrays allocated once: recording is a few increments.
 * Each bucket carries its id (time / width), so a bucket left from a previous lap of the ring is
 * never read as current, and a quiet spell costs nothing until the next write or read.
 */
import { BINS, quantile } from './latency.ts'

export interface TierOptions {
  widthMs: number
  /** buckets kept (closed ones readable: slots - 1) */
  slots: number
  /** count classes per bucket */
  classes: number
  /** latency histograms kept, one per recent bucket (≥ 1: the open bucket's) */
  histograms: number
}

/** what the autoscaler saw of a function at one tick */
export interface Sample {
  inflight: number
  replicas: number
  available: number
  /** the autoscaler's desired count; undefined when it does not scale the function */
  target: number | undefined
}

/** sample fields per bucket: in-flight max, in-flight sum, sample count, replicas, available, target */
const S_MAX = 0
const S_SUM = 1
const S_N = 2
const S_REPLICAS = 3
const S_AVAILABLE = 4
const S_TARGET = 5
const S_FIELDS = 6

/** Columnar series over a run of closed buckets; null where nothing was recorded. */
export interface TierSeries {
  /** each bucket's start, ms since the epoch */
  t: number[]
  /** per class: requests per second */
  rates: number[][]
  p50: Array<number | null>
  p99: Array<number | null>
  inflightMax: Array<number | null>
  inflightAvg: Array<number | null>
  replicas: Array<number | null>
  available: Array<number | null>
  target: Array<number | null>
}

const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v)

export class Tier {
  readonly widthMs: number
  readonly slots: number
  private readonly classes: number
  private readonly histograms: number
  private readonly ids: Float64Array
  private readonly counts: Uint32Array
  private readonly p50s: Float32Array
  private readonly p99s: Float32Array
  private readonly samples: Float32Array
  private readonly hist: Uint32Array
  /** the open bucket's id; -1 before the first write */
  private current = -1

  constructor (opts: TierOptions) {
    this.widthMs = opts.widthMs
    this.slots = opts.slots
    this.classes = opts.classes
    this.histograms = opts.histograms
    this.ids = new Float64Array(opts.slots).fill(-1)
    this.counts = new Uint32Array(opts.slots * opts.classes)
    this.p50s = new Float32Array(opts.slots).fill(Number.NaN)
    this.p99s = new Float32Array(opts.slots).fill(Number.NaN)
    this.samples = new Float32Array(opts.slots * S_FIELDS).fill(Number.NaN)
    this.hist = new Uint32Array(opts.histograms * BINS)
  }

  /** Moves the open bucket to the one holding `now` (never backwards: a clock step back records into the open one). */
  private at (now: number): number {
    const id = Math.floor(now / this.widthMs)
    if (id > this.current) this.advance(id)
    return this.current
  }

  private advance (id: number): void {
    const prev = this.current
    if (prev >= 0) this.close(prev)
    const from = prev < 0 ? id : Math.max(prev + 1, id - this.slots + 1)
    for (let b = from; b <= id; b++) {
      const s = b % this.slots
      this.ids[s] = b
      this.counts.fill(0, s * this.classes, (s + 1) * this.classes)
      this.p50s[s] = Number.NaN
      this.p99s[s] = Number.NaN
      this.samples.fill(Number.NaN, s * S_FIELDS, (s + 1) * S_FIELDS)
    }
    // the histograms of the buckets skipped over and of the new one start empty
    const firstHist = prev < 0 ? id : Math.max(prev + 1, id - this.histograms + 1)
    for (let b = firstHist; b <= id; b++) {
      const h = (b % this.histograms) * BINS
      this.hist.fill(0, h, h + BINS)
    }
    this.current = id
  }

  private close (id: number): void {
    const s = id % this.slots
    const h = (id % this.histograms) * BINS
    this.p50s[s] = quantile(this.hist, h, 0.5) ?? Number.NaN
    this.p99s[s] = quantile(this.hist, h, 0.99) ?? Number.NaN
  }

  /** One outcome of class `cls` whose latency fell in histogram bin `bin` (latency.ts binOf). */
  observe (now: number, cls: number, bin: number): void {
    const id = this.at(now)
    this.counts[(id % this.slots) * this.classes + cls]++
    this.hist[(id % this.histograms) * BINS + bin]++
  }

  sample (now: number, x: Sample): void {
    const o = (this.at(now) % this.slots) * S_FIELDS
    const s = this.samples
    const n = Number.isNaN(s[o + S_N]) ? 0 : s[o + S_N]
    s[o + S_MAX] = n === 0 ? x.inflight : Math.max(s[o + S_MAX], x.inflight)
    s[o + S_SUM] = (n === 0 ? 0 : s[o + S_SUM]) + x.inflight
    s[o + S_N] = n + 1
    // replicas: the last sample of the bucket
    s[o + S_REPLICAS] = x.replicas
    s[o + S_AVAILABLE] = x.available
    s[o + S_TARGET] = x.target ?? Number.NaN
  }

  /** The `count` closed buckets before the one holding `now`, oldest first. */
  series (now: number, count: number): TierSeries {
    const open = this.at(now)
    const n = Math.min(count, this.slots - 1)
    const out: TierSeries = {
      t: [], rates: Array.from({ length: this.classes }, () => []), p50: [], p99: [],
      inflightMax: [], inflightAvg: [], replicas: [], available: [], target: []
    }
    const perSecond = 1000 / this.widthMs
    for (let b = open - n; b < open; b++) {
      out.t.push(b * this.widthMs)
      const s = ((b % this.slots) + this.slots) % this.slots
      const here = b >= 0 && this.ids[s] === b
      for (let c = 0; c < this.classes; c++) out.rates[c].push(here ? this.counts[s * this.classes + c] * perSecond : 0)
      const o = s * S_FIELDS
      const n = here ? this.samples[o + S_N] : Number.NaN
      out.p50.push(here ? orNull(this.p50s[s]) : null)
      out.p99.push(here ? orNull(this.p99s[s]) : null)
      out.inflightMax.push(here ? orNull(this.samples[o + S_MAX]) : null)
      out.inflightAvg.push(here && n > 0 ? this.samples[o + S_SUM] / n : null)
      out.replicas.push(here ? orNull(this.samples[o + S_REPLICAS]) : null)
      out.available.push(here ? orNull(this.samples[o + S_AVAILABLE]) : null)
      out.target.push(here ? orNull(this.samples[o + S_TARGET]) : null)
    }
    return out
  }

  /**
   * Totals over the last `histograms` buckets, open one included (e.g. the last minute): count
   * per class and quantiles of the merged histograms. `seconds` is the span they cover.
   */
  recent (now: number, qs: readonly number[]): { counts: number[], quantiles: Array<number | undefined>, seconds: number } {
    const open = this.at(now)
    const counts = new Array<number>(this.classes).fill(0)
    const merged = new Uint32Array(BINS)
    let first = open
    for (let b = open - this.histograms + 1; b <= open; b++) {
      const s = ((b % this.slots) + this.slots) % this.slots
      if (b < 0 || this.ids[s] !== b) continue
      if (b < first) first = b
      for (let c = 0; c < this.classes; c++) counts[c] += this.counts[s * this.classes + c]
      const h = (b % this.histograms) * BINS
      for (let i = 0; i < BINS; i++) merged[i] += this.hist[h + i]
    }
    const seconds = Math.max(1, (now - first * this.widthMs) / 1000)
    return { counts, quantiles: qs.map((q) => quantile(merged, 0, q)), seconds }
  }

  /** bytes held in typed arrays (for the memory figure) */
  bytes (): number {
    return this.ids.byteLength + this.counts.byteLength + this.p50s.byteLength + this.p99s.byteLength +
      this.samples.byteLength + this.hist.byteLength
  }
}
