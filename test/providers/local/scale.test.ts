/*
 * Scaling starts and stops real processes (http mode) or watchdog slots (fork mode); the
 * com.openfaas.scale.min label sets the initial count.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { alive, forkSpec, httpSpec, makeLocalDriver, NS } from './helpers.ts'

t.test('http mode: scale up, down and to zero with real processes', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(httpSpec('procs'))
  await driver.scale(NS, 'procs', 3)
  await eventually(async () => { check((await driver.status(NS, 'procs')).availableReplicas === 3, 'not 3') })
  const pids = driver.replicaInfo(NS, 'procs').pids
  t.equal(pids.length, 3)
  t.ok(pids.every(alive), 'three processes running')

  await driver.scale(NS, 'procs', 1)
  const s = await driver.status(NS, 'procs')
  t.equal(s.replicas, 1)
  t.equal(s.availableReplicas, 1, 'stopping replicas no longer count')
  await eventually(() => { check(pids.filter(alive).length === 1, `${pids.filter(alive).length} alive`) })
  t.pass('two processes stopped')

  await driver.scale(NS, 'procs', 0)
  await eventually(() => { check(pids.filter(alive).length === 0, 'still running') })
  t.same(await driver.status(NS, 'procs').then((x) => [x.replicas, x.availableReplicas]), [0, 0])
  await t.rejects(driver.upstream(NS, 'procs'), { code: 'UNAVAILABLE' })

  await driver.scale(NS, 'procs', 1)
  await eventually(async () => { check((await driver.status(NS, 'procs')).availableReplicas === 1, 'not back') })
  t.pass('scaled from zero')
})

t.test('initial replicas from com.openfaas.scale.min', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy({ ...forkSpec('two', 'cat'), labels: { 'com.openfaas.scale.min': '2' } })
  await driver.deploy({ ...forkSpec('bad', 'cat'), labels: { 'com.openfaas.scale.min': 'lots' } })
  await driver.deploy({ ...forkSpec('zero', 'cat'), labels: { 'com.openfaas.scale.min': '0' } })
  t.equal((await driver.status(NS, 'two')).replicas, 2)
  t.equal((await driver.status(NS, 'bad')).replicas, 1)
  t.equal((await driver.status(NS, 'zero')).replicas, 1)
})

t.test('fork mode: slots, and 503 at zero', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('slots', 'cat'))
  await driver.scale(NS, 'slots', 3)
  t.equal((await driver.status(NS, 'slots')).availableReplicas, 3, 'slots are ready at once')
  t.equal(new Set(driver.replicaInfo(NS, 'slots').instances).size, 3, 'three instance names')
  await driver.scale(NS, 'slots', 0)
  t.equal((await driver.status(NS, 'slots')).availableReplicas, 0)
  await t.rejects(driver.upstream(NS, 'slots'), { code: 'UNAVAILABLE', message: 'No endpoints available for: slots.' })
  await t.rejects(driver.scale(NS, 'slots', -1), { code: 'INVALID' })
})
