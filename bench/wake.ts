/*
 * Benchmark (f): wake from scale to zero. One http-mode function (bench/servers/upstream.ts)
 * labelled com.openfaas.scale.zero=true, on the real provider with a short autoscale interval.
 * Each round measures, in alternating order, a single GET /function/wake (the provider holds it
 * while it wakes the function) until its 200:
 *   parked — the autoscaler parked the idle function (process suspended): the wake resumes it;
 *   cold   — the function was scaled to 0 through the API (process stopped): the wake starts it.
 * Same function, same provider, same run; the figure is parked vs cold, median and p90.
 */
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { performance } from 'node:perf_hooks'
import type { Figure } from './lib/figures.ts'
import { deploy, startProvider, summarize, waitAvailable } from './lib/provider.ts'
import type { Provider } from './lib/provider.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const SCRIPT = path.join(here, 'servers/upstream.ts')
const ZERO_AFTER = '500ms'
const TIMEOUT_MS = 15_000

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

/** One GET on a kept-alive connection to the provider; the status. */
function get (url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => { resolve(res.statusCode ?? 0) })
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

async function replicas (p: Provider): Promise<number> {
  const r = await p.call('GET', '/system/function/wake')
  if (r.status !== 200) throw new Error(`status: ${r.status} ${r.body}`)
  return (JSON.parse(r.body) as { replicas?: number }).replicas ?? 0
}

/** ms from sending the request to its 200 */
async function timedCall (p: Provider): Promise<number> {
  await get(`${p.url}/healthz`) // the connection to the provider is open before the clock starts
  const t0 = performance.now()
  const status = await get(`${p.url}/function/wake`)
  const ms = performance.now() - t0
  if (status !== 200) throw new Error(`wake: ${status}\n${p.tail()}`)
  return ms
}

async function parked (p: Provider): Promise<number> {
  const deadline = Date.now() + TIMEOUT_MS
  while (await replicas(p) !== 0) {
    if (Date.now() > deadline) throw new Error(`the autoscaler did not park the function within ${TIMEOUT_MS} ms\n${p.tail()}`)
    await sleep(20)
  }
  return await timedCall(p)
}

async function cold (p: Provider): Promise<number> {
  const r = await p.call('POST', '/system/scale-function/wake', { serviceName: 'wake', replicas: 0 })
  if (r.status !== 202 && r.status !== 200) throw new Error(`scale to 0: ${r.status} ${r.body}`)
  await waitAvailable(p, 'wake', 0)
  await sleep(150) // let the process exit
  return await timedCall(p)
}

export async function runWake (options: { rounds?: number, log?: (line: string) => void } = {}): Promise<{ parkedMs: number[], coldMs: number[], figures: Figure[] }> {
  const log = options.log ?? console.log
  const rounds = options.rounds ?? Number(process.env.BENCH_WAKE_ROUNDS ?? 10)
  let provider: Provider | undefined
  try {
    provider = await startProvider({ autoscale_interval: '50ms' })
    await deploy(provider, {
      service: 'wake',
      image: 'bench/upstream:latest',
      envProcess: `${process.execPath} ${SCRIPT}`,
      envVars: { mode: 'http' },
      labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': ZERO_AFTER }
    })
    log(`wake: ${rounds} rounds; http-mode function = node bench/servers/upstream.ts, scale.zero-duration ${ZERO_AFTER}, autoscale_interval 50ms; ` +
      'one GET held by the provider until its 200')
    // warm the code paths once each way (the first sleep may come before the process was ready: then it was stopped, not parked)
    await parked(provider)
    await cold(provider)
    const p: number[] = []
    const c: number[] = []
    for (let i = 0; i < rounds; i++) {
      let a: number
      let b: number
      if (i % 2 === 0) {
        a = await parked(provider)
        b = await cold(provider)
      } else {
        b = await cold(provider)
        a = await parked(provider)
      }
      p.push(a)
      c.push(b)
      log(`  round ${String(i + 1).padStart(2)}  parked → 200 ${a.toFixed(1)} ms   cold → 200 ${b.toFixed(1)} ms`)
    }
    const sp = summarize(p)
    const sc = summarize(c)
    const ratio = sc.median / sp.median
    log(`wake: parked median ${sp.median.toFixed(1)} ms, p90 ${sp.p90.toFixed(1)} ms; cold start median ${sc.median.toFixed(1)} ms, p90 ${sc.p90.toFixed(1)} ms; ` +
      `parked is ${ratio.toFixed(1)}x faster (target: parked median <= 10 ms: ${sp.median <= 10 ? 'met' : 'MISSED'})`)
    return {
      parkedMs: p,
      coldMs: c,
      figures: [{
        name: '(f) wake latency, parked vs cold start',
        value: `parked median ${sp.median.toFixed(1)} ms, p90 ${sp.p90.toFixed(1)} ms; cold median ${sc.median.toFixed(0)} ms, p90 ${sc.p90.toFixed(0)} ms (${ratio.toFixed(0)}x)`,
        target: 'parked <= 10 ms (median)',
        met: sp.median <= 10
      }]
    }
  } finally {
    agent.destroy()
    await provider?.stop()
  }
}
