/*
 * Scaling through the HTTP API: 0 → reserved concurrency 0 (replicas 0, invoke 503), N > 0 → the
 * reservation deleted (replicas N, available N once Active, invoke works again).
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('scale to zero and back', async (t) => {
  const { url, fake } = await lambdaApp(t)
  await deployReady(url, { service: 'sc', image: image('echo') })
  t.equal((await api(url, 'POST', '/function/sc', 'hi')).status, 200, 'invocable')

  t.equal((await api(url, 'POST', '/system/scale-function/sc', { serviceName: 'sc', replicas: 0 })).status, 202)
  t.equal(fake.state.functions.get('aws_sc')?.reserved, 0, 'reserved concurrency 0')
  const zero = (await api(url, 'GET', '/system/function/sc')).json() as { replicas?: number, availableReplicas?: number }
  t.same([zero.replicas ?? 0, zero.availableReplicas ?? 0], [0, 0])
  const inv = await api(url, 'POST', '/function/sc', 'hi')
  t.equal(inv.status, 503, 'invoke at zero → 503')
  t.equal(inv.headers.get('x-openfaas-internal'), 'proxy')

  t.equal((await api(url, 'POST', '/system/scale-function/sc', { serviceName: 'sc', replicas: 3 })).status, 202)
  t.equal(fake.state.functions.get('aws_sc')?.reserved, undefined, 'reservation deleted')
  const up = (await api(url, 'GET', '/system/function/sc')).json() as { replicas?: number, availableReplicas?: number }
  t.same([up.replicas, up.availableReplicas], [3, 3])
  t.equal((await api(url, 'POST', '/function/sc', 'hi')).status, 200, 'invocable again')

  t.equal((await api(url, 'POST', '/system/scale-function/nope', { serviceName: 'nope', replicas: 1 })).status, 404)
})

t.test('an invoke racing a scale to zero (stale upstream cache) is still 503', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: { upstreamCacheMs: 60_000 } })
  await deployReady(url, { service: 'race', image: image('echo') })
  t.equal((await api(url, 'POST', '/function/race', 'hi')).status, 200)
  const fn = fake.state.functions.get('aws_race')
  if (fn !== undefined) fn.reserved = 0 // scaled by someone else: the driver's cache still says ready
  const r = await api(url, 'POST', '/function/race', 'hi')
  t.equal(r.status, 503, 'ReservedFunctionConcurrentInvocationLimitExceeded → 503, not retried')
  t.equal(fake.count('Lambda.Invoke'), 2, 'one attempt')
})
