/*
 * The autoscaling decision, pure: labels → Policy, and (policy, load, current replicas, clock) →
 * desired replicas. No timers, no I/O: the caller passes `now`, so tests drive it with a fake
 * clock. The answer is always inside [floor, ceiling] except 0 for scale to zero.
 *
 * Two ways to compute a recommendation:
 * - `ce`: the OpenFaaS Community Edition alert rule, for functions with scale labels but no
 *   `scale.target`: more than 5 successful requests per second over the rate window steps the
 *   replicas up by `factor`% of max (at least 1, never past max); otherwise back to min.
 * - `target`: per-replica target load (Pro semantics): ceil(load / (target × proportion)) with load
 *   = requests per second (`rps`), requests in flight (`capacity`) or CPU (`cpu`, when measured).
 * `fixed` (min == max) never changes the count; scale to zero still applies when asked for.
 *
 * Stabilisation: a recommendation above (below) the current count must hold on every tick for
 * upMs (downMs) before it is acted on, and then the most conservative value seen during that streak
 * is taken (the lowest when going up, the highest when going down) — the HPA rule, kept as a
 * single running streak instead of a history. A count outside [floor, ceiling] is corrected at once.
 */
import {
  DEFAULT_FACTOR, DEFAULT_MAX, DEFAULT_MIN, DEFAULT_TARGET_PROPORTION, hasScaleLabels, scaleLabels, type ScaleType
} from './labels.ts'

/** CE's alert rule: rate(gateway_function_invocation_total{code=~"2.."}[10s]) > 5 for 5s */
export const CE_THRESHOLD_RPS = 5

export type PolicyMode = 'fixed' | 'ce' | 'target'

export interface Policy {
  mode: PolicyMode
  /** the lowest count while the function is awake (min, at least 1) */
  floor: number
  /** max, capped by the provider's max_replicas */
  ceiling: number
  type: ScaleType
  /** per-replica target load (mode target) */
  target: number
  targetProportion: number
  /** percent of max added per step (mode ce) */
  factor: number
  zero: boolean
  zeroDurationMs: number
}

export interface PolicyDefaults {
  /** provider-wide idle time before scale to zero (env inactivity_duration) */
  zeroDurationMs: number
  /** the provider's max_replicas */
  maxReplicas: number
}

/** The function's policy, or undefined when it has no scaling label (or a malformed one): left alone. */
export function policyFor (labels: Readonly<Record<string, string>> | undefined, defaults: PolicyDefaults): Policy | undefined {
  if (!hasScaleLabels(labels)) return undefined
  const l = scaleLabels(labels)
  if (l === undefined) return undefined
  const min = l.min ?? DEFAULT_MIN
  const max = l.max ?? Math.max(DEFAULT_MAX, min)
  const ceiling = Math.max(1, Math.min(max, defaults.maxReplicas))
  const floor = Math.min(Math.max(min, 1), ceiling)
  return {
    mode: min === max ? 'fixed' : l.target !== undefined ? 'target' : 'ce',
    floor,
    ceiling,
    type: l.type ?? 'rps',
    target: l.target ?? 0,
    targetProportion: l.targetProportion ?? DEFAULT_TARGET_PROPORTION,
    factor: l.factor ?? DEFAULT_FACTOR,
    zero: l.zero ?? false,
    zeroDurationMs: l.zeroDurationMs ?? defaults.zeroDurationMs
  }
}

export interface Load {
  /** successful requests per second over the rate window */
  rps: number
  /** mean requests in flight over the window (at least those in flight now) */
  concurrency: number
  /** requests in flight right now (held requests of a sleeping function included) */
  inflight: number
  /** CPU in cores per replica, when the backend measures it */
  cpu?: number
}

export interface Timing {
  upMs: number
  downMs: number
}

/** Per-function memory of the decision: one streak and the last sign of life. */
export interface DecisionState {
  /** +1 while recommendations stay above the current count, -1 below, 0 neither */
  dir: number
  since: number
  /** the most conservative recommendation of the streak */
  bound: number
  lastActive: number
}

export function initialState (now: number): DecisionState {
  return { dir: 0, since: now, bound: 0, lastActive: now }
}

export type Action = 'none' | 'up' | 'down' | 'zero' | 'wake'

export interface Decision {
  desired: number
  action: Action
  reason: string
}

/** CE's step: ceil(max / 100 × factor), at least 1 (gateway/scaling/function_scaler.go CalculateReplicas) */
export function ceStep (policy: Policy): number {
  return Math.max(1, Math.ceil(policy.ceiling / 100 * policy.factor))
}

function clamp (n: number, policy: Policy): number {
  return Math.min(policy.ceiling, Math.max(policy.floor, n))
}

/** What the load asks for, before stabilisation; undefined when it cannot be measured (cpu). */
export function recommend (policy: Policy, current: number, load: Load): { want: number, why: string } | undefined {
  if (policy.mode === 'fixed') return { want: current, why: 'scale.min == scale.max' }
  if (policy.mode === 'ce') {
    return load.rps > CE_THRESHOLD_RPS
      ? { want: clamp(current + ceStep(policy), policy), why: `${load.rps.toFixed(1)} rps > ${CE_THRESHOLD_RPS} rps` }
      : { want: policy.floor, why: `${load.rps.toFixed(1)} rps <= ${CE_THRESHOLD_RPS} rps` }
  }
  const measured = policy.type === 'rps' ? load.rps : policy.type === 'capacity' ? load.concurrency : load.cpu
  if (measured === undefined) return undefined
  const perReplica = policy.target * policy.targetProportion
  return {
    want: clamp(Math.ceil(measured / perReplica - 1e-9), policy),
    why: `${policy.type} ${measured.toFixed(2)} / (target ${policy.target} × ${policy.targetProportion})`
  }
}

/**
 * One tick's decision. Mutates `state` (streak, last activity). `active`: the function served or
 * held a request since the previous tick.
 */
export function decide (
  policy: Policy, state: DecisionState, input: { now: number, current: number, load: Load, active: boolean }, timing: Timing
): Decision {
  const { now, current, load } = input
  if (input.active || load.inflight > 0) state.lastActive = now
  const reset = (): void => { state.dir = 0; state.since = now; state.bound = 0 }

  if (current === 0 && policy.zero) {
    reset()
    // asleep: the invoke path wakes it; requests in flight here are held ones (or a park raced a call)
    return load.inflight > 0
      ? { desired: policy.floor, action: 'wake', reason: `${load.inflight} request(s) waiting` }
      : { desired: 0, action: 'none', reason: 'asleep' }
  }
  if (policy.zero && load.inflight === 0 && now - state.lastActive >= policy.zeroDurationMs) {
    reset()
    return { desired: 0, action: 'zero', reason: `idle for ${Math.round((now - state.lastActive) / 1000)} s (zero-duration ${Math.round(policy.zeroDurationMs / 1000)} s)` }
  }
  if (policy.mode === 'fixed') {
    reset()
    return { desired: current, action: 'none', reason: 'scale.min == scale.max' }
  }
  if (current > policy.ceiling) {
    reset()
    return { desired: policy.ceiling, action: 'down', reason: `above max ${policy.ceiling}` }
  }
  if (current < policy.floor) {
    reset()
    return { desired: policy.floor, action: 'up', reason: `below min ${policy.floor}` }
  }
  const rec = recommend(policy, current, load)
  if (rec === undefined) {
    reset()
    return { desired: current, action: 'none', reason: `${policy.type} is not measured on this backend` }
  }
  const dir = Math.sign(rec.want - current)
  if (dir === 0) {
    reset()
    return { desired: current, action: 'none', reason: rec.why }
  }
  if (state.dir !== dir) {
    state.dir = dir
    state.since = now
    state.bound = rec.want
  } else {
    state.bound = dir > 0 ? Math.min(state.bound, rec.want) : Math.max(state.bound, rec.want)
  }
  const window = dir > 0 ? timing.upMs : timing.downMs
  if (now - state.since < window) {
    return { desired: current, action: 'none', reason: `${rec.why}: waiting for ${dir > 0 ? 'up' : 'down'} stabilisation` }
  }
  const desired = state.bound
  // the next step needs a full window of its own
  reset()
  // (the count changed behind our back during the streak: nothing to do this tick)
  if (dir > 0 ? desired <= current : desired >= current) return { desired: current, action: 'none', reason: rec.why }
  return { desired, action: dir > 0 ? 'up' : 'down', reason: rec.why }
}
