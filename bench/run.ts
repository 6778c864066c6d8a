/*
 * Benchmark entry: `npm run bench [-- NAME...]`. One section per benchmark, each printed as
 * ratios against a baseline measured in the same run, then a summary table (figure, target,
 * met/missed) and the machine's load averages. Loopback only; every process a section starts is
 * stopped when it ends (bench/lib/procs.ts also kills leftovers when the bench exits).
 *   (a) invoke          — invoke proxy: faas-bridge (real provider) vs bare proxy vs direct
 *   (b) scale-from-zero — scale request → first 200 vs the process's own start
 *   (c) fork            — fork-per-request invocations/s vs the raw spawn rate
 *   (d)+(e) functions   — GET /system/functions with 1,000 functions vs /healthz; provider RSS
 *   (f) wake            — scale to zero: first request → 200 on a parked function vs a cold start
 *   memory              — idle RSS (smaps_rollup) of 3 fresh starts of npm start's and the image's
 *                         command vs bare node and a bare fastify server
 *   kubernetes          — API-server requests per 1,000 invocations (steady, rollout), invoke
 *                         throughput kubernetes/local backend, 1,000-function list p99 from the cache
 *   kubernetes-wake     — kubernetes scale from zero (endpoints mode): server answering → first 200,
 *                         with the provider's wake probe vs the kubelet's probe only
 */
import os from 'node:os'
import type { Figure } from './lib/figures.ts'
import { loadAverages } from './lib/provider.ts'
import { runFork } from './fork.ts'
import { runInvokeProxy } from './invoke-proxy.ts'
import { runKubernetes } from './kubernetes.ts'
import { runKubernetesWake } from './kubernetes-wake.ts'
import { runManyFunctions } from './many-functions.ts'
import { runMemory } from './memory.ts'
import { runScaleFromZero } from './scale-from-zero.ts'
import { runWake } from './wake.ts'

interface Section {
  name: string
  title: string
  run (): Promise<{ figures: Figure[] }>
}

const SECTIONS: Section[] = [
  { name: 'invoke', title: '(a) invoke proxy', run: async () => await runInvokeProxy() },
  { name: 'scale-from-zero', title: '(b) scale-from-zero', run: async () => await runScaleFromZero() },
  { name: 'fork', title: '(c) fork-per-request', run: async () => await runFork() },
  { name: 'functions', title: '(d) GET /system/functions with 1,000 functions, (e) provider RSS', run: async () => await runManyFunctions() },
  { name: 'wake', title: '(f) wake from scale to zero: parked vs cold', run: async () => await runWake() },
  { name: 'memory', title: 'idle memory: RSS of fresh starts (npm start, image command) vs bare node and fastify', run: async () => await runMemory() },
  { name: 'kubernetes', title: 'kubernetes backend: API requests per invocation, throughput vs local, list from the cache', run: async () => await runKubernetes() },
  { name: 'kubernetes-wake', title: 'kubernetes backend: scale from zero, server answering → first 200, wake probe vs kubelet only', run: async () => await runKubernetesWake() }
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !SECTIONS.some((s) => s.name === w))
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${SECTIONS.map((s) => s.name).join(', ')})`)
  process.exit(2)
}

const started = Date.now()
const loadBefore = loadAverages()
console.log(`bench: node ${process.version}, ${os.cpus().length} CPUs, load averages ${loadBefore} (1/5/15 min) at start`)
const figures: Figure[] = []
const failed: string[] = []
for (const section of SECTIONS) {
  if (wanted.length > 0 && !wanted.includes(section.name)) continue
  console.log(`\n== ${section.title} ==`)
  try {
    figures.push(...(await section.run()).figures)
  } catch (err) {
    failed.push(section.title)
    console.error(`bench: ${section.title} failed: ${(err as Error).stack ?? String(err)}`)
    figures.push({ name: section.title, value: 'FAILED (see above)', target: '', met: false })
  }
}

const w0 = Math.max(...figures.map((f) => f.name.length))
const w1 = Math.max(...figures.map((f) => f.value.length))
const w2 = Math.max(...figures.map((f) => f.target.length))
console.log('\n== summary ==')
for (const f of figures) console.log(`${f.name.padEnd(w0)}  ${f.value.padEnd(w1)}  ${f.target.padEnd(w2)}  ${f.met ? 'met' : 'MISSED'}`)
console.log(`load averages ${loadBefore} at start, ${loadAverages()} at end (1/5/15 min, ${os.cpus().length} CPUs shared with other work); ` +
  `${Math.round((Date.now() - started) / 1000)} s in all`)
process.exitCode = failed.length > 0 ? 1 : 0
