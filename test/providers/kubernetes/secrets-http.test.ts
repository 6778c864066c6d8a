/*
 * /system/secrets over the kubernetes backend: Opaque Secrets labelled managed-by faas-bridge,
 * data key = secret name; create 202 / 409, update 202 / 404, delete 202 / 404; list shows only
 * managed Secrets and never values; rawValue wins over value; a function names a missing one → 400.
 */
import t from 'tap'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('secrets CRUD', async (t) => {
  const { url, fake } = await kubeApp(t)
  fake.store.create('secrets', 'secrets', { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: 'someone-elses', namespace: NS }, data: { x: 'eA==' } })
  t.same((await api(url, 'GET', '/system/secrets')).json(), [], 'unmanaged Secrets are not listed')

  t.equal((await api(url, 'POST', '/system/secrets', { name: 'db', value: 'hunter2' })).status, 202, 'create 202')
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'db', value: 'again' })).status, 409, 'create again 409')
  const stored = fake.store.get('secrets', NS, 'db')
  t.equal(stored?.type, 'Opaque')
  t.equal(stored?.metadata.labels?.['app.kubernetes.io/managed-by'], 'faas-bridge')
  t.same(stored?.data, { db: Buffer.from('hunter2').toString('base64') }, 'data key = secret name')

  const list = await api(url, 'GET', '/system/secrets')
  t.same(list.json(), [{ name: 'db', namespace: NS }])
  t.notMatch(list.text, /hunter2|aHVudGVyMg/, 'no value in the list')

  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'db', rawValue: Buffer.from([0, 1, 2]).toString('base64'), value: 'ignored' })).status, 202, 'update 202')
  t.same(fake.store.get('secrets', NS, 'db')?.data, { db: 'AAEC' }, 'rawValue wins')
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'missing', value: 'x' })).status, 404, 'update unknown 404')
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'someone-elses', value: 'x' })).status, 404, 'update of an unmanaged Secret 404')
  t.equal(fake.store.get('secrets', NS, 'someone-elses')?.data?.x, 'eA==', 'which is untouched')

  t.equal((await api(url, 'POST', '/system/functions', figlet('uses', { secrets: ['nope'] }))).status, 400, 'missing secret → 400')
  t.equal((await api(url, 'POST', '/system/functions', figlet('uses', { secrets: ['db'] }))).status, 202)
  t.same((await api(url, 'GET', '/system/function/uses')).json().secrets, ['db'])

  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'db' })).status, 202, 'delete 202')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'db' })).status, 404, 'delete again 404')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'someone-elses' })).status, 404, 'delete of an unmanaged Secret 404')
  t.same((await api(url, 'GET', '/system/secrets')).json(), [])

  t.equal((await api(url, 'POST', '/system/secrets', { name: 'st', value: 'v', namespace: 'staging-fn' })).status, 202)
  t.same((await api(url, 'GET', '/system/secrets?namespace=staging-fn')).json(), [{ name: 'st', namespace: 'staging-fn' }], 'per namespace')
})
