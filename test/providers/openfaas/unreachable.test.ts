/*
 * An unreachable remote: a closed port answers 502 at once, a remote that accepts connections and
 * never answers gives 504 within requestTimeoutMs; both messages say which remote and why.
 * Invocations of such a remote are the proxy's 503, as for any function that cannot be resolved.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { api, frontFor } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

t.test('connection refused → 502 at once', async (t) => {
  const port = await closedPort()
  const front = await frontFor(t, `http://127.0.0.1:${port}/`)
  const started = Date.now()
  const res = await api(front.url, 'GET', '/system/functions?namespace=edge')
  t.equal(res.status, 502)
  t.match(res.text, `remote OpenFaaS at http://127.0.0.1:${port}/ unreachable while listing functions of namespace "edge"`)
  t.match(res.text, /ECONNREFUSED/, 'with the reason')
  t.ok(Date.now() - started < 2000, 'at once')
  const inv = await api(front.url, 'POST', '/function/fn.edge', 'x')
  t.equal(inv.status, 503, 'an invocation cannot be resolved: 503')
})

t.test('a remote that never answers → 504 within the timeout', async (t) => {
  const sockets = new Set<net.Socket>()
  const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => { silent.close(() => { resolve() }) })
  })
  const port = (silent.address() as AddressInfo).port
  const front = await frontFor(t, `http://127.0.0.1:${port}`, { requestTimeoutMs: 300 })
  const started = Date.now()
  const res = await api(front.url, 'POST', '/system/functions', { service: 'slow', image: 'i', namespace: 'edge' })
  const took = Date.now() - started
  t.equal(res.status, 504)
  t.match(res.text, /timed out while deploying function "slow" in namespace "edge": no answer within 300 ms/)
  t.ok(took >= 250 && took < 2000, `within the timeout (${took} ms)`)
  const logs = await api(front.url, 'GET', '/system/logs?name=slow&namespace=edge')
  t.equal(logs.status, 504, 'logs set-up failure is a status code too')
})
