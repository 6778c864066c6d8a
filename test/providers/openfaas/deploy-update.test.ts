/*
 * Deploy and update through the front, as faas-cli deploy does it: PUT first, 404 for a new
 * function, then POST; a second deploy updates (202) and the new spec shows through the front.
 */
import t from 'tap'
import { api, deployReady, frontFor, httpSpec, remoteFor } from './helpers.ts'

t.test('faas-cli deploy: PUT → 404 → POST, then update', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  const spec = httpSpec('figlet')

  const put = await api(front.url, 'PUT', '/system/functions', spec)
  t.equal(put.status, 404, 'PUT of a new function is 404, so faas-cli falls back to POST')
  t.match(put.text, /figlet/, 'the message names the function')
  await deployReady(front, spec)

  const status = JSON.parse((await api(front.url, 'GET', '/system/function/figlet?namespace=edge')).text)
  t.equal(status.name, 'figlet')
  t.equal(status.namespace, 'edge', 'the status carries the local namespace')
  t.equal(status.image, spec.image)
  t.equal(status.replicas, 1)
  t.equal(status.availableReplicas, 1)

  const again = await api(front.url, 'POST', '/system/functions', spec)
  t.equal(again.status, 409, 'a second POST is a conflict, as the remote says')

  const updated = await api(front.url, 'PUT', '/system/functions', { ...spec, image: 'example/http-function:2', labels: { version: '2' } })
  t.equal(updated.status, 202, 'update accepted')
  const after = JSON.parse((await api(front.url, 'GET', '/system/function/figlet?namespace=edge')).text)
  t.equal(after.image, 'example/http-function:2', 'new image visible')
  t.equal(after.labels.version, '2', 'new labels visible')

  const list = JSON.parse((await api(front.url, 'GET', '/system/functions?namespace=edge')).text) as Array<{ name: string, namespace: string }>
  t.same(list.map((f) => [f.name, f.namespace]), [['figlet', 'edge']], 'list through the front')
})
