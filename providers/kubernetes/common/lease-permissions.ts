/*
 * The Kubernetes API calls of leader election (lease.ts) and peer discovery (peers.ts), as RBAC
 * rules, in the provider's own namespace. The chart's rbac.leaderElectionRules are held to this list.
 */
export const LEADER_ELECTION_PERMISSIONS: Array<{ apiGroup: string, resource: string, verbs: string[] }> = [
  // read, create, renew and release the Lease (replace with its resourceVersion)
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'] },
  // the peers: ready endpoints of the provider's own Service
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list'] }
]
