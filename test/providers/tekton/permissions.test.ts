/*
 * TEKTON_PERMISSIONS is exactly what the backend uses: every request it sends to the API server
 * during deploy, update, scale, invoke (success, failure, timeout, large response), logs (follow
 * too), cleanup, run slots (claim, wait, renew, read back, release), secrets, namespaces and delete is allowed by the list, and every rule is used.
 */
import t from 'tap'
import { TEKTON_PERMISSIONS } from '../../../providers/tekton/permissions.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, fnSpec, NS, replicaApp, tektonApp } from './helpers.ts'

/** method + path (+ query) → the RBAC verb, group and resource it needs */
function rbacOf (method: string, path: string, query: string): { verb: string, group: string, resource: string } {
  const parts = path.split('/').filter((p) => p !== '')
  const core = parts[0] === 'api'
  const group = core ? '' : parts[1] as string
  let rest = parts.slice(core ? 2 : 3)
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2)
  const resource = rest.length > 2 ? `${rest[0] as string}/${rest[2] as string}` : rest[0] as string
  const named = rest.length >= 2
  const watch = /[?&]watch=(true|1)/.test(query)
  const verb = method === 'GET' ? (named ? 'get' : watch ? 'watch' : 'list')
    : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? (named ? 'delete' : 'deletecollection') : '?'
  return { verb, group, resource }
}

t.test('every request the backend makes is in TEKTON_PERMISSIONS, and every rule is used', async (t) => {
  const setup = await tektonApp(t, { timeoutMs: 600, driver: { resultLimitBytes: 10, keepTaskRuns: 1, slotLeaseSeconds: 1 } })
  const { url, fake, tekton, driver } = setup
  // a second provider replica, without caches (the API path: a TaskRun read with get, its own
  // watch per run); its hanging call below waits for a run slot in the cluster
  const other = await replicaApp(t, setup, 'other', { slotLeaseSeconds: 1, cache: false }, 600)
  await api(url, 'POST', '/system/namespace/', { name: 'extra', labels: { openfaas: '1' } })
  await api(url, 'PUT', '/system/namespace/extra', { name: 'extra', labels: { openfaas: '1', x: 'y' } })
  await api(url, 'GET', '/system/namespace/extra')
  await api(url, 'DELETE', '/system/namespace/extra', { name: 'extra', labels: { openfaas: '1' } })
  await api(url, 'POST', '/system/secrets', { name: 's', value: 'v' })
  await api(url, 'PUT', '/system/secrets', { name: 's', value: 'w' })
  await api(url, 'GET', '/system/secrets')
  await api(url, 'POST', '/system/functions', fnSpec('p', { secrets: ['s'] }))
  await api(url, 'PUT', '/system/functions', fnSpec('p', { secrets: ['s'], image: 'x:2' }))
  await api(url, 'POST', '/system/scale-function/p', { replicas: 2 })
  await api(url, 'GET', '/system/functions')
  tekton.handler = (run) => run.body.toString() === 'fail' ? { exitCode: 1 } : { stdout: run.body.toString().repeat(5) }
  await api(url, 'POST', '/function/p', 'large response')
  await api(url, 'POST', '/function/p', 'fail')
  await api(other.url, 'POST', '/function/p', 'through the replica without caches')
  tekton.handler = async () => await new Promise(() => {})
  // run slots: the third of three hanging calls waits (list, watch) for one of the 2 slots; the
  // runs renew their slot (update, every 333 ms); one renewal's answer is cut off, so it is read back (get)
  const cut = fake.fault({ kind: 'truncate', method: 'PUT', path: /\/leases\//, times: 1 })
  await Promise.all([api(url, 'POST', '/function/p', 'hang'), api(url, 'POST', '/function/p', 'hang'), api(other.url, 'POST', '/function/p', 'hang')])
  t.equal(cut.hits, 1, 'a renewal was cut off')
  await api(url, 'GET', '/system/logs?name=p&follow=false')
  const ac = new AbortController()
  const res = await fetch(`${url}/system/logs?name=p&follow=true`, { signal: ac.signal })
  await eventually(() => { check(fake.requestsTo(/GET \/api\/v1\/namespaces\/ci\/pods$/).some((r) => r.query.includes('watch=true')), 'pod watch') }, { timeoutMs: 2000 })
  ac.abort()
  await res.body?.cancel().catch(() => {})
  await driver.janitor.idle()
  await eventually(() => { check(tekton.cancelled.length >= 1, 'cancelled') }, { timeoutMs: 2000 })
  await api(url, 'DELETE', '/system/functions', { functionName: 'p' })
  await api(url, 'DELETE', '/system/secrets', { name: 's' })

  const allowed = new Set(TEKTON_PERMISSIONS.flatMap((p) => p.verbs.map((v) => `${p.apiGroup} ${p.resource} ${v}`)))
  const used = new Set(fake.requests.map((r) => rbacOf(r.method, r.path, r.query)).map((x) => `${x.group} ${x.resource} ${x.verb}`))
  for (const u of used) t.ok(allowed.has(u), `allowed: ${u}`)
  for (const a of allowed) t.ok(used.has(a), `used: ${a}`)
  t.ok(NS)
})
