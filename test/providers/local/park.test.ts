/*
 * Parking (the local backend's scale to zero for the autoscaler): http-mode processes are
 * suspended, reported as 0 replicas, resumed by the next scale up; an explicit scale to 0, an
 * eviction (maxParkedReplicas) or close() stops them; a parked process that died is replaced.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { alive, forkSpec, httpSpec, makeLocalDriver, NS } from './helpers.ts'
import type { LocalDriver } from '../../../providers/local/index.ts'

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function waitFor (what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

function state (pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

async function ready (driver: LocalDriver, name: string, n: number): Promise<number[]> {
  await waitFor(`${name} ready`, () => driver.replicaInfo(NS, name).pids.length === n)
  const deadline = Date.now() + 10_000
  while ((await driver.status(NS, name)).availableReplicas !== n) {
    if (Date.now() > deadline) throw new Error('not ready')
    await sleep(10)
  }
  return driver.replicaInfo(NS, name).pids
}

t.test('park suspends, scale up resumes the same processes', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy({ ...httpSpec('p'), labels: { 'com.openfaas.scale.min': '2' } })
  const pids = await ready(driver, 'p', 2)
  await driver.park(NS, 'p')
  const st = await driver.status(NS, 'p')
  t.equal(st.replicas, 0)
  t.equal(st.availableReplicas, 0)
  await t.rejects(driver.upstream(NS, 'p'), { code: 'UNAVAILABLE' })
  t.same(driver.replicaInfo(NS, 'p').parkedPids.sort(), [...pids].sort())
  await waitFor('stopped state', () => pids.every((pid) => state(pid) === 'T'))
  await driver.scale(NS, 'p', 1)
  t.equal((await driver.status(NS, 'p')).availableReplicas, 1, 'ready at once')
  await driver.upstream(NS, 'p')
  t.equal(driver.replicaInfo(NS, 'p').pids.length, 1)
  t.equal(driver.replicaInfo(NS, 'p').parkedPids.length, 1, 'the other stays parked')
  t.ok(pids.includes(driver.replicaInfo(NS, 'p').pids[0] as number), 'a parked process was resumed')
  await driver.scale(NS, 'p', 0)
  t.same(driver.replicaInfo(NS, 'p').parkedPids, [], 'an explicit scale to 0 stops parked processes too')
  await waitFor('all gone', () => pids.every((pid) => !alive(pid) || state(pid) === 'Z'))
})

t.test('a parked process that died is replaced by a fresh one', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(httpSpec('d'))
  const [pid] = await ready(driver, 'd', 1)
  await driver.park(NS, 'd')
  process.kill(pid as number, 'SIGKILL')
  await waitFor('dead', () => !alive(pid as number) || state(pid as number) === 'Z')
  await sleep(50)
  await driver.scale(NS, 'd', 1)
  const [fresh] = await ready(driver, 'd', 1)
  t.not(fresh, pid)
})

t.test('maxParkedReplicas evicts the oldest parked process', async (t) => {
  const driver = await makeLocalDriver(t, { maxParkedReplicas: 1 })
  await driver.deploy(httpSpec('a'))
  await driver.deploy(httpSpec('b'))
  const [pa] = await ready(driver, 'a', 1)
  const [pb] = await ready(driver, 'b', 1)
  await driver.park(NS, 'a')
  await driver.park(NS, 'b')
  t.same(driver.replicaInfo(NS, 'a').parkedPids, [], 'a was evicted')
  t.same(driver.replicaInfo(NS, 'b').parkedPids, [pb])
  await waitFor('a stopped', () => !alive(pa as number) || state(pa as number) === 'Z')
  await driver.scale(NS, 'a', 1)
  const [fresh] = await ready(driver, 'a', 1)
  t.not(fresh, pa, 'a starts fresh')
})

t.test('close() stops parked processes without waiting for the SIGKILL grace', async (t) => {
  const driver = await makeLocalDriver(t, { stopGraceMs: 5000 })
  await driver.deploy(httpSpec('c'))
  const [pid] = await ready(driver, 'c', 1)
  await driver.park(NS, 'c')
  const t0 = Date.now()
  await driver.close()
  t.ok(Date.now() - t0 < 3000, `closed in ${Date.now() - t0} ms`)
  t.notOk(alive(pid as number) && state(pid as number) !== 'Z', 'the parked process is gone')
})

t.test('fork mode parks by dropping its slots', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('f', 'cat'))
  await driver.park(NS, 'f')
  t.equal((await driver.status(NS, 'f')).replicas, 0)
  await t.rejects(driver.upstream(NS, 'f'), { code: 'UNAVAILABLE' })
  await driver.scale(NS, 'f', 1)
  t.equal((await driver.upstream(NS, 'f')).kind, 'call')
})
