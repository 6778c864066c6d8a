/*
 * Regression tests for what `npm run crash-test` found in the local backend:
 *   - http-mode replicas outlived a SIGKILLed provider and ran forever beside the new ones
 *     (now tagged with env FAAS_BRIDGE_OWNER and reaped at start-up);
 *   - temp files of cut-off atomic writes and the secret directories of half-removed functions
 *     stayed in the state directory (now swept at start-up);
 *   - a secret write racing a function remove answered 500 (ENOENT / ENOTEMPTY on the function's
 *     secret directory) after the write was done, and a deploy racing a secret update could keep
 *     the old value (secret refreshes now take the function's lock).
 */
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { createDriver, type LocalDriver } from '../../../providers/local/index.ts'
import { OWNER_ENV, ownedProcesses, ownerTag } from '../../../providers/local/recovery.ts'
import { alive, forkSpec, httpSpec, makeLocalDriver, NS, tempStateDir, testContext } from './helpers.ts'

const pidsOf = (d: LocalDriver, name: string): number[] => d.replicaInfo(NS, name).pids

t.test('replicas a crashed provider left running are stopped when the next one starts', async (t) => {
  const stateDir = await tempStateDir(t)
  // the "crashed" provider: never closed before the next start (as after SIGKILL); its supervisor
  // must not restart what the next start kills (a dead provider restarts nothing)
  const crashed = await createDriver({ stateDir, stopGraceMs: 500, restartBackoffMs: 60_000 }, testContext())
  t.teardown(async () => { await crashed.close() })
  await crashed.deploy(httpSpec('web'))
  await crashed.scale(NS, 'web', 2)
  await eventually(async () => { check((await crashed.status(NS, 'web')).availableReplicas === 2, 'not ready') })
  const orphans = pidsOf(crashed, 'web')
  t.equal(orphans.length, 2)
  const tag = ownerTag(stateDir)
  t.same((await ownedProcesses(tag)).map((p) => p.pid).sort(), [...orphans].sort(), 'each replica carries the owner tag')

  const next = await makeLocalDriver(t, { stateDir })
  t.ok(orphans.every((pid) => !alive(pid)), 'the orphans are gone once the new driver has started')
  await eventually(async () => { check((await next.status(NS, 'web')).availableReplicas === 2, 'not back') })
  const fresh = pidsOf(next, 'web')
  t.equal(fresh.filter((p) => orphans.includes(p)).length, 0, 'new processes serve')
  t.same((await ownedProcesses(tag)).map((p) => p.pid).sort(), [...fresh].sort(), 'only the new replicas run')
})

t.test('processes of another state directory (another provider) are left alone', async (t) => {
  const stateDir = await tempStateDir(t)
  const other = await tempStateDir(t)
  const spawnTagged = (dir: string): ChildProcess => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], {
    detached: true, stdio: 'ignore', env: { PATH: process.env.PATH ?? '', [OWNER_ENV]: ownerTag(dir) }
  })
  const foreign = spawnTagged(other)
  const orphan = spawnTagged(stateDir)
  t.teardown(() => { foreign.kill('SIGKILL'); orphan.kill('SIGKILL') })
  await eventually(async () => { check((await ownedProcesses(ownerTag(stateDir))).length === 1, 'not started') })
  await makeLocalDriver(t, { stateDir })
  t.ok(alive(foreign.pid as number), 'the other directory\'s process still runs')
  await eventually(async () => { check(orphan.exitCode !== null || orphan.signalCode !== null, 'orphan not reaped') })
  t.equal(orphan.signalCode, 'SIGKILL', 'the orphan of this directory was killed')
})

t.test('temp files of cut-off writes and secret dirs of half-removed functions are swept at start-up', async (t) => {
  const stateDir = await tempStateDir(t)
  const first = await createDriver({ stateDir }, testContext())
  await first.secrets.create({ name: 'token', namespace: NS, value: Buffer.from('v1') })
  await first.deploy({ ...forkSpec('keep', 'cat'), secrets: ['token'] })
  await first.close()
  const planted = [
    join(stateDir, 'functions', NS, '.keep.json.0123456789ab.tmp'),
    join(stateDir, 'secrets', NS, '.token.a1b2c3d4e5f6.tmp'),
    join(stateDir, '.namespaces.json.abcdefabcdef.tmp'),
    join(stateDir, 'mounts', NS, 'keep', '.token.0000000000ff.tmp')
  ]
  for (const f of planted) await writeFile(f, 'half')
  await mkdir(join(stateDir, 'mounts', NS, 'gone'), { recursive: true })
  await writeFile(join(stateDir, 'mounts', NS, 'gone', 'token'), 'v1')

  const second = await makeLocalDriver(t, { stateDir })
  for (const f of planted) await t.rejects(readFile(f), { code: 'ENOENT' }, `${f} removed`)
  t.same(await readdir(join(stateDir, 'mounts', NS)), ['keep'], 'the half-removed function\'s secret copies are gone')
  t.equal(await readFile(join(stateDir, 'mounts', NS, 'keep', 'token'), 'utf8'), 'v1', 'the stored function keeps its secret')
  t.equal((await second.status(NS, 'keep')).name, 'keep')
})

t.test('secret writes racing function removes and deploys: no 500, the last value wins', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.secrets.create({ name: 'token', namespace: NS, value: Buffer.from('v0') })
  for (let i = 1; i <= 15; i++) {
    await driver.deploy({ ...forkSpec('reader', 'cat'), secrets: ['token'] })
    const value = `v${i}`
    // remove deletes the function's secret dir while the update rewrites the secret in it
    await Promise.all([
      driver.remove(NS, 'reader'),
      driver.secrets.update({ name: 'token', namespace: NS, value: Buffer.from(`${value}a`) }),
      driver.secrets.update({ name: 'token', namespace: NS, value: Buffer.from(value) })
    ])
    // a deploy that reads the old value while an update lands must still end with the new one
    const latest = `w${i}`
    await Promise.all([
      driver.deploy({ ...forkSpec('reader', 'cat'), secrets: ['token'] }),
      driver.secrets.update({ name: 'token', namespace: NS, value: Buffer.from(latest) })
    ])
    const seen = await readFile(join(driver.options.stateDir, 'mounts', NS, 'reader', 'token'), 'utf8')
    if (seen !== latest) t.fail(`round ${i}: the function reads ${seen}, the secret is ${latest}`)
    await driver.remove(NS, 'reader')
  }
  t.pass('15 rounds without an error')
})
