/*
 * Functions read their secrets at /var/openfaas/secrets/NAME: in a private mount namespace when
 * running as root on Linux, else (or when forced with secretsMount: 'env') in a per-function
 * directory named by env secret_mount_path. Updating a secret refreshes the function's copy.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import { forkSpec, httpSpec, makeLocalDriver, NS } from './helpers.ts'

const canMount = process.platform === 'linux' && process.getuid?.() === 0

t.test('namespace mode: /var/openfaas/secrets/NAME, read-only, refreshed on update', { skip: canMount ? false : 'needs root on Linux' }, async (t) => {
  const driver = await makeLocalDriver(t, { secretsMount: 'namespace' })
  t.equal(driver.secretsMode, 'namespace')
  await driver.secrets.create({ name: 'api-key', namespace: NS, value: Buffer.from('first') })
  await driver.deploy({ ...httpSpec('reader'), secrets: ['api-key'] })
  await driver.deploy({ ...forkSpec('forky', 'cat /var/openfaas/secrets/api-key; echo; echo $secret_mount_path; touch /var/openfaas/secrets/x 2>/dev/null && echo WRITABLE || true'), secrets: ['api-key'] })
  await eventually(async () => { check((await driver.status(NS, 'reader')).availableReplicas === 1, 'not ready') })
  const read = async (): Promise<string> =>
    (await invokeUpstream(await driver.upstream(NS, 'reader'), { method: 'GET', path: '/read', query: 'path=/var/openfaas/secrets/api-key' })).body
  t.equal(await read(), 'first', 'http function reads the secret')
  const env = await invokeUpstream(await driver.upstream(NS, 'reader'), { method: 'GET', path: '/env', query: 'name=secret_mount_path' })
  t.equal(env.body, '/var/openfaas/secrets')
  const fork = await invokeUpstream(await driver.upstream(NS, 'forky'))
  t.equal(fork.body, 'first\n/var/openfaas/secrets\n', 'fork function reads it too, and cannot write')

  await driver.secrets.update({ name: 'api-key', namespace: NS, value: Buffer.from('second') })
  t.equal(await read(), 'second', 'update visible to the running process')
})

t.test('env fallback: secret_mount_path names the per-function directory', async (t) => {
  const driver = await makeLocalDriver(t, { secretsMount: 'env' })
  t.equal(driver.secretsMode, 'env')
  await driver.secrets.create({ name: 'db-pass', namespace: NS, value: Buffer.from('hunter2') })
  await driver.deploy({ ...forkSpec('fb', 'cat "$secret_mount_path/db-pass"'), secrets: ['db-pass'] })
  await driver.deploy({ ...httpSpec('fbh'), secrets: ['db-pass'] })
  const res = await invokeUpstream(await driver.upstream(NS, 'fb'))
  t.equal(res.status, 200)
  t.equal(res.body, 'hunter2')
  await eventually(async () => { check((await driver.status(NS, 'fbh')).availableReplicas === 1, 'not ready') })
  const dir = (await invokeUpstream(await driver.upstream(NS, 'fbh'), { method: 'GET', path: '/env', query: 'name=secret_mount_path' })).body
  t.ok(dir.startsWith(driver.options.stateDir), `a directory under stateDir (${dir})`)
  await driver.secrets.update({ name: 'db-pass', namespace: NS, value: Buffer.from('changed') })
  t.equal((await invokeUpstream(await driver.upstream(NS, 'fbh'), { method: 'GET', path: '/read', query: `path=${dir}/db-pass` })).body, 'changed')
})

t.test('a missing secret is INVALID and changes nothing', async (t) => {
  const driver = await makeLocalDriver(t, { secretsMount: 'env' })
  await t.rejects(driver.deploy({ ...forkSpec('needy', 'cat'), secrets: ['nope'] }),
    { code: 'INVALID', message: 'unable to fetch secrets: secret "nope" not found in namespace "openfaas-fn"' })
  await t.rejects(driver.status(NS, 'needy'), { code: 'NOT_FOUND' })
  await driver.deploy(forkSpec('needy', 'cat'))
  await t.rejects(driver.update({ ...forkSpec('needy', 'cat'), secrets: ['nope'], labels: { changed: '1' } }), { code: 'INVALID' })
  t.same((await driver.status(NS, 'needy')).labels, { faas_function: 'needy' }, 'update refused whole')
  await t.rejects(driver.secrets.create({ name: '../escape', namespace: NS, value: Buffer.from('x') }), { code: 'INVALID' })
})
