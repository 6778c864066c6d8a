/*
 * /function/NAME over the kubernetes backend. Out of cluster (invoke 'proxy'): through the API
 * server's service proxy with the kubeconfig's token, path, query, headers and body intact; not
 * ready → 503; unknown → 503. In cluster: 'service' gives the cluster DNS name, 'endpoints' a ready
 * endpoint IP from EndpointSlices, round robin (URLs checked; nothing listens on pod IPs here).
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, functionServer, kubeApp, NS, startKube } from './helpers.ts'

t.test('invoke through the API server service proxy', async (t) => {
  const { url, fake } = await kubeApp(t, { driver: { invoke: 'proxy' } })
  await functionServer(t, fake, NS, 'echo')
  await api(url, 'POST', '/system/functions', figlet('echo'))
  await eventually(async () => { check((await api(url, 'GET', '/system/function/echo')).json().availableReplicas === 1, 'ready') })
  fake.requests.length = 0
  const r = await api(url, 'POST', '/function/echo/sub/path?x=1&y=2', 'payload', { 'x-test': 'kept', authorization: 'Basic dXNlcjpwYXNz' })
  t.equal(r.status, 200, r.text)
  const body = r.json()
  t.equal(body.method, 'POST')
  t.equal(body.url, '/sub/path?x=1&y=2', 'path below /function/NAME and the query')
  t.equal(body.body, 'payload')
  t.equal(body.header, 'kept', 'request headers pass')
  t.equal(body.authorization, null, "the caller's Authorization is not forwarded through the API server")
  t.equal(r.headers.get('x-function'), 'echo', 'response headers pass')
  t.same(fake.requestsTo(/proxy/).map((q) => q.path), [`/api/v1/namespaces/${NS}/services/echo:8080/proxy/sub/path`], 'the service proxy path')
  t.equal((await api(url, 'GET', '/function/echo.openfaas-fn')).json().method, 'GET', 'name.namespace form')

  t.equal((await api(url, 'POST', '/function/ghost', 'x')).status, 503, 'unknown → 503')
  fake.holdPods(NS, 'pending', true)
  await api(url, 'POST', '/system/functions', figlet('pending'))
  await functionServer(t, fake, NS, 'pending')
  const p = await api(url, 'POST', '/function/pending', 'x')
  t.equal(p.status, 503, 'not ready → 503')
  t.match(p.text, /No endpoints available for: pending/)
  fake.holdPods(NS, 'pending', false)
  await eventually(async () => { check((await api(url, 'POST', '/function/pending', 'x')).status === 200, 'served once ready') })
  t.pass('served once ready')
})

t.test('in-cluster upstreams', async (t) => {
  const svc = await startKube({ driver: { invoke: 'service', clusterDomain: 'example.internal' } })
  t.teardown(svc.cleanup)
  // its pods kept Pending until the not-ready answer is checked (a slow machine would let the
  // fake's controller make them ready first)
  svc.fake.holdPods(NS, 'fn', true)
  await svc.driver.deploy({ ...figlet('fn'), namespace: NS } as never)
  await t.rejects(svc.driver.upstream(NS, 'fn'), { code: 'UNAVAILABLE' }, 'not ready yet')
  svc.fake.holdPods(NS, 'fn', false)
  await eventually(async () => { check((await svc.driver.status(NS, 'fn')).availableReplicas === 1, 'ready') })
  const up = await svc.driver.upstream(NS, 'fn')
  t.equal(up.kind === 'http' ? up.url.href : '', `http://fn.${NS}.svc.example.internal:8080/`, 'Service DNS name')

  const eps = await startKube({ driver: { invoke: 'endpoints' } })
  t.teardown(eps.cleanup)
  // its pods kept Pending until the not-ready answer is checked (a slow machine would let the
  // fake's controller make them ready first)
  eps.fake.holdPods(NS, 'fn', true)
  await eps.driver.deploy({ ...figlet('fn'), namespace: NS } as never)
  await t.rejects(eps.driver.upstream(NS, 'fn'), { code: 'UNAVAILABLE' }, 'no ready endpoint yet')
  eps.fake.holdPods(NS, 'fn', false)
  await eps.driver.scale(NS, 'fn', 2)
  await eventually(async () => { check((await eps.driver.status(NS, 'fn')).availableReplicas === 2, 'ready') })
  const ips = new Set(eps.fake.pods(NS, 'fn').map((p) => `http://${String(p.status.podIP)}:8080/`))
  const picked: string[] = []
  for (let i = 0; i < 4; i++) {
    const u = await eps.driver.upstream(NS, 'fn')
    picked.push(u.kind === 'http' ? u.url.href : '')
  }
  t.ok(picked.every((u) => ips.has(u)), 'ready pod IPs on 8080')
  t.equal(new Set(picked).size, 2, 'round robin over both')
  t.not(picked[0], picked[1])
  await t.rejects(eps.driver.upstream(NS, 'ghost'), { code: 'NOT_FOUND' })
})
