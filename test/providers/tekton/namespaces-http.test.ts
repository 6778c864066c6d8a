/*
 * Namespaces over the tekton backend (the shared Kubernetes NamespaceStore): the configured
 * namespaces are listed, functions live per namespace, GET of a known and an unknown one.
 */
import t from 'tap'
import { api, fnSpec, tektonApp } from './helpers.ts'

t.test('namespaces: configured ones listed, functions per namespace, get', async (t) => {
  const { url } = await tektonApp(t)
  t.equal((await api(url, 'POST', '/system/namespace/', { name: 'ci-staging', labels: { openfaas: '1' } })).status, 409, 'a configured namespace that exists: 409')
  const ns = (await api(url, 'GET', '/system/namespaces')).json()
  t.ok(ns.includes('ci') && ns.includes('ci-staging'), 'configured namespaces are listed')
  t.equal((await api(url, 'POST', '/system/functions', fnSpec('f', { namespace: 'ci-staging' }))).status, 202)
  t.equal((await api(url, 'GET', '/system/functions?namespace=ci-staging')).json()[0].name, 'f')
  t.equal((await api(url, 'GET', '/system/namespace/ci')).status, 200)
  t.equal((await api(url, 'GET', '/system/namespace/nope')).status, 404)
})
