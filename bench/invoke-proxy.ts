/*
 * Benchmark (a): invoke throughput and p99 at 64 connections with 1 KiB replies, to the same
 * HTTP upstream server script three ways, measured in the same run: straight to the upstream,
 * through a bare reply-from proxy (the @fastify/http-proxy baseline), and through faas-bridge as
 * users run it: the real provider process (`node src/main.ts`) with the script deployed through
 * the API as a `mode=http` function of the local backend (its own replica process of the script).
 * An informational leg runs faas-bridge's invoke plugin over an in-bench driver that points at
 * the bench's upstream (proxy cost alone, no backend lookup); BENCH_ROUTED=1 adds the same with
 * the fast path off. Each server runs in its own process; legs are interleaved over rounds.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chooseTool, load } from './lib/load.ts'
import type { LoadResult } from './lib/load.ts'
import { startChild } from './lib/procs.ts'
import type { Child } from './lib/procs.ts'
import type { Figure } from './lib/figures.ts'
import { deploy, startProvider, waitAvailable } from './lib/provider.ts'
import type { Provider } from './lib/provider.ts'

const here = path.dirname(fileURLToPath(import.meta.url))

export interface InvokeProxyOptions {
  connections?: number
  /** measured seconds per leg per round */
  durationSec?: number
  warmupSec?: number
  rounds?: number
  log?: (line: string) => void
}

export interface InvokeProxyReport {
  tool: string
  direct: LegResult
  baseline: LegResult
  /** the real provider process and local backend (mode=http function) */
  faasBridge: LegResult
  /** the invoke plugin over an in-bench driver (proxy only; informational) */
  faasBridgeFake: LegResult
  /** the in-bench driver leg with the fast path off (only with BENCH_ROUTED=1) */
  faasBridgeRouted: LegResult | undefined
  throughputRatio: number
  p99DeltaMs: number
  /** baseline CPU per request / faas-bridge CPU per request: the ratio least disturbed by a busy machine */
  cpuRatio: number
  figures: Figure[]
}

/** A leg's result plus the CPU its server process spent per request (µs; NaN for direct). */
export type LegResult = LoadResult & { cpuUsPerReq: number }

function mean (results: LegResult[]): LegResult {
  const n = results.length
  return {
    rps: results.reduce((s, r) => s + r.rps, 0) / n,
    p99Ms: results.reduce((s, r) => s + r.p99Ms, 0) / n,
    errors: results.reduce((s, r) => s + r.errors, 0),
    cpuUsPerReq: results.reduce((s, r) => s + r.cpuUsPerReq, 0) / n
  }
}

const signed = (ms: number): string => `${ms >= 0 ? '+' : '-'}${Math.abs(ms).toFixed(2)}`

const fmt = (r: LegResult): string => `${Math.round(r.rps).toLocaleString('en')} req/s, p99 ${r.p99Ms.toFixed(2)} ms` +
  `${Number.isNaN(r.cpuUsPerReq) ? '' : `, proxy CPU ${r.cpuUsPerReq.toFixed(1)} µs/req`}${r.errors > 0 ? `, ${r.errors} errors` : ''}`

export async function runInvokeProxy (options: InvokeProxyOptions = {}): Promise<InvokeProxyReport> {
  const log = options.log ?? console.log
  const connections = options.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 64)
  const durationSec = options.durationSec ?? Number(process.env.BENCH_DURATION ?? 6)
  const warmupSec = options.warmupSec ?? 2
  const rounds = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 2)
  const tool = chooseTool(log)
  const children: Child[] = []
  // every provider started, stopped in `finally` even when its deploy failed
  const providers: Provider[] = []
  try {
    const upstreamScript = path.join(here, 'servers/upstream.ts')
    const upstream = await startChild(upstreamScript)
    children.push(upstream)
    const upstreamUrl = `http://127.0.0.1:${upstream.port}/`
    const baseline = await startChild(path.join(here, 'baseline-proxy.ts'), [upstreamUrl])
    children.push(baseline)
    /** a provider process with the upstream script deployed as the mode=http function `echo` */
    const providerWithEcho = async (env?: Record<string, string>): Promise<Provider> => {
      const p = await startProvider(env)
      providers.push(p)
      await deploy(p, {
        service: 'echo',
        image: 'bench/upstream:latest',
        envProcess: `${process.execPath} ${upstreamScript}`,
        envVars: { mode: 'http' }
      })
      await waitAvailable(p, 'echo', 1)
      return p
    }
    const real = await providerWithEcho()
    // the same provider with one invoke thread (invoke_threads=1: both cores on the data path)
    const thr = await providerWithEcho({ invoke_threads: '1', invoke_threads_start_rps: '0' })
    const fake = await startChild(path.join(here, 'servers/faas-bridge-invoke.ts'), [upstreamUrl])
    children.push(fake)
    const routed = process.env.BENCH_ROUTED === '1'
      ? await startChild(path.join(here, 'servers/faas-bridge-invoke.ts'), [upstreamUrl], { BENCH_FAST_PATH: '0' })
      : undefined
    if (routed !== undefined) children.push(routed)
    type Key = 'direct' | 'baseline' | 'faasBridge' | 'faasBridgeThreads' | 'faasBridgeFake' | 'faasBridgeRouted'
    const legs: Array<{ key: Key, url: string, cpu: (() => number) | undefined }> = [
      { key: 'direct', url: upstreamUrl, cpu: undefined },
      { key: 'baseline', url: `http://127.0.0.1:${baseline.port}/function/echo`, cpu: baseline.cpuSeconds },
      { key: 'faasBridge', url: `${real.url}/function/echo`, cpu: real.cpuSeconds },
      { key: 'faasBridgeThreads', url: `${thr.url}/function/echo`, cpu: thr.cpuSeconds },
      { key: 'faasBridgeFake', url: `http://127.0.0.1:${fake.port}/function/echo`, cpu: fake.cpuSeconds }
    ]
    if (routed !== undefined) legs.push({ key: 'faasBridgeRouted', url: `http://127.0.0.1:${routed.port}/function/echo`, cpu: routed.cpuSeconds })
    const results: Record<Key, LegResult[]> = { direct: [], baseline: [], faasBridge: [], faasBridgeThreads: [], faasBridgeFake: [], faasBridgeRouted: [] }
    log(`invoke: ${tool}, ${connections} connections, 1 KiB replies, ${rounds} round(s) of ${durationSec} s per leg after ${warmupSec} s warm-up`)
    log('  faas-bridge = the provider process (node src/main.ts) → local backend → a mode=http replica of bench/servers/upstream.ts')
    for (let round = 0; round < rounds; round++) {
      for (const leg of legs) {
        await load(tool, leg.url, { connections, durationSec: warmupSec })
        const cpu0 = leg.cpu?.() ?? Number.NaN
        const loaded = await load(tool, leg.url, { connections, durationSec })
        const cpu = (leg.cpu?.() ?? Number.NaN) - cpu0
        const r: LegResult = { ...loaded, cpuUsPerReq: cpu * 1e6 / (loaded.rps * durationSec) }
        results[leg.key].push(r)
        log(`  round ${round + 1} ${leg.key.padEnd(16)} ${fmt(r)}`)
      }
    }
    const direct = mean(results.direct)
    const base = mean(results.baseline)
    const fb = mean(results.faasBridge)
    const fbThreads = mean(results.faasBridgeThreads)
    const fbFake = mean(results.faasBridgeFake)
    const fbRouted = results.faasBridgeRouted.length > 0 ? mean(results.faasBridgeRouted) : undefined
    const throughputRatio = fb.rps / base.rps
    const p99DeltaMs = fb.p99Ms - base.p99Ms
    const report: InvokeProxyReport = {
      tool,
      direct,
      baseline: base,
      faasBridge: fb,
      faasBridgeFake: fbFake,
      faasBridgeRouted: fbRouted,
      throughputRatio,
      p99DeltaMs,
      cpuRatio: base.cpuUsPerReq / fb.cpuUsPerReq,
      figures: [
        { name: '(a) invoke throughput, faas-bridge / bare proxy', value: `${throughputRatio.toFixed(2)}x`, target: '>= 1.30x', met: throughputRatio >= 1.3 },
        { name: '(a) invoke p99, faas-bridge - bare proxy', value: `${signed(p99DeltaMs)} ms`, target: '<= +2 ms', met: p99DeltaMs <= 2 },
        { name: `(a) invoke throughput, invoke_threads=1 / bare proxy (${connections} conns)`, value: `${(fbThreads.rps / base.rps).toFixed(2)}x`, target: '>= 1.50x', met: fbThreads.rps / base.rps >= 1.5 },
        { name: `(a) invoke p99, invoke_threads=1 - bare proxy (${connections} conns)`, value: `${signed(fbThreads.p99Ms - base.p99Ms)} ms`, target: '<= 0 ms', met: fbThreads.p99Ms <= base.p99Ms },
        { name: `(a) invoke p99, invoke_threads=1 - direct (${connections} conns)`, value: `${signed(fbThreads.p99Ms - direct.p99Ms)} ms`, target: '<= +2 ms at 8 conns', met: fbThreads.p99Ms - direct.p99Ms <= 2 }
      ]
    }
    log(`  mean over rounds:`)
    log(`  direct                 ${fmt(direct)}`)
    log(`  bare-proxy             ${fmt(base)}`)
    log(`  faas-bridge            ${fmt(fb)}   [provider process + local backend]`)
    log(`  faas-bridge, 1 thread  ${fmt(fbThreads)}   [the same with invoke_threads=1]`)
    log(`  faas-bridge, fake drv  ${fmt(fbFake)}   [invoke plugin over an in-bench driver: proxy only, informational]`)
    if (fbRouted !== undefined) log(`  faas-bridge (routed)   ${fmt(fbRouted)}   [in-bench driver, fastPath: false, informational]`)
    log(`invoke: faas-bridge/bare-proxy throughput ${report.throughputRatio.toFixed(2)}x, p99 ${signed(report.p99DeltaMs)} ms` +
      ` (target >= 1.30x, <= +2 ms: ${report.throughputRatio >= 1.3 && report.p99DeltaMs <= 2 ? 'met' : 'MISSED'});` +
      ` faas-bridge/direct throughput ${(fb.rps / direct.rps).toFixed(2)}x, p99 ${signed(fb.p99Ms - direct.p99Ms)} ms;` +
      ` proxy CPU per request bare-proxy/faas-bridge ${report.cpuRatio.toFixed(2)}x`)
    return report
  } finally {
    await Promise.all([...children.map(async (c) => { await c.stop() }), ...providers.map(async (p) => { await p.stop() })])
  }
}
