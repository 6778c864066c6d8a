/*
 * Exactly the Kubernetes API calls the tekton backend makes, as RBAC rules (apiGroup, resource,
 * verbs). The Helm chart's Role/ClusterRole is checked against this list, and a test records the
 * backend's requests to the fake API server and holds them to it. Namespaces are cluster-scoped
 * (namespace CRUD needs a ClusterRole); everything else is namespaced.
 */
export const TEKTON_PERMISSIONS: Array<{ apiGroup: string, resource: string, verbs: string[] }> = [
  // functions (watch: the Task informer)
  { apiGroup: 'tekton.dev', resource: 'tasks', verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  // invocations: create, watch to the end, cancel (patch), prune
  { apiGroup: 'tekton.dev', resource: 'taskruns', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'] },
  // each call's request (headers and body) as the TaskRun's workspace
  { apiGroup: '', resource: 'configmaps', verbs: ['list', 'create', 'delete'] },
  // the run slots (cluster-runs.ts): claim (create), wait for one (list, watch), take over an
  // expired one and renew (update), read back after a failed renewal (get), release (delete)
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
  // logs of the TaskRun pods (follow watches for new runs), large responses, failure log tails
  { apiGroup: '', resource: 'pods', verbs: ['list', 'watch'] },
  { apiGroup: '', resource: 'pods/log', verbs: ['get'] },
  // /system/secrets (shared KubernetesSecretStore) and the check that a function's secrets exist
  { apiGroup: '', resource: 'secrets', verbs: ['get', 'list', 'create', 'update', 'delete'] },
  // /system/namespaces (shared KubernetesNamespaceStore)
  { apiGroup: '', resource: 'namespaces', verbs: ['get', 'list', 'create', 'update', 'delete'] }
]
