/*
 * Every API-server call goes over a bounded pool of keep-alive connections
 * (providers/kubernetes/common/connections.ts): sequential calls through the HTTP API, typed
 * reads and writes and invocations through the API server's service proxy alike, reuse one
 * connection; concurrent calls open at most MAX_CALL_CONNECTIONS. Over HTTPS (a self-signed
 * certificate made in the test, given to the client as the cluster CA), sequential calls cost
 * no TLS handshake after the first.
 */
import { generate } from 'selfsigned'
import t from 'tap'
import { MAX_CALL_CONNECTIONS } from '../../../providers/kubernetes/common/connections.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, functionServer, kubeApp, NS } from './helpers.ts'

const N = 30

t.test('sequential calls share one connection; concurrent ones stay within the pool', async (t) => {
  // cache off: every status and invocation reads the API, the traffic whose connections are counted
  const { url, fake } = await kubeApp(t, { driver: { invoke: 'proxy', cache: false } })
  await functionServer(t, fake, NS, 'conn')
  t.equal((await api(url, 'POST', '/system/functions', figlet('conn'))).status, 202)
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/conn')).json().availableReplicas === 1, 'ready')
  }, { timeoutMs: 5000 })

  const before = { connections: fake.connections, requests: fake.requests.length }
  for (let i = 0; i < N; i++) {
    t.equal((await api(url, 'GET', '/system/function/conn')).status, 200)
    t.equal((await api(url, 'POST', '/function/conn', 'hi')).status, 200)
    t.equal((await api(url, 'PUT', '/system/functions', figlet('conn', { labels: { i: String(i) } }))).status, 202)
  }
  const calls = fake.requests.length - before.requests
  const opened = fake.connections - before.connections
  t.ok(calls >= 5 * N, `${calls} API-server requests (reads, applies, proxied invocations)`)
  t.ok(opened <= 1, `${calls} sequential requests over ${opened} new connection(s)`)
  t.comment(`connections: ${opened} for ${calls} sequential requests`)

  const mid = fake.connections
  const answers = await Promise.all(Array.from({ length: 3 * MAX_CALL_CONNECTIONS }, async () => (await api(url, 'GET', '/system/function/conn')).status))
  t.ok(answers.every((s) => s === 200), 'every concurrent read answered')
  const burst = fake.connections - mid
  t.ok(burst <= MAX_CALL_CONNECTIONS, `${answers.length} concurrent reads opened ${burst} connection(s), at most ${MAX_CALL_CONNECTIONS}`)
  t.comment(`connections: ${burst} for ${answers.length} concurrent reads`)
})

t.test('over HTTPS: one TLS handshake, not one per call', async (t) => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]
  })
  const { url, fake } = await kubeApp(t, { fake: { tls: { key: pems.private, cert: pems.cert } }, driver: { invoke: 'proxy' } })
  t.match(fake.url, /^https:/)
  await functionServer(t, fake, NS, 'tls')
  t.equal((await api(url, 'POST', '/system/functions', figlet('tls'))).status, 202)
  await eventually(async () => {
    check((await api(url, 'GET', '/system/function/tls')).json().availableReplicas === 1, 'ready')
  }, { timeoutMs: 5000 })
  const before = { handshakes: fake.tlsHandshakes, requests: fake.requests.length }
  for (let i = 0; i < N; i++) {
    t.equal((await api(url, 'GET', '/system/function/tls')).status, 200)
    t.equal((await api(url, 'POST', '/function/tls', 'hi')).status, 200)
  }
  const calls = fake.requests.length - before.requests
  const handshakes = fake.tlsHandshakes - before.handshakes
  t.ok(handshakes <= 1, `${calls} sequential requests over HTTPS cost ${handshakes} new TLS handshake(s)`)
  t.comment(`TLS handshakes: ${handshakes} for ${calls} sequential requests`)
})

t.test('watches and pod-log streams go over the pooled keep-alive connections too', async (t) => {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]
  })
  // endpoints mode: Deployments, Pods and EndpointSlices watched in each of the two namespaces
  const { url, fake } = await kubeApp(t, { fake: { tls: { key: pems.private, cert: pems.cert } }, driver: { invoke: 'endpoints' } })
  const WATCHES = 6
  const watchRequests = (): number => fake.requests.filter((r) => /[?&]watch=(true|1)/.test(r.query)).length
  await eventually(() => { check(fake.openWatches === WATCHES, `${fake.openWatches} watches open`) }, { timeoutMs: 10_000 })
  const before = { handshakes: fake.tlsHandshakes, connections: fake.connections, watches: watchRequests() }
  const ROUNDS = 3
  for (let round = 1; round <= ROUNDS; round++) {
    // the API server ends every watch (its timeout): each informer watches again from its version
    t.equal(fake.endWatches(), WATCHES)
    await eventually(() => {
      check(watchRequests() >= before.watches + round * WATCHES && fake.openWatches === WATCHES, `round ${round}: ${watchRequests() - before.watches} watches re-opened`)
    }, { timeoutMs: 20_000 })
  }
  const reopened = watchRequests() - before.watches
  const handshakes = fake.tlsHandshakes - before.handshakes
  t.ok(reopened >= ROUNDS * WATCHES, `${reopened} watches re-opened`)
  t.equal(handshakes, 0, `${reopened} re-opened watches cost ${handshakes} new TLS handshake(s)`)
  t.equal(fake.connections - before.connections, 0, 'and no new connection: each took the one its ended watch left')

  t.equal((await api(url, 'POST', '/system/functions', figlet('lg'))).status, 202)
  const pod = await eventually(() => {
    const p = fake.pods(NS, 'lg').find((x) => x.status.phase === 'Running')
    check(p !== undefined, 'running')
    return p?.metadata.name as string
  }, { timeoutMs: 10_000 })
  fake.appendLog(NS, pod, 'hello')
  t.match((await api(url, 'GET', '/system/logs?name=lg&follow=false')).text, /hello/)
  const mid = fake.tlsHandshakes
  for (let i = 0; i < 10; i++) t.match((await api(url, 'GET', '/system/logs?name=lg&follow=false')).text, /hello/)
  t.ok(fake.tlsHandshakes - mid <= 1, `10 log reads cost ${fake.tlsHandshakes - mid} new TLS handshake(s)`)
})
