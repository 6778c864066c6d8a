/*
 * Several real provider processes (src/main.ts) act as one: each on 127.0.0.1 with its own port and
 * its own token at the fake API server (so the fake knows who wrote what), leader election on a
 * Lease with short timings (6 s lease, 4 s renew deadline, 0.5 s retry), the peers found through
 * one EndpointSlice per replica of the provider's selector-less Service, basic auth on.
 *  1. load through a follower only never parks a scale.zero function; once idle the leader parks
 *     it, and a request through the follower wakes it;
 *  2. 8 req/s split over two replicas scales up as 8 req/s through one (the CE rule, > 5 rps);
 *  3. SIGKILL of the leader of three: another leads within the lease duration (measured), holds
 *     while the dead one's endpoint is still listed ready, and scales on once it is gone;
 * and in every test: each scale decision (anything but a wake from 0) was written by the replica
 * that held the Lease at that moment — two replicas never both decide.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { check, eventually } from '../../src/driver-contract/eventually.ts'
import type { Test } from 'tap'
import { DEPLOYMENTS } from '../fakes/kubernetes/controller.ts'
import { FakeKubernetes } from '../fakes/kubernetes/server.ts'
import type { StoreEvent } from '../fakes/kubernetes/store.ts'
import { startProvider, type ProviderProcess } from '../helpers/provider-process.ts'

// several real processes and whole zero-durations per case: far above tap's 60 s per file on a loaded machine
t.setTimeout(900_000)

const FN_NS = 'openfaas-fn'
const SYS_NS = 'openfaas'
const LEASE = 'faas-bridge'
// short, but with room for a loaded machine (an API call of a second must not cost the leadership)
const LEASE_MS = 6000
const RENEW_MS = 4000
const RETRY_MS = 500
const USER = 'admin'
const PASSWORD = 'coordination-test-password'
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function waitFor (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => { check(await cond(), what) }, { timeoutMs, intervalMs: 25, what })
}

interface Replica { id: string, proc: ProviderProcess, port: number }

interface Cluster {
  fake: FakeKubernetes
  replicas: Replica[]
  /** every change of the Lease's holder ('' = released), with the time the fake applied it */
  holders: Array<{ at: number, holder: string }>
  /** the holder at time `at` by the history */
  holderAt: (at: number) => string
  leader: () => string
  replica: (id: string) => Replica
  /** requests the function servers answered */
  served: () => number
  deploy: (name: string, labels: Record<string, string>) => Promise<void>
  spec: (name: string) => number | undefined
  /** marks a replica's endpoint ready or not (what the EndpointSlice controller does when its pod's readiness changes) */
  setReady: (id: string, ready: boolean) => void
  /** the scale writes: who, when, from → to */
  report: (name: string) => string
  /** how many times each replica logged that it holds (a peer did not answer) */
  holds: () => string
}

async function cluster (t: Test, ids: string[]): Promise<Cluster> {
  const tokens = Object.fromEntries(ids.map((id) => [`token-${id}`, id]))
  const fake = await new FakeKubernetes({ readyDelayMs: 40, tokens }).start()
  t.teardown(async () => { await fake.close() })
  fake.createNamespace(FN_NS)
  fake.createNamespace(SYS_NS)
  // the provider's own Service, without a selector: its EndpointSlices are the test's (one per replica, each its own port)
  fake.store.create('services', 'services', { apiVersion: 'v1', kind: 'Service', metadata: { name: LEASE, namespace: SYS_NS }, spec: { ports: [{ name: 'http', port: 8080 }] } })
  const holders: Array<{ at: number, holder: string }> = []
  const onLease = (ev: StoreEvent): void => {
    if (ev.resource !== 'leases' || ev.object.metadata.name !== LEASE) return
    const holder = (ev.object.spec?.holderIdentity as string | undefined) ?? ''
    if (holders[holders.length - 1]?.holder !== holder) holders.push({ at: Date.now(), holder })
  }
  fake.store.events.on('change', onLease)
  t.teardown(() => { fake.store.events.off('change', onLease) })

  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-coord-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(path.join(dir, 'basic-auth-user'), USER, { mode: 0o600 })
  await writeFile(path.join(dir, 'basic-auth-password'), PASSWORD, { mode: 0o600 })

  let served = 0
  const fnServer = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      served++
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => { fnServer.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    fnServer.closeAllConnections()
    await new Promise<void>((resolve) => { fnServer.close(() => { resolve() }) })
  })
  const fnUrl = `http://127.0.0.1:${(fnServer.address() as AddressInfo).port}`

  const replicas = await Promise.all(ids.map(async (id): Promise<Replica> => {
    const kubeconfig = path.join(dir, `kubeconfig-${id}`)
    await writeFile(kubeconfig, fake.kubeconfig('fake', `token-${id}`), { mode: 0o600 })
    const configFile = path.join(dir, `config-${id}.yaml`)
    await writeFile(configFile, JSON.stringify({
      backends: { kubernetes: { driver: 'kubernetes', namespaces: [FN_NS], options: { kubeconfig, inCluster: false, invoke: 'proxy' } } }
    }))
    const proc = await startProvider(t, {
      config_file: configFile,
      function_namespace: FN_NS,
      basic_auth: 'true',
      secret_mount_path: dir,
      bind_address: '127.0.0.1',
      log_level: 'info',
      autoscale_interval: '100ms',
      leader_election: 'true',
      leader_election_kubeconfig: kubeconfig,
      leader_election_namespace: SYS_NS,
      leader_election_lease_name: LEASE,
      leader_election_identity: id,
      leader_election_lease_duration: `${LEASE_MS}ms`,
      leader_election_renew_deadline: `${RENEW_MS}ms`,
      leader_election_retry_period: `${RETRY_MS}ms`,
      peer_service: LEASE,
      // generous: on a loaded machine a peer that answers late makes the leader hold that tick
      peer_timeout: '3s'
    }, 120_000)
    return { id, proc, port: Number(new URL(proc.url).port) }
  }))
  const ready = new Map(ids.map((id) => [id, true]))
  const putSlice = (r: Replica): void => {
    fake.putEndpointSlice(SYS_NS, `${LEASE}-${r.id}`, LEASE, [{ address: '127.0.0.1', ready: ready.get(r.id) === true, pod: r.id }], [{ name: 'http', port: r.port }])
  }
  for (const r of replicas) putSlice(r)

  const holderAt = (at: number): string => {
    let h = ''
    for (const e of holders) if (e.at <= at) h = e.holder
    return h
  }
  const c: Cluster = {
    fake,
    replicas,
    holders,
    holderAt,
    leader: () => holders[holders.length - 1]?.holder ?? '',
    replica: (id) => replicas.find((r) => r.id === id) as Replica,
    served: () => served,
    deploy: async (name, labels) => {
      fake.setServiceBackend(FN_NS, name, fnUrl)
      const res = await fetch(`${replicas[0]?.proc.url as string}/system/functions`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ service: name, image: 'ghcr.io/openfaas/alpine:latest', labels }),
        signal: AbortSignal.timeout(10_000)
      })
      if (res.status !== 202) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`)
      await waitFor(`${name} ready`, () => (fake.store.get(DEPLOYMENTS, FN_NS, name)?.status?.availableReplicas ?? 0) >= 1)
    },
    spec: (name) => fake.store.get(DEPLOYMENTS, FN_NS, name)?.spec?.replicas,
    setReady: (id, value) => {
      ready.set(id, value)
      putSlice(c.replica(id))
    },
    holds: () => replicas.map((r) => `${r.id}: ${(r.proc.output().match(/holding every decision/g) ?? []).length} hold(s)`).join(', '),
    report: (name) => fake.scaleWrites.filter((w) => w.name === name).map((w) => `${w.user} ${w.from}→${w.to} @${w.at - (holders[0]?.at ?? 0)}ms`).join(', ')
  }
  await waitFor('a leader', () => c.leader() !== '')
  return c
}

/** Sends `rps` requests per second for `ms`, spread round-robin over `urls`; resolves with the status counts. */
async function load (urls: string[], fn: string, rps: number, ms: number): Promise<Map<number, number>> {
  const total = Math.round(rps * ms / 1000)
  const started = Date.now()
  const calls: Array<Promise<number>> = []
  for (let i = 0; i < total; i++) {
    const due = started + i * 1000 / rps
    if (due > Date.now()) await sleep(due - Date.now())
    const url = urls[i % urls.length] as string
    calls.push(fetch(`${url}/function/${fn}`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(20_000) })
      .then(async (r) => { await r.text(); return r.status }, () => 0))
  }
  const counts = new Map<number, number>()
  for (const s of await Promise.all(calls)) counts.set(s, (counts.get(s) ?? 0) + 1)
  return counts
}

function isWake (w: { from: number, to: number }): boolean {
  return w.from === 0 && w.to > 0
}

/** Every decision (not a wake from 0) was written by the Lease's holder at that moment. */
function assertOneDecider (t: Test, c: Cluster, name: string): void {
  const decisions = c.fake.scaleWrites.filter((w) => w.name === name && !isWake(w))
  const strays = decisions.filter((w) => c.holderAt(w.at) !== w.user)
  t.same(strays, [], `${decisions.length} decision(s) on ${name}, each by the Lease holder of the moment`)
}

t.test('load through a follower only never parks the function; idle, the leader parks it; the follower wakes it', async (t) => {
  const c = await cluster(t, ['replica-a', 'replica-b'])
  const leader = c.leader()
  const follower = c.replicas.find((r) => r.id !== leader) as Replica
  await c.deploy('sleepy', { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '2s', 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4' })
  // 4 req/s (below the CE threshold) through the follower only, for over 3 zero-durations
  const counts = await load([follower.proc.url], 'sleepy', 4, 7000)
  t.same([...counts.entries()], [[200, 28]], 'every request through the follower got 200')
  t.same(c.fake.scaleWrites.filter((w) => w.name === 'sleepy' && w.to === 0), [], 'never parked while the follower served it')
  // idle: the leader parks it after the zero-duration
  await waitFor('park', () => c.spec('sleepy') === 0, 20_000)
  const park = c.fake.scaleWrites.find((w) => w.name === 'sleepy' && w.to === 0)
  t.equal(park?.user, c.holderAt(park?.at ?? 0), `parked by the leader (${String(park?.user)})`)
  // a request through the follower wakes it (every replica wakes)
  const res = await fetch(`${follower.proc.url}/function/sleepy`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(20_000) })
  t.equal(res.status, 200, 'woken by the follower and answered')
  const wake = c.fake.scaleWrites.filter((w) => w.name === 'sleepy' && isWake(w)).pop()
  t.equal(wake?.user, follower.id, 'the wake was written by the replica that took the request')
  assertOneDecider(t, c, 'sleepy')
  t.comment(`leader ${leader}; Lease holders: ${c.holders.map((h) => h.holder).join(' → ')}; sleepy: ${c.report('sleepy')}`)
})

t.test('8 req/s split over two replicas scales up as 8 req/s through one', async (t) => {
  const c = await cluster(t, ['replica-a', 'replica-b'])
  const [a, b] = c.replicas as [Replica, Replica]
  const labels = { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4' }
  await c.deploy('split', labels)
  await c.deploy('single', labels)
  const started = Date.now()
  let splitAt = 0
  let singleAt = 0
  const watch = (async () => {
    while (Date.now() - started < 40_000 && (splitAt === 0 || singleAt === 0)) {
      if (splitAt === 0 && (c.spec('split') ?? 0) >= 2) splitAt = Date.now() - started
      if (singleAt === 0 && (c.spec('single') ?? 0) >= 2) singleAt = Date.now() - started
      await sleep(50)
    }
  })()
  // each replica sees 4 req/s of "split" (below the 5 rps rule alone); "single" takes 8 req/s through one
  const [split, single] = await Promise.all([load([a.proc.url, b.proc.url], 'split', 8, 12_000), load([a.proc.url], 'single', 8, 12_000)])
  await watch
  t.equal(split.get(200), 96, 'split: every request answered 200')
  t.equal(single.get(200), 96, 'single: every request answered 200')
  if (splitAt === 0 || singleAt === 0) {
    for (const r of c.replicas) t.comment(`${r.id}:\n${r.proc.output().split('\n').filter((l) => /autoscale|leader|warn|"level":[45]/.test(l)).slice(-30).join('\n')}`)
  }
  t.ok(splitAt > 0, `split over two replicas scaled 1 → 2+ (after ${splitAt} ms)`)
  t.ok(singleAt > 0, `through one replica scaled 1 → 2+ (after ${singleAt} ms)`)
  assertOneDecider(t, c, 'split')
  assertOneDecider(t, c, 'single')
  t.comment(`Lease holders: ${c.holders.map((h) => h.holder).join(' → ')}; split: ${c.report('split')}; single: ${c.report('single')}; ${c.holds()}`)
})

t.test('SIGKILL of the leader of three: another leads within the lease duration, holds while the dead one looks ready, then scales on', async (t) => {
  const c = await cluster(t, ['replica-a', 'replica-b', 'replica-c'])
  await c.deploy('steady', { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '4' })
  const first = c.replica(c.leader())
  const killedAt = Date.now()
  first.proc.child.kill('SIGKILL')
  await first.proc.exited
  await waitFor('a new leader', () => c.leader() !== first.id && c.leader() !== '', LEASE_MS + 15_000)
  const handOver = (c.holders[c.holders.length - 1]?.at ?? 0) - killedAt
  t.ok(handOver <= LEASE_MS + 2 * RETRY_MS + 3000, `hand-over after SIGKILL: ${handOver} ms (lease ${LEASE_MS} ms)`)
  const second = c.leader()
  const survivors = c.replicas.filter((r) => r.id !== first.id)
  // the dead replica's endpoint is still listed ready: the new leader cannot read its load and holds
  const heldFrom = Date.now()
  const held = await load(survivors.map((r) => r.proc.url), 'steady', 8, 6000)
  t.equal(held.get(200), 48, 'requests through the survivors answered while the leader holds')
  t.same(c.fake.scaleWrites.filter((w) => w.name === 'steady' && w.at >= heldFrom), [], 'no decision while a listed peer does not answer')
  // its pod is no longer ready (what the endpoint controller does): the leader decides again, on the survivors' load
  c.setReady(first.id, false)
  const counts = await load(survivors.map((r) => r.proc.url), 'steady', 8, 10_000)
  t.equal(counts.get(200), 80, 'every request answered')
  await waitFor('scaled up by the new leader', () => (c.spec('steady') ?? 0) >= 2, 15_000)
  const up = c.fake.scaleWrites.find((w) => w.name === 'steady' && w.to >= 2)
  t.equal(up?.user, second, `scaled up by the new leader ${second}`)
  assertOneDecider(t, c, 'steady')
  t.comment(`hand-over ${handOver} ms; Lease holders: ${c.holders.map((h) => `${h.holder === '' ? '(released)' : h.holder}@${h.at - (c.holders[0]?.at ?? 0)}ms`).join(' → ')}; steady: ${c.report('steady')}`)
})

t.test('SIGTERM of the leader releases the Lease: the other replica leads within a few retry periods', async (t) => {
  const c = await cluster(t, ['replica-a', 'replica-b'])
  const first = c.replica(c.leader())
  const stoppedAt = Date.now()
  first.proc.child.kill('SIGTERM')
  t.equal(await first.proc.exited, 0, 'drained and exited 0')
  t.match(first.proc.output(), /leader election: released the Lease/)
  await waitFor('the other leads', () => c.leader() !== first.id && c.leader() !== '', LEASE_MS + 15_000)
  const handOver = (c.holders[c.holders.length - 1]?.at ?? 0) - stoppedAt
  t.same(c.holders.map((h) => h.holder).slice(-2), ['', c.leader()], 'released (empty holder), then taken')
  t.ok(handOver < LEASE_MS, `hand-over after SIGTERM: ${handOver} ms (no wait for the lease to expire)`)
  t.comment(`hand-over after SIGTERM ${handOver} ms; Lease holders: ${c.holders.map((h) => h.holder === '' ? '(released)' : h.holder).join(' → ')}`)
})
