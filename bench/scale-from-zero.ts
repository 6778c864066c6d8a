/*
 * Benchmark (b): scale-from-zero. An http-mode function (bench/servers/upstream.ts) is scaled to
 * 0; then the clock starts, the scale request goes out (POST /system/scale-function, as the
 * gateway sends it) and the invoke URL is polled until the first 200. The baseline, measured in
 * the same run and interleaved with it, is the process's own start: `node upstream.ts` spawned
 * directly, its port polled the same way until the first 200. The figure is the overhead per
 * pair (faas-bridge − own start), median and p90 over the rounds.
 */
import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { Figure } from './lib/figures.ts'
import { track } from './lib/procs.ts'
import { deploy, startProvider, summarize, waitAvailable } from './lib/provider.ts'
import type { Provider } from './lib/provider.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const SCRIPT = path.join(here, 'servers/upstream.ts')
const POLL_MS = 1
const TIMEOUT_MS = 10_000

export interface ScaleFromZeroReport {
  ownStartMs: number[]
  faasBridgeMs: number[]
  overheadMs: number[]
  figures: Figure[]
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One GET; resolves with the status, or 0 when the connection fails. */
function get (url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
      res.on('error', () => { resolve(0) })
    })
    req.on('error', () => { resolve(0) })
  })
}

/** Polls `url` every POLL_MS until it answers 200; resolves with performance.now() of that answer. */
async function firstOk (url: string): Promise<number> {
  const deadline = performance.now() + TIMEOUT_MS
  for (;;) {
    if (await get(url) === 200) return performance.now()
    if (performance.now() > deadline) throw new Error(`${url}: no 200 within ${TIMEOUT_MS} ms`)
    await sleep(POLL_MS)
  }
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => { resolve(port) })
    })
  })
}

/** `node upstream.ts` started directly: ms from spawn to its first 200. */
async function ownStart (): Promise<number> {
  const port = await freePort()
  const t0 = performance.now()
  const child = spawn(process.execPath, [SCRIPT], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: String(port) }, stdio: 'ignore', detached: true })
  const untrack = track(child)
  try {
    return (await firstOk(`http://127.0.0.1:${port}/`)) - t0
  } finally {
    agent.destroy()
    const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
    child.kill('SIGTERM')
    await exited
    untrack()
  }
}

/** ms from the scale request to the first 200, and to the scale request's own answer */
async function fromZero (p: Provider): Promise<{ ms: number, ackMs: number }> {
  const t0 = performance.now()
  const r = await p.call('POST', '/system/scale-function/sfz', { serviceName: 'sfz', replicas: 1 })
  const ackMs = performance.now() - t0
  if (r.status !== 202 && r.status !== 200) throw new Error(`scale: ${r.status} ${r.body}`)
  const ms = (await firstOk(`${p.url}/function/sfz`)) - t0
  agent.destroy()
  return { ms, ackMs }
}

async function toZero (p: Provider): Promise<void> {
  const r = await p.call('POST', '/system/scale-function/sfz', { serviceName: 'sfz', replicas: 0 })
  if (r.status !== 202 && r.status !== 200) throw new Error(`scale to 0: ${r.status} ${r.body}`)
  await waitAvailable(p, 'sfz', 0)
  await sleep(150) // let the replica exit before the next start
}

export async function runScaleFromZero (options: { rounds?: number, log?: (line: string) => void } = {}): Promise<ScaleFromZeroReport> {
  const log = options.log ?? console.log
  const rounds = options.rounds ?? Number(process.env.BENCH_SFZ_ROUNDS ?? 12)
  let provider: Provider | undefined
  try {
    provider = await startProvider()
    await deploy(provider, { service: 'sfz', image: 'bench/upstream:latest', envProcess: `${process.execPath} ${SCRIPT}`, envVars: { mode: 'http' } })
    await waitAvailable(provider, 'sfz', 1)
    log(`scale-from-zero: ${rounds} rounds; http-mode function = node bench/servers/upstream.ts; both legs poll for the first 200 every ${POLL_MS} ms`)
    // warm the file cache and the provider's code paths once
    await ownStart()
    await toZero(provider)
    await fromZero(provider)
    const own: number[] = []
    const fb: number[] = []
    const over: number[] = []
    const acks: number[] = []
    for (let i = 0; i < rounds; i++) {
      await toZero(provider)
      let o: number
      let z: { ms: number, ackMs: number }
      if (i % 2 === 0) {
        o = await ownStart()
        z = await fromZero(provider)
      } else {
        z = await fromZero(provider)
        o = await ownStart()
      }
      const f = z.ms
      acks.push(z.ackMs)
      own.push(o)
      fb.push(f)
      over.push(f - o)
      log(`  round ${String(i + 1).padStart(2)}  own start ${o.toFixed(1)} ms   scale→first 200 ${f.toFixed(1)} ms   overhead ${(f - o).toFixed(1)} ms   (scale answered in ${z.ackMs.toFixed(1)} ms)`)
    }
    const so = summarize(own)
    const sf = summarize(fb)
    const sv = summarize(over)
    log(`scale-from-zero: the scale request itself answered in median ${summarize(acks).median.toFixed(1)} ms (state written and fsync'd)`)
    log(`scale-from-zero: own start median ${so.median.toFixed(1)} ms, p90 ${so.p90.toFixed(1)} ms; scale request → first 200 median ${sf.median.toFixed(1)} ms, p90 ${sf.p90.toFixed(1)} ms`)
    log(`scale-from-zero: overhead over the process's own start median ${sv.median.toFixed(1)} ms, p90 ${sv.p90.toFixed(1)} ms (target <= 30 ms: ${sv.median <= 30 ? 'met' : 'MISSED'})`)
    return {
      ownStartMs: own,
      faasBridgeMs: fb,
      overheadMs: over,
      figures: [{
        name: '(b) scale-from-zero overhead over own start',
        value: `median ${sv.median.toFixed(1)} ms, p90 ${sv.p90.toFixed(1)} ms (own start ${so.median.toFixed(0)} ms)`,
        target: '<= 30 ms (median)',
        met: sv.median <= 30
      }]
    }
  } finally {
    agent.destroy()
    await provider?.stop()
  }
}
