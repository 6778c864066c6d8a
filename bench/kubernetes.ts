/*
 * Benchmark `kubernetes`: the kubernetes backend at cluster scale, against the fake API server
 * (test/fakes/kubernetes, in this process, every request it serves counted) and a loopback
 * upstream standing for the pod (bench/servers/upstream.ts on a pod IP of a random
 * 127.x.y.0/24 network, port 8080, reached in the `endpoints` invoke mode as in a cluster). One
 * provider process (`node src/main.ts`) serves both backends: `openfaas-fn` on the local backend
 * (a mode=http replica of the same upstream script, the baseline) and `kube-fn` on kubernetes.
 *   (a) API-server requests per 1,000 invocations: in steady state, and during a rollout (updates
 *       through the API while the load runs; their own reads and writes are counted too);
 *       open watches are not requests per invocation and are reported apart;
 *   (b) invoke throughput through the kubernetes backend / the local backend, interleaved rounds;
 *   (c) GET /system/functions?namespace=kube-fn with 1,000 functions (each a Deployment with one
 *       ready Pod), p99 from the cache, against GET /healthz on the same connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { FakeKubernetes, type RecordedRequest } from '../test/fakes/kubernetes/server.ts'
import type { Figure } from './lib/figures.ts'
import { chooseTool, load } from './lib/load.ts'
import { startChild, type Child } from './lib/procs.ts'
import { timed } from './many-functions.ts'
import { deploy, startProvider, summarize, waitAvailable, type Provider } from './lib/provider.ts'

const here = path.dirname(fileURLToPath(import.meta.url))
const KUBE_NS = 'kube-fn'
const isWatch = (r: RecordedRequest): boolean => /[?&]watch=(true|1)/.test(r.query)

/** The upstream on port 8080 of a random loopback address (a pod IP); retried on a taken address. */
async function podUpstream (script: string): Promise<{ child: Child, ip: string }> {
  for (let attempt = 0; ; attempt++) {
    const ip = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.2`
    try {
      return { child: await startChild(script, [], { HOST: ip, PORT: '8080' }), ip }
    } catch (err) {
      if (attempt >= 10) throw err
    }
  }
}

export async function runKubernetes (options: { log?: (line: string) => void } = {}): Promise<{ figures: Figure[] }> {
  const log = options.log ?? console.log
  const durationSec = Number(process.env.BENCH_DURATION ?? 6)
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
  const connections = 32
  const functions = Number(process.env.BENCH_KUBE_FUNCTIONS ?? 1000)
  const tool = chooseTool(log)
  const script = path.join(here, 'servers/upstream.ts')
  const children: Child[] = []
  let provider: Provider | undefined
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-kube-'))
  const { child: upstream, ip } = await podUpstream(script)
  children.push(upstream)
  const fake = await new FakeKubernetes({ podIp: () => ip, readyDelayMs: 20 }).start()
  try {
    fake.createNamespace(KUBE_NS)
    const kubeconfig = path.join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, fake.kubeconfig(), { mode: 0o600 })
    const configFile = path.join(dir, 'backends.yaml')
    writeFileSync(configFile, JSON.stringify({
      backends: {
        local: { driver: 'local', namespaces: ['openfaas-fn'] },
        cluster: { driver: 'kubernetes', namespaces: [KUBE_NS], options: { kubeconfig, inCluster: false, invoke: 'endpoints' } }
      }
    }))
    provider = await startProvider({ config_file: configFile })
    const p = provider
    await deploy(p, { service: 'echo', image: 'bench/upstream:latest', envProcess: `${process.execPath} ${script}`, envVars: { mode: 'http' } })
    await waitAvailable(p, 'echo', 1)
    await deploy(p, { service: 'echo', namespace: KUBE_NS, image: 'bench/upstream:latest', envVars: { mode: 'http' } })
    await waitAvailable(p, `echo?namespace=${KUBE_NS}`, 1)
    const localUrl = `${p.url}/function/echo`
    const kubeUrl = `${p.url}/function/echo.${KUBE_NS}`
    log(`kubernetes: ${tool}, ${connections} connections, 1 KiB replies; pod upstream at ${ip}:8080; fake API server ${fake.url} (in the bench process)`)
    await load(tool, kubeUrl, { connections, durationSec: 2 })
    await load(tool, localUrl, { connections, durationSec: 2 })

    // (a) steady state: every request the fake serves during a load on the kubernetes function
    fake.requests.length = 0
    const steady = await load(tool, kubeUrl, { connections, durationSec })
    const steadyCalls = fake.requests.filter((r) => !isWatch(r)).length
    const steadyWatches = fake.requests.filter(isWatch).length
    const steadyInvocations = steady.rps * durationSec
    const steadyPer1000 = steadyCalls / steadyInvocations * 1000
    log(`  (a) steady: ${Math.round(steadyInvocations).toLocaleString('en')} invocations, ${steadyCalls} API-server requests (${steadyPer1000.toFixed(3)} per 1,000), ${steadyWatches} watches (re)opened, ${steady.errors} errors`)

    // what one update costs by itself (no load): to tell the updates' own requests from invocations'
    const update = async (rev: string): Promise<void> => {
      const r = await p.call('PUT', '/system/functions', { service: 'echo', namespace: KUBE_NS, image: 'bench/upstream:latest', envVars: { mode: 'http', rev } })
      if (r.status !== 202) throw new Error(`update: ${r.status} ${r.body}`)
    }
    fake.requests.length = 0
    await update('alone')
    const perUpdate = fake.requests.filter((r) => !isWatch(r)).length
    await waitAvailable(p, `echo?namespace=${KUBE_NS}`, 1)

    // (a) rollout: updates while the load runs; the fake's controller rolls the pods each time
    fake.requests.length = 0
    let updates = 0
    let rolling = true
    const roller = (async () => {
      while (rolling) {
        await update(String(updates))
        updates++
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    })()
    const rollout = await load(tool, kubeUrl, { connections, durationSec })
    rolling = false
    await roller
    const rolloutCalls = fake.requests.filter((r) => !isWatch(r))
    const rolloutInvocations = rollout.rps * durationSec
    const rolloutPer1000 = rolloutCalls.length / rolloutInvocations * 1000
    // beyond the updates' own: reads the invocations made (a cache fallback right after a write)
    const invocationCalls = Math.max(0, rolloutCalls.length - updates * perUpdate)
    log(`  (a) rollout: ${updates} updates (${perUpdate} API-server requests each when alone), ${Math.round(rolloutInvocations).toLocaleString('en')} invocations, ${rolloutCalls.length} API-server requests ` +
      `(${rolloutPer1000.toFixed(3)} per 1,000 all told; ${(invocationCalls / rolloutInvocations * 1000).toFixed(3)} per 1,000 beyond the updates' own), ${rollout.errors} non-2xx/errors`)

    // (b) throughput, interleaved
    const kube: number[] = []
    const local: number[] = []
    for (let round = 0; round < rounds; round++) {
      const l = await load(tool, localUrl, { connections, durationSec })
      const k = await load(tool, kubeUrl, { connections, durationSec })
      local.push(l.rps)
      kube.push(k.rps)
      log(`  (b) round ${round + 1}: local ${Math.round(l.rps).toLocaleString('en')} req/s (p99 ${l.p99Ms.toFixed(2)} ms), kubernetes ${Math.round(k.rps).toLocaleString('en')} req/s (p99 ${k.p99Ms.toFixed(2)} ms)`)
    }
    const ratio = kube.reduce((a, b) => a + b, 0) / local.reduce((a, b) => a + b, 0)

    // (c) 1,000 functions listed from the cache
    const t0 = performance.now()
    let next = 0
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < functions) {
        const i = next++
        const name = `fn-${String(i).padStart(4, '0')}`
        await deploy(p, { service: name, namespace: KUBE_NS, image: `ghcr.io/example/${name}:0.1.${i}`, labels: { team: 'bench' }, annotations: { topic: 'bench' }, envVars: { write_debug: 'false' } })
      }
    }))
    log(`  (c) ${functions} functions deployed in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    const listPath = `/system/functions?namespace=${KUBE_NS}`
    for (let waited = 0; ; waited++) {
      const r = await p.call('GET', listPath)
      const list = JSON.parse(r.body) as Array<{ availableReplicas: number }>
      if (list.length === functions + 1 && list.every((f) => f.availableReplicas === 1)) break
      if (waited > 600) throw new Error(`the ${functions} functions did not become ready`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const requests = Number(process.env.BENCH_LIST_REQUESTS ?? 200)
    for (let i = 0; i < 10; i++) await timed(p, listPath)
    fake.requests.length = 0
    const listMs: number[] = []
    const healthMs: number[] = []
    for (let i = 0; i < requests; i++) {
      healthMs.push(await timed(p, '/healthz'))
      listMs.push(await timed(p, listPath))
    }
    const listCalls = fake.requests.filter((r) => !isWatch(r)).length
    const list = summarize(listMs.sort((a, b) => a - b))
    const health = summarize(healthMs.sort((a, b) => a - b))
    log(`  (c) GET ${listPath} (${functions + 1} functions): median ${list.median.toFixed(2)} ms, p99 ${list.p99.toFixed(2)} ms; /healthz median ${health.median.toFixed(2)} ms, p99 ${health.p99.toFixed(2)} ms; ${listCalls} API-server requests for ${requests} lists`)
    log(`kubernetes: API requests per 1,000 invocations ${steadyPer1000.toFixed(3)} steady, ${rolloutPer1000.toFixed(3)} during a rollout; throughput kubernetes/local ${ratio.toFixed(2)}x; list p99 ${list.p99.toFixed(2)} ms`)
    return {
      figures: [
        { name: 'kubernetes (a) API requests / 1,000 invocations, steady', value: steadyPer1000.toFixed(3), target: '<= 1', met: steadyPer1000 <= 1 },
        { name: 'kubernetes (a) API requests / 1,000 invocations, rollout', value: rolloutPer1000.toFixed(3), target: '(reported)', met: true },
        { name: 'kubernetes (b) invoke throughput, kubernetes / local', value: `${ratio.toFixed(2)}x`, target: '>= 0.90x', met: ratio >= 0.9 },
        { name: 'kubernetes (c) GET /system/functions, 1,000 functions, p99', value: `${list.p99.toFixed(2)} ms`, target: '<= 20 ms', met: list.p99 <= 20 }
      ]
    }
  } finally {
    await provider?.stop()
    await Promise.all(children.map(async (c) => { await c.stop() }))
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
