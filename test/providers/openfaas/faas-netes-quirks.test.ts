/*
 * A remote shaped like faas-netes and the gateway (a scripted fake): what goes out (namespace in
 * query and body, trailing slash, credentials) and the quirks that are smoothed over: `null`
 * lists, omitted zero replicas, empty 404 bodies, 500 "already exists" for a duplicate deploy, 500
 * for scaling an unknown function, and the gateway's 501 on /system/logs for an unknown function.
 */
import t from 'tap'
import { api, BASIC, CREDS, frontFor, httpSpec } from './helpers.ts'
import { fakeRemote } from './fake-remote.ts'

const basic = `Basic ${Buffer.from(`${CREDS.user}:${CREDS.password}`).toString('base64')}`

t.test('requests as faas-cli and the gateway send them', async (t) => {
  const fake = await fakeRemote(t)
  // a path prefix and no trailing slash: normalised to ".../openfaas/"
  const front = await frontFor(t, `${fake.url}/openfaas`, { auth: BASIC })
  fake.routes.set('GET /openfaas/system/functions', { status: 200, body: 'null', contentType: 'application/json' })
  fake.routes.set('DELETE /openfaas/system/functions', { status: 202 })
  fake.routes.set('POST /openfaas/system/scale-function/fn', { status: 202 })
  fake.routes.set('GET /openfaas/system/function/fn', {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({ name: 'fn', image: 'img', namespace: 'openfaas-fn', labels: { faas_function: 'fn' }, extra: 'dropped', createdAt: '2026-01-02T10:11:12Z' })
  })

  const list = await api(front.url, 'GET', '/system/functions?namespace=edge')
  t.equal(list.text, '[]', 'a Go nil list (null) is []')
  t.match(fake.requests.at(-1), { url: '/openfaas/system/functions?namespace=openfaas-fn', headers: { authorization: basic } })

  const s = JSON.parse((await api(front.url, 'GET', '/system/function/fn?namespace=edge')).text)
  t.same(s, { name: 'fn', image: 'img', namespace: 'edge', labels: { faas_function: 'fn' }, replicas: 0, availableReplicas: 0, createdAt: '2026-01-02T10:11:12Z' },
    'omitted counts are 0, unknown keys dropped, local namespace')

  t.equal((await api(front.url, 'DELETE', '/system/functions', { functionName: 'fn', namespace: 'edge' })).status, 202)
  const del = fake.requests.at(-1)
  t.equal(del?.url, '/openfaas/system/functions?namespace=openfaas-fn', 'delete: namespace in the query (faas-netes)')
  t.same(JSON.parse(del?.body ?? ''), { functionName: 'fn', namespace: 'openfaas-fn' }, 'and in the body (faasd)')

  t.equal((await api(front.url, 'POST', '/system/scale-function/fn?namespace=edge', { replicas: 3 })).status, 202)
  const scale = fake.requests.at(-1)
  t.equal(scale?.url, '/openfaas/system/scale-function/fn?namespace=openfaas-fn', 'scale: namespace in the query (gateway, faas-netes)')
  t.same(JSON.parse(scale?.body ?? ''), { serviceName: 'fn', replicas: 3, namespace: 'openfaas-fn' }, 'and in the body (faasd)')

  const up = await front.driver.upstream('edge', 'fn').catch((err: unknown) => err)
  t.match(up, { code: 'UNAVAILABLE' }, 'no available replica → unavailable')
  fake.routes.set('GET /openfaas/system/function/fn', { status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'fn', image: 'i', replicas: 1, availableReplicas: 1 }) })
  const ready = await front.driver.upstream('edge', 'fn')
  t.equal(ready.kind === 'http' ? ready.url.href : '', `${fake.url}/openfaas/function/fn.openfaas-fn`, 'invocations go to /function/NAME.REMOTE_NS (+ "/")')
})

t.test('faas-netes quirks', async (t) => {
  const fake = await fakeRemote(t)
  const front = await frontFor(t, fake.url)
  fake.routes.set('POST /system/functions', { status: 500, body: 'deployments.apps "dup" already exists\n' })
  const dup = await api(front.url, 'POST', '/system/functions', httpSpec('dup'))
  t.equal(dup.status, 409, 'faas-netes\' 500 "already exists" → 409')
  t.match(dup.text, /already exists/)

  fake.routes.set('GET /system/function/gone', { status: 404, body: '' })
  const gone = await api(front.url, 'GET', '/system/function/gone?namespace=edge')
  t.equal(gone.status, 404, 'empty 404')
  t.match(gone.text, /function "gone" not found in namespace "edge"/, 'gets our own message, with the local namespace')

  fake.routes.set('POST /system/scale-function/gone', { status: 500, body: 'Unable to lookup function deployment gone\n' })
  t.equal((await api(front.url, 'POST', '/system/scale-function/gone?namespace=edge', { replicas: 1 })).status, 404,
    'scale of an unknown function: faas-netes\' 500 → 404')
  fake.routes.set('GET /system/function/there', { status: 200, contentType: 'application/json', body: '{"name":"there","image":"i","replicas":1}' })
  fake.routes.set('POST /system/scale-function/there', { status: 500, body: 'Unable to update function deployment there\n' })
  const failed = await api(front.url, 'POST', '/system/scale-function/there?namespace=edge', { replicas: 1 })
  t.equal(failed.status, 500, 'a real scale failure stays a 500')
  t.match(failed.text, /Unable to update/)

  fake.routes.set('GET /system/logs', { status: 501, body: '' })
  t.equal((await api(front.url, 'GET', '/system/logs?name=gone&namespace=edge')).status, 404, 'gateway 501 for an unknown function → 404')
  const noLogs = await api(front.url, 'GET', '/system/logs?name=there&namespace=edge')
  t.equal(noLogs.status, 501, 'gateway 501 for a known function: the remote has no logs')
  t.match(noLogs.text, /serves no logs/)
  fake.routes.set('GET /system/logs', {
    status: 200,
    contentType: 'application/x-ndjson',
    body: '{"name":"there","namespace":"","instance":"there-1","timestamp":"2026-01-02T10:11:12.5Z","text":"hello\\n"}\nnot json\n\n{"name":"there","instance":"there-1","timestamp":"2026-01-02T10:11:13Z","text":"bye"}'
  })
  const logs = (await api(front.url, 'GET', '/system/logs?name=there&namespace=edge')).text.trim().split('\n').map((l) => JSON.parse(l))
  t.same(logs, [
    { name: 'there', namespace: 'edge', instance: 'there-1', timestamp: '2026-01-02T10:11:12.5Z', text: 'hello\n' },
    { name: 'there', namespace: 'edge', instance: 'there-1', timestamp: '2026-01-02T10:11:13Z', text: 'bye' }
  ], 'faas-netes\' empty namespace becomes the local one; junk lines skipped; last line without newline kept')
})

t.test('faas_function: NAME in list and status whether or not the remote reports it, never twice', async (t) => {
  const fake = await fakeRemote(t)
  const front = await frontFor(t, fake.url, { auth: BASIC })
  // faasd and older providers report only the deployed labels; faas-netes adds faas_function
  fake.routes.set('GET /system/functions', {
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify([
      { name: 'plain', image: 'img', labels: { team: 'a' } },
      { name: 'netes', image: 'img', labels: { faas_function: 'netes', team: 'b' } },
      { name: 'bare', image: 'img' }
    ])
  })
  fake.routes.set('GET /system/function/plain', { status: 200, contentType: 'application/json', body: JSON.stringify({ name: 'plain', image: 'img', labels: { team: 'a' } }) })
  const list = JSON.parse((await api(front.url, 'GET', '/system/functions?namespace=edge')).text) as Array<{ name: string, labels: Record<string, string> }>
  t.same(list.map((f) => [f.name, f.labels]), [
    ['plain', { team: 'a', faas_function: 'plain' }],
    ['netes', { faas_function: 'netes', team: 'b' }],
    ['bare', { faas_function: 'bare' }]
  ])
  const s = JSON.parse((await api(front.url, 'GET', '/system/function/plain?namespace=edge')).text) as { labels: Record<string, string> }
  t.same(s.labels, { team: 'a', faas_function: 'plain' })
})
