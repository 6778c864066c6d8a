/*
 * The NamespaceStore: namespaces created at run time, persisted; CONFLICT, NOT_FOUND, and
 * INVALID while a namespace still holds functions.
 */
import t from 'tap'
import { forkSpec, makeLocalDriver, NS, tempStateDir } from './helpers.ts'

t.test('create, get, list, update, remove', async (t) => {
  const stateDir = await tempStateDir(t)
  const driver = await makeLocalDriver(t, { stateDir })
  const store = driver.namespaces
  t.same(await store.list(), [], 'configured namespaces are not listed')
  await t.rejects(store.create({ name: NS }), { code: 'CONFLICT' }, 'a configured namespace exists already')
  await store.create({ name: 'dev', labels: { openfaas: '1' } })
  await t.rejects(store.create({ name: 'dev' }), { code: 'CONFLICT' })
  t.same(await store.get('dev'), { name: 'dev', labels: { openfaas: '1' } })
  await t.rejects(store.get('nope'), { code: 'NOT_FOUND' })
  await store.update({ name: 'dev', labels: { openfaas: '1' }, annotations: { owner: 'me' } })
  t.same(await store.list(), [{ name: 'dev', labels: { openfaas: '1' }, annotations: { owner: 'me' } }])
  await t.rejects(store.update({ name: 'nope' }), { code: 'NOT_FOUND' })

  await driver.deploy({ ...forkSpec('f', 'cat'), namespace: 'dev' })
  await t.rejects(store.remove('dev'), { code: 'INVALID' }, 'still holds functions')
  await driver.remove('dev', 'f')
  await store.remove('dev')
  await t.rejects(store.remove('dev'), { code: 'NOT_FOUND' })
  await t.rejects(store.remove('ghost'), { code: 'NOT_FOUND' })
  t.same(await store.list(), [])
})

t.test('namespaces persist', async (t) => {
  const stateDir = await tempStateDir(t)
  const first = await makeLocalDriver(t, { stateDir })
  await first.namespaces.create({ name: 'kept' })
  await first.close()
  const second = await makeLocalDriver(t, { stateDir })
  t.same(await second.namespaces.list(), [{ name: 'kept' }])
})
