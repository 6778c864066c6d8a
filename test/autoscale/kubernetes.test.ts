/*
 * The autoscaler through the HTTP API on the kubernetes backend: the real driver over the real
 * @kubernetes/client-node, the fake API server (test/fakes/kubernetes) whose controller makes pods
 * ready a few steps after spec.replicas changes, and a real HTTP server on 127.0.0.1 behind the
 * fake's service proxy as the function (invoke 'proxy', as out of cluster). Short intervals and a
 * short controller delay keep it to a few seconds.
 *  1. bounded loopback load drives a function from min to max and back (the Deployment's
 *     spec.replicas in the fake, and /system/function);
 *  2. scale.zero: idle → spec.replicas 0; the next call is held until the fake reports a ready
 *     replica and answered 200; concurrent calls held during the wake all get 200, on one wake;
 *  3. every spec.replicas the autoscaler writes is inside [min, max]; manual scales outside are
 *     brought back;
 *  4. a function without scaling labels is left alone;
 *  5. a wake is bounded: pods that never get ready → 503 after ~read_timeout; a refused scale → 503 at once;
 *  6. a slow API server (list answers older than the last scale) neither parks twice nor loses a wake.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.ts'
import { Backends } from '../../src/core/backends.ts'
import type { FunctionStatus } from '../../src/core/types.ts'
import type { KubernetesDriver } from '../../providers/kubernetes/index.ts'
import { DEPLOYMENTS } from '../fakes/kubernetes/controller.ts'
import type { FakeKubernetes } from '../fakes/kubernetes/server.ts'
import type { StoreEvent } from '../fakes/kubernetes/store.ts'
import { NAMESPACES, NS, startKube } from '../providers/kubernetes/helpers.ts'

/*
 * upStabilisationMs above 200 ms: over a window still filling, the rate is requests / time since the
 * first sample, so one request reads as > 5 rps for up to 200 ms (1/0.2 s) — a lone call must not
 * step a scale.zero function (CE mode, max 20) up by 4
 */
const autoscale = { intervalMs: 25, windowMs: 500, upStabilisationMs: 250, downStabilisationMs: 250, zeroDurationMs: 60_000 }
/** controller step: a pod asked for is Running and ready about two steps later */
const READY_DELAY_MS = 40

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** generous bounds: the suite runs beside other work, and a wait that succeeds returns at once */
async function waitFor (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

interface Setup {
  url: string
  fake: FakeKubernetes
  driver: KubernetesDriver
  api: (method: string, path: string, body?: unknown) => Promise<Response>
  status: (name: string) => Promise<FunctionStatus>
  /** the Deployment in the fake: spec.replicas and status.availableReplicas */
  deployment: (name: string) => { spec: number | undefined, available: number }
  /** every distinct spec.replicas the Deployment was given, in order (from the fake's store events) */
  history: (name: string) => number[]
  /** requests the function servers answered, by function */
  served: Map<string, number>
  /** a function "container" behind the fake's service proxy */
  serve: (name: string) => Promise<void>
}

async function setup (t: Test, readTimeoutMs = 5000): Promise<Setup> {
  const kube = await startKube({ fake: { readyDelayMs: READY_DELAY_MS }, driver: { invoke: 'proxy' } })
  const { fake, driver } = kube
  // registered first: a setup that fails below still stops the fake (teardowns run last-in first-out)
  t.teardown(kube.cleanup)
  const histories = new Map<string, number[]>()
  const onChange = (ev: StoreEvent): void => {
    if (ev.resource !== DEPLOYMENTS || ev.type === 'DELETED' || ev.object.metadata.namespace !== NS) return
    const replicas = ev.object.spec?.replicas as number | undefined
    if (replicas === undefined) return
    let h = histories.get(ev.object.metadata.name)
    if (h === undefined) histories.set(ev.object.metadata.name, h = [])
    if (h[h.length - 1] !== replicas) h.push(replicas)
  }
  fake.store.events.on('change', onChange)

  t.teardown(() => { fake.store.events.off('change', onChange) })

  const served = new Map<string, number>()
  const servers: http.Server[] = []
  t.teardown(async () => {
    for (const s of servers) {
      s.closeAllConnections()
      await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
    }
  })
  const serve = async (name: string): Promise<void> => {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        served.set(name, (served.get(name) ?? 0) + 1)
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ function: name, url: req.url, body: Buffer.concat(chunks).toString('utf8') }))
      })
    })
    await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
    servers.push(server)
    fake.setServiceBackend(NS, name, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  }

  const backends = new Backends([{ backend: { name: 'kubernetes', driver }, namespaces: NAMESPACES }], NS)
  t.teardown(async () => { await backends.close() })
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs, writeTimeoutMs: 3000, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16, autoscale })
  // closed first: the autoscaler stops and held requests drain before the rest goes
  t.teardown(async () => { await app.close() })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })

  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    await fetch(url + path, {
      method,
      signal: AbortSignal.timeout(10_000),
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {})
    })
  const status = async (name: string): Promise<FunctionStatus> => {
    const res = await api('GET', `/system/function/${name}`)
    if (res.status !== 200) throw new Error(`status ${name}: ${res.status} ${await res.text()}`)
    return await res.json() as FunctionStatus
  }
  const deployment = (name: string): { spec: number | undefined, available: number } => {
    const dep = fake.store.get(DEPLOYMENTS, NS, name)
    return { spec: dep?.spec?.replicas, available: dep?.status?.availableReplicas ?? 0 }
  }
  return { url, fake, driver, api, status, deployment, history: (name) => [...(histories.get(name) ?? [])], served, serve }
}

async function deploy (s: Setup, name: string, labels: Record<string, string>): Promise<void> {
  await s.serve(name)
  const res = await s.api('POST', '/system/functions', { service: name, image: 'ghcr.io/openfaas/figlet:latest', envProcess: 'figlet', labels })
  if (res.status !== 202) throw new Error(`deploy: ${res.status} ${await res.text()}`)
  await waitFor(`${name} ready`, async () => ((await s.status(name)).availableReplicas ?? 0) >= 1)
}

async function invoke (s: Setup, name: string, body = 'x'): Promise<{ status: number, body: string }> {
  const res = await fetch(`${s.url}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) })
  return { status: res.status, body: await res.text() }
}

/** PATCHes of the Deployment's /scale subresource seen by the fake */
function scaleCalls (fake: FakeKubernetes, name: string): number {
  return fake.requestsTo(new RegExp(`^PATCH /apis/apps/v1/namespaces/${NS}/deployments/${name}/scale$`)).length
}

t.test('loopback load drives a function from min to max and back, through the Deployment', async (t) => {
  const s = await setup(t)
  // capacity scaling (requests in flight) rather than the CE rule's 5 req/s: the clients below keep
  // about 8 requests in flight however fast the machine serves them, while the rate they reach
  // depends on the CPU the test gets (the CE rule itself is tested with a fake clock in policy.test.ts)
  await deploy(s, 'busy', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '1' })
  t.same(s.deployment('busy'), { spec: 1, available: 1 }, 'starts at min')

  // bounded load: 8 loopback clients for at most 30 s, stopped once the fake has 4 ready and the
  // API says so (read while the load still runs: once it stops the autoscaler heads back to min,
  // and a slow machine may get there before a read made afterwards)
  let loading = true
  let sent = 0
  const failures: number[] = []
  const clients = Array.from({ length: 8 }, async () => {
    const until = Date.now() + 30_000
    while (loading && Date.now() < until) {
      const r = await invoke(s, 'busy')
      if (r.status !== 200) failures.push(r.status)
      sent++
    }
  })
  let atMax: FunctionStatus | undefined
  try {
    await waitFor('4 ready replicas in the fake and in the API', async () => {
      if (s.deployment('busy').available !== 4) return false
      const st = await s.status('busy')
      if (st.replicas === 4 && st.availableReplicas === 4) atMax = st
      return atMax !== undefined
    }, 30_000).catch((err: Error) => { throw new Error(`${err.message} (spec.replicas: ${s.history('busy').join(' → ')})`) })
  } finally {
    loading = false
    await Promise.all(clients)
  }
  t.same(failures, [], 'every call under load was served')
  t.ok(sent > 20, `load was sent (${sent} requests)`)
  t.equal(s.served.get('busy'), sent, 'each through the service proxy to the function')
  t.equal(atMax?.replicas, 4, 'the API reports max')
  t.equal(atMax?.availableReplicas, 4)
  // the history, not one sample: it may already be on its way back down
  const h0 = s.history('busy')
  const up = h0.slice(0, h0.indexOf(4) + 1)
  t.equal(up[0], 1, `spec.replicas: from min (${h0.join(' → ')})`)
  t.equal(up[up.length - 1], 4, 'to max')
  t.ok(up.every((n) => n >= 1 && n <= 4), `within [min, max] on the way up: ${up.join(' → ')}`)

  // every step up in the Deployment's history is one successful up action in /metrics (counted
  // when the scale call returns, which may be a little after the fake has applied it)
  const upSteps = (h: number[]): number => h.filter((n, i) => i > 0 && n > (h[i - 1] as number)).length
  let metrics = ''
  let counted = -1
  await waitFor('the up actions counted', async () => {
    metrics = await (await s.api('GET', '/metrics')).text()
    counted = Number(/faas_bridge_autoscale_actions_total\{function_name="busy",namespace="openfaas-fn",backend="kubernetes",action="up",outcome="ok"\} (\d+)/.exec(metrics)?.[1] ?? -1)
    return counted >= upSteps(s.history('busy'))
  }).catch(() => {})
  t.match(metrics, /faas_bridge_autoscale_desired_replicas\{function_name="busy",namespace="openfaas-fn",backend="kubernetes"\} \d/)
  t.equal(counted, upSteps(s.history('busy')), `one up action counted per step up (${s.history('busy').join(' → ')})`)

  // idle: the rate leaves the 0.5 s window, then the 0.25 s down window → back to min
  await waitFor('back to min in the fake', () => s.deployment('busy').spec === 1 && s.deployment('busy').available === 1, 30_000)
  await sleep(200)
  t.same(s.deployment('busy'), { spec: 1, available: 1 }, 'stays at min')
  const after = await s.status('busy')
  t.equal(after.replicas, 1, 'the API reports min')
  t.equal(after.availableReplicas, 1)
  const h = s.history('busy')
  // the window's mean in-flight count decays once the load stops: down only, to min
  const down = h.slice(h.lastIndexOf(4))
  t.ok(down.every((n, i) => i === 0 || n < (down[i - 1] as number)), `then only down: ${h.join(' → ')}`)
  t.equal(down[down.length - 1], 1, 'to min')
  t.ok(h.every((n) => n >= 1 && n <= 4), 'never outside [1, 4]')
})

t.test('scale.zero: idle → 0 replicas in the fake; the next call is held until a replica is ready, then 200', async (t) => {
  const s = await setup(t)
  await deploy(s, 'sleepy', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '500ms' })
  t.equal((await invoke(s, 'sleepy')).status, 200)

  await waitFor('spec.replicas 0', () => s.deployment('sleepy').spec === 0)
  await waitFor('no pod left', () => s.deployment('sleepy').available === 0 && s.fake.pods(NS, 'sleepy').length === 0)
  const asleep = await s.status('sleepy')
  t.equal(asleep.replicas, 0, 'the API reports 0 replicas')
  t.equal(asleep.availableReplicas ?? 0, 0)
  await sleep(150)
  t.equal(s.deployment('sleepy').spec, 0, 'and it stays asleep without requests')

  // the wake: record when the fake first reports a ready replica
  let readyAt = 0
  const onChange = (ev: StoreEvent): void => {
    if (ev.resource === DEPLOYMENTS && ev.object.metadata.name === 'sleepy' && readyAt === 0 && (ev.object.status?.availableReplicas ?? 0) >= 1) readyAt = performance.now()
  }
  s.fake.store.events.on('change', onChange)
  t.teardown(() => { s.fake.store.events.off('change', onChange) })
  const before = scaleCalls(s.fake, 'sleepy')
  const t0 = performance.now()
  const r = await invoke(s, 'sleepy', 'wake up')
  const answeredAt = performance.now()
  t.equal(r.status, 200, `woken: 200, not 503 (${r.body})`)
  t.equal(JSON.parse(r.body).body, 'wake up', 'the held request reached the function intact')
  t.ok(readyAt > 0 && answeredAt >= readyAt, 'answered only after the fake reported a ready replica')
  t.ok(answeredAt - t0 >= READY_DELAY_MS, `held for the pod to start (${(answeredAt - t0).toFixed(0)} ms)`)
  t.equal(s.deployment('sleepy').spec, 1, 'spec.replicas back to min (1)')
  t.same(s.history('sleepy'), [1, 0, 1], 'spec.replicas: 1 → 0 → 1')
  t.equal(scaleCalls(s.fake, 'sleepy') - before, 1, 'one scale call')
  t.equal((await s.status('sleepy')).availableReplicas, 1, 'the API reports it ready')

  let metrics = ''
  await waitFor('zero and wake counted', async () => {
    metrics = await (await s.api('GET', '/metrics')).text()
    return /function_name="sleepy",namespace="openfaas-fn",backend="kubernetes",action="wake",outcome="ok"\} [1-9]/.test(metrics)
  }, 3000)
  t.match(metrics, /faas_bridge_autoscale_actions_total\{function_name="sleepy",namespace="openfaas-fn",backend="kubernetes",action="zero",outcome="ok"\} [1-9]/)
})

t.test('requests held during a wake all get 200, on one wake (min 2)', async (t) => {
  const s = await setup(t)
  await deploy(s, 'crowd', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '500ms', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '4' })
  // zero-duration 500 ms: on a slow machine it may already be asleep again when first read
  await waitFor('2 ready (or already asleep)', () => s.deployment('crowd').available === 2 || s.history('crowd').includes(0))
  await waitFor('asleep with no pods', () => s.deployment('crowd').spec === 0 && s.fake.pods(NS, 'crowd').length === 0)

  const before = scaleCalls(s.fake, 'crowd')
  const servedBefore = s.served.get('crowd') ?? 0
  const burst = async (n: number): Promise<number[]> => await Promise.all(Array.from({ length: n }, async (_, i) => {
    // staggered over the wake: the first ones start it, the later ones join it
    await sleep(i * 10)
    const r = await invoke(s, 'crowd', `body-${i}`)
    return r.status === 200 && JSON.parse(r.body).body === `body-${i}` ? 200 : r.status
  }))
  const t0 = performance.now()
  const results = await burst(12)
  t.same(results, Array(12).fill(200), '12 concurrent requests on a sleeping function: all held, all 200')
  t.ok(performance.now() - t0 >= READY_DELAY_MS, 'they waited for the pods')
  t.equal((s.served.get('crowd') ?? 0) - servedBefore, 12, 'each reached the function once')
  t.equal(scaleCalls(s.fake, 'crowd') - before, 1, 'one wake (one scale call) for all of them')
  t.ok((s.deployment('crowd').spec ?? 0) >= 2, 'woken to min (2) at least')
  // (12 calls in a burst are > 5 rps over the 0.5 s window: CE may step it up afterwards, within max)
  const h = s.history('crowd')
  t.same(h.slice(0, 3), [2, 0, 2], `spec.replicas: 2 → 0 → 2 (${h.join(' → ')})`)
  t.ok(h.every((n) => n === 0 || (n >= 2 && n <= 4)), 'never outside [2, 4] while awake')
})

t.test('the autoscaler never writes a count outside [min, max]; manual scales outside are brought back', async (t) => {
  const s = await setup(t)
  await deploy(s, 'bounded', { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '3' })
  await waitFor('at min (2)', () => s.deployment('bounded').spec === 2)

  t.equal((await s.api('POST', '/system/scale-function/bounded', { replicas: 6 })).status, 202)
  await waitFor('back to max (3)', () => s.deployment('bounded').spec === 3)
  t.equal((await s.api('POST', '/system/scale-function/bounded', { replicas: 0 })).status, 202)
  await waitFor('back to min (2)', () => s.deployment('bounded').spec === 2)

  // load against it: the CE step would go past max without the ceiling
  let loading = true
  const clients = Array.from({ length: 3 }, async () => {
    const until = Date.now() + 30_000
    while (loading && Date.now() < until) await invoke(s, 'bounded')
  })
  try {
    await waitFor('up to max under load', () => s.deployment('bounded').spec === 3)
    await sleep(250) // further ticks under load: still max
  } finally {
    loading = false
    await Promise.all(clients)
  }
  t.equal(s.deployment('bounded').spec, 3, 'held at max under load')
  // [1: deploy's initial count, then min] manual 6 → 3, manual 0 → 2, load → 3
  const h = s.history('bounded')
  t.same(h.slice(h.indexOf(6)), [6, 3, 0, 2, 3], `only the manual scales left [2, 3]: ${h.join(' → ')}`)
  t.ok(h.slice(0, h.indexOf(6)).every((n) => n >= 1 && n <= 3), 'before: the deploy count and min')
})

t.test('a function without scaling labels is left alone', async (t) => {
  const s = await setup(t)
  await deploy(s, 'plain', {})
  await deploy(s, 'fixed', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' })
  t.equal((await s.api('POST', '/system/scale-function/plain', { replicas: 3 })).status, 202)
  await waitFor('3 ready', () => s.deployment('plain').available === 3)
  const before = scaleCalls(s.fake, 'plain')

  // load well above the CE threshold, for longer than the up window
  let sent = 0
  const failures: number[] = []
  const clients = Array.from({ length: 3 }, async () => {
    // at least 400 ms and 10 calls per client (the machine may be slow), at most 30 s
    const until = Date.now() + 400
    const bound = Date.now() + 30_000
    for (let n = 0; (Date.now() < until || n < 10) && Date.now() < bound; n++) {
      const r = await invoke(s, 'plain')
      if (r.status !== 200) failures.push(r.status)
      sent++
    }
  })
  await Promise.all(clients)
  t.ok(sent >= 30, `load was sent (${sent})`)
  t.same(failures, [], 'all served')
  // then idle for longer than the window and the down window
  await sleep(900)
  t.equal(s.deployment('plain').spec, 3, 'keeps the 3 replicas it was given')
  t.equal(scaleCalls(s.fake, 'plain'), before, 'the autoscaler never scaled it')

  // scaled to 0 by hand: stays at 0 and answers 503 (no wake without scale.zero)
  for (const name of ['plain', 'fixed']) {
    t.equal((await s.api('POST', `/system/scale-function/${name}`, { replicas: 0 })).status, 202)
    await waitFor(`${name} at 0`, () => s.deployment(name).available === 0)
    const r = await invoke(s, name)
    t.equal(r.status, 503, `${name}: 503 at 0`)
  }
  await sleep(200)
  t.equal(s.deployment('plain').spec, 0, 'no labels: keeps the 0 it was given')
  t.equal(s.deployment('fixed').spec, 0, 'min == max: the autoscaler keeps its hands off')
  t.same(s.history('plain'), [1, 3, 0])
  t.same(s.history('fixed'), [1, 0])
})

t.test('a wake is bounded: pods that never get ready → 503 after ~read_timeout; a refused scale call → 503 at once', async (t) => {
  // read_timeout 3 s: far enough from "at once" that a slow machine cannot blur the two
  const s = await setup(t, 3000)
  await deploy(s, 'stuck', { 'com.openfaas.scale.zero': 'true' })
  t.equal((await s.api('POST', '/system/scale-function/stuck', { replicas: 0 })).status, 202)
  await waitFor('no pod left', () => s.deployment('stuck').available === 0 && s.fake.pods(NS, 'stuck').length === 0)

  s.fake.holdPods(NS, 'stuck', true)
  let t0 = performance.now()
  const held = await Promise.all([invoke(s, 'stuck'), invoke(s, 'stuck')])
  let ms = performance.now() - t0
  t.same(held.map((r) => r.status), [503, 503], 'pods kept Pending: 503, not a hang')
  t.ok(ms >= 2950 && ms < 30_000, `gave up after ~read_timeout (${ms.toFixed(0)} ms)`)
  t.equal(s.deployment('stuck').spec, 1, 'the wake asked for min (1)')
  s.fake.holdPods(NS, 'stuck', false)
  await waitFor('ready once released', () => s.deployment('stuck').available === 1)
  t.equal((await invoke(s, 'stuck')).status, 200, 'served once ready')

  t.equal((await s.api('POST', '/system/scale-function/stuck', { replicas: 0 })).status, 202)
  await waitFor('no pod left', () => s.deployment('stuck').available === 0 && s.fake.pods(NS, 'stuck').length === 0)
  s.fake.deny('patch', 'deployments/scale')
  t0 = performance.now()
  const refused = await invoke(s, 'stuck')
  ms = performance.now() - t0
  t.equal(refused.status, 503, 'scale refused (RBAC): 503')
  t.ok(ms < 2500, `at once, not after read_timeout (${ms.toFixed(0)} ms)`)
  t.equal(s.deployment('stuck').spec, 0, 'still asleep')
  s.fake.allow('patch', 'deployments/scale')
  t.equal((await invoke(s, 'stuck')).status, 200, 'woken once allowed')
})

t.test('a slow API server: a list older than the park does not park again, and a wake racing it is not lost', async (t) => {
  const s = await setup(t, 1500)
  await deploy(s, 'laggy', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '300ms' })
  // the API server's answers arrive late: a list reads the Deployments, then takes 120 ms more to
  // come back; a scale to 0 takes 100 ms to reach the API server (the wake's scale up is quick)
  const { driver } = s
  const list = driver.list.bind(driver)
  const scale = driver.scale.bind(driver)
  let parks = 0
  let secondPark: () => void = () => {}
  const secondParkStarted = new Promise<void>((resolve) => { secondPark = resolve })
  driver.list = async (ns) => { const r = await list(ns); await sleep(120); return r }
  driver.scale = async (ns, name, replicas) => {
    if (name === 'laggy' && replicas === 0) {
      if (++parks === 2) secondPark()
      await sleep(100)
    }
    await scale(ns, name, replicas)
  }
  t.teardown(() => { driver.list = list; driver.scale = scale })

  await waitFor('parked', () => s.deployment('laggy').spec === 0)
  // a request while a second park would be on its way (or a little after the first when there is none)
  await Promise.race([secondParkStarted, sleep(400)])
  const r = await invoke(s, 'laggy', 'late')
  t.equal(r.status, 200, `the wake was not undone by a stale park (${r.status} ${r.body})`)
  t.equal(parks, 1, 'parked once')
  t.equal(s.deployment('laggy').spec, 1, 'awake at min')
})
