/*
 * Secrets over the tekton backend (the Kubernetes backend's shared store): create/list/update/
 * delete through /system/secrets; a function mounts its secrets at /var/openfaas/secrets/NAME; a
 * deploy naming a secret that does not exist is 400 and creates nothing.
 */
import t from 'tap'
import { TASKS } from '../../fakes/kubernetes/server.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('secrets: store, mount, missing → 400', async (t) => {
  const { url, fake, tekton } = await tektonApp(t)
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'token', value: 's3cr3t' })).status, 202)
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'token', value: 'again' })).status, 409)
  t.same((await api(url, 'GET', '/system/secrets')).json(), [{ name: 'token', namespace: NS }])
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('needs', { secrets: ['absent'] }))).status, 400, 'missing secret → 400')
  t.equal(fake.store.get(TASKS, NS, 'needs'), undefined, 'nothing deployed')
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('needs', { secrets: ['token'] }))).status, 202)
  const step = fake.store.get(TASKS, NS, 'needs')?.spec.steps[0]
  t.ok(step.volumeMounts.some((m: { mountPath: string, readOnly?: boolean }) => m.mountPath === '/var/openfaas/secrets' && m.readOnly === true), 'mounted read-only at /var/openfaas/secrets')
  tekton.handler = (run) => ({ stdout: run.secrets.token ?? 'none' })
  t.equal((await api(url, 'POST', '/function/needs', '')).text, 's3cr3t', 'the step reads /var/openfaas/secrets/token')
  t.same((await api(url, 'GET', '/system/function/needs')).json().secrets, ['token'])
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'token', value: 'new' })).status, 202)
  t.equal((await api(url, 'POST', '/function/needs', '')).text, 'new', 'each run mounts the current value')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'token' })).status, 202)
  t.same((await api(url, 'GET', '/system/secrets')).json(), [])
})
