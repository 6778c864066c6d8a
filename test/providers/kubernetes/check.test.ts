/*
 * `--check` for the kubernetes backend: Driver.check() reads each configured namespace from the
 * fake API server with the real client's credentials. It passes against a healthy fake and fails
 * with a message naming the backend, the read and the reason: RBAC refusal (which verb/resource),
 * a missing namespace, refused credentials, and a closed port (with the server URL).
 */
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { createDriver } from '../../../providers/kubernetes/index.ts'
import { NAMESPACES, NS, startKube } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

const logger = pino({ level: 'silent' })

t.test('a healthy API server: one namespace read per configured namespace', async (t) => {
  const k = await startKube()
  t.teardown(k.cleanup)
  await t.resolves(k.driver.check())
  const reads = k.fake.requestsTo(/^GET \/api\/v1\/namespaces\/[^/]+$/).map((r) => r.path)
  t.same(reads, NAMESPACES.map((ns) => `/api/v1/namespaces/${ns}`))
  const others = k.fake.requests.filter((r) => !/^\/api\/v1\/namespaces\/[^/]+$/.test(r.path))
  t.ok(others.every((r) => r.method === 'GET' && /\/namespaces\/[^/]+\/(deployments|pods)$/.test(r.path)), 'nothing else is read but the caches\' lists and watches')
  t.same(k.driver.caches().map((c) => c.state), NAMESPACES.flatMap(() => ['synced', 'synced']), 'and check() waited for the caches to sync')
})

t.test('RBAC refuses reading namespaces → 403 with the verb and resource to grant', async (t) => {
  const k = await startKube()
  t.teardown(k.cleanup)
  k.fake.deny('get', 'namespaces')
  const err = await k.driver.check().then(() => undefined, (e: unknown) => e as Error)
  t.ok(err, 'rejects')
  t.match(err?.message, new RegExp(`^kubernetes backend: reading namespace "${NS}" \\(get namespaces\\) from the Kubernetes API server at http://127\\.0\\.0\\.1:\\d+ was refused \\(403\\)`))
  t.match(err?.message, /RBAC does not allow verb "get" on resource "namespaces"; grant it to the provider's service account \(docs\/backends\/kubernetes\.md#rbac\)/)
  t.match(err?.message, /cannot get resource "namespaces"/, "with the API server's own message")
})

t.test('a configured namespace that does not exist is named', async (t) => {
  const k = await startKube()
  t.teardown(k.cleanup)
  const driver = await createDriver({ kubeconfig: k.kubeconfig, inCluster: false }, { logger, namespaces: [NS, 'no-such-fn'], execTimeoutMs: 5000 })
  t.teardown(async () => { await driver.close() })
  await t.rejects(driver.check(), /^kubernetes backend: the configured namespace "no-such-fn" does not exist in the cluster; create it \(kubectl create namespace no-such-fn\)/)
})

t.test('credentials the API server does not accept → 401', async (t) => {
  const k = await startKube()
  t.teardown(k.cleanup)
  const config = JSON.parse(k.fake.kubeconfig()) as { users: Array<{ user: { token: string } }> }
  const user = config.users[0]
  if (user !== undefined) user.user.token = 'wrong-token'
  const file = path.join(path.dirname(k.kubeconfig), 'wrong')
  await writeFile(file, JSON.stringify(config), { mode: 0o600 })
  const driver = await createDriver({ kubeconfig: file, inCluster: false }, { logger, namespaces: [NS], execTimeoutMs: 5000 })
  t.teardown(async () => { await driver.close() })
  await t.rejects(driver.check(), /^kubernetes backend: reading namespace "openfaas-fn" .*: the credentials were not accepted \(401\)/)
})

t.test('a closed port: unreachable, with the server URL, at once', async (t) => {
  const k = await startKube()
  t.teardown(k.cleanup)
  const port = await closedPort()
  const file = path.join(path.dirname(k.kubeconfig), 'closed')
  await writeFile(file, k.fake.kubeconfig().replace(k.fake.url, `http://127.0.0.1:${port}`), { mode: 0o600 })
  const driver = await createDriver({ kubeconfig: file, inCluster: false }, { logger, namespaces: [NS], execTimeoutMs: 5000 })
  t.teardown(async () => { await driver.close() })
  const started = Date.now()
  await t.rejects(driver.check(),
    new RegExp(`^kubernetes backend: reading namespace "openfaas-fn" \\(get namespaces\\) from the Kubernetes API server at http://127\\.0\\.0\\.1:${port}: the API server could not be reached \\(.*ECONNREFUSED`))
  t.ok(Date.now() - started < 3000, 'without waiting for a timeout')
})

t.test('a closed driver refuses to check', async (t) => {
  const k = await startKube()
  await k.cleanup()
  await t.rejects(k.driver.check(), /closed/)
})
