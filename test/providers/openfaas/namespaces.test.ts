/*
 * Namespace rewriting: the front's `edge` is the remote's `openfaas-fn`, `staging-fn` is the
 * remote's `staging-fn`. What the front deploys in edge lands in openfaas-fn on the remote, and
 * the remote's functions come back with the local namespace; namespaces do not leak into each other.
 */
import t from 'tap'
import { api, deployReady, frontFor, httpSpec, remoteApi, remoteFor } from './helpers.ts'

t.test('edge → openfaas-fn, staging-fn → staging-fn', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  await deployReady(front, httpSpec('at-edge', 'edge'))
  await deployReady(front, httpSpec('at-staging', 'staging-fn'))

  const onRemote = JSON.parse((await remoteApi(remote, 'GET', '/system/functions?namespace=openfaas-fn')).text) as Array<{ name: string, namespace: string }>
  t.same(onRemote.map((f) => [f.name, f.namespace]), [['at-edge', 'openfaas-fn']], 'edge lands in the remote openfaas-fn')
  const stagingRemote = JSON.parse((await remoteApi(remote, 'GET', '/system/functions?namespace=staging-fn')).text) as Array<{ name: string }>
  t.same(stagingRemote.map((f) => f.name), ['at-staging'], 'staging-fn keeps its name')

  const edge = JSON.parse((await api(front.url, 'GET', '/system/functions?namespace=edge')).text) as Array<{ name: string, namespace: string }>
  t.same(edge.map((f) => [f.name, f.namespace]), [['at-edge', 'edge']], 'the front sees only edge, with its local name')
  t.equal((await api(front.url, 'GET', '/system/function/at-staging?namespace=edge')).status, 404, 'no leak across namespaces')

  // deployed on the remote directly: visible through the front under the local namespace
  const direct = await remoteApi(remote, 'POST', '/system/functions', { ...httpSpec('direct', 'openfaas-fn') })
  t.equal(direct.status, 202)
  const s = JSON.parse((await api(front.url, 'GET', '/system/function/direct?namespace=edge')).text)
  t.equal(s.namespace, 'edge', 'a remote function reads with the local namespace')

  const invoked = await api(front.url, 'POST', '/function/at-edge.edge', 'hello')
  t.equal(invoked.status, 200, 'invoke by the local qualified name')
  t.equal(JSON.parse(invoked.text).body, '"hello"', 'the remote function answered')

  const nsList = JSON.parse((await api(front.url, 'GET', '/system/namespaces')).text)
  t.same(nsList, ['edge', 'openfaas-fn', 'staging-fn'], 'the front lists its configured namespaces')
})
