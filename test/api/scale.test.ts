import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

const fn = { service: 'cold-start-demo', image: 'ghcr.io/acme/cold-start-demo:0.1.0', envProcess: 'cat' }

t.test("the gateway's scale-from-zero call: no Content-Type, namespace in the query only", async (t) => {
  const { app, driver } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, namespace: 'staging-fn' } })
  const res = await app.inject({
    method: 'POST',
    url: '/system/scale-function/cold-start-demo?namespace=staging-fn',
    body: '{"serviceName":"cold-start-demo","replicas":3}',
    headers: { 'content-type': undefined }
  })
  t.equal(res.statusCode, 202)
  t.equal(driver.functions.get('staging-fn/cold-start-demo')?.replicas, 3)
  const status = (await app.inject({ method: 'GET', url: '/system/function/cold-start-demo?namespace=staging-fn' })).json()
  t.equal(status.replicas, 3)
})

t.test('the gateway forwarding a form-encoded Content-Type still parses as JSON', async (t) => {
  const { app, driver } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  const res = await app.inject({
    method: 'POST',
    url: '/system/scale-function/cold-start-demo?namespace=openfaas-fn',
    body: '{"serviceName":"cold-start-demo","replicas":2}',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }
  })
  t.equal(res.statusCode, 202)
  t.equal(driver.functions.get('openfaas-fn/cold-start-demo')?.replicas, 2)
})

t.test('faas-cli / go-sdk: namespace in the body; the query wins when both are given', async (t) => {
  const { app, driver } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: { ...fn, namespace: 'staging-fn' } })
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  t.equal((await app.inject({ method: 'POST', url: '/system/scale-function/cold-start-demo', payload: { serviceName: 'cold-start-demo', replicas: 0, namespace: 'staging-fn' } })).statusCode, 202)
  t.equal(driver.functions.get('staging-fn/cold-start-demo')?.replicas, 0)
  t.equal((await app.inject({ method: 'POST', url: '/system/scale-function/cold-start-demo?namespace=openfaas-fn', payload: { replicas: 4, namespace: 'staging-fn' } })).statusCode, 202)
  t.equal(driver.functions.get('openfaas-fn/cold-start-demo')?.replicas, 4)
  t.equal(driver.functions.get('staging-fn/cold-start-demo')?.replicas, 0)
})

t.test('the path names the function, not the body serviceName; unknown → 404', async (t) => {
  const { app } = await memoryApp(t)
  const res = await app.inject({ method: 'POST', url: '/system/scale-function/no-such-fn', payload: { serviceName: 'cold-start-demo', replicas: 1 } })
  t.equal(res.statusCode, 404)
  t.match(res.body, /no-such-fn/)
})

t.test('a scale call without a body is a 400 that says the body is missing', async (t) => {
  const { app } = await memoryApp(t)
  const res = await app.inject({ method: 'POST', url: '/system/scale-function/x' })
  t.equal(res.statusCode, 400)
  t.match(res.body, /body/)
})
