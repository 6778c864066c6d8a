/*
 * What the kubernetes backend caches (common/informer.ts), per served namespace: its functions'
 * Deployments (managed-by + faas_function selected), their Pods (faas_function) for status
 * annotations, and EndpointSlices (every Service's: kubernetes.io/service-name) for the
 * endpoints invoke mode. Objects come from the watch as plain JSON: timestamps are strings,
 * which status.ts reads as well as Dates.
 */
import type { AppsV1Api, CoreV1Api, DiscoveryV1Api, V1Deployment, V1EndpointSlice, V1Pod } from '@kubernetes/client-node'
import type { CachedResource } from './common/cache-set.ts'
import { kubeCall } from './common/errors.ts'
import { FUNCTION_LABEL } from './mapping.ts'

export const DEPLOYMENTS = 'deployments.apps'
export const PODS = 'pods'
export const ENDPOINT_SLICES = 'endpointslices.discovery.k8s.io'
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'

export function deploymentsCache (apps: AppsV1Api, selector: string): CachedResource<V1Deployment> {
  return {
    resource: DEPLOYMENTS,
    path: (ns) => `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/deployments`,
    labelSelector: selector,
    list: async (namespace) => await kubeCall({ verb: 'list', resource: DEPLOYMENTS, namespace },
      async () => await apps.listNamespacedDeployment({ namespace, labelSelector: selector }))
  }
}

export function podsCache (core: CoreV1Api): CachedResource<V1Pod> {
  return {
    resource: PODS,
    path: (ns) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`,
    labelSelector: FUNCTION_LABEL,
    list: async (namespace) => await kubeCall({ verb: 'list', resource: PODS, namespace },
      async () => await core.listNamespacedPod({ namespace, labelSelector: FUNCTION_LABEL }))
  }
}

export function endpointSlicesCache (discovery: DiscoveryV1Api): CachedResource<V1EndpointSlice> {
  return {
    resource: ENDPOINT_SLICES,
    path: (ns) => `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(ns)}/endpointslices`,
    labelSelector: SERVICE_NAME_LABEL,
    list: async (namespace) => await kubeCall({ verb: 'list', resource: ENDPOINT_SLICES, namespace },
      async () => await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: SERVICE_NAME_LABEL }))
  }
}
