/*
 * DELETE /system/functions through the front, with the namespace in the body as faas-cli sends
 * it: the remote function is gone, a second delete is 404 ("No existing function to remove").
 */
import t from 'tap'
import { api, deployReady, frontFor, httpSpec, remoteApi, remoteFor } from './helpers.ts'

t.test('delete', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  await deployReady(front, httpSpec('doomed'))

  t.equal((await api(front.url, 'DELETE', '/system/functions', { functionName: 'doomed', namespace: 'edge' })).status, 202, 'deleted')
  t.equal((await remoteApi(remote, 'GET', '/system/function/doomed?namespace=openfaas-fn')).status, 404, 'gone on the remote')
  t.equal((await api(front.url, 'GET', '/system/function/doomed?namespace=edge')).status, 404, 'gone through the front')
  const again = await api(front.url, 'DELETE', '/system/functions', { functionName: 'doomed', namespace: 'edge' })
  t.equal(again.status, 404, 'second delete → 404')
  t.match(again.text, /doomed/, 'naming the function')
  t.same(JSON.parse((await api(front.url, 'GET', '/system/functions?namespace=edge')).text), [], 'list is [] again')
  t.equal((await api(front.url, 'POST', '/function/doomed.edge', 'x')).status, 503, 'no longer invocable')
})
