/*
 * The dashboard history's memory for 1,000 functions, and what recording one invocation costs.
 * Run: `node --expose-gc bench/history-memory.ts` (npm run bench:history).
 *   memory: heap + array buffers before and after filling every function's rings completely
 *           (1 h of 5 s and 30 s buckets with traffic in every one, the most decisions kept each), after GC.
 *   cost:   HistoryStore.observeInvocation per call, as a ratio against prom-client's
 *           counter + histogram observe that /metrics does for the same invocation (same run).
 */
import { createMetrics } from '../src/api/metrics.ts'
import { HistoryStore, MAX_DECISIONS } from '../src/history/store.ts'

const FUNCTIONS = 1000
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error('run with --expose-gc: node --expose-gc bench/history-memory.ts')
  process.exit(2)
}

const used = (): number => {
  gc()
  gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

let now = 1_700_000_010_000
const store = new HistoryStore({ now: () => now })
const before = used()
const names = Array.from({ length: FUNCTIONS }, (_, i) => `fn-${String(i).padStart(4, '0')}`)
// an hour and a bit of 5 s buckets, every function invoked and sampled in every bucket
for (let b = 0; b < 740; b++) {
  now += 5000
  for (const name of names) {
    store.observeInvocation('openfaas-fn', name, b % 10 === 0 ? 500 : 200, 0.001 + (b % 7) / 100)
    store.sample('openfaas-fn', name, { inflight: b % 5, replicas: 2, available: 2, target: 2 })
  }
}
const rings = used()
for (const name of names) {
  for (let i = 0; i < MAX_DECISIONS; i++) store.decision('openfaas-fn', name, { action: i % 2 === 0 ? 'up' : 'down', from: 1, to: 2, reason: `rps ${i} per replica over target 10`, ok: true })
}
const after = used()
const perFunction = (after - before) / FUNCTIONS
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
console.log(`history of ${FUNCTIONS} functions, full: ${mib(after - before)} (${Math.round(perFunction)} B per function)`)
console.log(`  rings (15 min of 5 s, 1 h of 30 s): ${mib(rings - before)} (${Math.round((rings - before) / FUNCTIONS)} B per function)`)
console.log(`  ${MAX_DECISIONS} decisions each (the bound): ${mib(after - rings)} (${Math.round((after - rings) / FUNCTIONS)} B per function)`)
// the series a chart reads are real (not optimised away)
const h = store.history('openfaas-fn', 'fn-0000', '1h')
if (h.series.rps2xx.filter((v) => v > 0).length < 100) throw new Error('the rings were not filled')

// recording cost: observeInvocation vs /metrics' prom-client observe, same labels, same run
const N = 300_000
const metrics = createMetrics()
const labels = { function: 'fn-0001', namespace: 'openfaas-fn', backend: 'local', code: 200 }
const time = (f: () => void): number => {
  const start = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - start) / N
}
for (let round = 0; round < 3; round++) {
  const prom = time(() => { for (let i = 0; i < N; i++) metrics.observeInvocation(labels, 0.004) })
  const hist = time(() => { for (let i = 0; i < N; i++) store.observeInvocation('openfaas-fn', 'fn-0001', 200, 0.004) })
  console.log(`round ${round + 1}: history ${hist.toFixed(0)} ns/invocation, /metrics ${prom.toFixed(0)} ns/invocation: ratio ${(hist / prom).toFixed(3)}`)
}
