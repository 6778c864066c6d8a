/*
 * A crashed http-mode replica is restarted with exponential backoff and counts as unavailable
 * (upstream → 503) until the new process listens again.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import type { LogMessage } from '../../../src/core/types.ts'
import { alive, httpSpec, makeLocalDriver, NS } from './helpers.ts'

t.test('crash → unavailable during backoff → restarted', async (t) => {
  const driver = await makeLocalDriver(t, { restartBackoffMs: 400, restartBackoffMaxMs: 1600 })
  await driver.deploy(httpSpec('crashy'))
  await eventually(async () => { check((await driver.status(NS, 'crashy')).availableReplicas === 1, 'not ready') })
  const [firstPid] = driver.replicaInfo(NS, 'crashy').pids
  const instance = driver.replicaInfo(NS, 'crashy').instances[0]
  await invokeUpstream(await driver.upstream(NS, 'crashy'), { method: 'POST', path: '/crash' })
  await eventually(async () => { check((await driver.status(NS, 'crashy')).availableReplicas === 0, 'still available') }, { timeoutMs: 2000 })
  await t.rejects(driver.upstream(NS, 'crashy'), { code: 'UNAVAILABLE' }, 'unavailable meanwhile')
  t.equal((await driver.status(NS, 'crashy')).replicas, 1, 'desired stays 1')
  const crashedAt = Date.now()
  await eventually(async () => { check((await driver.status(NS, 'crashy')).availableReplicas === 1, 'not back') }, { timeoutMs: 5000 })
  t.ok(Date.now() - crashedAt >= 250, 'waited for the backoff before restarting')
  const [secondPid] = driver.replicaInfo(NS, 'crashy').pids
  t.not(secondPid, firstPid, 'a new process')
  t.notOk(alive(firstPid as number), 'the old one is gone')
  t.equal(driver.replicaInfo(NS, 'crashy').instances[0], instance, 'same instance name across restarts')
  const lines: LogMessage[] = []
  for await (const m of await driver.logs({ name: 'crashy', namespace: NS, follow: false }, AbortSignal.timeout(2000))) lines.push(m)
  t.ok(lines.some((l) => /process exited \(code 3\); restarting/.test(l.text)), 'the crash is logged')
})

t.test('the backoff doubles for a process that keeps crashing', async (t) => {
  const driver = await makeLocalDriver(t, { restartBackoffMs: 100, restartBackoffMaxMs: 10_000 })
  // listens, then exits 100 ms later: crashes over and over
  await driver.deploy(httpSpec('flappy', { EXIT_AFTER_MS: '100' }))
  const starts: number[] = []
  await eventually(async () => {
    const lines: LogMessage[] = []
    for await (const m of await driver.logs({ name: 'flappy', namespace: NS, follow: false }, AbortSignal.timeout(2000))) lines.push(m)
    const found = lines.filter((l) => l.text.startsWith('listening on')).map((l) => Date.parse(l.timestamp))
    check(found.length >= 4, `${found.length} starts so far`)
    starts.push(...found)
  }, { timeoutMs: 8000, intervalMs: 100 })
  const gaps = starts.slice(1).map((s, i) => s - (starts[i] as number))
  t.ok((gaps[2] as number) > (gaps[0] as number) + 150, `gaps grow: ${gaps.join(', ')} ms`)
})
