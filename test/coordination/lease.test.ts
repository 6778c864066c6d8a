/*
 * Leader election on a Lease (providers/kubernetes/common/lease.ts) against the fake API server's
 * leases with optimistic concurrency (4 s lease, 2.5 s renew deadline, 0.25 s retry): of three candidates started together exactly one leads at a
 * time (asserted over the Lease's history and each candidate's own view), the leader renews,
 * stop() releases so a peer takes over at once, and a candidate that vanishes without releasing is
 * replaced once the lease duration has passed on the others' clocks.
 */
import { KubeConfig } from '@kubernetes/client-node'
import t from 'tap'
import { check, eventually } from '../../src/driver-contract/eventually.ts'
import type { Test } from 'tap'
import { pino } from 'pino'
import { LeaseElector, leaseTimingProblem } from '../../providers/kubernetes/common/lease.ts'
import { LEADER_ELECTION_PERMISSIONS } from '../../providers/kubernetes/common/lease-permissions.ts'
import { FakeKubernetes } from '../fakes/kubernetes/server.ts'
import type { StoreEvent } from '../fakes/kubernetes/store.ts'

const NS = 'openfaas'
// short, with room for a loaded machine (a renewal taking a second must not lose the Lease)
const timing = { leaseDurationMs: 4000, renewDeadlineMs: 2500, retryPeriodMs: 250 }
const logger = pino({ level: 'silent' })
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function waitFor (what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  await eventually(async () => { check(await cond(), what) }, { timeoutMs, intervalMs: 25, what })
}

async function setup (t: Test): Promise<{ fake: FakeKubernetes, elector: (id: string) => LeaseElector, holders: Array<{ at: number, holder: string }> }> {
  const fake = await new FakeKubernetes().start()
  t.teardown(async () => { await fake.close() })
  fake.createNamespace(NS)
  const holders: Array<{ at: number, holder: string }> = []
  fake.store.events.on('change', (ev: StoreEvent) => {
    if (ev.resource !== 'leases') return
    const holder = (ev.object.spec?.holderIdentity as string | undefined) ?? ''
    if (holders[holders.length - 1]?.holder !== holder) holders.push({ at: Date.now(), holder })
  })
  const electors: LeaseElector[] = []
  t.teardown(async () => { await Promise.all(electors.map(async (e) => { await e.stop() })) })
  const elector = (id: string): LeaseElector => {
    const config = new KubeConfig()
    config.loadFromString(fake.kubeconfig())
    const e = new LeaseElector(config, { name: 'faas-bridge', namespace: NS, identity: id, ...timing }, logger)
    electors.push(e)
    return e
  }
  return { fake, elector, holders }
}

t.test('timing rules as client-go checks them', async (t) => {
  t.equal(leaseTimingProblem(timing), undefined)
  t.match(leaseTimingProblem({ ...timing, renewDeadlineMs: 4000 }), /longer than the renew deadline/)
  t.match(leaseTimingProblem({ ...timing, retryPeriodMs: 2500 }), /longer than the retry period/)
  t.match(leaseTimingProblem({ ...timing, leaseDurationMs: 500, renewDeadlineMs: 400 }), /at least 1s/)
})

t.test('three candidates: one leader at a time; release hands over at once; a vanished leader is replaced after the lease duration', async (t) => {
  const { fake, elector, holders } = await setup(t)
  const es = ['a', 'b', 'c'].map(elector)
  // each candidate's own view, sampled: never two that think they lead
  let overlaps = 0
  const sampler = setInterval(() => { if (es.filter((e) => e.isLeader()).length > 1) overlaps++ }, 5)
  t.teardown(() => { clearInterval(sampler) })
  for (const e of es) e.start()
  await waitFor('a leader', () => es.some((e) => e.isLeader()))
  const first = es.find((e) => e.isLeader()) as LeaseElector
  // renewals keep it leading for several lease durations
  await sleep(timing.leaseDurationMs * 2)
  t.ok(first.isLeader(), `${first.identity} still leads after 2 lease durations (renewing)`)
  t.equal(holders.length, 1, 'one holder so far')
  const lease = fake.store.get('leases', NS, 'faas-bridge')
  t.equal(lease?.spec?.leaseDurationSeconds, 4)
  t.match(String(lease?.spec?.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime')
  t.ok(fake.requestsTo(/^PUT \/apis\/coordination\.k8s\.io\/v1\/namespaces\/openfaas\/leases\/faas-bridge$/).length >= 3, 'renewed with PUTs')

  // a graceful stop releases: a peer leads within a couple of retry periods, far below the lease duration
  const released = Date.now()
  await first.stop()
  await waitFor('a successor', () => es.some((e) => e !== first && e.isLeader()))
  const releaseHandOver = Date.now() - released
  t.ok(releaseHandOver < timing.leaseDurationMs, `hand-over after release took ${releaseHandOver} ms (< lease ${timing.leaseDurationMs} ms)`)
  const second = es.find((e) => e.isLeader()) as LeaseElector

  // a leader that vanishes without releasing (its loop frozen, as SIGKILL would): replaced after the lease duration
  const frozen = Date.now()
  ;(second as unknown as { stopped: boolean }).stopped = true // stops renewing and never releases
  await waitFor('a third leader', () => es.some((e) => e !== first && e !== second && e.isLeader()))
  const crashHandOver = Date.now() - frozen
  t.ok(crashHandOver >= timing.leaseDurationMs - timing.renewDeadlineMs, `not taken before the lease could expire (${crashHandOver} ms)`)
  t.ok(crashHandOver < timing.leaseDurationMs + 3 * timing.retryPeriodMs + 5000, `taken over in ${crashHandOver} ms`)
  t.comment(`hand-over: ${releaseHandOver} ms after release, ${crashHandOver} ms after the leader vanished (lease ${timing.leaseDurationMs} ms)`)
  t.equal(overlaps, 0, 'no two candidates ever thought they led at the same moment')
  t.same(holders.map((h) => h.holder), [first.identity, '', second.identity, (es.find((e) => e.isLeader()) as LeaseElector).identity], 'Lease history: first, released, second, third')
  t.ok(Number(fake.store.get('leases', NS, 'faas-bridge')?.spec?.leaseTransitions) >= 2, 'leaseTransitions counted')
  // the chart's RBAC (LEADER_ELECTION_PERMISSIONS) covers every call made
  const allowed = LEADER_ELECTION_PERMISSIONS.find((p) => p.resource === 'leases')?.verbs ?? []
  const verbs = new Set(fake.requestsTo(/\/leases/).map((r) => ({ GET: 'get', POST: 'create', PUT: 'update' } as Record<string, string>)[r.method] ?? r.method))
  t.same([...verbs].filter((v) => !allowed.includes(v)), [], `verbs used: ${[...verbs].join(', ')}`)
})

t.test('a stale write loses: the fake answers 409 to a replace with an old resourceVersion', async (t) => {
  const { fake } = await setup(t)
  const created = fake.store.create('leases', 'leases.coordination.k8s.io', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'x', namespace: NS }, spec: { holderIdentity: 'a', leaseDurationSeconds: 2 } })
  fake.store.update('leases', 'leases.coordination.k8s.io', { ...created, spec: { holderIdentity: 'b', leaseDurationSeconds: 2 } })
  const res = await fetch(`${fake.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/x`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...created, spec: { holderIdentity: 'c', leaseDurationSeconds: 2 } })
  })
  t.equal(res.status, 409)
  t.equal(fake.store.get('leases', NS, 'x')?.spec?.holderIdentity, 'b', 'nothing changed')
  const bad = await fetch(`${fake.url}/apis/coordination.k8s.io/v1/namespaces/${NS}/leases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ metadata: { name: 'y' }, spec: { leaseDurationSeconds: 0 } })
  })
  t.equal(bad.status, 422)
})
