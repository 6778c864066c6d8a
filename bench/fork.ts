/*
 * Benchmark (c): fork-per-request invocations per second. A fork-mode function (`cat`) is
 * invoked with a small POST body through the real provider; the baseline, measured in the same
 * run and interleaved with it, is this machine's raw spawn rate: a bare Node loop spawning the
 * same command with the same concurrency, body on stdin, stdout read to the end.
 */
import { spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { Figure } from './lib/figures.ts'
import { chooseTool, load } from './lib/load.ts'
import { deploy, startProvider } from './lib/provider.ts'
import type { Provider } from './lib/provider.ts'

const BODY = 'faas-bridge fork-mode benchmark body: a small request echoed by cat.\n'

export interface ForkReport {
  rawPerSec: number
  faasBridgePerSec: number
  ratio: number
  figures: Figure[]
}

/** One `cat` with BODY on stdin; resolves when its stdout is read and it has exited. */
function spawnOnce (): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cat', [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] })
    let bytes = 0
    child.stdout.on('data', (c: Buffer) => { bytes += c.length })
    child.stderr.resume()
    child.stdin.on('error', () => {})
    child.stdin.end(BODY)
    child.once('error', reject)
    child.once('close', (code) => {
      if (code === 0 && bytes === Buffer.byteLength(BODY)) resolve()
      else reject(new Error(`cat exited ${String(code)} after ${bytes} bytes`))
    })
  })
}

/** The raw spawn rate: `concurrency` loops spawning cat back to back for `durationSec`. */
async function rawSpawnRate (concurrency: number, durationSec: number): Promise<number> {
  const end = performance.now() + durationSec * 1000
  let done = 0
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await spawnOnce()
      done++
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - t0) / 1000)
}

export async function runFork (options: { connections?: number, durationSec?: number, rounds?: number, log?: (line: string) => void } = {}): Promise<ForkReport> {
  const log = options.log ?? console.log
  const connections = options.connections ?? 8
  const durationSec = options.durationSec ?? Number(process.env.BENCH_FORK_DURATION ?? 5)
  const rounds = options.rounds ?? 2
  const tool = chooseTool(log)
  let provider: Provider | undefined
  try {
    provider = await startProvider()
    await deploy(provider, { service: 'cat', image: 'bench/cat:latest', envProcess: 'cat' })
    const url = `${provider.url}/function/cat`
    const check = await provider.call('POST', '/function/cat', BODY)
    if (check.status !== 200 || check.body !== BODY) throw new Error(`fork function check: ${check.status} ${check.body}`)
    log(`fork: ${tool}, ${connections} connections, POST ${Buffer.byteLength(BODY)} B to envProcess "cat"; baseline: a bare Node loop spawning cat, ${connections} at a time; ${rounds} round(s) of ${durationSec} s each`)
    await rawSpawnRate(connections, 1)
    await load(tool, url, { connections, durationSec: 1, body: BODY })
    const raw: number[] = []
    const fb: number[] = []
    for (let round = 0; round < rounds; round++) {
      const r = await rawSpawnRate(connections, durationSec)
      raw.push(r)
      const cpu0 = provider.cpuSeconds()
      const loaded = await load(tool, url, { connections, durationSec, body: BODY })
      const cpu = provider.cpuSeconds() - cpu0
      fb.push(loaded.rps)
      log(`  round ${round + 1}  raw spawn ${r.toFixed(0)}/s   faas-bridge ${loaded.rps.toFixed(0)}/s, p99 ${loaded.p99Ms.toFixed(1)} ms, provider CPU ${(cpu * 1e6 / (loaded.rps * durationSec)).toFixed(0)} µs/call${loaded.errors > 0 ? `, ${loaded.errors} errors` : ''}`)
      if (loaded.errors > 0) throw new Error(`fork: ${loaded.errors} failed invocations`)
    }
    const rawPerSec = raw.reduce((a, b) => a + b, 0) / raw.length
    const faasBridgePerSec = fb.reduce((a, b) => a + b, 0) / fb.length
    const ratio = faasBridgePerSec / rawPerSec
    const met = faasBridgePerSec >= 300
    log(`fork: faas-bridge ${faasBridgePerSec.toFixed(0)} invocations/s, raw spawn ${rawPerSec.toFixed(0)}/s: ${ratio.toFixed(2)}x the raw spawn rate (target >= 300/s: ${met ? 'met' : 'MISSED'})`)
    return {
      rawPerSec,
      faasBridgePerSec,
      ratio,
      figures: [{
        name: '(c) fork-per-request invocations/s',
        value: `${faasBridgePerSec.toFixed(0)}/s = ${ratio.toFixed(2)}x raw spawn (${rawPerSec.toFixed(0)}/s)`,
        target: '>= 300/s',
        met
      }]
    }
  } finally {
    await provider?.stop()
  }
}
