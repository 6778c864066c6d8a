/*
 * Every Kubernetes API call the kubernetes backend makes, as RBAC (apiGroup, resource, verbs):
 * the typed client calls in index.ts, invoke.ts and common/ (secrets, namespaces, pod logs) and
 * the raw requests (pods/log streams, the pods ?watch=true stream, the services/proxy used by
 * `invoke: proxy`). Subresources are resources of their own. The Helm chart's RBAC rules are
 * tested against this list; change it together with the code that makes a new call.
 */

export interface KubePermission {
  /** '' = the core group */
  apiGroup: string
  /** plural resource, or resource/subresource */
  resource: string
  verbs: string[]
}

export const KUBERNETES_PERMISSIONS: KubePermission[] = [
  // index.ts: read/list (status, list, holdsWorkloads), server-side apply (deploy, update: patch,
  // and create for an apply that creates), delete (remove, deploy rollback)
  // cache.ts: the informer lists and watches the functions' Deployments
  { apiGroup: 'apps', resource: 'deployments', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  // index.ts scale(): patchNamespacedDeploymentScale (merge patch)
  { apiGroup: 'apps', resource: 'deployments/scale', verbs: ['patch'] },
  // index.ts applyService()/remove(): server-side apply (patch, + create when it creates), delete
  { apiGroup: '', resource: 'services', verbs: ['create', 'patch', 'delete'] },
  // common/secrets.ts: list (managed), create, read (update, lookup of a deploy's secrets), replace, delete
  { apiGroup: '', resource: 'secrets', verbs: ['get', 'list', 'create', 'update', 'delete'] },
  // index.ts status/list and common/pod-logs.ts: listNamespacedPod; pod-logs follow: GET pods?watch=true
  { apiGroup: '', resource: 'pods', verbs: ['list', 'watch'] },
  // common/pod-logs.ts: GET /api/v1/namespaces/NS/pods/POD/log (raw, streamed)
  { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
  // common/namespaces.ts: list (labelled), read, create, replace, delete (cluster-scoped)
  { apiGroup: '', resource: 'namespaces', verbs: ['get', 'list', 'create', 'update', 'delete'] },
  // invoke.ts and cache.ts, invoke: endpoints — the EndpointSlice informer (list, watch)
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list', 'watch'] },
  // invoke.ts, invoke: proxy — /api/v1/namespaces/NS/services/NAME:8080/proxy/...; the verb is the
  // invocation's HTTP method (GET/HEAD get, POST create, PUT update, PATCH patch, DELETE delete)
  { apiGroup: '', resource: 'services/proxy', verbs: ['get', 'create', 'update', 'patch', 'delete'] }
]
