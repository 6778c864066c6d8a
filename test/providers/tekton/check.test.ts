/*
 * `--check` for the tekton backend: per configured namespace, the namespace is read and one Task
 * listed (limit=1) from the fake API server, then the Task and TaskRun caches must sync. Passes
 * against a healthy fake; fails with the backend, the read and the reason: RBAC refusal on tasks
 * (which verb/resource), caches that cannot list, the tekton.dev/v1 API not served, a missing
 * namespace, and a closed port (with the server URL).
 */
import { writeFile } from 'node:fs/promises'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pino } from 'pino'
import t from 'tap'
import { createDriver } from '../../../providers/tekton/index.ts'
import { NAMESPACES, NS, startTekton } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

const logger = pino({ level: 'silent' })

t.test('a healthy cluster with Tekton: a namespace read and a one-item Task list per namespace', async (t) => {
  const k = await startTekton()
  t.teardown(k.cleanup)
  await t.resolves(k.driver.check())
  const seen = k.fake.requests.map((r) => `${r.method} ${r.path}${r.query}`)
  const checks = NAMESPACES.flatMap((ns) => [`GET /api/v1/namespaces/${ns}`, `GET /apis/tekton.dev/v1/namespaces/${ns}/tasks?limit=1`])
  t.same(seen.filter((r) => checks.includes(r)), checks, 'the namespace and one Task read per namespace')
  const selector = new URLSearchParams({ labelSelector: 'faas_function,app.kubernetes.io/managed-by=faas-bridge' }).toString()
  t.ok(seen.filter((r) => !checks.includes(r)).every((r) => /^GET \/apis\/tekton\.dev\/v1\/namespaces\/[^/]+\/(tasks|taskruns)\?/.test(r) && r.includes(selector)),
    'nothing else is read but the caches\' label-selected lists and watches')
  t.same(k.driver.caches().map((c) => `${c.resource} ${c.namespace} ${c.state}`).sort(),
    NAMESPACES.flatMap((ns) => [`taskruns.tekton.dev ${ns} synced`, `tasks.tekton.dev ${ns} synced`]).sort(), 'and check() waited for the caches to sync')
})

t.test('caches that cannot list: --check says which, and what RBAC must allow', async (t) => {
  const k = await startTekton()
  t.teardown(k.cleanup)
  k.fake.deny('list', 'taskruns')
  const driver = await createDriver({ kubeconfig: k.kubeconfig, inCluster: false }, { logger, namespaces: [NS], execTimeoutMs: 5000, checkOnly: true })
  t.teardown(async () => { await driver.close() })
  await t.rejects(driver.check(), /^tekton: the informer caches did not sync within \d+ ms \(taskruns\.tekton\.dev in "ci"\); check that RBAC allows list and watch on them \(docs\/backends\/tekton\.md#rbac\)/)
})

t.test('RBAC refuses listing Tasks → 403 naming verb and resource', async (t) => {
  const k = await startTekton()
  t.teardown(k.cleanup)
  k.fake.deny('list', 'tasks')
  const err = await k.driver.check().then(() => undefined, (e: unknown) => e as Error)
  t.match(err?.message, new RegExp(`^tekton backend: reading the Tasks of namespace "${NS}" \\(list tasks\\.tekton\\.dev\\) from the Kubernetes API server at http://127\\.0\\.0\\.1:\\d+ was refused \\(403\\)`))
  t.match(err?.message, /RBAC does not allow verb "list" on resource "tasks\.tekton\.dev"; grant it to the provider's service account \(docs\/backends\/tekton\.md#rbac\)/)
})

t.test('RBAC refuses reading namespaces → 403', async (t) => {
  const k = await startTekton()
  t.teardown(k.cleanup)
  k.fake.deny('get', 'namespaces')
  await t.rejects(k.driver.check(), /^tekton backend: reading namespace "ci" \(get namespaces\) .* was refused \(403\): RBAC does not allow verb "get" on resource "namespaces"/)
})

t.test('Tekton not installed: the tekton.dev/v1 API is not served', async (t) => {
  const k = await startTekton({ fake: { tekton: false } })
  t.teardown(k.cleanup)
  await t.rejects(k.driver.check(), /^tekton backend: the tekton\.dev\/v1 API is not served by the cluster: install Tekton Pipelines .*answered 404/)
})

t.test('a configured namespace that does not exist is named', async (t) => {
  const k = await startTekton({ namespaces: [NS] })
  t.teardown(k.cleanup)
  const driver = await createDriver({ kubeconfig: k.kubeconfig, inCluster: false }, { logger, namespaces: [NS, 'ci-missing'], execTimeoutMs: 5000 })
  t.teardown(async () => { await driver.close() })
  await t.rejects(driver.check(), /^tekton backend: the configured namespace "ci-missing" does not exist in the cluster/)
})

t.test('a closed port: unreachable, with the server URL, at once', async (t) => {
  const k = await startTekton()
  t.teardown(k.cleanup)
  const port = await closedPort()
  const file = path.join(path.dirname(k.kubeconfig), 'closed')
  await writeFile(file, k.fake.kubeconfig().replace(k.fake.url, `http://127.0.0.1:${port}`), { mode: 0o600 })
  const driver = await createDriver({ kubeconfig: file, inCluster: false }, { logger, namespaces: [NS], execTimeoutMs: 5000 })
  t.teardown(async () => { await driver.close() })
  const started = Date.now()
  await t.rejects(driver.check(), new RegExp(`^tekton backend: reading namespace "ci" .* at http://127\\.0\\.0\\.1:${port}: the API server could not be reached \\(.*ECONNREFUSED`))
  t.ok(Date.now() - started < 3000, 'without waiting for a timeout')
})
