import t from 'tap'
import { memoryApp } from '../helpers/app.ts'
import { MemoryDriver } from '../helpers/memory-driver.ts'

t.test('create 202, duplicate 409, update 202, update missing 404, delete 202, delete missing 404', async (t) => {
  const { app } = await memoryApp(t)
  t.equal((await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'api-token', value: 's3cr3t-value-42' } })).statusCode, 202)
  t.equal((await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'api-token', value: 'other' } })).statusCode, 409)
  t.equal((await app.inject({ method: 'PUT', url: '/system/secrets', payload: { name: 'api-token', value: 'rotated' } })).statusCode, 202)
  t.equal((await app.inject({ method: 'PUT', url: '/system/secrets', payload: { name: 'nope', value: 'x' } })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/system/secrets', payload: { name: 'api-token' } })).statusCode, 202)
  t.equal((await app.inject({ method: 'DELETE', url: '/system/secrets', payload: { name: 'api-token' } })).statusCode, 404)
})

t.test('list returns names and namespaces only, never a value', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'api-token', value: 's3cr3t-value-42' } })
  await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'staging-token', namespace: 'staging-fn', value: 'stg-9f8e7d' } })
  const res = await app.inject({ method: 'GET', url: '/system/secrets' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), [{ name: 'api-token', namespace: 'openfaas-fn' }])
  t.notMatch(res.body, /s3cr3t/)
  const staging = await app.inject({ method: 'GET', url: '/system/secrets?namespace=staging-fn' })
  t.same(staging.json(), [{ name: 'staging-token', namespace: 'staging-fn' }])
})

t.test('rawValue (base64) wins over value and keeps binary bytes exactly', async (t) => {
  const { app, driver } = await memoryApp(t)
  const bytes = Buffer.from([0, 1, 0xff, 0xfe, 0x80, 0x7f, 0x0a, 0xc3, 0x28, 0x20, 0x42, 0x0a])
  const res = await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'tls-blob', value: 'mangled', rawValue: bytes.toString('base64') } })
  t.equal(res.statusCode, 202)
  t.same(driver.secretValues.get('openfaas-fn/tls-blob'), bytes)
})

t.test('a backend without a secret store answers 501 with a reason', async (t) => {
  const plain = new MemoryDriver()
  Object.defineProperty(plain, 'secrets', { value: undefined })
  const { app } = await memoryApp(t, {}, [{ name: 'nosecrets', driver: plain, namespaces: ['plain-fn'] }])
  const r = await app.inject({ method: 'GET', url: '/system/secrets?namespace=plain-fn' })
  t.equal(r.statusCode, 501)
  t.match(r.body, /no secret store/)
})
