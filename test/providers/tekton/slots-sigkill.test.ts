/*
 * A run slot's holder that dies without releasing it gives the slot back within the lease
 * duration: a real provider process (src/main.ts, tekton backend, slotLeaseSeconds 3) holds the
 * only slot of a function with a run under way and is killed with SIGKILL; a call waiting in
 * another replica (in this process) takes the expired Lease over (UPDATE with the resourceVersion
 * it read: leaseTransitions 1, no delete in between) and runs. Measured and reported: the time from
 * the SIGKILL to the take-over.
 */
import { writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { StoreEvent } from '../../fakes/kubernetes/store.ts'
import type { FunctionResult } from '../../fakes/kubernetes/tekton.ts'
import { startProvider } from '../../helpers/provider-process.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

// a real provider process starts in seconds, slowly on a loaded machine
t.setTimeout(300_000)

const LEASE_SECONDS = 3
const SLOT = 'held-slot-0'

t.test('SIGKILL of the process holding the only slot: a waiting replica takes it over within the lease duration', async (t) => {
  const a = await tektonApp(t, { driver: { slotLeaseSeconds: LEASE_SECONDS }, timeoutMs: 60_000 })
  const config = path.join(path.dirname(a.kubeconfig), 'config-child.json')
  await writeFile(config, JSON.stringify({
    backends: { tekton: { driver: 'tekton', namespaces: [NS], options: { kubeconfig: a.kubeconfig, inCluster: false, slotLeaseSeconds: LEASE_SECONDS } } }
  }))
  const child = await startProvider(t, { config_file: config, function_namespace: NS, bind_address: '127.0.0.1', read_timeout: '60s', write_timeout: '60s' }, 120_000)
  const childHolder = `${os.hostname()}-${String(child.child.pid)}-`

  const gates = new Map<string, () => void>()
  // the child's run is held until the test lets it end; any other run answers at once
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => {
    if (run.body.toString() === 'through the child') gates.set('through the child', () => { resolve({ stdout: run.body }) })
    else resolve({ stdout: run.body })
  })
  t.equal((await api(a.url, 'POST', '/system/functions', fnSpec('held'))).status, 202)

  // every write of the slot's Lease, with when the fake applied it
  const writes: Array<{ at: number, type: string, holder: string, transitions: number }> = []
  const onLease = (ev: StoreEvent): void => {
    if (ev.resource !== 'leases' || ev.object.metadata.name !== SLOT) return
    writes.push({ at: Date.now(), type: ev.type, holder: String(ev.object.spec?.holderIdentity ?? ''), transitions: Number(ev.object.spec?.leaseTransitions ?? 0) })
  }
  a.fake.store.events.on('change', onLease)
  t.teardown(() => { a.fake.store.events.off('change', onLease) })

  const dead = fetch(`${child.url}/function/held`, { method: 'POST', body: 'through the child' }).catch((err: unknown) => err)
  await eventually(() => { check(gates.has('through the child'), 'the child\'s run is under way') }, { timeoutMs: 30_000 })
  t.ok(writes[0]?.type === 'ADDED' && writes[0].holder.startsWith(childHolder), 'the child created the slot\'s Lease')
  await eventually(() => { check(writes.some((w) => w.type === 'MODIFIED' && w.holder.startsWith(childHolder)), 'the child renews its Lease') }, { timeoutMs: 30_000 })

  const waiting = fetch(`${a.url}/function/held`, { method: 'POST', body: 'through A', signal: AbortSignal.timeout(60_000) })
    .then(async (r) => ({ status: r.status, text: await r.text() }))
  await eventually(() => {
    check(a.fake.requests.some((r) => r.method === 'GET' && r.path.endsWith('/leases') && r.query.includes('watch=true')), 'A waits on the slot Leases')
  }, { timeoutMs: 30_000 })
  t.equal(a.tekton.taskRuns(NS, 'held').length, 1, 'A starts no run while the child holds the slot')

  child.child.kill('SIGKILL')
  const killedAt = Date.now()
  t.equal(await child.exited, 'SIGKILL')
  await dead
  // the dead holder's run ends (Tekton would stop it at its timeout); its Lease stays, unreleased
  gates.get('through the child')?.()
  const got = await waiting
  t.equal(got.status, 200)
  t.equal(got.text, 'through A', 'the waiting call ran on the returned slot')
  const takeOver = writes.find((w) => w.type === 'MODIFIED' && !w.holder.startsWith(childHolder))
  t.ok(takeOver !== undefined, 'the slot was taken over')
  t.equal(takeOver?.transitions, 1, 'by an update of the expired Lease (leaseTransitions 1)')
  t.notOk(writes.slice(0, writes.indexOf(takeOver as never)).some((w) => w.type === 'DELETED'), 'nobody deleted the dead holder\'s Lease first')
  const returnedMs = (takeOver?.at ?? Number.POSITIVE_INFINITY) - killedAt
  t.comment(`slot returned ${returnedMs} ms after SIGKILL (slotLeaseSeconds ${LEASE_SECONDS}, renewed every ${Math.floor(LEASE_SECONDS * 1000 / 3)} ms)`)
  // within the lease duration, with room for a loaded machine (the waiter learns of the last renewal by its watch)
  t.ok(returnedMs <= LEASE_SECONDS * 1000 + 2000, `returned within the lease duration: ${returnedMs} ms`)
  t.equal(a.tekton.peakRunning(NS, 'held'), 1, 'never more than 1 TaskRun under way at once')
  await eventually(() => { check(a.fake.store.list('leases', NS).length === 0, 'A released the slot') }, { timeoutMs: 10_000 })
})
