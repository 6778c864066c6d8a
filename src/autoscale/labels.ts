/*
 * The OpenFaaS scaling labels, parsed and checked in one place. `checkScaleLabels` runs at deploy
 * and update (src/core/validate.ts): a bad value is a 400 that names the label. `scaleLabels`
 * reads them back for the autoscaler (values that passed the check; anything else is ignored).
 * Pure: no I/O, no clock.
 */
import { invalid } from '../core/errors.ts'

export const LABEL_MIN = 'com.openfaas.scale.min'
export const LABEL_MAX = 'com.openfaas.scale.max'
export const LABEL_TARGET = 'com.openfaas.scale.target'
export const LABEL_TYPE = 'com.openfaas.scale.type'
export const LABEL_TARGET_PROPORTION = 'com.openfaas.scale.target-proportion'
export const LABEL_ZERO = 'com.openfaas.scale.zero'
export const LABEL_ZERO_DURATION = 'com.openfaas.scale.zero-duration'
export const LABEL_FACTOR = 'com.openfaas.scale.factor'

/** Labels that put a function under the autoscaler (factor alone does not: the gateway reads it too). */
const MANAGING_LABELS = [LABEL_MIN, LABEL_MAX, LABEL_TARGET, LABEL_TYPE, LABEL_TARGET_PROPORTION, LABEL_ZERO, LABEL_ZERO_DURATION]

export type ScaleType = 'rps' | 'capacity' | 'cpu'
const SCALE_TYPES: readonly string[] = ['rps', 'capacity', 'cpu']

/** OpenFaaS defaults (gateway/scaling/ranges.go and the Pro autoscaler's documentation). */
export const DEFAULT_MIN = 1
export const DEFAULT_MAX = 20
export const DEFAULT_FACTOR = 20
export const DEFAULT_TARGET_PROPORTION = 0.9

export interface ScaleLabels {
  min?: number
  max?: number
  target?: number
  type?: ScaleType
  targetProportion?: number
  zero?: boolean
  zeroDurationMs?: number
  factor?: number
}

const WHOLE = /^\s*\d+\s*$/
const DECIMAL = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Seconds ("30") or a Go duration ("90s", "1m30s", "1.5h", "500ms"); undefined when malformed. */
export function parseLabelDuration (value: string): number | undefined {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number)
    consumed = re.lastIndex
  }
  return consumed === 0 || consumed !== text.length ? undefined : Math.round(total)
}

/** true when the function carries any label that asks for autoscaling or scale to zero */
export function hasScaleLabels (labels: Readonly<Record<string, string>> | undefined): boolean {
  if (labels === undefined) return false
  for (const k of MANAGING_LABELS) if (labels[k] !== undefined) return true
  return false
}

type Problem = (message: string) => never

function read (labels: Readonly<Record<string, string>>, fail: Problem): ScaleLabels {
  const out: ScaleLabels = {}
  const whole = (key: string, min: number, max: number): number | undefined => {
    const v = labels[key]
    if (v === undefined) return undefined
    if (!WHOLE.test(v)) fail(`label ${key} must be a whole number, got "${v}"`)
    const n = Number(v)
    if (n < min || n > max) fail(`label ${key} must be between ${min} and ${max}, got ${n}`)
    return n
  }
  const min = whole(LABEL_MIN, 0, Number.MAX_SAFE_INTEGER)
  if (min !== undefined) out.min = min
  const max = whole(LABEL_MAX, 1, Number.MAX_SAFE_INTEGER)
  if (max !== undefined) out.max = max
  if (min !== undefined && max !== undefined && min > max) {
    fail(`label ${LABEL_MIN} (${min}) is above ${LABEL_MAX} (${max})`)
  }
  const target = whole(LABEL_TARGET, 1, Number.MAX_SAFE_INTEGER)
  if (target !== undefined) out.target = target
  // the gateway's scale-from-zero refuses a factor outside 1..100 (every call would be a 404)
  const factor = whole(LABEL_FACTOR, 1, 100)
  if (factor !== undefined) out.factor = factor
  const type = labels[LABEL_TYPE]
  if (type !== undefined) {
    if (!SCALE_TYPES.includes(type.trim())) fail(`label ${LABEL_TYPE} must be one of rps, capacity, cpu, got "${type}"`)
    out.type = type.trim() as ScaleType
  }
  const proportion = labels[LABEL_TARGET_PROPORTION]
  if (proportion !== undefined) {
    const p = Number(proportion)
    if (!DECIMAL.test(proportion) || !(p > 0 && p <= 1)) {
      fail(`label ${LABEL_TARGET_PROPORTION} must be a number above 0 and at most 1, got "${proportion}"`)
    }
    out.targetProportion = p
  }
  const zero = labels[LABEL_ZERO]
  if (zero !== undefined) {
    const z = zero.trim().toLowerCase()
    if (z !== 'true' && z !== 'false') fail(`label ${LABEL_ZERO} must be "true" or "false", got "${zero}"`)
    out.zero = z === 'true'
  }
  const zeroDuration = labels[LABEL_ZERO_DURATION]
  if (zeroDuration !== undefined) {
    const ms = parseLabelDuration(zeroDuration)
    if (ms === undefined || ms <= 0) {
      fail(`label ${LABEL_ZERO_DURATION} must be a positive duration in seconds or Go form (30s, 15m, 1h), got "${zeroDuration}"`)
    }
    out.zeroDurationMs = ms
  }
  return out
}

/** Deploy/update: throws an INVALID (400) error naming the first bad scaling label. */
export function checkScaleLabels (labels: Readonly<Record<string, string>> | undefined): void {
  if (labels === undefined) return
  read(labels, (message) => { throw invalid(message) })
}

/**
 * The scaling labels as values, or undefined when a label is malformed (a function deployed
 * before the check existed, or on a backend that takes labels from elsewhere): such a function
 * is left alone rather than scaled on a guess.
 */
export function scaleLabels (labels: Readonly<Record<string, string>> | undefined): ScaleLabels | undefined {
  if (labels === undefined) return {}
  try {
    return read(labels, (message) => { throw new Error(message) })
  } catch {
    return undefined
  }
}
