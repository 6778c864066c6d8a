/*
 * Go-style durations as OpenFaaS env vars carry them ("30s", "1m30s", "500ms", or bare seconds
 * like "10"), parsed to milliseconds.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000
}
const PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y

/** Milliseconds, or undefined when `value` is not a duration. Bare numbers are seconds. */
export function parseDurationMs (value: string): number | undefined {
  const v = value.trim()
  if (v === '') return undefined
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000
  let total = 0
  PART.lastIndex = 0
  let pos = 0
  while (pos < v.length) {
    PART.lastIndex = pos
    const m = PART.exec(v)
    if (m === null) return undefined
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    pos = PART.lastIndex
  }
  return total
}
