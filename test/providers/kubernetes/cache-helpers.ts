/*
 * Helpers for the informer-cache tests of the Kubernetes-based backends (kubernetes, tekton):
 * which recorded requests are the informers' open watches, what else reached the fake API
 * server, and one /metrics series of one cache.
 */
import type { FakeKubernetes, RecordedRequest } from '../../fakes/kubernetes/server.ts'
import { api } from './helpers.ts'

export const isWatch = (r: RecordedRequest): boolean => /[?&]watch=(true|1)/.test(r.query)
/** requests at the fake that are not the informers' open watches */
export const apiCalls = (fake: FakeKubernetes): RecordedRequest[] => fake.requests.filter((r) => !isWatch(r))

/** the value of /metrics series `name` for `namespace`'s cache of `resource` (and `extra` label, e.g. 'state="synced"') */
export async function cacheMetric (url: string, name: string, resource: string, namespace: string, extra = ''): Promise<number | undefined> {
  const text = (await api(url, 'GET', '/metrics')).text
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue
    const labels = line.slice(name.length + 1, line.lastIndexOf('}'))
    if (labels.includes(`resource="${resource}"`) && labels.includes(`namespace="${namespace}"`) && labels.includes(extra)) return Number(line.slice(line.lastIndexOf(' ') + 1))
  }
  return undefined
}
