/*
 * Scale from zero, end to end through the HTTP API, with the fake kubelet honouring the
 * readiness probe's schedule (FakeKubernetesOptions.probes): the function's server starts
 * answering some time after its pod is Running; the pod is Ready at the first probe after that,
 * and the first invocation answers 200 once the provider sees it. Figures only (printed, never
 * asserted against a time): the delay from the server answering to the first 200, with the
 * fast-wake defaults and with faas-netes' 2 s + 2 s readiness timing, in the same run. Asserted:
 * nothing is served before the server answers, and every wake ends in a 200.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { Test } from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

/** how long after its pod is Running the function's server starts answering, per trial */
const STARTUP_MS = [150, 450, 750]

async function wakes (t: Test, driver: Record<string, unknown>): Promise<number[]> {
  const { url, fake } = await kubeApp(t, { fake: { probes: true }, driver: { invoke: 'proxy', ...driver } })
  let up = false
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' })
    res.end(up ? 'ok' : 'starting')
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { server.closeAllConnections(); server.close() })
  fake.setServiceBackend(NS, 'wake', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.equal((await api(url, 'POST', '/system/functions', figlet('wake'))).status, 202)
  const delays: number[] = []
  for (const startup of STARTUP_MS) {
    up = false
    t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 0 })).status, 202)
    await eventually(() => { check(fake.pods(NS, 'wake').length === 0, 'scaled to zero') }, { timeoutMs: 10_000 })
    // a cold request: the gateway asks for a replica
    t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 1 })).status, 202)
    await eventually(() => { check(fake.pods(NS, 'wake').some((p) => p.status?.phase === 'Running'), 'pod running') }, { timeoutMs: 10_000, intervalMs: 5 })
    await sleep(startup)
    up = true
    const upAt = performance.now()
    let first = -1
    for (let i = 0; i < 2000 && first < 0; i++) {
      const r = await api(url, 'POST', '/function/wake', 'x')
      if (r.status === 200) first = performance.now()
      else await sleep(5)
    }
    t.ok(first >= upAt, `wake ${startup}: served only after the server answered`)
    delays.push(first - upAt)
  }
  return delays
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

t.test('scale from zero with the fast-wake readiness defaults (0 s + 1 s)', async (t) => {
  const d = await wakes(t, {})
  t.comment(`fast-wake: server answering → first 200: ${d.map((x) => x.toFixed(0)).join(', ')} ms (mean ${mean(d).toFixed(0)} ms)`)
})

t.test('scale from zero with faas-netes\' readiness timing (2 s + 2 s), for comparison', async (t) => {
  const d = await wakes(t, { readinessProbe: { initialDelaySeconds: 2, periodSeconds: 2 } })
  t.comment(`faas-netes timing: server answering → first 200: ${d.map((x) => x.toFixed(0)).join(', ')} ms (mean ${mean(d).toFixed(0)} ms)`)
})
