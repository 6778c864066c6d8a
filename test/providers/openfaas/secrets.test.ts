/*
 * /system/secrets through the front: create (409 when it exists), list (names only, local
 * namespace), update (404 when missing), delete; the remote stores them in its own namespace,
 * and a binary rawValue reaches the function byte for byte.
 */
import t from 'tap'
import { api, BASIC, deployReady, frontFor, httpSpec, remoteApi, remoteFor } from './helpers.ts'
import { fakeRemote } from './fake-remote.ts'

t.test('secrets are the remote namespace\'s', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13, 0x80])

  t.equal((await api(front.url, 'POST', '/system/secrets', { name: 'api-key', namespace: 'edge', value: 'v1' })).status, 202, 'create')
  const dup = await api(front.url, 'POST', '/system/secrets', { name: 'api-key', namespace: 'edge', value: 'v1' })
  t.equal(dup.status, 409, 'duplicate → 409')
  t.match(dup.text, /api-key/, 'with the remote\'s message')
  t.equal((await api(front.url, 'POST', '/system/secrets', { name: 'blob', namespace: 'edge', rawValue: binary.toString('base64') })).status, 202)

  const listed = JSON.parse((await api(front.url, 'GET', '/system/secrets?namespace=edge')).text)
  t.same(listed, [{ name: 'api-key', namespace: 'edge' }, { name: 'blob', namespace: 'edge' }], 'names only, local namespace')
  const onRemote = JSON.parse((await remoteApi(remote, 'GET', '/system/secrets?namespace=openfaas-fn')).text)
  t.same(onRemote.map((s: { name: string }) => s.name), ['api-key', 'blob'], 'stored in the remote openfaas-fn')

  const upd = await api(front.url, 'PUT', '/system/secrets', { name: 'api-key', namespace: 'edge', value: 'v2' })
  t.equal(upd.status, 202, 'update')
  const missing = await api(front.url, 'PUT', '/system/secrets', { name: 'nope', namespace: 'edge', value: 'x' })
  t.equal(missing.status, 404, 'update of a missing secret → 404')

  await deployReady(front, { ...httpSpec('reader'), secrets: ['api-key', 'blob'] })
  const dir = await api(front.url, 'GET', '/function/reader.edge/env?name=secret_mount_path')
  t.equal(dir.status, 200, 'the function knows where its secrets are')
  const value = await api(front.url, 'GET', `/function/reader.edge/read?path=${encodeURIComponent(`${dir.text}/api-key`)}`)
  t.equal(value.text, 'v2', 'the updated value reached the function')
  const raw = await fetch(`${front.url}/function/reader.edge/read?path=${encodeURIComponent(`${dir.text}/blob`)}`)
  t.ok(Buffer.from(await raw.arrayBuffer()).equals(binary), 'binary rawValue byte for byte')

  t.equal((await api(front.url, 'DELETE', '/system/secrets', { name: 'blob', namespace: 'edge' })).status, 202, 'delete')
  t.equal((await api(front.url, 'DELETE', '/system/secrets', { name: 'blob', namespace: 'edge' })).status, 404, 'delete again → 404')
  const after = JSON.parse((await api(front.url, 'GET', '/system/secrets?namespace=edge')).text)
  t.same(after, [{ name: 'api-key', namespace: 'edge' }])
})

t.test('a secret the remote does not list as its own is 404 for update and delete, and nothing is sent', async (t) => {
  // faas-netes lists only Secrets labelled managed-by=openfaas, but its PUT and DELETE would act on
  // any Secret of the namespace: the remote's list is what says which secrets are the provider's
  const fake = await fakeRemote(t)
  const front = await frontFor(t, fake.url, { auth: BASIC })
  fake.routes.set('GET /system/secrets', { status: 200, contentType: 'application/json', body: JSON.stringify([{ name: 'ours', namespace: 'openfaas-fn' }]) })
  fake.routes.set('PUT /system/secrets', { status: 202 })
  fake.routes.set('DELETE /system/secrets', { status: 202 })
  const writes = (): string[] => fake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${JSON.parse(r.body).name as string}`)

  t.equal((await api(front.url, 'PUT', '/system/secrets', { name: 'theirs', namespace: 'edge', value: 'x' })).status, 404, 'update → 404')
  t.equal((await api(front.url, 'DELETE', '/system/secrets', { name: 'theirs', namespace: 'edge' })).status, 404, 'delete → 404')
  t.same(writes(), [], 'neither was sent to the remote')
  t.equal((await api(front.url, 'PUT', '/system/secrets', { name: 'ours', namespace: 'edge', value: 'x' })).status, 202)
  t.equal((await api(front.url, 'DELETE', '/system/secrets', { name: 'ours', namespace: 'edge' })).status, 202)
  t.same(writes(), ['PUT ours', 'DELETE ours'], 'a listed secret goes through')
})
