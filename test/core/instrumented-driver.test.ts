/*
 * The driver wrapper behind the backend-call metrics: every call still reaches the driver with its
 * own `this`, results and errors pass through unchanged, optional members stay optional, and each
 * call is reported once with its outcome.
 */
import t from 'tap'
import { instrumentDriver } from '../../src/core/instrumented-driver.ts'
import { MemoryDriver } from '../helpers/memory-driver.ts'

const spec = { service: 'f', image: 'i:1', namespace: 'openfaas-fn' }

t.test('calls pass through and are observed with their outcome', async (t) => {
  const seen: Array<[string, string]> = []
  const inner = new MemoryDriver()
  const d = instrumentDriver(inner, (op, seconds, outcome) => {
    t.ok(seconds >= 0)
    seen.push([op, outcome])
  })
  t.equal(d.kind, 'memory')
  await d.deploy(spec)
  t.equal((await d.status('openfaas-fn', 'f')).name, 'f')
  await t.rejects(d.status('openfaas-fn', 'nope'), { code: 'NOT_FOUND' })
  await d.scale('openfaas-fn', 'f', 3)
  t.equal(inner.functions.get('openfaas-fn/f')?.replicas, 3, 'the driver itself changed')
  await d.secrets?.create({ name: 's', namespace: 'openfaas-fn', value: Buffer.from('v') })
  await t.rejects(d.secrets?.create({ name: 's', namespace: 'openfaas-fn', value: Buffer.from('v') }) ?? Promise.resolve(), { code: 'CONFLICT' })
  await d.namespaces?.create({ name: 'team' })
  inner.failNext('list', 'api down')
  await t.rejects(d.list('openfaas-fn'), { code: 'BACKEND' })
  const up = d.upstream('openfaas-fn', 'f')
  await t.rejects(up, { code: 'UNAVAILABLE' }, 'upstream passes through (untimed)')
  t.same(seen, [
    ['deploy', 'ok'], ['status', 'ok'], ['status', 'NOT_FOUND'], ['scale', 'ok'],
    ['secrets.create', 'ok'], ['secrets.create', 'CONFLICT'], ['namespaces.create', 'ok'], ['list', 'BACKEND']
  ])
})

t.test('optional members stay absent when the driver has none', async (t) => {
  const inner = new MemoryDriver()
  Object.defineProperty(inner, 'secrets', { value: undefined })
  const d = instrumentDriver(inner, () => {})
  t.equal(d.secrets, undefined)
  t.equal(d.park, undefined)
  t.equal(d.check, undefined)
  t.ok(d.namespaces !== undefined)
})
