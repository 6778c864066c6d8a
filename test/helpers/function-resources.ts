/*
 * The fake API server with the Function CRD, a kubectl of sorts, and the Function resource source
 * over it (real @kubernetes/client-node), for the reconciler's tests.
 */
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node'
import type { Test } from 'tap'
import { startFakeKubernetes, type FakeKubernetes } from '../fakes/kubernetes/server.ts'
import { functionResourceSource, type FunctionObject } from '../../providers/kubernetes/common/function-resources.ts'
import { makeKubeApi } from '../../providers/kubernetes/common/transport.ts'
import type { DeclarativeSource } from '../../src/reconcile/desired.ts'

export interface Kube {
  fake: FakeKubernetes
  /** kubectl, as far as these tests need it: a JSON request with the bearer token */
  kubectl: (method: string, path: string, body?: unknown, type?: string) => Promise<{ status: number, json: any }>
  get: (ns: string, name: string) => Promise<FunctionObject | undefined>
  apply: (ns: string, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => Promise<void>
  source: (namespaces: string[], map?: Record<string, string>) => DeclarativeSource
  warnings: string[]
}

export async function kube (t: Test, namespaces = ['openfaas-fn', 'team-a', 'team-b'], crd = true): Promise<Kube> {
  const fake = await startFakeKubernetes({ functions: crd })
  t.teardown(async () => { await fake.close() })
  for (const ns of namespaces) fake.createNamespace(ns)
  const config = new KubeConfig()
  config.loadFromString(fake.kubeconfig())
  const custom = makeKubeApi(config, CustomObjectsApi, { timeoutMs: 10_000 })
  const warnings: string[] = []
  const kubectl = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number, json: any }> => {
    // ?pretty=true (an API server parameter) tells these calls from the source's in fake.requests
    const res = await fetch(fake.url + path + (path.includes('?') ? '&' : '?') + 'pretty=true', {
      method,
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': type },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {})
    })
    return { status: res.status, json: await res.json() }
  }
  const base = (ns: string): string => `/apis/openfaas.com/v1/namespaces/${ns}/functions`
  return {
    fake,
    kubectl,
    warnings,
    async get (ns, name) {
      const r = await kubectl('GET', `${base(ns)}/${name}`)
      return r.status === 404 ? undefined : r.json as FunctionObject
    },
    async apply (ns, name, spec, annotations) {
      const cur = await kubectl('GET', `${base(ns)}/${name}`)
      const body = { apiVersion: 'openfaas.com/v1', kind: 'Function', metadata: { name, ...(annotations !== undefined ? { annotations } : {}) }, spec }
      const r = cur.status === 404
        ? await kubectl('POST', base(ns), body)
        : await kubectl('PATCH', `${base(ns)}/${name}`, { spec }, 'application/merge-patch+json')
      if (r.status >= 300) throw new Error(`apply ${ns}/${name}: ${r.status} ${JSON.stringify(r.json)}`)
    },
    source: (namespaces, map) => functionResourceSource({
      config, custom, namespaces, ...(map !== undefined ? { map } : {}),
      logger: { warn: (_o, m) => { warnings.push(m) } },
      now: () => new Date('2026-01-02T03:04:05Z')
    })
  }
}
