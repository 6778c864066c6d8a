/*
 * `--check` for the openfaas backend: GET /system/info and GET /system/namespaces with the
 * configured auth. Passes against a real faas-bridge remote with basic auth; fails naming the
 * backend, the call, the remote URL and the reason: wrong credentials (401), a refusing remote
 * (403), a remote namespace it does not serve, a closed port, and a remote that never answers.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { createDriver } from '../../../providers/openfaas/index.ts'
import { fakeRemote } from './fake-remote.ts'
import { BASIC, NAMESPACES, remoteFor, testContext } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

async function driverFor (t: Test, url: string, options: Record<string, unknown> = {}): Promise<Awaited<ReturnType<typeof createDriver>>> {
  const driver = await createDriver({ url, auth: BASIC, namespaces: NAMESPACES, requestTimeoutMs: 5000, ...options }, testContext())
  t.teardown(async () => { await driver.close() })
  return driver
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

t.test('a healthy remote with basic auth passes', async (t) => {
  const remote = await remoteFor(t)
  const driver = await driverFor(t, remote.url)
  await t.resolves(driver.check())
})

t.test('wrong credentials → the remote rejected them, with the auth option to check', async (t) => {
  const remote = await remoteFor(t)
  const driver = await driverFor(t, remote.url, { auth: { ...BASIC, password: 'wrong' } })
  await t.rejects(driver.check(), new RegExp(`^openfaas backend: GET /system/info of remote OpenFaaS at ${esc(new URL(remote.url).href)} failed: .*rejected our credentials while reading /system/info \\(401.*check the basic "auth" option`))
})

t.test('a remote that refuses (403) on /system/namespaces', async (t) => {
  const fake = await fakeRemote(t)
  fake.routes.set('GET /system/info', { status: 200, body: '{"provider":{"provider":"faas-netes"},"version":{"release":"0.18.0"}}', contentType: 'application/json' })
  fake.routes.set('GET /system/namespaces', { status: 403, body: 'forbidden: namespaces' })
  const driver = await driverFor(t, fake.url)
  await t.rejects(driver.check(), /^openfaas backend: GET \/system\/namespaces of remote OpenFaaS at http:\/\/127\.0\.0\.1:\d+\/ failed: .*rejected our credentials while listing \/system\/namespaces \(403: forbidden: namespaces\)/)
  t.same(fake.requests.map((r) => `${r.method} ${r.url}`), ['GET /system/info', 'GET /system/namespaces'])
  t.match(fake.requests[0]?.headers.authorization, /^Basic /, 'with the configured auth')
})

t.test('a remote namespace the remote does not serve is named', async (t) => {
  const remote = await remoteFor(t)
  const driver = await driverFor(t, remote.url, { namespaces: { edge: 'no-such-fn' } })
  await t.rejects(driver.check(), /^openfaas backend: namespace "edge" maps to remote namespace "no-such-fn", which remote OpenFaaS at .* does not serve \(it serves: .*openfaas-fn/)
})

t.test('a closed port: unreachable, with the URL, at once', async (t) => {
  const port = await closedPort()
  const driver = await driverFor(t, `http://127.0.0.1:${port}/`)
  const started = Date.now()
  await t.rejects(driver.check(), new RegExp(`^openfaas backend: GET /system/info of remote OpenFaaS at http://127\\.0\\.0\\.1:${port}/ failed: .*unreachable while reading /system/info: .*ECONNREFUSED`))
  t.ok(Date.now() - started < 2000, 'at once')
})

t.test('a remote that never answers: bounded by requestTimeoutMs', async (t) => {
  const sockets = new Set<net.Socket>()
  const silent = net.createServer((s) => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>((resolve) => { silent.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => { silent.close(() => { resolve() }) })
  })
  const port = (silent.address() as AddressInfo).port
  const driver = await driverFor(t, `http://127.0.0.1:${port}/`, { requestTimeoutMs: 300 })
  const started = Date.now()
  await t.rejects(driver.check(), /timed out while reading \/system\/info: no answer within 300 ms/)
  t.ok(Date.now() - started < 2000, 'within the timeout')
})
