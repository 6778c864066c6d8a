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
import { FUNCTION_PORT } from '../../../providers/kubernetes/mapping.ts'
import type { FakeKubernetes } from '../../fakes/kubernetes/server.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'
import { podServers } from './pod-servers.ts'

/** how long after its pod is Running the function's server starts answering, per trial */
const STARTUP_MS = [150, 450, 750]

/** A function "wake" whose server answers 503 until `up`; over the proxy, or on a pod IP in the endpoints mode. */
async function wakeable (t: Test, driver: Record<string, unknown>): Promise<{ url: string, fake: FakeKubernetes, setUp: (v: boolean) => void, hits: () => number }> {
  let up = false
  if (driver.invoke === 'endpoints') {
    const pods = await podServers(t, 1, { answering: () => up })
    const { url, fake } = await kubeApp(t, { fake: { probes: true, podIp: pods.ip }, driver })
    // the fake kubelet probes the Service's backend: the same server
    fake.setServiceBackend(NS, 'wake', `http://${pods.ip(0)}:${FUNCTION_PORT}`)
    t.equal((await api(url, 'POST', '/system/functions', figlet('wake'))).status, 202)
    return { url, fake, setUp: (v) => { up = v }, hits: () => pods.hits.get(pods.ip(0)) ?? 0 }
  }
  let hits = 0
  const { url, fake } = await kubeApp(t, { fake: { probes: true }, driver: { invoke: 'proxy', ...driver } })
  const server = http.createServer((req, res) => {
    hits++
    req.resume()
    res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' })
    res.end(up ? 'ok' : 'starting')
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { server.closeAllConnections(); server.close() })
  fake.setServiceBackend(NS, 'wake', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.equal((await api(url, 'POST', '/system/functions', figlet('wake'))).status, 202)
  return { url, fake, setUp: (v) => { up = v }, hits: () => hits }
}

async function toZero (t: Test, url: string, fake: FakeKubernetes): Promise<void> {
  t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 0 })).status, 202)
  await eventually(() => { check(fake.pods(NS, 'wake').length === 0, 'scaled to zero') }, { timeoutMs: 10_000 })
}

async function wakes (t: Test, driver: Record<string, unknown>): Promise<number[]> {
  const { url, fake, setUp } = await wakeable(t, driver)
  const delays: number[] = []
  for (const startup of STARTUP_MS) {
    setUp(false)
    await toZero(t, url, fake)
    // a cold request: the gateway asks for a replica
    t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 1 })).status, 202)
    await eventually(() => { check(fake.pods(NS, 'wake').some((p) => p.status?.phase === 'Running'), 'pod running') }, { timeoutMs: 10_000, intervalMs: 5 })
    await sleep(startup)
    setUp(true)
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

t.test('endpoints mode: the provider probes the waking pod itself (fast-wake defaults)', async (t) => {
  const d = await wakes(t, { invoke: 'endpoints' })
  t.comment(`endpoints + wake probe: server answering → first 200: ${d.map((x) => x.toFixed(0)).join(', ')} ms (mean ${mean(d).toFixed(0)} ms)`)
})

t.test('endpoints mode without the wake probe (wakeProbe: false), for comparison', async (t) => {
  const d = await wakes(t, { invoke: 'endpoints', wakeProbe: false })
  t.comment(`endpoints, kubelet only: server answering → first 200: ${d.map((x) => x.toFixed(0)).join(', ')} ms (mean ${mean(d).toFixed(0)} ms)`)
})

// the kubelet probes every 30 s here: what is served before its next probe was served through the provider's own
const SLOW_KUBELET = { invoke: 'endpoints', readinessProbe: { initialDelaySeconds: 0, periodSeconds: 30 } }

t.test('a wake from zero is served by the pod as soon as it answers, before the cluster calls it ready; status stays the cluster\'s', async (t) => {
  const { url, fake, setUp, hits } = await wakeable(t, SLOW_KUBELET)
  await toZero(t, url, fake)
  t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 1 })).status, 202)
  await eventually(() => { check(fake.pods(NS, 'wake').some((p) => p.status?.phase === 'Running'), 'pod running') }, { timeoutMs: 10_000, intervalMs: 5 })
  // the kubelet's first probe found it starting; the next is 30 s away
  await eventually(() => { check(hits() >= 1, 'probed while starting') }, { timeoutMs: 10_000, intervalMs: 5 })
  t.equal((await api(url, 'POST', '/function/wake', 'x')).status, 503, 'not served while the server does not answer')
  setUp(true)
  let served: { status: number, text: string } | undefined
  await eventually(async () => {
    const r = await api(url, 'POST', '/function/wake', 'x')
    check(r.status === 200, 'served')
    served = r
  }, { timeoutMs: 10_000, intervalMs: 5 })
  t.match(served?.text, /^pod 127\./, 'by the pod')
  t.ok(fake.pods(NS, 'wake').every((p) => p.status?.containerStatuses?.every((c: { ready: boolean }) => !c.ready)), 'while the cluster still calls it not ready')
  const s = (await api(url, 'GET', '/system/function/wake')).json()
  t.equal(s.availableReplicas, 0, 'status is the cluster\'s truth: no available replica yet')
  t.match(s.annotations['faas-bridge.dev/pods'], /not ready/)
})

t.test('a function that was not woken by this provider waits for the cluster', async (t) => {
  const { url, fake, setUp, hits } = await wakeable(t, SLOW_KUBELET)
  // deployed with one replica: no wake, its pod is not ready until the kubelet says so
  await eventually(() => { check(fake.pods(NS, 'wake').some((p) => p.status?.phase === 'Running'), 'pod running') }, { timeoutMs: 10_000, intervalMs: 5 })
  await eventually(() => { check(hits() >= 1, 'probed while starting') }, { timeoutMs: 10_000, intervalMs: 5 })
  setUp(true)
  for (let i = 0; i < 5; i++) t.equal((await api(url, 'POST', '/function/wake', 'x')).status, 503, 'no ready endpoint: 503')
  t.equal(hits(), 1, 'the provider never probed or called the pod')
})

t.test('with wakeProbe: false a wake waits for the cluster too', async (t) => {
  const { url, fake, setUp, hits } = await wakeable(t, { ...SLOW_KUBELET, wakeProbe: false })
  await toZero(t, url, fake)
  t.equal((await api(url, 'POST', '/system/scale-function/wake', { replicas: 1 })).status, 202)
  await eventually(() => { check(fake.pods(NS, 'wake').some((p) => p.status?.phase === 'Running'), 'pod running') }, { timeoutMs: 10_000, intervalMs: 5 })
  await eventually(() => { check(hits() >= 1, 'probed while starting') }, { timeoutMs: 10_000, intervalMs: 5 })
  const before = hits()
  setUp(true)
  for (let i = 0; i < 5; i++) t.equal((await api(url, 'POST', '/function/wake', 'x')).status, 503, 'no ready endpoint: 503')
  t.equal(hits(), before, 'the pod got nothing from the provider')
})

t.test('scale from zero with faas-netes\' readiness timing (2 s + 2 s), for comparison', async (t) => {
  const d = await wakes(t, { readinessProbe: { initialDelaySeconds: 2, periodSeconds: 2 } })
  t.comment(`faas-netes timing: server answering → first 200: ${d.map((x) => x.toFixed(0)).join(', ')} ms (mean ${mean(d).toFixed(0)} ms)`)
})
