/*
 * Remote errors keep their status and message through the front: the remote faas-bridge's 400,
 * 404 and 409 texts reach the caller; other remote codes keep their meaning (422, 429, 501, 503,
 * 500 with the remote's text); a remote 401/403 is our credentials' fault, so 403 (never a 401
 * that would blame the caller's).
 */
import t from 'tap'
import { api, frontFor, httpSpec, remoteFor } from './helpers.ts'
import { fakeRemote } from './fake-remote.ts'

t.test('a real remote\'s 400 / 404 / 409 come through with their messages', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  const bad = await api(front.url, 'POST', '/system/functions', { ...httpSpec('needs-secret'), secrets: ['absent'] })
  t.equal(bad.status, 400, 'the remote refused it: 400')
  t.match(bad.text, /absent/, 'with the remote\'s reason')
  const missing = await api(front.url, 'GET', '/system/function/ghost?namespace=edge')
  t.equal(missing.status, 404)
  t.match(missing.text, /ghost/)
  t.equal((await api(front.url, 'POST', '/system/secrets', { name: 's', namespace: 'edge', value: 'x' })).status, 202)
  const dup = await api(front.url, 'POST', '/system/secrets', { name: 's', namespace: 'edge', value: 'x' })
  t.equal(dup.status, 409)
  t.match(dup.text, /already exists/)
})

t.test('other codes keep their meaning and the remote\'s text', async (t) => {
  const fake = await fakeRemote(t)
  const front = await frontFor(t, fake.url)
  const cases: Array<[number, number, string]> = [
    [500, 500, 'the cluster is on fire'],
    [422, 422, 'unprocessable thing'],
    [429, 429, 'slow down'],
    [501, 501, 'not in this edition'],
    [503, 503, 'try later'],
    [502, 502, 'upstream of the remote broke'],
    [418, 500, 'i am a teapot'],
    [401, 403, 'invalid credentials'],
    [403, 403, 'forbidden by policy']
  ]
  for (const [remoteStatus, want, text] of cases) {
    fake.routes.set('GET /system/functions', { status: remoteStatus, body: `${text}\n` })
    const res = await api(front.url, 'GET', '/system/functions?namespace=edge')
    t.equal(res.status, want, `remote ${remoteStatus} → ${want}`)
    t.match(res.text, text, 'the remote\'s text is kept')
    if (remoteStatus === 401 || remoteStatus === 403) t.match(res.text, /rejected our credentials/, 'says whose credentials')
  }
  fake.routes.set('GET /system/functions', { status: 500, body: '' })
  const empty = await api(front.url, 'GET', '/system/functions?namespace=edge')
  t.equal(empty.status, 500)
  t.match(empty.text, /answered 500 with no message/, 'an empty body still gives a message')
  fake.routes.set('GET /system/functions', { status: 200, body: '<html>not json</html>' })
  const nonsense = await api(front.url, 'GET', '/system/functions?namespace=edge')
  t.equal(nonsense.status, 502, 'a remote answering nonsense is a bad gateway')
  t.match(nonsense.text, /not JSON/)
})
