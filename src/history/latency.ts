/*
 * Latency histograms with fixed log-scale bins: four bins per doubling from 50 µs, so a quantile
 * read from a histogram is within ~9 % of the true value (the bin's geometric middle), and
 * histograms of different buckets add up exactly (p99 over a minute is computed, not averaged).
 */

/** the lower edge of bin 0's successor; anything faster falls in bin 0 */
export const MIN_MS = 0.05
export const BINS_PER_DOUBLING = 4
/** 96 bins: the last starts at 0.05 ms × 2^23.75 ≈ 11 minutes and takes everything slower */
export const BINS = 96

/** The bin of a duration in milliseconds (no allocation: the invoke path calls this). */
export function binOf (ms: number): number {
  if (!(ms > MIN_MS)) return 0
  const b = Math.floor(Math.log2(ms / MIN_MS) * BINS_PER_DOUBLING)
  return b >= BINS ? BINS - 1 : b
}

/** The value a bin stands for: its geometric middle, in milliseconds. */
export function binValue (bin: number): number {
  return MIN_MS * 2 ** ((bin + 0.5) / BINS_PER_DOUBLING)
}

/**
 * The q-quantile (0 < q ≤ 1) of the histogram at `bins[offset .. offset + BINS)`, in ms, or
 * undefined when it is empty. The rank is ceil(q × n), as a nearest-rank percentile.
 */
export function quantile (bins: Uint32Array, offset: number, q: number): number | undefined {
  let total = 0
  for (let i = 0; i < BINS; i++) total += bins[offset + i]
  if (total === 0) return undefined
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let i = 0; i < BINS; i++) {
    seen += bins[offset + i]
    if (seen >= rank) return binValue(i)
  }
  return binValue(BINS - 1)
}
