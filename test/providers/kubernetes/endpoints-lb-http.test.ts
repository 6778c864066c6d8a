/*
 * Endpoint load balancing (invoke 'endpoints') through /function/NAME, with pods answering on
 * their own IPs: invocations spread evenly over the ready endpoints of the cached EndpointSlices;
 * a pod that stops being ready is out after that one slice event; a refused connection to one
 * endpoint is retried on another for idempotent methods (GET, PUT, DELETE...) and never for POST.
 */
import t from 'tap'
import type { Test } from 'tap'
import { PODS } from '../../fakes/kubernetes/controller.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'
import { podServers } from './pod-servers.ts'

async function slicesEvents (url: string): Promise<number> {
  const text = (await api(url, 'GET', '/metrics')).text
  const line = text.split('\n').find((l) => l.startsWith('faas_bridge_backend_cache_events_total{') &&
    l.includes('resource="endpointslices.discovery.k8s.io"') && l.includes(`namespace="${NS}"`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

async function threeReady (t: Test) {
  const pods = await podServers(t, 3)
  const setup = await kubeApp(t, { driver: { invoke: 'endpoints' }, fake: { podIp: pods.ip } })
  const { url } = setup
  t.equal((await api(url, 'POST', '/system/functions', figlet('echo'))).status, 202)
  t.equal((await api(url, 'POST', '/system/scale-function/echo', { serviceName: 'echo', replicas: 3 })).status, 202)
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/echo')).json().availableReplicas === 3, 'three ready')
    // every ready pod is in the cached slice: each of three calls lands on a different pod
    pods.hits.clear()
    for (let i = 0; i < 3; i++) check((await api(url, 'GET', '/function/echo')).status === 200, 'served')
    check(pods.hits.size === 3, 'all three in rotation')
  }, { timeoutMs: 15_000 })
  pods.hits.clear()
  return { ...setup, pods }
}

t.test('invocations spread evenly over ready endpoints; an unready pod is out after one event', async (t) => {
  const { url, fake, pods } = await threeReady(t)
  for (let i = 0; i < 30; i++) t.equal((await api(url, 'POST', '/function/echo', String(i))).status, 200)
  t.same([...pods.hits.values()], [10, 10, 10], 'round robin: 10 each')

  // one pod fails its readiness probe: the kubelet reports its container not ready
  const pod = fake.pods(NS, 'echo')[0]
  if (pod === undefined) throw new Error('no pod')
  const ip = pod.status.podIP as string
  const before = await slicesEvents(url)
  fake.store.update(PODS, 'pods', {
    ...pod,
    metadata: { ...pod.metadata, resourceVersion: undefined },
    status: { ...pod.status, conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: pod.status.containerStatuses.map((c: Record<string, unknown>) => ({ ...c, ready: false })) }
  }, true)
  await eventually(async () => { check(await slicesEvents(url) === before + 1, 'the slice change arrived') }, { timeoutMs: 10_000 })
  pods.hits.clear()
  for (let i = 0; i < 20; i++) t.equal((await api(url, 'POST', '/function/echo', String(i))).status, 200)
  t.equal(pods.hits.get(ip), undefined, 'the unready pod gets nothing after that one event')
  t.same([...pods.hits.values()], [10, 10], 'the other two share evenly')
})

t.test('a refused connection retries another endpoint for idempotent methods only', async (t) => {
  const { url, fake, pods } = await threeReady(t)
  // one pod's server dies while the pod still counts as ready (its probe has not failed yet)
  const dead = fake.pods(NS, 'echo')[1]?.status.podIP as string
  await pods.stop(dead)
  for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) {
    const codes: number[] = []
    for (let i = 0; i < 6; i++) codes.push((await api(url, method, '/function/echo', method === 'PUT' ? 'x' : undefined)).status)
    t.same(codes, [200, 200, 200, 200, 200, 200], `${method}: every call answered by a live endpoint`)
  }
  const codes: number[] = []
  for (let i = 0; i < 6; i++) codes.push((await api(url, 'POST', '/function/echo', 'x')).status)
  t.equal(codes.filter((c) => c === 200).length, 4, 'POST: the two calls on the dead endpoint are not retried...')
  t.same(codes.filter((c) => c !== 200), [500, 500], '...they answer 500 (cannot reach the function)')
  t.equal(pods.hits.get(dead), undefined)
})
