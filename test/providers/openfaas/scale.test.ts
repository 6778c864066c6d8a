/*
 * Scale through the front, with the namespace in the query (the gateway) and in the body
 * (faas-cli): the remote's replica counts are reported as they are; at 0 invocations are 503,
 * scaled back up they work again. An unknown function is 404.
 */
import t from 'tap'
import { api, deployReady, frontFor, httpSpec, remoteApi, remoteFor, waitAvailable } from './helpers.ts'

t.test('scale to 0 and back', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  await deployReady(front, httpSpec('elastic'))

  const two = await api(front.url, 'POST', '/system/scale-function/elastic?namespace=edge', { serviceName: 'elastic', replicas: 2 })
  t.equal(two.status, 202, 'scale via query namespace (the gateway\'s way)')
  await waitAvailable(front, 'elastic', 'edge', 2)
  const remoteStatus = JSON.parse((await remoteApi(remote, 'GET', '/system/function/elastic?namespace=openfaas-fn')).text)
  t.equal(remoteStatus.replicas, 2, 'the remote has 2')

  t.equal((await api(front.url, 'POST', '/system/scale-function/elastic', { serviceName: 'elastic', replicas: 0, namespace: 'edge' })).status, 202,
    'scale via body namespace (faas-cli\'s way)')
  await waitAvailable(front, 'elastic', 'edge', 0)
  const zero = JSON.parse((await api(front.url, 'GET', '/system/function/elastic?namespace=edge')).text)
  t.equal(zero.replicas ?? 0, 0, '0 desired as the remote reports')
  t.equal(zero.availableReplicas ?? 0, 0, '0 available as the remote reports')
  const off = await api(front.url, 'POST', '/function/elastic.edge', 'x')
  t.equal(off.status, 503, 'no replica → 503, so a gateway in front scales it up')

  t.equal((await api(front.url, 'POST', '/system/scale-function/elastic?namespace=edge', { replicas: 1 })).status, 202)
  await waitAvailable(front, 'elastic', 'edge', 1)
  t.equal((await api(front.url, 'POST', '/function/elastic.edge', 'x')).status, 200, 'invocable again')

  const unknown = await api(front.url, 'POST', '/system/scale-function/nope?namespace=edge', { replicas: 1 })
  t.equal(unknown.status, 404, 'unknown function → 404')
})
