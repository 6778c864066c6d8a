/*
 * `npm run soak [-- --minutes N] [--rate R] [--clients C]`: mixed load on the real provider (local
 * backend, loopback only) for N minutes (default 10) at a bounded rate (default 60 requests/s):
 * invocations of a fork-mode and an http-mode function (about 80 %) and control-plane calls
 * (list, status, secret updates, scale up/down, deploy + remove, logs). Prints errors (target 0),
 * p50/p99 per kind, the provider's RSS at the start (after warm-up) and the end (target: within
 * 10 %), its open file descriptors and child processes at the start and end, and the machine's load.
 * Exits 1 when there were errors or RSS grew more than 10 %.
 */
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { deploy, loadAverages, quantile, startProvider, waitAvailable, type Provider } from './lib/provider.ts'

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/http-function.mjs')
/** the start figures are taken after this (at most; a fifth of a short run): V8 sizes its heap first */
const WARM_UP_MS = 60_000
const SAMPLE_EVERY_MS = 30_000

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '60' },
    clients: { type: 'string', default: '6' },
    only: { type: 'string' }
  }
})
const num = (name: string, v: string, min: number, max: number): number => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number in ${min}..${max}, got "${v}"`)
    process.exit(2)
  }
  return n
}
const minutes = num('minutes', values.minutes, 0.1, 24 * 60)
const rate = num('rate', values.rate, 1, 2000)
const clients = Math.floor(num('clients', values.clients, 1, 256))
const warmUpMs = Math.min(WARM_UP_MS, minutes * 60_000 / 5)

/** the provider's V8 heap (used / total, MB) from its own /metrics */
async function heapOf (p: Provider): Promise<string> {
  try {
    const m = (await p.call('GET', '/metrics')).body
    const g = (n: string): number => Number(new RegExp(`^${n}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(m)?.[1] ?? Number.NaN) / 1e6
    return `heap used ${g('nodejs_heap_size_used_bytes').toFixed(0)} / total ${g('nodejs_heap_size_total_bytes').toFixed(0)} MB`
  } catch {
    return 'heap ?'
  }
}

function fdCount (pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return Number.NaN
  }
}

/** every descendant of pid (function processes), from /proc */
function descendants (pid: number): number {
  const children = new Map<number, number[]>()
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (f[0] === 'Z') continue
      const ppid = Number(f[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)])
    } catch {}
  }
  let n = 0
  const stack = [pid]
  while (stack.length > 0) {
    for (const c of children.get(stack.pop() as number) ?? []) { n++; stack.push(c) }
  }
  return n
}

/** true, or what was wrong */
interface Op { kind: 'invoke' | 'control', name: string, run (p: Provider): Promise<boolean | string> }

let counter = 0
const ops: Array<{ weight: number, op: Op }> = [
  { weight: 40, op: { kind: 'invoke', name: 'invoke fork', run: async (p) => { const r = await p.call('POST', '/function/echo', 'hello'); return r.status === 200 && r.body === 'hello' ? true : `${r.status} ${r.body.slice(0, 100)}` } } },
  { weight: 40, op: { kind: 'invoke', name: 'invoke http', run: async (p) => { const r = await p.call('POST', '/function/web/x', 'hi'); return r.status === 200 ? true : `${r.status} ${r.body.slice(0, 100)}` } } },
  { weight: 5, op: { kind: 'control', name: 'list', run: async (p) => (await p.call('GET', '/system/functions')).status === 200 } },
  { weight: 4, op: { kind: 'control', name: 'status', run: async (p) => (await p.call('GET', '/system/function/web')).status === 200 } },
  { weight: 3, op: { kind: 'control', name: 'secret update', run: async (p) => (await p.call('PUT', '/system/secrets', { name: 'token', value: `v${counter++}` })).status === 202 } },
  { weight: 3, op: { kind: 'control', name: 'logs', run: async (p) => (await p.call('GET', '/system/logs?name=echo&tail=5')).status === 200 } },
  { weight: 2, op: { kind: 'control', name: 'scale', run: async (p) => (await p.call('POST', '/system/scale-function/web', { replicas: 1 + (counter++ % 2) })).status === 202 } },
  {
    weight: 3,
    op: {
      kind: 'control',
      name: 'deploy+remove',
      run: async (p) => {
        const service = `tmp-${counter++ % 1000}`
        const d = await p.call('POST', '/system/functions', { service, image: 'tmp:1', envProcess: 'cat', secrets: ['token'] })
        const r = await p.call('DELETE', '/system/functions', { functionName: service })
        return d.status === 202 && r.status === 202
      }
    }
  }
]
// --only NAME[,NAME]: only these operations (to find which one a figure comes from)
if (values.only !== undefined) {
  const wanted = values.only.split(',')
  for (const o of ops) if (!wanted.includes(o.op.name)) o.weight = 0
}
const totalWeight = ops.reduce((n, o) => n + o.weight, 0)
function pickOp (): Op {
  let x = Math.random() * totalWeight
  for (const o of ops) { x -= o.weight; if (x < 0) return o.op }
  return (ops[0] as { op: Op }).op
}

console.log(`soak: ${minutes} min at ≤ ${rate} requests/s from ${clients} clients; load average ${loadAverages()}`)
const p = await startProvider()
let exitCode = 0
try {
  await p.call('POST', '/system/secrets', { name: 'token', value: 'v0' })
  await deploy(p, { service: 'echo', image: 'echo:1', envProcess: 'cat', labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' } })
  await deploy(p, {
    service: 'web', image: 'web:1', envProcess: `${process.execPath} ${FIXTURE}`, envVars: { mode: 'http' },
    secrets: ['token'], labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '2' }
  })
  await waitAvailable(p, 'web', 1)

  const latencies = { invoke: [] as number[], control: [] as number[] }
  const errors = new Map<string, number>()
  let requests = 0
  let rssStart = Number.NaN
  let fdStart = Number.NaN
  let childrenStart = Number.NaN
  const started = Date.now()
  const deadline = started + minutes * 60_000
  const interval = 1000 * clients / rate
  let nextSample = started + warmUpMs
  const client = async (i: number): Promise<void> => {
    let next = Date.now() + (interval * i) / clients
    while (Date.now() < deadline) {
      const wait = next - Date.now()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      next += interval
      if (Date.now() >= deadline) break
      const op = pickOp()
      const t0 = performance.now()
      let ok = false
      let why = 'unexpected status'
      try {
        const r = await op.run(p)
        ok = r === true
        if (typeof r === 'string') why = r
      } catch (err) {
        why = (err as Error).message
      }
      const ms = performance.now() - t0
      requests++
      if (Date.now() - started >= warmUpMs) latencies[op.kind].push(ms)
      if (!ok) errors.set(`${op.name}: ${why}`, (errors.get(`${op.name}: ${why}`) ?? 0) + 1)
    }
  }
  const sampler = setInterval(() => {
    if (Date.now() < nextSample) return
    nextSample += SAMPLE_EVERY_MS
    if (Number.isNaN(rssStart)) {
      rssStart = p.rssMB()
      fdStart = fdCount(p.pid)
      childrenStart = descendants(p.pid)
    }
    const line = `  ${((Date.now() - started) / 60_000).toFixed(1)} min: ${requests} requests, ${[...errors.values()].reduce((a, b) => a + b, 0)} errors, RSS ${p.rssMB().toFixed(1)} MB, ${fdCount(p.pid)} fds, load ${loadAverages()}`
    void heapOf(p).then((h) => { console.log(`${line}, ${h}`) })
  }, 500)
  await Promise.all(Array.from({ length: clients }, async (_, i) => { await client(i) }))
  clearInterval(sampler)
  // let in-flight work (scale-downs, rollouts) settle before the end figures
  await new Promise((resolve) => setTimeout(resolve, 2000))
  const rssEnd = p.rssMB()
  const fdEnd = fdCount(p.pid)
  const childrenEnd = descendants(p.pid)
  const elapsed = (Date.now() - started) / 1000
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0)
  const fmt = (xs: number[]): string => {
    const s = [...xs].sort((a, b) => a - b)
    return `p50 ${quantile(s, 0.5).toFixed(1)} ms, p99 ${quantile(s, 0.99).toFixed(1)} ms (${s.length} after warm-up)`
  }
  const growth = (rssEnd - rssStart) / rssStart * 100
  console.log(`requests ${requests} in ${elapsed.toFixed(0)} s (${(requests / elapsed).toFixed(1)}/s)`)
  console.log(`errors ${errorCount}${errorCount > 0 ? ': ' + [...errors.entries()].map(([k, n]) => `${k} ×${n}`).join('; ') : ''}`)
  console.log(`invocations: ${fmt(latencies.invoke)}`)
  console.log(`control plane: ${fmt(latencies.control)}`)
  console.log(`RSS start ${rssStart.toFixed(1)} MB (after ${(warmUpMs / 1000).toFixed(0)} s warm-up), end ${rssEnd.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %)`)
  console.log(`open handles: provider fds ${fdStart} → ${fdEnd}, function processes ${childrenStart} → ${childrenEnd}; ` +
    `this process: ${process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length} active resources`)
  console.log(`provider ${await heapOf(p)} at the end; load average ${loadAverages()}`)
  if (errorCount > 0 || !(Math.abs(growth) <= 10)) exitCode = 1
} finally {
  await p.stop()
}
process.exit(exitCode)
