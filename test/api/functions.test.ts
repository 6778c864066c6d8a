import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

const fn = { service: 'text-echo', image: 'ghcr.io/acme/text-echo:0.3.1', envProcess: 'cat', labels: {}, annotations: {} }

t.test('faas-cli first deploy: PUT answers 404, then POST answers 202', async (t) => {
  const { app } = await memoryApp(t)
  const put = await app.inject({ method: 'PUT', url: '/system/functions', payload: fn })
  t.equal(put.statusCode, 404)
  t.match(put.body, /text-echo/)
  const post = await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  t.equal(post.statusCode, 202)
  t.equal(post.body, '')
  const again = await app.inject({ method: 'PUT', url: '/system/functions', payload: { ...fn, image: 'ghcr.io/acme/text-echo:0.3.2' } })
  t.equal(again.statusCode, 202)
  const status = await app.inject({ method: 'GET', url: '/system/function/text-echo' })
  t.equal(status.json().image, 'ghcr.io/acme/text-echo:0.3.2')
})

t.test('a duplicate POST is a 409 and leaves the first deployment alone', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  const dup = await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, image: 'other:1' } })
  t.equal(dup.statusCode, 409)
  t.equal((await app.inject({ method: 'GET', url: '/system/function/text-echo' })).json().image, fn.image)
})

t.test('list is [] when empty, then full FunctionStatus items with namespace and createdAt', async (t) => {
  const { app } = await memoryApp(t)
  const empty = await app.inject({ method: 'GET', url: '/system/functions' })
  t.equal(empty.statusCode, 200)
  t.match(empty.headers['content-type'], /application\/json/)
  t.equal(empty.body, '[]')
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, envVars: { A: '1' }, labels: { team: 'x' } } })
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, namespace: 'staging-fn' } })
  const list = (await app.inject({ method: 'GET', url: '/system/functions' })).json()
  t.equal(list.length, 1)
  t.match(list[0], { name: 'text-echo', image: fn.image, namespace: 'openfaas-fn', envProcess: 'cat', envVars: { A: '1' }, labels: { team: 'x' }, replicas: 1, availableReplicas: 1 })
  t.notOk('service' in list[0], 'the wire name is "name", not "service"')
  t.ok(!Number.isNaN(Date.parse(list[0].createdAt)) && /T.*Z$/.test(list[0].createdAt), 'createdAt is RFC3339')
  const staging = (await app.inject({ method: 'GET', url: '/system/functions?namespace=staging-fn' })).json()
  t.equal(staging.length, 1)
  t.equal(staging[0].namespace, 'staging-fn')
})

t.test('status: 200 for a function, 404 for an unknown one, namespace from the query', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, namespace: 'staging-fn' } })
  t.equal((await app.inject({ method: 'GET', url: '/system/function/text-echo?namespace=staging-fn&usage=1' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/system/function/text-echo' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/system/function/No.Such' })).statusCode, 404)
})

t.test('delete: namespace from the body (faas-cli) or the query (faas-netes); 404 when missing', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, namespace: 'staging-fn' } })
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  const viaBody = await app.inject({ method: 'DELETE', url: '/system/functions', payload: { functionName: 'text-echo', namespace: 'staging-fn' } })
  t.equal(viaBody.statusCode, 202)
  const viaQuery = await app.inject({ method: 'DELETE', url: '/system/functions?namespace=openfaas-fn', payload: { functionName: 'text-echo' } })
  t.equal(viaQuery.statusCode, 202)
  const missing = await app.inject({ method: 'DELETE', url: '/system/functions', payload: { functionName: 'no-such-fn' } })
  t.equal(missing.statusCode, 404)
})

t.test('a DELETE body without a Content-Type is still read', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  const res = await app.inject({ method: 'DELETE', url: '/system/functions', body: JSON.stringify({ functionName: 'text-echo' }), headers: { 'content-type': undefined } })
  t.equal(res.statusCode, 202)
})

t.test('labels: null and unknown old fields (network, registryAuth) are accepted', async (t) => {
  const { app, driver } = await memoryApp(t)
  const res = await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, labels: null, annotations: null, network: 'func_functions', registryAuth: 'x' } })
  t.equal(res.statusCode, 202)
  const stored = driver.functions.get('openfaas-fn/text-echo')?.spec
  t.notOk(stored !== undefined && 'labels' in stored, 'null labels are dropped')
  t.notOk(stored !== undefined && ('network' in stored || 'registryAuth' in stored), 'unknown fields are not passed on')
})

t.test('a backend failure is a 500 carrying the backend reason; nothing reports success', async (t) => {
  const { app, driver } = await memoryApp(t)
  driver.failNext('deploy', 'quota exceeded')
  const res = await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  t.equal(res.statusCode, 500)
  t.match(res.body, /quota exceeded/)
  t.equal((await app.inject({ method: 'GET', url: '/system/function/text-echo' })).statusCode, 404)
})
