import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

t.test('GET /system/namespaces lists every configured namespace', async (t) => {
  const { app } = await memoryApp(t)
  const res = await app.inject({ method: 'GET', url: '/system/namespaces' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), ['openfaas-fn', 'staging-fn'])
})

t.test('namespace CRUD as go-sdk sends it', async (t) => {
  const { app } = await memoryApp(t)
  const body = { name: 'team-a', labels: { openfaas: '1' }, annotations: { openfaas: '1' } }
  const create = await app.inject({ method: 'POST', url: '/system/namespace/', payload: body })
  t.equal(create.statusCode, 201)
  t.equal((await app.inject({ method: 'POST', url: '/system/namespace/', payload: body })).statusCode, 409)
  t.same((await app.inject({ method: 'GET', url: '/system/namespaces' })).json(), ['openfaas-fn', 'staging-fn', 'team-a'])
  const got = await app.inject({ method: 'GET', url: '/system/namespace/team-a' })
  t.equal(got.statusCode, 200)
  t.same(got.json(), body)
  const upd = await app.inject({ method: 'PUT', url: '/system/namespace/team-a', payload: { ...body, labels: { openfaas: '1', tier: 'gold' } } })
  t.equal(upd.statusCode, 202)
  t.equal((await app.inject({ method: 'GET', url: '/system/namespace/team-a' })).json().labels.tier, 'gold')
  const mismatch = await app.inject({ method: 'PUT', url: '/system/namespace/team-a', payload: { name: 'team-b' } })
  t.equal(mismatch.statusCode, 400)
  t.match(mismatch.body, /does not match/)
  // a function can be deployed into it at once
  const dep = await app.inject({ method: 'POST', url: '/system/functions', payload: { service: 'f', image: 'i:1', namespace: 'team-a' } })
  t.equal(dep.statusCode, 202)
  t.equal((await app.inject({ method: 'DELETE', url: '/system/namespace/team-a', payload: { name: 'team-a' } })).statusCode, 400, 'not while it holds functions')
  await app.inject({ method: 'DELETE', url: '/system/functions', payload: { functionName: 'f', namespace: 'team-a' } })
  t.equal((await app.inject({ method: 'DELETE', url: '/system/namespace/team-a', payload: { name: 'team-a', labels: { openfaas: '1' } } })).statusCode, 202)
  t.equal((await app.inject({ method: 'GET', url: '/system/namespace/team-a' })).statusCode, 404)
  t.equal((await app.inject({ method: 'DELETE', url: '/system/namespace/team-a' })).statusCode, 404)
})

t.test('configured namespaces can be read but not removed through the API', async (t) => {
  const { app } = await memoryApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/system/namespace/staging-fn' })).statusCode, 200)
  t.equal((await app.inject({ method: 'DELETE', url: '/system/namespace/openfaas-fn' })).statusCode, 400)
  t.equal((await app.inject({ method: 'GET', url: '/system/namespace/nowhere' })).statusCode, 404)
})

t.test('a namespace name that is not a DNS-1123 label is refused', async (t) => {
  const { app } = await memoryApp(t)
  const res = await app.inject({ method: 'POST', url: '/system/namespace/', payload: { name: 'Team_A' } })
  t.equal(res.statusCode, 400)
  t.match(res.body, /DNS-1123/)
})
