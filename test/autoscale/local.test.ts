/*
 * The autoscaler through the HTTP API on the real local backend (127.0.0.1 only, short
 * intervals): loopback load drives a function from min to max and back; scale.zero parks an
 * idle function and the next call wakes it (200, same process); requests held during a wake all
 * succeed; functions without scale.zero keep today's 503; bad labels are 400.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import type { Test } from 'tap'
import type { LocalDriver } from '../../providers/local/index.ts'
import type { FunctionStatus } from '../../src/core/types.ts'
import { localApp, type LocalApp } from '../helpers/local-app.ts'
import { FIXTURE } from '../providers/local/helpers.ts'

const autoscale = { intervalMs: 50, windowMs: 1000, upStabilisationMs: 200, downStabilisationMs: 500, zeroDurationMs: 60_000 }

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** generous bounds: the suite runs beside other work, and a wait that succeeds returns at once */
async function waitFor (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

function httpFn (service: string, labels: Record<string, string>, env: Record<string, string> = {}): Record<string, unknown> {
  return { service, image: 'example/http-function:latest', envProcess: `'${process.execPath}' '${FIXTURE}'`, envVars: { mode: 'http', ...env }, labels }
}

async function setup (t: Test, readTimeoutMs = 5000): Promise<LocalApp & { api: (method: string, path: string, body?: unknown) => Promise<Response>, status: (name: string) => Promise<FunctionStatus> }> {
  const la = await localApp(t, { app: { autoscale, readTimeoutMs } })
  const api = async (method: string, path: string, body?: unknown): Promise<Response> =>
    await fetch(la.url + path, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })
  const status = async (name: string): Promise<FunctionStatus> => await (await api('GET', `/system/function/${name}`)).json() as FunctionStatus
  return { ...la, api, status }
}

async function deploy (s: { api: (m: string, p: string, b?: unknown) => Promise<Response> }, fn: Record<string, unknown>): Promise<void> {
  const res = await s.api('POST', '/system/functions', fn)
  if (res.status !== 202) throw new Error(`deploy: ${res.status} ${await res.text()}`)
}

/** process state letter from /proc (T = stopped), or undefined when gone */
function procState (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

t.test('loopback load drives a function from min to max and back, never outside [min, max]', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('busy', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4', 'com.openfaas.scale.factor': '25' }))
  await waitFor('busy ready', async () => (await s.status('busy')).availableReplicas === 1)

  const seen: number[] = []
  let watching = true
  const watcher = (async () => {
    while (watching) {
      seen.push((await s.status('busy')).replicas ?? 0)
      await sleep(25)
    }
  })()

  // bounded load: 4 loopback clients for at most 30 s, stopped as soon as max is reached
  let loading = true
  let sent = 0
  const clients = Array.from({ length: 4 }, async () => {
    const until = Date.now() + 30_000
    while (loading && Date.now() < until) {
      const res = await fetch(`${s.url}/function/busy/work`, { method: 'POST', body: 'x' })
      await res.arrayBuffer()
      if (res.status !== 200) throw new Error(`invoke: ${res.status}`)
      sent++
    }
  })
  await waitFor('replicas at max', async () => (await s.status('busy')).replicas === 4)
  loading = false
  await Promise.all(clients)
  t.ok(sent > 20, `load was sent (${sent} requests)`)
  const up = seen.filter((n, i) => i === 0 || n !== seen[i - 1])
  t.ok(up.length >= 3, `stepped up by 1 (25% of 4) several times: ${up.join(' → ')}`)

  const metrics = await (await s.api('GET', '/metrics')).text()
  t.match(metrics, /faas_bridge_autoscale_desired_replicas\{function_name="busy",namespace="openfaas-fn",backend="local"\} \d/)
  t.match(metrics, /faas_bridge_function_requests_per_second\{function_name="busy",namespace="openfaas-fn",backend="local"\} [1-9]/)
  t.match(metrics, /faas_bridge_function_inflight_requests\{function_name="busy"/)
  t.match(metrics, /faas_bridge_autoscale_actions_total\{function_name="busy",namespace="openfaas-fn",backend="local",action="up",outcome="ok"\} [1-9]/)

  // idle: the rate leaves the 1 s window, then the 0.5 s down window → back to min
  await waitFor('back to min', async () => (await s.status('busy')).replicas === 1)
  await sleep(300)
  watching = false
  await watcher
  t.equal((await s.status('busy')).replicas, 1, 'stays at min')
  t.ok(seen.every((n) => n >= 1 && n <= 4), `never outside [1, 4]: ${[...new Set(seen)].join(',')}`)
})

t.test('a manual scale outside [min, max] is brought back', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('bounded', { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '3' }))
  await waitFor('2 replicas', async () => (await s.status('bounded')).replicas === 2)
  t.equal((await s.api('POST', '/system/scale-function/bounded', { replicas: 6 })).status, 202)
  await waitFor('back to max', async () => (await s.status('bounded')).replicas === 3)
  t.equal((await s.api('POST', '/system/scale-function/bounded', { replicas: 0 })).status, 202)
  await waitFor('back to min', async () => (await s.status('bounded')).replicas === 2)
  t.pass('held to [2, 3]')
})

t.test('scale.zero: idle → parked (suspended, reported 0); the next call wakes it with a 200 from the same process', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('sleepy', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '800ms' }))
  await waitFor('sleepy ready', async () => (await s.status('sleepy')).availableReplicas === 1)
  const first = await (await fetch(`${s.url}/function/sleepy/hello`)).json() as { pid: number }

  await waitFor('parked', async () => (await s.status('sleepy')).replicas === 0)
  const st = await s.status('sleepy')
  t.equal(st.availableReplicas ?? 0, 0, 'reported as 0 available')
  const info = (s.driver as LocalDriver).replicaInfo('openfaas-fn', 'sleepy')
  t.same(info.parkedPids, [first.pid], 'the process is kept, parked')
  t.equal(procState(first.pid), 'T', 'and suspended (SIGSTOP)')

  const t0 = performance.now()
  const res = await fetch(`${s.url}/function/sleepy/again`)
  const ms = performance.now() - t0
  t.equal(res.status, 200, 'woken: 200, not 503')
  const body = await res.json() as { pid: number, path: string }
  t.equal(body.pid, first.pid, 'the same process, resumed')
  t.equal(body.path, '/again')
  t.ok(ms < 1000, `woke in ${ms.toFixed(1)} ms`)
  t.equal((await s.status('sleepy')).replicas, 1, 'back to min (1)')
  t.not(procState(first.pid), 'T', 'running again')

  let metrics = ''
  // the wake answers as soon as the process serves; its scale call (state fsync) finishes after
  await waitFor('wake counted', async () => {
    metrics = await (await s.api('GET', '/metrics')).text()
    return /action="wake",outcome="ok"\} [1-9]/.test(metrics)
  }, 3000)
  t.match(metrics, /faas_bridge_autoscale_actions_total\{function_name="sleepy",namespace="openfaas-fn",backend="local",action="zero",outcome="ok"\} [1-9]/)
  t.match(metrics, /faas_bridge_autoscale_actions_total\{function_name="sleepy",namespace="openfaas-fn",backend="local",action="wake",outcome="ok"\} [1-9]/)
})

t.test('requests held during a wake all succeed (parked, then cold with a slow start)', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('crowd', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '1s', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '4' }, { LISTEN_DELAY_MS: '300' }))
  // zero-duration 1 s: on a slow machine it may already be parked again when first read
  await waitFor('crowd ready (or already parked)', async () => {
    const st = await s.status('crowd')
    return st.availableReplicas === 2 || st.replicas === 0
  })
  await waitFor('parked', async () => (await s.status('crowd')).replicas === 0)

  const burst = async (n: number): Promise<number[]> => await Promise.all(Array.from({ length: n }, async (_, i) => {
    const res = await fetch(`${s.url}/function/crowd/r${i}`, { method: 'POST', body: `body-${i}` })
    const b = await res.json() as { body: string }
    return res.status === 200 && b.body === `body-${i}` ? 200 : res.status
  }))
  t.same(await burst(20), Array(20).fill(200), '20 concurrent requests on a parked function: all 200')
  t.equal((await s.status('crowd')).replicas, 2, 'woken to min (2)')

  // cold: scale to 0 through the API stops the processes; the wake starts new ones (300 ms each)
  t.equal((await s.api('POST', '/system/scale-function/crowd', { replicas: 0 })).status, 202)
  await waitFor('stopped', async () => (s.driver as LocalDriver).replicaInfo('openfaas-fn', 'crowd').pids.length === 0)
  const t0 = performance.now()
  t.same(await burst(20), Array(20).fill(200), '20 concurrent requests during a cold start: all held, all 200')
  t.ok(performance.now() - t0 >= 250, 'they waited for the slow start')
})

t.test('a parked process that died is started fresh on wake', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('fragile', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '800ms' }))
  await waitFor('ready', async () => (await s.status('fragile')).availableReplicas === 1)
  const first = await (await fetch(`${s.url}/function/fragile/`)).json() as { pid: number }
  await waitFor('parked', async () => (await s.status('fragile')).replicas === 0)
  process.kill(first.pid, 'SIGKILL')
  await waitFor('gone', () => procState(first.pid) === undefined || procState(first.pid) === 'Z')
  const res = await fetch(`${s.url}/function/fragile/`)
  t.equal(res.status, 200)
  const body = await res.json() as { pid: number }
  t.not(body.pid, first.pid, 'a new process')
})

t.test('fork mode sleeps and wakes too', async (t) => {
  const s = await setup(t)
  await deploy(s, { service: 'forky', image: 'x', envProcess: 'cat', labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '200ms' } })
  await waitFor('asleep', async () => (await s.status('forky')).replicas === 0)
  const res = await fetch(`${s.url}/function/forky`, { method: 'POST', body: 'awake' })
  t.equal(res.status, 200)
  t.equal(await res.text(), 'awake')
})

t.test('without scale.zero: scaled to 0 still answers 503 (the gateway scales it)', async (t) => {
  const s = await setup(t)
  await deploy(s, httpFn('plain', {}))
  await deploy(s, httpFn('ranged', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' }))
  for (const name of ['plain', 'ranged']) {
    await waitFor(`${name} ready`, async () => (await s.status(name)).availableReplicas === 1)
    t.equal((await s.api('POST', `/system/scale-function/${name}`, { replicas: 0 })).status, 202)
    await waitFor(`${name} at 0`, async () => ((await s.status(name)).availableReplicas ?? 0) === 0)
    const res = await fetch(`${s.url}/function/${name}`)
    t.equal(res.status, 503, name)
    await res.arrayBuffer()
  }
  await sleep(300)
  t.equal((await s.status('plain')).replicas ?? 0, 0, 'a function without scaling labels keeps the count it was given')
  t.equal((await s.status('ranged')).replicas ?? 0, 0, 'min == max: the autoscaler keeps its hands off')
})

t.test('a wake that outlasts read_timeout answers 503, bounded', async (t) => {
  const s = await setup(t, 400)
  await deploy(s, httpFn('slow', { 'com.openfaas.scale.zero': 'true' }, { LISTEN_DELAY_MS: '3000' }))
  t.equal((await s.api('POST', '/system/scale-function/slow', { replicas: 0 })).status, 202)
  const t0 = performance.now()
  const res = await fetch(`${s.url}/function/slow`)
  const ms = performance.now() - t0
  t.equal(res.status, 503)
  await res.arrayBuffer()
  t.ok(ms >= 350 && ms < 2500, `gave up after ~read_timeout (${ms.toFixed(0)} ms)`)
})

t.test('bad scaling labels → 400 at deploy and update, naming the label', async (t) => {
  const s = await setup(t)
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ 'com.openfaas.scale.max': 'lots' }, /com\.openfaas\.scale\.max must be a whole number/],
    [{ 'com.openfaas.scale.min': '4', 'com.openfaas.scale.max': '2' }, /is above/],
    [{ 'com.openfaas.scale.type': 'gpu' }, /scale\.type must be one of rps, capacity, cpu/],
    [{ 'com.openfaas.scale.zero': '1' }, /scale\.zero must be "true" or "false"/],
    [{ 'com.openfaas.scale.zero-duration': '-5m' }, /zero-duration must be a positive duration/],
    [{ 'com.openfaas.scale.factor': '0' }, /factor must be between 1 and 100/]
  ]
  for (const [labels, message] of cases) {
    const res = await s.api('POST', '/system/functions', httpFn('bad', labels))
    t.equal(res.status, 400, JSON.stringify(labels))
    t.match(await res.text(), message)
  }
  t.equal((await s.api('GET', '/system/function/bad')).status, 404, 'nothing was deployed')
  await deploy(s, httpFn('good', { 'com.openfaas.scale.max': '3' }))
  const res = await s.api('PUT', '/system/functions', httpFn('good', { 'com.openfaas.scale.target-proportion': '2' }))
  t.equal(res.status, 400, 'update too')
  t.match(await res.text(), /target-proportion must be a number above 0 and at most 1/)
})
