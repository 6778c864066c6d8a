/*
 * http mode: replicas are long-running servers on driver-assigned loopback ports; upstream() hands
 * out ready replicas round-robin and the function sees its envVars, PORT and a small base env.
 */
import t from 'tap'
import { eventually, check } from '../../../src/driver-contract/eventually.ts'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import { httpSpec, makeLocalDriver, NS } from './helpers.ts'

t.test('upstream is a working http target with the function env', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(httpSpec('web', { greeting: 'hello world' }))
  await eventually(async () => { check((await driver.status(NS, 'web')).availableReplicas === 1, 'not ready') })
  const up = await driver.upstream(NS, 'web')
  t.equal(up.kind, 'http')
  if (up.kind !== 'http') return
  t.equal(up.url.hostname, '127.0.0.1', 'loopback only')
  const echo = await invokeUpstream(up, { method: 'POST', path: '/some/path', body: 'payload' })
  t.equal(echo.status, 200)
  t.match(JSON.parse(echo.body), { method: 'POST', path: '/some/path', body: 'payload' })
  t.equal((await invokeUpstream(up, { method: 'GET', path: '/env', query: 'name=greeting' })).body, 'hello world', 'envVars set')
  t.equal((await invokeUpstream(up, { method: 'GET', path: '/env', query: 'name=PORT' })).body, up.url.port, 'PORT is the port')
  t.equal((await invokeUpstream(up, { method: 'GET', path: '/env', query: 'name=PATH' })).status, 200, 'PATH set')
  t.equal((await invokeUpstream(up, { method: 'GET', path: '/env', query: 'name=HOME' })).status, 200, 'HOME set')
  t.equal((await invokeUpstream(up, { method: 'GET', path: '/env', query: 'name=secret_mount_path' })).status, 200, 'secret_mount_path set')
})

t.test('two replicas are served round-robin', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy({ ...httpSpec('rr'), labels: { 'com.openfaas.scale.min': '2' } })
  await eventually(async () => { check((await driver.status(NS, 'rr')).availableReplicas === 2, 'not ready') })
  const pids = new Set<string>()
  for (let i = 0; i < 4; i++) pids.add((await invokeUpstream(await driver.upstream(NS, 'rr'), { method: 'GET', path: '/pid' })).body)
  t.equal(pids.size, 2, 'both replicas answer')
  const ports = new Set<string>()
  for (let i = 0; i < 2; i++) {
    const up = await driver.upstream(NS, 'rr')
    if (up.kind === 'http') ports.add(up.url.port)
  }
  t.equal(ports.size, 2, 'each replica has its own port')
})

t.test('a replica is unavailable until its port accepts connections', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(httpSpec('slow', { LISTEN_DELAY_MS: '400' }))
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal((await driver.status(NS, 'slow')).availableReplicas, 0, 'not yet listening → 0 available')
  await t.rejects(driver.upstream(NS, 'slow'), { code: 'UNAVAILABLE', message: 'No endpoints available for: slow.' })
  await eventually(async () => { check((await driver.status(NS, 'slow')).availableReplicas === 1, 'not ready') }, { timeoutMs: 5000 })
  t.pass('available once listening')
})

t.test('update rolls the replicas onto the new spec', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(httpSpec('roll', { version: '1' }))
  await eventually(async () => { check((await driver.status(NS, 'roll')).availableReplicas === 1, 'not ready') })
  const oldPid = Number((await invokeUpstream(await driver.upstream(NS, 'roll'), { method: 'GET', path: '/pid' })).body)
  await driver.update(httpSpec('roll', { version: '2' }))
  await eventually(async () => {
    const res = await invokeUpstream(await driver.upstream(NS, 'roll'), { method: 'GET', path: '/env', query: 'name=version' })
    check(res.body === '2', `still version ${res.body}`)
  })
  await eventually(() => {
    let alive = true
    try { process.kill(oldPid, 0) } catch { alive = false }
    check(!alive, 'old replica still running')
  })
  t.equal((await driver.status(NS, 'roll')).replicas, 1)
  t.pass('old replica stopped once the new one served')
})
