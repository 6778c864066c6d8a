/*
 * Everything persists in stateDir: deployments (with desired replicas and createdAt), secrets
 * (files 0600 in 0700 dirs) and namespaces come back after close + re-create, processes included.
 * A corrupt state file is an error naming the file.
 */
import t from 'tap'
import { readdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import { createDriver } from '../../../providers/local/index.ts'
import { alive, forkSpec, httpSpec, makeLocalDriver, NS, tempStateDir, testContext } from './helpers.ts'

async function allFiles (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...await allFiles(p))
    else out.push(p)
  }
  return out
}

t.test('close and re-create: everything comes back', async (t) => {
  const stateDir = await tempStateDir(t)
  const first = await createDriver({ stateDir }, testContext())
  let closed = false
  t.teardown(async () => { if (!closed) await first.close() })
  await first.secrets?.create({ name: 'token', namespace: NS, value: Buffer.from('s3cret') })
  await first.namespaces?.create({ name: 'team-a', labels: { openfaas: '1' } })
  await first.deploy({ ...httpSpec('web'), secrets: ['token'] })
  await first.deploy(forkSpec('echo', 'cat'))
  await first.scale(NS, 'web', 2)
  await first.scale(NS, 'echo', 0)
  await eventually(async () => { check((await first.status(NS, 'web')).availableReplicas === 2, 'not ready') })
  const before = await first.status(NS, 'web')
  const pids = (first as unknown as { replicaInfo: (ns: string, n: string) => { pids: number[] } }).replicaInfo(NS, 'web').pids
  await first.close()
  closed = true
  t.ok(pids.every((p) => !alive(p)), 'close stopped every process')

  // modes: secrets 0600 in 0700 directories; no temp files left behind
  const secretFile = join(stateDir, 'secrets', NS, 'token')
  t.equal((await stat(secretFile)).mode & 0o777, 0o600, 'secret file 0600')
  t.equal((await stat(join(stateDir, 'secrets'))).mode & 0o777, 0o700, 'secrets dir 0700')
  t.equal((await stat(join(stateDir, 'mounts', NS, 'web', 'token'))).mode & 0o777, 0o600, 'function secret copy 0600')
  const files = await allFiles(stateDir)
  t.same(files.filter((f) => f.endsWith('.tmp')), [], 'no temp files')
  for (const f of files) t.equal((await stat(f)).mode & 0o077, 0, `${f} is private`)

  const second = await makeLocalDriver(t, { stateDir })
  const after = await second.status(NS, 'web')
  t.equal(after.replicas, 2, 'desired replicas persisted')
  t.equal(after.createdAt, before.createdAt, 'createdAt persisted')
  t.same(after.secrets, ['token'])
  await eventually(async () => { check((await second.status(NS, 'web')).availableReplicas === 2, 'processes not back') })
  t.pass('processes restarted')
  const res = await invokeUpstream(await second.upstream(NS, 'web'), { body: 'again' })
  t.equal(JSON.parse(res.body).body, 'again', 'and they serve')
  t.equal((await second.status(NS, 'echo')).replicas, 0, 'scale 0 persisted')
  t.same(await second.secrets?.list(NS), [{ name: 'token', namespace: NS }], 'secrets persisted')
  t.same(await second.namespaces?.list(), [{ name: 'team-a', labels: { openfaas: '1' } }], 'namespaces persisted')
  t.same((await second.list(NS)).map((f) => f.name), ['echo', 'web'])
})

t.test('remove deletes the state: nothing comes back', async (t) => {
  const stateDir = await tempStateDir(t)
  const first = await createDriver({ stateDir }, testContext())
  await first.deploy(forkSpec('temp', 'cat'))
  await first.remove(NS, 'temp')
  await first.close()
  const second = await makeLocalDriver(t, { stateDir })
  t.same(await second.list(NS), [])
})

t.test('a corrupt state file is an error naming the file', async (t) => {
  const stateDir = await tempStateDir(t)
  const first = await createDriver({ stateDir }, testContext())
  await first.deploy(forkSpec('broken', 'cat'))
  await first.close()
  const file = join(stateDir, 'functions', NS, 'broken.json')
  await writeFile(file, '{"spec": ')
  await t.rejects(createDriver({ stateDir }, testContext()), { message: new RegExp(`state file ${file} is corrupt`) })
  await writeFile(file, '{"spec": {"service": "broken"}, "replicas": 1}')
  await t.rejects(createDriver({ stateDir }, testContext()), { message: new RegExp(`${file} is corrupt: "spec"`) })
  await writeFile(join(stateDir, 'namespaces.json'), 'nope')
  await writeFile(file, '{"spec": {"service": "broken", "namespace": "openfaas-fn", "image": "x"}, "replicas": 1, "createdAt": "2026-01-01T00:00:00Z"}')
  await t.rejects(createDriver({ stateDir }, testContext()), { message: /namespaces\.json is corrupt/ })
})

t.test('stateDir is required', async (t) => {
  await t.rejects(createDriver({}, testContext()), { message: /option "stateDir" is required/ })
  await t.rejects(createDriver({ stateDir: '/tmp/x', secretsMount: 'nfs' }, testContext()), { message: /secretsMount/ })
})
