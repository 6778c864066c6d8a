/*
 * /system/secrets over Secret Manager: create = a labelled secret + its first version (409 when it
 * exists), update = a new version (404 when missing), list = names only, delete = the secret.
 */
import t from 'tap'
import { appSetup, NS, PROJECT } from './helpers.ts'

t.test('secrets CRUD through the HTTP API', async (t) => {
  const s = await appSetup(t, { namespaces: ['gcp', 'gcp-dev'], driverOptions: { namespaces: { 'gcp-dev': { servicePrefix: 'dev-' } } } })
  s.fake.secrets.maxPageSize = 1
  let res = await s.call('/system/secrets')
  t.equal(res.status, 200)
  t.same(await res.json(), [])

  t.equal((await s.call('/system/secrets', { method: 'POST', json: { name: 'db.password', value: 'v1' } })).status, 202)
  t.equal((await s.call('/system/secrets', { method: 'POST', json: { name: 'api-key', rawValue: Buffer.from([0, 1, 2]).toString('base64') } })).status, 202)
  t.equal((await s.call('/system/secrets', { method: 'POST', json: { name: 'other', value: 'x', namespace: 'gcp-dev' } })).status, 202)
  const id = `openfaas_${NS}_db_password`
  const stored = s.fake.secrets.secrets.get(`projects/${PROJECT}/secrets/${id}`)
  t.ok(stored, 'secret id PREFIX_NAMESPACE_NAME with "." → "_"')
  t.same(stored?.labels, { 'managed-by': 'faas-bridge', 'openfaas-namespace': NS })
  t.equal(s.fake.secrets.value(id), 'v1', 'the value is a version')
  t.same([...(s.fake.secrets.secrets.get(`projects/${PROJECT}/secrets/openfaas_${NS}_api-key`)?.versions[0] ?? [])], [0, 1, 2], 'rawValue bytes kept')

  res = await s.call('/system/secrets', { method: 'POST', json: { name: 'db.password', value: 'again' } })
  t.equal(res.status, 409, 'exists → 409')

  res = await s.call('/system/secrets')
  const listed = await res.json()
  t.same(listed, [{ name: 'api-key', namespace: NS }, { name: 'db.password', namespace: NS }], 'names only, this namespace only, across pages')
  t.notMatch(JSON.stringify(listed), /v1/)

  t.equal((await s.call('/system/secrets', { method: 'PUT', json: { name: 'db.password', value: 'v2' } })).status, 202)
  t.equal(s.fake.secrets.versions(id), 2, 'update adds a version')
  t.equal(s.fake.secrets.value(id), 'v2')
  t.equal((await s.call('/system/secrets', { method: 'PUT', json: { name: 'nope', value: 'x' } })).status, 404, 'update of a missing secret')

  t.equal((await s.call('/system/secrets', { method: 'DELETE', json: { name: 'db.password' } })).status, 202)
  t.equal(s.fake.secrets.value(id), undefined, 'deleted')
  t.equal((await s.call('/system/secrets', { method: 'DELETE', json: { name: 'db.password' } })).status, 404, 'second delete')
  t.same(await (await s.call('/system/secrets?namespace=gcp-dev')).json(), [{ name: 'other', namespace: 'gcp-dev' }])
})

t.test('a Secret Manager secret faas-bridge did not create is 404 for update and delete, unlisted and untouched', async (t) => {
  const s = await appSetup(t)
  const path = `projects/${PROJECT}/secrets/openfaas_${NS}_foreign`
  // the id the backend would use, labelled by another tool (no managed-by=faas-bridge)
  s.fake.secrets.secrets.set(path, { name: path, labels: { owner: 'terraform' }, createTime: new Date().toISOString(), versions: [Buffer.from('theirs')] })
  const put = await s.call('/system/secrets', { method: 'PUT', json: { name: 'foreign', value: 'mine' } })
  t.equal(put.status, 404)
  t.notMatch(await put.text(), /theirs|mine/, 'no value in the message')
  t.equal((await s.call('/system/secrets', { method: 'DELETE', json: { name: 'foreign' } })).status, 404)
  t.same(await (await s.call('/system/secrets')).json(), [], 'not listed')
  t.same(s.fake.secrets.secrets.get(path)?.versions.map((v) => v.toString('utf8')), ['theirs'], 'no version added, not deleted')
})
