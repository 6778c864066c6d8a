/*
 * The decision logic alone, on a fake clock: labels → policy, load → desired replicas with the
 * stabilisation windows, scale to zero, and never a count outside [min, max].
 */
import fc from 'fast-check'
import t from 'tap'
import { checkScaleLabels, parseLabelDuration, scaleLabels } from '../../src/autoscale/labels.ts'
import { LoadWindow } from '../../src/autoscale/load.ts'
import { ceStep, decide, initialState, policyFor, type Load, type Policy } from '../../src/autoscale/policy.ts'

const defaults = { zeroDurationMs: 15 * 60_000, maxReplicas: 100 }
const timing = { upMs: 5000, downMs: 30_000 }
const idle: Load = { rps: 0, concurrency: 0, inflight: 0 }

function policy (labels: Record<string, string>): Policy {
  const p = policyFor(labels, defaults)
  if (p === undefined) throw new Error('expected a policy')
  return p
}

/** Runs ticks every `step` ms from `from` to `to` with `load`, applying each decision; the replica counts seen. */
function run (p: Policy, state: ReturnType<typeof initialState>, start: { now: number, current: number }, to: number, load: Load, step = 2000): { now: number, current: number, seen: number[] } {
  let { now, current } = start
  const seen: number[] = []
  while (now < to) {
    now += step
    const d = decide(p, state, { now, current, load, active: load.rps > 0 || load.inflight > 0 }, timing)
    current = d.desired
    seen.push(current)
  }
  return { now, current, seen }
}

t.test('labels → policy', async (t) => {
  t.equal(policyFor(undefined, defaults), undefined, 'no labels: not autoscaled')
  t.equal(policyFor({ team: 'a', 'com.openfaas.scale.factor': '50' }, defaults), undefined, 'factor alone does not manage a function')
  const ce = policy({ 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '10' })
  t.match(ce, { mode: 'ce', floor: 2, ceiling: 10, factor: 20, zero: false, type: 'rps' })
  t.equal(ceStep(ce), 2, '20% of max 10')
  t.equal(ceStep(policy({ 'com.openfaas.scale.max': '3' })), 1, 'at least 1')
  t.match(policy({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '5', 'com.openfaas.scale.target': '10', 'com.openfaas.scale.type': 'capacity' }),
    { mode: 'target', target: 10, type: 'capacity', targetProportion: 0.9 })
  t.match(policy({ 'com.openfaas.scale.min': '3', 'com.openfaas.scale.max': '3' }), { mode: 'fixed' }, 'min == max disables')
  t.match(policy({ 'com.openfaas.scale.max': '1000' }), { ceiling: 100 }, "capped by the provider's max_replicas")
  t.match(policy({ 'com.openfaas.scale.min': '0' }), { floor: 1, ceiling: 20 }, 'min 0 still keeps one replica awake; max defaults to 20')
  t.match(policy({ 'com.openfaas.scale.zero': 'true' }), { zero: true, zeroDurationMs: 15 * 60_000 }, 'provider-wide idle default')
  t.match(policy({ 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1m30s' }), { zeroDurationMs: 90_000 })
  t.equal(policyFor({ 'com.openfaas.scale.min': 'x' }, defaults), undefined, 'a malformed label (stored before the check) leaves the function alone')
  t.equal(parseLabelDuration('500ms'), 500)
  t.equal(parseLabelDuration('30'), 30_000)
  t.equal(parseLabelDuration('1h5m'), 3_900_000)
  t.equal(parseLabelDuration('soon'), undefined)
})

t.test('bad label values are refused with the label named', async (t) => {
  const bad: Array<[Record<string, string>, RegExp]> = [
    [{ 'com.openfaas.scale.min': 'two' }, /scale\.min must be a whole number/],
    [{ 'com.openfaas.scale.max': '0' }, /scale\.max must be between 1 and/],
    [{ 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '2' }, /scale\.min \(5\) is above com\.openfaas\.scale\.max \(2\)/],
    [{ 'com.openfaas.scale.target': '-1' }, /scale\.target must be a whole number/],
    [{ 'com.openfaas.scale.target': '0' }, /scale\.target must be between 1/],
    [{ 'com.openfaas.scale.type': 'memory' }, /scale\.type must be one of rps, capacity, cpu/],
    [{ 'com.openfaas.scale.target-proportion': '1.5' }, /target-proportion must be a number above 0 and at most 1/],
    [{ 'com.openfaas.scale.target-proportion': 'most' }, /target-proportion/],
    [{ 'com.openfaas.scale.zero': 'yes' }, /scale\.zero must be "true" or "false"/],
    [{ 'com.openfaas.scale.zero-duration': 'a while' }, /zero-duration must be a positive duration/],
    [{ 'com.openfaas.scale.zero-duration': '0s' }, /zero-duration must be a positive duration/],
    [{ 'com.openfaas.scale.factor': '0' }, /scale\.factor must be between 1 and 100/],
    [{ 'com.openfaas.scale.factor': '101' }, /scale\.factor must be between 1 and 100/]
  ]
  for (const [labels, message] of bad) {
    t.throws(() => { checkScaleLabels(labels) }, { code: 'INVALID', message }, JSON.stringify(labels))
  }
  t.doesNotThrow(() => {
    checkScaleLabels({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4', 'com.openfaas.scale.target': '50', 'com.openfaas.scale.type': 'cpu', 'com.openfaas.scale.target-proportion': '0.7', 'com.openfaas.scale.zero': 'TRUE', 'com.openfaas.scale.zero-duration': '15m', 'com.openfaas.scale.factor': '100' })
  })
  t.same(scaleLabels({ other: 'x' }), {})
})

t.test('CE rule: > 5 rps sustained for 5 s steps up by factor% of max; under it, back to min after the down window', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '10', 'com.openfaas.scale.factor': '30' })
  const state = initialState(0)
  // first seen at t=2 s (like Prometheus' `for:`, the streak starts at the first evaluation)
  let r = run(p, state, { now: 0, current: 1 }, 6000, { rps: 50, concurrency: 2, inflight: 1 })
  t.same(r.seen, [1, 1, 1], 'no step before it held for 5 s')
  r = run(p, state, r, 8000, { rps: 50, concurrency: 2, inflight: 1 })
  t.equal(r.current, 4, 'one step of ceil(10 × 30%) = 3 after 5 s')
  r = run(p, state, r, 40_000, { rps: 50, concurrency: 2, inflight: 1 })
  t.equal(r.current, 10, 'steps again each window, up to max')
  t.ok(r.seen.every((n) => n <= 10), 'never above max')
  // exactly at the threshold is not above it
  r = run(p, state, r, 80_000, { rps: 5, concurrency: 1, inflight: 0 })
  t.equal(r.current, 1, 'back to min once the rate falls to 5 rps or less')
  t.ok(r.seen.findIndex((n) => n !== 10) >= 14, 'held for the 30 s down window first (no flapping)')
})

t.test('a blip under the threshold resets the up streak (stabilisation)', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '10' })
  const state = initialState(0)
  let now = 0
  const tickAt = (rps: number): number => {
    now += 2000
    return decide(p, state, { now, current: 1, load: { rps, concurrency: 0, inflight: 0 }, active: true }, timing).desired
  }
  t.same([tickAt(20), tickAt(20), tickAt(1), tickAt(20), tickAt(20)], [1, 1, 1, 1, 1], 'never 5 s in a row')
  t.equal(tickAt(20), 1)
  t.equal(tickAt(20), 3, 'then 5 s sustained: one step (20% of 10 = 2)')
})

t.test('target mode: ceil(load / (target × proportion)), the most conservative value of the streak', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '8', 'com.openfaas.scale.target': '10', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target-proportion': '0.5' })
  const state = initialState(0)
  let now = 0
  const tickAt = (concurrency: number, current: number): number => {
    now += 2000
    return decide(p, state, { now, current, load: { rps: 0, concurrency, inflight: 0 }, active: true }, timing).desired
  }
  t.equal(tickAt(25, 1), 1)
  t.equal(tickAt(12, 1), 1)
  t.equal(tickAt(30, 1), 1)
  t.equal(tickAt(30, 1), 3, 'ceil(12 / 5) = 3: the lowest recommendation seen over the up window')
  t.equal(tickAt(500, 3), 3)
  t.equal(tickAt(500, 3), 3)
  t.equal(tickAt(500, 3), 3)
  t.equal(tickAt(500, 3), 8, 'capped at max')
  const rps = policy({ 'com.openfaas.scale.max': '8', 'com.openfaas.scale.target': '100' })
  t.equal(decide(rps, initialState(0), { now: 0, current: 1, load: { rps: 450, concurrency: 1, inflight: 0 }, active: true }, { upMs: 0, downMs: 0 }).desired, 5,
    'rps: ceil(450 / 90) = 5 (up window 0: at once)')
  const cpu = policy({ 'com.openfaas.scale.max': '8', 'com.openfaas.scale.target': '100', 'com.openfaas.scale.type': 'cpu' })
  t.match(decide(cpu, initialState(0), { now: 0, current: 2, load: idle, active: false }, { upMs: 0, downMs: 0 }), { desired: 2, action: 'none', reason: /not measured/ },
    'cpu where it is not measured: holds')
})

t.test('min == max: the autoscaler keeps its hands off', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '2' })
  const r = run(p, initialState(0), { now: 0, current: 2 }, 60_000, { rps: 1000, concurrency: 50, inflight: 50 })
  t.ok(r.seen.every((n) => n === 2))
})

t.test('a count outside [min, max] (a manual scale) is corrected at once', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '4' })
  t.match(decide(p, initialState(0), { now: 1, current: 9, load: idle, active: false }, timing), { desired: 4, action: 'down' })
  t.match(decide(p, initialState(0), { now: 1, current: 0, load: idle, active: false }, timing), { desired: 2, action: 'up' })
})

t.test('scale to zero: idle for zero-duration → 0; asleep stays 0 until a request is waiting', async (t) => {
  const p = policy({ 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '4', 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '60s' })
  const state = initialState(0)
  t.match(decide(p, state, { now: 30_000, current: 2, load: { rps: 1, concurrency: 0, inflight: 0 }, active: true }, timing), { action: 'none' })
  t.match(decide(p, state, { now: 80_000, current: 2, load: idle, active: false }, timing), { action: 'none' }, 'idle for 50 s only')
  t.match(decide(p, state, { now: 85_000, current: 2, load: { ...idle, inflight: 1 }, active: true }, timing), { action: 'none' }, 'a request in flight is activity')
  t.match(decide(p, state, { now: 144_000, current: 2, load: idle, active: false }, timing), { action: 'none' })
  t.match(decide(p, state, { now: 145_000, current: 2, load: idle, active: false }, timing), { desired: 0, action: 'zero' }, 'idle for 60 s')
  t.match(decide(p, state, { now: 500_000, current: 0, load: idle, active: false }, timing), { desired: 0, action: 'none', reason: 'asleep' })
  t.match(decide(p, state, { now: 501_000, current: 0, load: { ...idle, inflight: 3 }, active: true }, timing), { desired: 2, action: 'wake' }, 'wakes to min')
  const fixed = policy({ 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1', 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10s' })
  t.match(decide(fixed, initialState(0), { now: 10_000, current: 1, load: idle, active: false }, timing), { action: 'zero' }, 'min == max still sleeps when scale.zero=true')
})

t.test('property: whatever the load and the starting count in range, the answer stays in [min, max] (or 0 for a sleeper)', async (t) => {
  const labels = fc.record({
    min: fc.integer({ min: 0, max: 6 }),
    span: fc.integer({ min: 0, max: 10 }),
    target: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
    type: fc.constantFrom('rps', 'capacity'),
    factor: fc.integer({ min: 1, max: 100 }),
    zero: fc.boolean()
  })
  const loads = fc.array(fc.record({ rps: fc.double({ min: 0, max: 1e4, noNaN: true }), concurrency: fc.double({ min: 0, max: 500, noNaN: true }), inflight: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 60 })
  fc.assert(fc.property(labels, loads, fc.integer({ min: 100, max: 5000 }), (l, ls, step) => {
    const p = policy({
      'com.openfaas.scale.min': String(l.min),
      'com.openfaas.scale.max': String(Math.max(1, l.min + l.span)),
      'com.openfaas.scale.type': l.type,
      'com.openfaas.scale.factor': String(l.factor),
      'com.openfaas.scale.zero': String(l.zero),
      'com.openfaas.scale.zero-duration': '3s',
      ...(l.target !== undefined ? { 'com.openfaas.scale.target': String(l.target) } : {})
    })
    const state = initialState(0)
    let current = p.floor
    let now = 0
    for (const load of ls) {
      now += step
      const d = decide(p, state, { now, current, load, active: load.inflight > 0 }, { upMs: 1000, downMs: 3000 })
      if (d.desired === 0) {
        if (!p.zero) return false
      } else if (d.desired < p.floor || d.desired > p.ceiling) {
        return false
      }
      current = d.desired
    }
    return true
  }), { numRuns: 300 })
  t.pass('held for 300 random runs')
})

t.test('load window: rate and mean concurrency over the window', async (t) => {
  const w = new LoadWindow(10_000)
  const c = { inflight: 0, completed: 0, ok: 0, busySeconds: 0 }
  t.match(w.sample(0, c), { load: { rps: 0, concurrency: 0 }, active: false })
  c.completed = 60; c.ok = 50; c.busySeconds = 4
  t.match(w.sample(2000, c), { load: { rps: 25, concurrency: 2 }, active: true }, '50 ok in 2 s; 4 busy-seconds in 2 s')
  c.inflight = 3
  t.match(w.sample(4000, c), { load: { rps: 12.5, concurrency: 3, inflight: 3 }, active: true }, 'in flight now counts')
  c.inflight = 0
  for (let at = 6000; at <= 20_000; at += 2000) w.sample(at, c)
  t.match(w.sample(22_000, c), { load: { rps: 0, concurrency: 0 }, active: false }, 'the burst left the 10 s window')
})
