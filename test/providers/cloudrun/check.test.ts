/*
 * `--check` for the Cloud Run backend: one services.list (pageSize 1) per project + region, through
 * the real REST client against the Google fake. Passes against a healthy fake; fails naming the
 * backend, the call, the location and endpoint and the reason: PERMISSION_DENIED (with the IAM
 * permission), a closed port, and no answer within requestTimeoutMs.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { NS, PROJECT, REGION, setup } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')

t.test('a healthy fake: one list per project + region', async (t) => {
  const s = await setup(t, {
    namespaces: [NS, 'gcp-eu', 'gcp-us'],
    driverOptions: { namespaces: { 'gcp-eu': { servicePrefix: 'eu-' }, 'gcp-us': { region: 'us-central1' } } }
  })
  await t.resolves(s.driver.check())
  t.same(s.fake.seen.map((l) => l.replace(/&\$alt=.*$/, '')), [
    `GET /v2/projects/${PROJECT}/locations/${REGION}/services?pageSize=1`,
    `GET /v2/projects/${PROJECT}/locations/us-central1/services?pageSize=1`
  ], 'gcp and gcp-eu share a location: one call for both')
})

t.test('PERMISSION_DENIED → names the permission', async (t) => {
  const s = await setup(t)
  s.fake.faults.add({ method: 'GET', path: /\/services$/, status: 'PERMISSION_DENIED', message: "Permission 'run.services.list' denied on resource 'projects/test-project/locations/europe-west1' (or it may not exist)." })
  const err = await s.driver.check().then(() => undefined, (e: unknown) => e as Error)
  t.match(err?.message, new RegExp(`^cloudrun backend: listing Cloud Run services \\(pageSize 1\\) in projects/${PROJECT}/locations/${REGION} at ${esc(s.fake.url)} failed: .*Permission 'run\\.services\\.list' denied`))
  t.match(err?.message, /; the credentials need the IAM permission run\.services\.list on the project \(roles\/run\.viewer or roles\/run\.developer/)
})

t.test('a closed port: fails at once with the endpoint', async (t) => {
  const port = await closedPort()
  const s = await setup(t, { driverOptions: { endpoints: { run: `http://127.0.0.1:${port}` } } })
  const started = Date.now()
  await t.rejects(s.driver.check(), new RegExp(`^cloudrun backend: listing Cloud Run services \\(pageSize 1\\) in projects/${PROJECT}/locations/${REGION} at http://127\\.0\\.0\\.1:${port} failed: .*ECONNREFUSED`))
  t.ok(Date.now() - started < 3000, 'at once')
})

t.test('no answer: bounded by requestTimeoutMs', async (t) => {
  const s = await setup(t, { driverOptions: { requestTimeoutMs: 300 } })
  s.fake.faults.add({ method: 'GET', path: /\/services$/, hang: true })
  const started = Date.now()
  await t.rejects(s.driver.check(), /^cloudrun backend: listing Cloud Run services .* failed: /)
  t.ok(Date.now() - started < 3000, `within the timeout (${Date.now() - started} ms)`)
})
