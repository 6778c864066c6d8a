/*
 * Benchmark `kubernetes-wake`: scale from zero on the kubernetes backend in the `endpoints`
 * invoke mode, against the fake API server with its kubelet honouring the readiness probe's
 * schedule (probes: true; the fast-wake defaults, initial delay 0 s, period 1 s). The function's
 * "pod" is an HTTP server in this process on a random loopback pod IP, port 8080, that answers
 * 503 until the bench says it is up: a function that starts some time (STARTUP_MS) after its
 * container is Running. One provider process serves two namespaces on the same fake: one with
 * the provider's wake probe (wakeProbe: true, the default), one without (wakeProbe: false, the
 * kubelet's probe and the EndpointSlice decide). Each round, alternating: scale to 0, scale to 1
 * through the API (as the gateway does), wait for the pod to be Running, let the server come up
 * after STARTUP_MS, then poll the invoke URL; the figure is the time from the server answering
 * to the first 200 (target: within 0.5 s).
 */
import http from 'node:http'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { FakeKubernetes } from '../test/fakes/kubernetes/server.ts'
import type { Figure } from './lib/figures.ts'
import { startProvider, summarize, type Provider } from './lib/provider.ts'

const PROBED = 'kube-wake'
const KUBELET = 'kube-kubelet'
const STARTUP_MS = [150, 300, 450, 600, 750, 900]
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** A "pod" server on port 8080 of a random loopback address, 503 until up. */
async function podServer (): Promise<{ ip: string, server: http.Server, setUp: (v: boolean) => void }> {
  let up = false
  for (let attempt = 0; ; attempt++) {
    const ip = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.2`
    const server = http.createServer((req, res) => {
      req.resume()
      res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' })
      res.end(up ? 'ok' : 'starting')
    })
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => { resolve(false) })
      server.listen(8080, ip, () => { resolve(true) })
    })
    if (ok) return { ip, server, setUp: (v) => { up = v } }
    if (attempt >= 10) throw new Error('could not bind a pod server on a loopback address')
  }
}

async function until (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await sleep(5)
  }
}

export async function runKubernetesWake (options: { log?: (line: string) => void } = {}): Promise<{ figures: Figure[] }> {
  const log = options.log ?? console.log
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
  const pod = await podServer()
  const fake = await new FakeKubernetes({ podIp: () => pod.ip, probes: true }).start()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-kwake-'))
  let provider: Provider | undefined
  try {
    const kubeconfig = path.join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, fake.kubeconfig(), { mode: 0o600 })
    const backends: Record<string, unknown> = {}
    for (const [name, ns, wakeProbe] of [['probed', PROBED, true], ['kubelet', KUBELET, false]] as const) {
      fake.createNamespace(ns)
      // the fake kubelet probes the Service's backend: the same server
      fake.setServiceBackend(ns, 'wake', `http://${pod.ip}:8080`)
      backends[name] = { driver: 'kubernetes', namespaces: [ns], options: { kubeconfig, inCluster: false, invoke: 'endpoints', wakeProbe } }
    }
    writeFileSync(path.join(dir, 'backends.yaml'), JSON.stringify({ backends }))
    provider = await startProvider({ config_file: path.join(dir, 'backends.yaml'), function_namespace: PROBED })
    const p = provider
    for (const ns of [PROBED, KUBELET]) {
      const r = await p.call('POST', '/system/functions', { service: 'wake', namespace: ns, image: 'bench/wake:latest' })
      if (r.status !== 202) throw new Error(`deploy in ${ns}: ${r.status} ${r.body}`)
    }
    log(`kubernetes-wake: pod server at ${pod.ip}:8080, fake kubelet probing every 1 s (initial delay 0), ${rounds} rounds of ${STARTUP_MS.length} startups (${STARTUP_MS.join(', ')} ms after Running)`)
    const delays: Record<string, number[]> = { [PROBED]: [], [KUBELET]: [] }
    const wake = async (ns: string, startupMs: number): Promise<number> => {
      pod.setUp(false)
      const scale = async (replicas: number): Promise<void> => {
        const r = await p.call('POST', `/system/scale-function/wake?namespace=${ns}`, { serviceName: 'wake', namespace: ns, replicas })
        if (r.status !== 202) throw new Error(`scale ${ns} to ${replicas}: ${r.status} ${r.body}`)
      }
      await scale(0)
      await until(`${ns} scaled to zero`, () => fake.pods(ns, 'wake').length === 0)
      await scale(1)
      await until(`${ns} pod running`, () => fake.pods(ns, 'wake').some((x) => x.status?.phase === 'Running'))
      await sleep(startupMs)
      pod.setUp(true)
      const upAt = performance.now()
      for (;;) {
        const r = await p.call('POST', `/function/wake.${ns}`, 'x')
        if (r.status === 200) return performance.now() - upAt
        if (performance.now() - upAt > 15_000) throw new Error(`${ns}: no 200 within 15 s of the server answering (last ${r.status})`)
        await sleep(5)
      }
    }
    for (let round = 0; round < rounds; round++) {
      for (const startup of STARTUP_MS) {
        const order = (round + STARTUP_MS.indexOf(startup)) % 2 === 0 ? [PROBED, KUBELET] : [KUBELET, PROBED]
        for (const ns of order) delays[ns]?.push(await wake(ns, startup))
      }
    }
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length
    const probed = delays[PROBED] ?? []
    const kubelet = delays[KUBELET] ?? []
    const sp = summarize(probed)
    const sk = summarize(kubelet)
    log(`  server answering → first 200, with the wake probe: mean ${mean(probed).toFixed(0)} ms, median ${sp.median.toFixed(0)} ms, p90 ${sp.p90.toFixed(0)} ms (${probed.map((x) => x.toFixed(0)).join(', ')})`)
    log(`  server answering → first 200, kubelet only:         mean ${mean(kubelet).toFixed(0)} ms, median ${sk.median.toFixed(0)} ms, p90 ${sk.p90.toFixed(0)} ms (${kubelet.map((x) => x.toFixed(0)).join(', ')})`)
    return {
      figures: [
        { name: 'kubernetes wake: server answering → first 200, mean (wake probe)', value: `${mean(probed).toFixed(0)} ms`, target: '<= 500 ms', met: mean(probed) <= 500 },
        { name: 'kubernetes wake: same, kubelet only (wakeProbe: false)', value: `${mean(kubelet).toFixed(0)} ms`, target: '(reported)', met: true }
      ]
    }
  } finally {
    await provider?.stop()
    await fake.close()
    pod.server.closeAllConnections()
    pod.server.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
