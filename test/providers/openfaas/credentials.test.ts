/*
 * Credentials for the remote: the wrong password (or no auth, or a rejected bearer token) gives a
 * 403 that says the remote rejected *our* credentials; basic auth read from a password file or
 * from a secret_mount_path directory (basic-auth-user, basic-auth-password) works.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { api, CREDS, frontFor, remoteFor } from './helpers.ts'

t.test('wrong credentials → 403 with a clear message', async (t) => {
  const remote = await remoteFor(t)
  const wrong = await frontFor(t, remote.url, { auth: { type: 'basic', user: CREDS.user, password: 'not-it' } })
  const res = await api(wrong.url, 'GET', '/system/functions?namespace=edge')
  t.equal(res.status, 403, 'not a 401: the caller\'s own credentials were fine')
  t.match(res.text, /remote OpenFaaS at .* rejected our credentials while listing functions of namespace "edge" \(401: invalid credentials\)/)
  t.match(res.text, /check the basic "auth" option/)
  t.notMatch(res.text, /not-it/, 'the password never appears')

  const none = await frontFor(t, remote.url, { auth: { type: 'none' } })
  const missing = await api(none.url, 'POST', '/system/secrets', { name: 'x', namespace: 'edge', value: 'y' })
  t.equal(missing.status, 403)
  t.match(missing.text, /check the missing "auth" option/)

  const bearer = await frontFor(t, remote.url, { auth: { type: 'bearer', token: 'tok' } })
  t.equal((await api(bearer.url, 'GET', '/system/secrets?namespace=edge')).status, 403, 'a bearer token the remote does not take')
})

t.test('passwordFile and secretMountPath', async (t) => {
  const remote = await remoteFor(t)
  const dir = await mkdtemp(join(tmpdir(), 'fb-openfaas-creds-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'basic-auth-user'), `${CREDS.user}\n`)
  await writeFile(join(dir, 'basic-auth-password'), `  ${CREDS.password}\n`)
  const viaFile = await frontFor(t, remote.url, { auth: { type: 'basic', passwordFile: join(dir, 'basic-auth-password') } })
  t.equal((await api(viaFile.url, 'GET', '/system/functions?namespace=edge')).status, 200, 'password file (trimmed), default user admin')
  const viaMount = await frontFor(t, remote.url, { auth: { type: 'basic', secretMountPath: dir } })
  t.equal((await api(viaMount.url, 'GET', '/system/functions?namespace=edge')).status, 200, 'secret_mount_path style')
})
