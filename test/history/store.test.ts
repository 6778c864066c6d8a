/*
 * The history rings with an injected clock: bucketing by status class, quantiles computed from
 * the log-scale histograms (not averaged), wraparound over a quiet spell, window slicing (15 min
 * of 5 s, 1 h of 30 s), samples and decisions, forgetting, the function bound, backend calls.
 */
import t from 'tap'
import { binOf, binValue, BINS, quantile } from '../../src/history/latency.ts'
import { HistoryStore, MAX_DECISIONS } from '../../src/history/store.ts'

const T0 = 1_700_000_010_000 // a multiple of 5 s and of 30 s

function clocked (opts: { maxFunctions?: number } = {}) {
  let now = T0
  const store = new HistoryStore({ now: () => now, ...opts })
  return { store, at: (ms: number) => { now = T0 + ms }, advance: (ms: number) => { now += ms } }
}

t.test('latency bins: monotonic, a bin value is within 9 % of what fell in it', async (t) => {
  let last = -1
  for (let ms = 0.01; ms < 1e6; ms *= 1.07) {
    const b = binOf(ms)
    t.ok(b >= last, 'monotonic')
    last = b
    if (ms > 0.06 && b < BINS - 1) t.ok(Math.abs(binValue(b) / ms - 1) < 0.095, `${ms} ms → ${binValue(b)} ms`)
  }
  t.equal(binOf(0), 0)
  t.equal(binOf(Number.NaN), 0)
  t.equal(binOf(1e9), BINS - 1)
  const h = new Uint32Array(BINS)
  t.equal(quantile(h, 0, 0.99), undefined, 'empty histogram has no quantile')
})

t.test('counts per status class become rates per 5 s bucket; the open bucket is not shown', async (t) => {
  const { store, at } = clocked()
  at(100)
  for (let i = 0; i < 10; i++) store.observeInvocation('ns', 'f', 200, 0.01)
  store.observeInvocation('ns', 'f', 302, 0.01)
  for (let i = 0; i < 5; i++) store.observeInvocation('ns', 'f', 404, 0.01)
  store.observeInvocation('ns', 'f', 503, 0.01)
  let h = store.history('ns', 'f', '15m')
  t.equal(h.series.t.length, 180, '15 minutes of 5 s buckets')
  t.equal(h.bucketSeconds, 5)
  t.equal(h.series.rps2xx.at(-1), 0, 'the bucket being filled is not in the series yet')
  at(5000)
  h = store.history('ns', 'f', '15m')
  t.equal(h.series.t.at(-1), T0, 'the last closed bucket starts at T0')
  t.equal(h.series.rps2xx.at(-1), 11 / 5, '2xx (with 3xx) per second')
  t.equal(h.series.rps4xx.at(-1), 1)
  t.equal(h.series.rps5xx.at(-1), 1 / 5)
  t.equal(h.series.rps2xx.at(-2), 0, 'an earlier bucket with nothing')
  t.equal(h.series.p50Ms.at(-2), null, 'no latency where there were no requests')
})

t.test('p50 and p99 come from the histogram of each bucket', async (t) => {
  const { store, at } = clocked()
  at(0)
  // 98 fast (2 ms), 2 slow (400 ms): p50 ≈ 2 ms, p99 ≈ 400 ms
  for (let i = 0; i < 98; i++) store.observeInvocation('ns', 'f', 200, 0.002)
  store.observeInvocation('ns', 'f', 200, 0.4)
  store.observeInvocation('ns', 'f', 500, 0.4)
  at(5000)
  // next bucket: all 50 ms
  for (let i = 0; i < 10; i++) store.observeInvocation('ns', 'f', 200, 0.05)
  at(10_000)
  const s = store.history('ns', 'f', '15m').series
  const near = (v: number | null | undefined, want: number) => v != null && Math.abs(v / want - 1) < 0.1
  t.ok(near(s.p50Ms.at(-2), 2), `p50 ${s.p50Ms.at(-2)}`)
  t.ok(near(s.p99Ms.at(-2), 400), `p99 ${s.p99Ms.at(-2)}`)
  t.ok(near(s.p50Ms.at(-1), 50) && near(s.p99Ms.at(-1), 50), 'the next bucket has its own histogram')
  // the 1 h ring: one 30 s bucket holding both, its p99 from the merged counts (not an average of 400 and 50)
  at(30_000)
  const c = store.history('ns', 'f', '1h')
  t.equal(c.series.t.length, 120, '1 hour of 30 s buckets')
  t.equal(c.bucketSeconds, 30)
  t.equal(c.series.rps2xx.at(-1), Math.round((109 / 30) * 1000) / 1000)
  t.ok(near(c.series.p99Ms.at(-1), 400), `1h p99 ${c.series.p99Ms.at(-1)}`)
  t.ok(near(c.series.p50Ms.at(-1), 2), `1h p50 ${c.series.p50Ms.at(-1)}`)
})

t.test('wraparound: a bucket from an earlier lap of the ring is never shown', async (t) => {
  const { store, at } = clocked()
  at(0)
  store.observeInvocation('ns', 'f', 200, 0.01)
  at(5000)
  t.equal(store.history('ns', 'f', '15m').series.rps2xx.at(-1), 0.2)
  // 181 buckets later the same slot of the ring comes round again
  at(5000 * 182)
  let h = store.history('ns', 'f', '15m')
  t.ok(h.series.rps2xx.every((v) => v === 0), 'the old count is out of the window')
  store.observeInvocation('ns', 'f', 500, 0.01)
  at(5000 * 183)
  h = store.history('ns', 'f', '15m')
  t.equal(h.series.rps5xx.at(-1), 0.2)
  t.equal(h.series.rps2xx.at(-1), 0, 'the reused slot started empty')
  t.equal(h.series.rps2xx.filter((v) => v > 0).length, 0)
  // a long quiet spell (a day) costs nothing and reads as empty
  at(86_400_000)
  h = store.history('ns', 'f', '15m')
  t.ok(h.series.rps5xx.every((v) => v === 0))
  t.equal(h.series.t.at(-1), T0 + 86_400_000 - 5000)
  t.equal(h.series.t[1]! - h.series.t[0]!, 5000, 'buckets are contiguous')
})

t.test('window slicing: 15m holds the last 180 closed buckets, 1h the last 120 of 30 s', async (t) => {
  const { store, at } = clocked()
  // one request per 5 s bucket for 20 minutes, in flight sampled at each
  for (let b = 0; b < 240; b++) {
    at(b * 5000 + 1000)
    store.observeInvocation('ns', 'f', 200, 0.001)
    store.sample('ns', 'f', { inflight: b % 3, replicas: 2, available: b % 2, target: 3 })
  }
  at(240 * 5000)
  const fine = store.history('ns', 'f', '15m').series
  t.equal(fine.t[0], T0 + 60 * 5000, 'starts 15 minutes back')
  t.ok(fine.rps2xx.every((v) => v === 0.2))
  t.same([fine.inflightMax.at(-1), fine.replicas.at(-1), fine.available.at(-1), fine.target.at(-1)], [239 % 3, 2, 1, 3])
  const coarse = store.history('ns', 'f', '1h').series
  t.equal(coarse.t.at(-1), T0 + 19.5 * 60_000)
  t.equal(coarse.rps2xx.filter((v) => v > 0).length, 40, '20 minutes of 30 s buckets with traffic')
  t.ok(coarse.rps2xx.filter((v) => v > 0).every((v) => v === 0.2))
  t.equal(coarse.inflightMax.at(-1), 2, 'max over the six samples of the bucket')
  t.equal(coarse.inflightAvg.at(-1), 1, 'mean of 0,1,2,0,1,2')
  t.equal(coarse.replicas.at(0), null, 'before the history began: nothing sampled')
})

t.test('decisions are kept (bounded) and sliced to the window', async (t) => {
  const { store, at } = clocked()
  at(0)
  store.decision('ns', 'f', { action: 'up', from: 1, to: 4, reason: 'rps 50 > target 10', ok: true })
  at(20 * 60_000)
  store.decision('ns', 'f', { action: 'zero', from: 1, to: 0, reason: 'idle for 60 s', ok: true })
  at(21 * 60_000)
  t.same(store.history('ns', 'f', '15m').decisions.map((d) => d.action), ['zero'], 'the 20-minute-old one is outside 15m')
  t.same(store.history('ns', 'f', '1h').decisions.map((d) => [d.action, d.reason, d.at]), [['up', 'rps 50 > target 10', T0], ['zero', 'idle for 60 s', T0 + 20 * 60_000]])
  for (let i = 0; i < MAX_DECISIONS + 50; i++) store.decision('ns', 'f', { action: 'down', from: 2, to: 1, reason: String(i), ok: true })
  const all = store.history('ns', 'f', '1h').decisions
  t.equal(all.length, MAX_DECISIONS)
  t.equal(all.at(-1)?.reason, String(MAX_DECISIONS + 49), 'the newest are kept')
})

t.test('functions: made-up names are never recorded, the removed are forgotten, the count is bounded', async (t) => {
  const { store, at } = clocked({ maxFunctions: 2 })
  at(0)
  store.observeInvocation('ns', '', 404, 0.001)
  t.equal(store.functions, 0, 'the invoke path names unknown functions "" and they are not kept')
  store.observeInvocation('ns', 'a', 200, 0.001)
  store.sample('ns', 'b', { inflight: 0, replicas: 1, available: 1, target: undefined })
  store.observeInvocation('ns', 'c', 200, 0.001)
  t.equal(store.functions, 2)
  t.notOk(store.has('ns', 'c'), 'past the bound nothing new is kept')
  store.forget('ns', 'a')
  t.notOk(store.has('ns', 'a'))
  t.equal(store.functions, 1)
  store.forget('ns', 'a')
  t.equal(store.functions, 1, 'forgetting twice is harmless')
  t.ok(store.history('ns', 'a', '15m').series.rps2xx.every((v) => v === 0), 'a forgotten function reads as empty')
})

t.test('summary: sparkline, p99 and error rate over the last minute; backends', async (t) => {
  const { store, at } = clocked()
  at(0)
  // 100 at 10 ms and one at 900 ms: the nearest-rank p99 of 101 is the 100th, 10 ms
  for (let i = 0; i < 100; i++) store.observeInvocation('a-ns', 'f', 200, 0.01)
  store.observeInvocation('a-ns', 'f', 500, 0.9)
  store.observeInvocation('b-ns', 'g', 200, 0.001)
  for (let i = 0; i < 9; i++) store.observeBackendCall('local', true, 0.004)
  store.observeBackendCall('local', false, 0.2)
  at(5000)
  const s = store.summary()
  t.equal(s.windowSeconds, 60)
  t.same(s.functions.map((f) => `${f.namespace}/${f.name}`), ['a-ns/f', 'b-ns/g'])
  const f = s.functions[0]!
  t.equal(f.rps.length, 36)
  t.equal(f.rps.at(-1), 101 / 5)
  t.ok(f.p99Ms !== null && f.p99Ms > 9 && f.p99Ms < 11, `p99 ${f.p99Ms}`)
  t.equal(f.errorRate, Math.round((1 / 101) * 10_000) / 10_000)
  t.same(store.summary(['b-ns']).functions.map((x) => x.name), ['g'], 'filtered by namespace')
  const b = s.backends[0]!
  t.equal(b.backend, 'local')
  t.equal(b.errorRate, 0.1)
  t.equal(b.callsPerSecond, 10 / 5, '10 calls over the 5 s since they began')
  t.ok(b.p50Ms !== null && Math.abs(b.p50Ms / 4 - 1) < 0.1, `p50 ${b.p50Ms}`)
  t.ok(b.p99Ms !== null && Math.abs(b.p99Ms / 200 - 1) < 0.1, `p99 ${b.p99Ms}`)
  at(5 * 60_000)
  const later = store.summary()
  t.equal(later.functions[0]!.p99Ms, null, 'a minute later the window is empty')
  t.equal(later.backends[0]!.callsPerSecond, 0)
})
