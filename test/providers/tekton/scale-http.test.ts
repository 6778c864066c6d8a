/*
 * /system/scale-function over the tekton backend: replicas (= available) follow at once; 0 makes
 * invocations 503 until scaled up again; unknown function 404.
 */
import t from 'tap'
import { api, fnSpec, tektonApp } from './helpers.ts'

t.test('scale sets the maximum of concurrent runs; 0 → 503', async (t) => {
  const { url } = await tektonApp(t)
  await api(url, 'POST', '/system/functions', fnSpec('sc', { labels: { 'com.openfaas.scale.min': '2' } }))
  t.equal((await api(url, 'GET', '/system/function/sc')).json().replicas, 2, 'scale.min sets the first value')
  t.equal((await api(url, 'POST', '/system/scale-function/sc', { replicas: 4 })).status, 202)
  const s = (await api(url, 'GET', '/system/function/sc')).json()
  t.equal(s.replicas, 4)
  t.equal(s.availableReplicas, 4, 'available = replicas while the Task exists')
  t.equal((await api(url, 'POST', '/system/scale-function/sc', { replicas: 0 })).status, 202)
  t.equal((await api(url, 'GET', '/system/function/sc')).json().availableReplicas, 0)
  const r = await api(url, 'POST', '/function/sc', 'x')
  t.equal(r.status, 503, 'scaled to 0: 503')
  t.match(r.text, /No endpoints available for: sc/)
  await api(url, 'POST', '/system/scale-function/sc', { replicas: 1 })
  t.equal((await api(url, 'POST', '/function/sc', 'back')).text, 'back', 'invocable again')
  t.equal((await api(url, 'POST', '/system/scale-function/ghost', { replicas: 1 })).status, 404)
})
