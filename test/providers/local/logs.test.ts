/*
 * Function logs: filters (instance, since, tail), follow until the signal aborts, the ring
 * buffer's bound, NOT_FOUND for an unknown function.
 */
import t from 'tap'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import type { LogQuery } from '../../../src/core/driver.ts'
import type { LogMessage } from '../../../src/core/types.ts'
import type { LocalDriver } from '../../../providers/local/index.ts'
import { forkSpec, makeLocalDriver, NS } from './helpers.ts'

async function read (driver: LocalDriver, q: Partial<LogQuery>): Promise<LogMessage[]> {
  const out: LogMessage[] = []
  for await (const m of await driver.logs({ name: 'echo', namespace: NS, follow: false, ...q }, AbortSignal.timeout(3000))) out.push(m)
  return out
}

t.test('filters: instance, since, tail', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy({ ...forkSpec('echo', 'cat'), labels: { 'com.openfaas.scale.min': '2' } })
  const [a, b] = driver.replicaInfo(NS, 'echo').instances
  for (let i = 0; i < 4; i++) await invokeUpstream(await driver.upstream(NS, 'echo'), { body: 'x' })
  const all = await read(driver, {})
  t.equal(all.length, 8, 'two lines per call')
  t.ok(all.every((m) => m.name === 'echo' && m.namespace === NS), 'name and namespace on every line')
  t.same(new Set(all.map((m) => m.instance)), new Set([a, b]), 'calls rotate over the slots')
  const onlyA = await read(driver, { instance: a })
  t.equal(onlyA.length, 4)
  t.ok(onlyA.every((m) => m.instance === a))
  t.equal((await read(driver, { tail: 3 })).length, 3, 'tail')
  t.same(await read(driver, { tail: 3 }), all.slice(-3), 'tail keeps the last lines')
  t.equal((await read(driver, { tail: -1 })).length, 8, 'tail <= 0 means all')
  const cut = new Date(Date.parse((all[4] as LogMessage).timestamp))
  const later = await read(driver, { since: cut })
  t.ok(later.length >= 4 && later.every((m) => Date.parse(m.timestamp) >= cut.getTime()), 'since')
  t.equal((await read(driver, { since: new Date(Date.now() + 60_000) })).length, 0, 'since in the future')
})

t.test('follow yields the backlog, then new lines, until aborted', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('echo', 'cat'))
  await invokeUpstream(await driver.upstream(NS, 'echo'), { body: 'x' })
  const ac = new AbortController()
  const got: LogMessage[] = []
  const following = (async () => {
    for await (const m of await driver.logs({ name: 'echo', namespace: NS, follow: true }, ac.signal)) {
      got.push(m)
      if (got.length === 4) ac.abort()
    }
  })()
  await invokeUpstream(await driver.upstream(NS, 'echo'), { body: 'y' })
  const timer = setTimeout(() => { ac.abort() }, 3000)
  await following
  clearTimeout(timer)
  t.equal(got.length, 4, 'two backlog lines and two new ones')
  t.equal(got[2]?.text, 'Forking fprocess.')
})

t.test('follow ends when the function is removed', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('echo', 'cat'))
  const done = (async () => {
    const out: LogMessage[] = []
    for await (const m of await driver.logs({ name: 'echo', namespace: NS, follow: true }, AbortSignal.timeout(5000))) out.push(m)
    return out
  })()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = Date.now()
  await driver.remove(NS, 'echo')
  await done
  t.ok(Date.now() - started < 2000, 'ended promptly')
})

t.test('the buffer is bounded', async (t) => {
  const driver = await makeLocalDriver(t, { logMaxLines: 5 })
  await driver.deploy(forkSpec('echo', 'cat'))
  for (let i = 0; i < 5; i++) await invokeUpstream(await driver.upstream(NS, 'echo'), { body: 'x' })
  const all = await read(driver, {})
  t.equal(all.length, 5, 'only the newest lines kept')
  t.match(all[4]?.text, /^Wrote 1 Bytes/)
})

t.test('unknown function → NOT_FOUND', async (t) => {
  const driver = await makeLocalDriver(t)
  await t.rejects(read(driver, { name: 'ghost' }), { code: 'NOT_FOUND' })
})
