/*
 * The autoscaler under a coordination (src/core/coordination.ts) that the test controls, on a fake
 * clock over an in-memory driver: a follower decides nothing but still wakes; the leader decides on
 * its own plus its peers' load (peer counters that reset are not read as negative load); a peer that
 * does not answer makes it hold; leadership just taken starts without history (no park before a
 * whole zero-duration seen by the new leader).
 */
import t from 'tap'
import { Autoscaler } from '../../src/autoscale/autoscaler.ts'
import { ClusterLoad } from '../../src/autoscale/cluster-load.ts'
import { Backends, type Backend } from '../../src/core/backends.ts'
import type { Coordination, FunctionLoad, PeerLoad } from '../../src/core/coordination.ts'
import { FAKE_CLOCK_TIMING } from '../helpers/fake-clock-autoscale.ts'
import { MemoryDriver } from '../helpers/memory-driver.ts'

const NS = 'openfaas-fn'

class TestCoordination implements Coordination {
  readonly identity = 'me'
  leading = true
  /** who a follower sees leading */
  other: string | undefined = 'other'
  peers: Array<{ identity: string, functions: FunctionLoad[] }> = []
  missing: string[] = []
  isLeader (): boolean { return this.leading }
  view (): ReturnType<Coordination['view']> { return { identity: 'me', leading: this.leading, leader: this.leading ? 'me' : this.other, mode: 'test' } }
  onLeadershipChange (): () => void { return () => {} }
  async peerLoad (): Promise<PeerLoad> { return { peers: structuredClone(this.peers), missing: [...this.missing] } }
  async start (): Promise<void> {}
  async stop (): Promise<void> {}
}

function setup () {
  const driver = new MemoryDriver()
  driver.upstreamUrl = new URL('http://127.0.0.1:1')
  const backends = new Backends([{ backend: { name: 'here', driver }, namespaces: [NS] }], NS)
  const coordination = new TestCoordination()
  let now = 0
  const decisions: string[] = []
  const scaler = new Autoscaler({
    backends,
    ...FAKE_CLOCK_TIMING,
    zeroDurationMs: 5000,
    logger: { info: () => {}, warn: () => {} },
    now: () => now,
    coordination,
    listener: { decision: (d) => { decisions.push(`${d.action}:${d.from}->${d.to}`) } }
  })
  const advance = async (ms: number): Promise<void> => {
    now += ms
    await scaler.tick()
    await new Promise((resolve) => setImmediate(resolve))
  }
  const peer = (identity: string, fn: string, c: Omit<FunctionLoad, 'namespace' | 'name'>): void => {
    const others = coordination.peers.filter((p) => p.identity !== identity)
    coordination.peers = [...others, { identity, functions: [{ namespace: NS, name: fn, ...c }] }]
  }
  return { driver, backends, coordination, scaler, decisions, advance, peer }
}

const ce = { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '6', 'com.openfaas.scale.factor': '50' }
const sleeper = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '5s' }

t.test('a follower decides nothing, whatever the load; the leader acts on the sum of its and its peers\' load', async (t) => {
  const s = setup()
  await s.driver.deploy({ service: 'api', namespace: NS, image: 'x', labels: ce })
  s.coordination.leading = false
  await s.advance(0)
  const own = s.scaler.load.counter(NS, 'api')
  if (own === undefined) throw new Error('a follower still counts its own load')
  for (let i = 0; i < 6; i++) {
    own.completed += 20; own.ok += 20
    await s.advance(1000)
  }
  t.same(s.decisions, [], 'no decision as a follower')
  t.equal((await s.driver.status(NS, 'api')).replicas, 1)
  t.equal(s.scaler.report()[0]?.desiredReplicas, undefined, 'a follower reports no desired count')

  // leading: 3 req/s here + 3 req/s on a peer = 6 req/s > 5 (neither alone would scale)
  s.coordination.leading = true
  let peerCount = 0
  for (let i = 0; i < 6; i++) {
    own.completed += 3; own.ok += 3
    peerCount += 3
    s.peer('p1', 'api', { inflight: 0, completed: peerCount, ok: peerCount, busySeconds: 0 })
    await s.advance(1000)
  }
  t.same(s.decisions, ['up:1->4'], 'scaled up on the summed rate')
})

t.test('cluster load: peers\' cumulative counters become monotonic totals; a first report is a baseline; a restart counts from 0', async (t) => {
  const c = new ClusterLoad()
  const own = { inflight: 1, completed: 10, ok: 9, busySeconds: 1 }
  const report = (identity: string, completed: number, inflight = 0): { identity: string, functions: FunctionLoad[] } =>
    ({ identity, functions: [{ namespace: NS, name: 'f', inflight, completed, ok: completed, busySeconds: completed / 10 }] })
  c.absorb([report('a', 100, 2), report('b', 50)])
  t.same(c.combined(NS, 'f', own), { inflight: 3, completed: 10, ok: 9, busySeconds: 1 }, 'first reports: baselines, in flight summed')
  c.absorb([report('a', 130), report('b', 60, 1)])
  t.same(c.combined(NS, 'f', own), { inflight: 2, completed: 50, ok: 49, busySeconds: 5 }, '+30 from a, +10 from b')
  c.absorb([report('a', 5), report('b', 60)])
  t.equal(c.combined(NS, 'f', own).completed, 55, 'a restarted: its 5 new requests count, nothing is taken away')
  c.absorb([report('b', 70)], ['a'])
  c.absorb([report('a', 8), report('b', 70)])
  t.equal(c.combined(NS, 'f', own).completed, 68, 'a missed a tick but kept its baseline: +3 from a, +10 from b')
  c.absorb([report('b', 70)])
  c.absorb([report('a', 20), report('b', 70)])
  t.equal(c.combined(NS, 'f', own).completed, 68, 'a left and came back: its first report is a new baseline')
})

t.test('peer load keeps a scale.zero function awake; a restarted peer\'s counters are not negative load', async (t) => {
  const s = setup()
  await s.driver.deploy({ service: 'sleepy', namespace: NS, image: 'x', labels: sleeper })
  await s.advance(0)
  // all the traffic goes through peer p1, for three zero-durations
  let n = 100 // p1 was up before: its first report is its baseline
  for (let i = 0; i < 15; i++) {
    n += 2
    // p1 restarts half-way: its counters start again from 0
    if (i === 7) n = 1
    s.peer('p1', 'sleepy', { inflight: i % 3 === 0 ? 1 : 0, completed: n, ok: n, busySeconds: 0 })
    await s.advance(1000)
  }
  t.same(s.decisions, [], 'never parked while a peer served it')
  // idle everywhere: parked after the zero-duration
  for (let i = 0; i < 7; i++) await s.advance(1000)
  t.same(s.decisions, ['zero:1->0'])
})

t.test('a peer that does not answer makes the leader hold; it decides again once the peer answers', async (t) => {
  const s = setup()
  await s.driver.deploy({ service: 'sleepy', namespace: NS, image: 'x', labels: sleeper })
  await s.advance(0)
  s.coordination.missing = ['p2']
  for (let i = 0; i < 10; i++) await s.advance(1000)
  t.same(s.decisions, [], 'no park on missing data, though idle here for twice the zero-duration')
  s.coordination.missing = []
  await s.advance(1000)
  t.same(s.decisions, ['zero:1->0'], 'the peer answers (and is idle): parked')
})

t.test('leadership just taken: the new leader starts without history and parks only after a zero-duration it saw', async (t) => {
  const s = setup()
  await s.driver.deploy({ service: 'sleepy', namespace: NS, image: 'x', labels: sleeper })
  s.coordination.leading = false
  for (let i = 0; i < 10; i++) await s.advance(1000)
  s.coordination.leading = true
  for (let i = 0; i < 4; i++) await s.advance(1000)
  t.same(s.decisions, [], 'idle for 14 s, but led for only 4 s: not parked yet')
  for (let i = 0; i < 2; i++) await s.advance(1000)
  t.same(s.decisions, ['zero:1->0'], 'parked once the new leader saw the whole zero-duration')
  // a follower still wakes a sleeper on its first request
  s.coordination.leading = false
  t.equal(await s.scaler.wake(s.backends.backends()[0] as Backend, NS, 'sleepy'), true, 'a follower wakes')
  t.equal((await s.driver.status(NS, 'sleepy')).replicas, 1)
})

t.test('leadership lost for a while with nobody else leading (a slow API server): the streak carries on', async (t) => {
  const s = setup()
  await s.driver.deploy({ service: 'api', namespace: NS, image: 'x', labels: ce })
  await s.advance(0)
  const own = s.scaler.load.counter(NS, 'api')
  if (own === undefined) throw new Error('counter expected')
  for (let i = 0; i < 6; i++) {
    own.completed += 20; own.ok += 20
    // every other tick the Lease could not be renewed in time; the Lease still names us
    s.coordination.leading = i % 2 === 0
    s.coordination.other = 'me'
    await s.advance(1000)
  }
  s.coordination.leading = true
  await s.advance(1000)
  t.same(s.decisions, ['up:1->4'], 'scaled up: the flapping did not restart the up window each time')
})
