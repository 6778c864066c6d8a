/*
 * POST /system/scale-function/NAME over the kubernetes backend: any count including 0 and back,
 * through the Deployment's /scale subresource (a merge patch); replicas is the spec at once,
 * availableReplicas follows the pods; at 0 an invocation is 503.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, functionServer, kubeApp, NS } from './helpers.ts'

t.test('scale up, to zero and back', async (t) => {
  const { url, fake } = await kubeApp(t)
  await functionServer(t, fake, NS, 'sc')
  await api(url, 'POST', '/system/functions', figlet('sc'))
  const waitFor = async (n: number): Promise<void> => {
    await eventually(async () => {
      const s = (await api(url, 'GET', '/system/function/sc')).json()
      check(s.replicas === n && s.availableReplicas === n && fake.pods(NS, 'sc').length === n, `replicas ${String(s.replicas)}, available ${String(s.availableReplicas)}, want ${n}`)
    }, { timeoutMs: 3000, what: `${n} replicas` })
  }
  await waitFor(1)
  fake.requests.length = 0
  t.equal((await api(url, 'POST', '/system/scale-function/sc', { serviceName: 'sc', replicas: 7 })).status, 202, 'above the CE cap of 5')
  const patches = fake.requestsTo(/^PATCH .*\/deployments\/sc\/scale$/)
  t.equal(patches.length, 1, 'through the scale subresource')
  t.match(patches[0]?.contentType, /^application\/merge-patch\+json/, 'as a merge patch')
  t.equal((await api(url, 'GET', '/system/function/sc')).json().replicas, 7, 'desired at once')
  await waitFor(7)

  t.equal((await api(url, 'POST', '/system/scale-function/sc', { replicas: 0 })).status, 202, 'scale to zero')
  await waitFor(0)
  const s0 = (await api(url, 'GET', '/system/function/sc')).json()
  t.notOk('replicas' in s0 && s0.replicas !== 0, 'replicas 0')
  const inv = await api(url, 'POST', '/function/sc', 'x')
  t.equal(inv.status, 503, 'no replica → 503')
  t.equal(inv.headers.get('x-openfaas-internal'), 'proxy')

  t.equal((await api(url, 'POST', '/system/scale-function/sc', { replicas: 1 })).status, 202, 'and back')
  await waitFor(1)
  t.equal((await api(url, 'POST', '/function/sc', 'x')).status, 200, 'invocable again')
})

t.test('scale errors', async (t) => {
  const { url } = await kubeApp(t)
  t.equal((await api(url, 'POST', '/system/scale-function/nope', { replicas: 1 })).status, 404, 'unknown function 404')
  await api(url, 'POST', '/system/functions', figlet('s'))
  t.equal((await api(url, 'POST', '/system/scale-function/s', { replicas: -1 })).status, 400, 'negative 400')
})
