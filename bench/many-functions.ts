/*
 * Benchmarks (d) and (e) on one fresh provider process (`node src/main.ts`, temp state_dir):
 *   (e) its RSS (/proc/PID/status VmRSS) idle, then with 1,000 functions deployed;
 *   (d) GET /system/functions latency with those 1,000 functions vs GET /healthz, the same
 *       number of requests each, interleaved one by one on one keep-alive connection.
 * The functions are fork-mode (`envProcess: cat`): in-provider watchdog slots that start no OS
 * process until invoked, so the provider's own memory and list path are what is measured.
 */
import { performance } from 'node:perf_hooks'
import type { Figure } from './lib/figures.ts'
import { deploy, startProvider, summarize } from './lib/provider.ts'
import type { Provider } from './lib/provider.ts'

export interface ManyFunctionsReport {
  rssIdleMB: number
  rssLoadedMB: number
  list: { median: number, p99: number }
  healthz: { median: number, p99: number }
  figures: Figure[]
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** What faas-cli sends for a typical function (labels, annotations, env), fork mode. */
function spec (i: number): Record<string, unknown> {
  const name = `fn-${String(i).padStart(4, '0')}`
  return {
    service: name,
    image: `ghcr.io/example/${name}:0.1.${i}`,
    envProcess: 'cat',
    envVars: { write_debug: 'false', exec_timeout: '10s' },
    labels: { 'com.openfaas.scale.min': '1', app: name, team: 'bench' },
    annotations: { topic: 'bench', 'com.openfaas.health.http.path': '/_/health' },
    readOnlyRootFilesystem: false
  }
}

/** One GET on the provider's keep-alive connection, in ms; fails unless 200. */
export async function timed (p: Provider, urlPath: string): Promise<number> {
  const t0 = performance.now()
  const r = await p.call('GET', urlPath)
  const ms = performance.now() - t0
  if (r.status !== 200) throw new Error(`GET ${urlPath}: ${r.status} ${r.body.slice(0, 200)}`)
  return ms
}

export async function runManyFunctions (options: { functions?: number, requests?: number, log?: (line: string) => void } = {}): Promise<ManyFunctionsReport> {
  const log = options.log ?? console.log
  const count = options.functions ?? 1000
  const requests = options.requests ?? Number(process.env.BENCH_LIST_REQUESTS ?? 200)
  let provider: Provider | undefined
  try {
    provider = await startProvider()
    const p = provider
    for (let i = 0; i < 20; i++) {
      await timed(p, '/healthz')
      await timed(p, '/system/functions')
    }
    await sleep(1500)
    const rssIdleMB = p.rssMB()
    log(`functions: provider pid ${p.pid} (node src/main.ts, local backend, temp state_dir): idle RSS ${rssIdleMB.toFixed(1)} MB`)

    const t0 = performance.now()
    let next = 0
    const deployer = async (): Promise<void> => {
      while (next < count) await deploy(p, spec(next++))
    }
    await Promise.all(Array.from({ length: 16 }, deployer))
    log(`functions: deployed ${count} fork-mode functions (envProcess "cat": in-provider watchdog slots, no OS process each) in ${((performance.now() - t0) / 1000).toFixed(1)} s, 16 at a time`)
    // (e) is measured with the functions deployed and the provider idle again, before (d)'s list
    // load: 200 list replies of ~400 KiB leave the heap grown for a while, which is reported apart
    await sleep(1500)
    const rssLoadedMB = p.rssMB()
    const listed = JSON.parse((await p.call('GET', '/system/functions')).body) as unknown[]
    if (listed.length !== count) throw new Error(`GET /system/functions listed ${listed.length} functions, expected ${count}`)

    for (let i = 0; i < 20; i++) {
      await timed(p, '/system/functions')
      await timed(p, '/healthz')
    }
    const list: number[] = []
    const health: number[] = []
    for (let i = 0; i < requests; i++) {
      list.push(await timed(p, '/system/functions'))
      health.push(await timed(p, '/healthz'))
    }
    const sl = summarize(list)
    const sh = summarize(health)
    const bytes = Buffer.byteLength((await p.call('GET', '/system/functions')).body)
    log(`functions: GET /system/functions (${count} functions, ${(bytes / 1024).toFixed(0)} KiB) median ${sl.median.toFixed(2)} ms, p99 ${sl.p99.toFixed(2)} ms;` +
      ` GET /healthz median ${sh.median.toFixed(2)} ms, p99 ${sh.p99.toFixed(2)} ms; ${requests} requests each, interleaved`)
    log(`functions: list - healthz: median +${(sl.median - sh.median).toFixed(2)} ms, p99 +${(sl.p99 - sh.p99).toFixed(2)} ms (target list p99 <= 20 ms: ${sl.p99 <= 20 ? 'met' : 'MISSED'})`)

    await sleep(1500)
    const rssAfterListsMB = p.rssMB()
    log(`functions: RSS after the ${requests + 20} list requests (heap grown by ~400 KiB replies, informational): ${rssAfterListsMB.toFixed(1)} MB`)
    log(`functions: RSS idle ${rssIdleMB.toFixed(1)} MB (target <= 80: ${rssIdleMB <= 80 ? 'met' : 'MISSED'}), with ${count} functions ${rssLoadedMB.toFixed(1)} MB (target <= 150: ${rssLoadedMB <= 150 ? 'met' : 'MISSED'}), +${(rssLoadedMB - rssIdleMB).toFixed(1)} MB`)
    return {
      rssIdleMB,
      rssLoadedMB,
      list: { median: sl.median, p99: sl.p99 },
      healthz: { median: sh.median, p99: sh.p99 },
      figures: [
        {
          name: `(d) GET /system/functions, ${count} fns`,
          value: `p99 ${sl.p99.toFixed(1)} ms, median ${sl.median.toFixed(1)} ms (/healthz p99 ${sh.p99.toFixed(1)}, median ${sh.median.toFixed(1)})`,
          target: '<= 20 ms (p99)',
          met: sl.p99 <= 20
        },
        { name: '(e) provider RSS idle', value: `${rssIdleMB.toFixed(1)} MB`, target: '<= 80 MB', met: rssIdleMB <= 80 },
        { name: `(e) provider RSS, ${count} fns`, value: `${rssLoadedMB.toFixed(1)} MB (+${(rssLoadedMB - rssIdleMB).toFixed(1)})`, target: '<= 150 MB', met: rssLoadedMB <= 150 }
      ]
    }
  } finally {
    await provider?.stop()
  }
}
