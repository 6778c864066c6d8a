/*
 * Coordination between the replicas of one provider deployment: "am I the leader", "tell me when
 * that changes", "what load do my peers see". The autoscaler (and later the reconciler) asks this
 * contract; none of them knows how leadership is decided. The default, SingleProcess, is one
 * process that always leads and has no peers. The Kubernetes Lease implementation lives with the
 * Kubernetes plumbing (providers/kubernetes/common/lease-coordination.ts) and is chosen by
 * src/main.ts.
 */

/** leader election among provider replicas: client-go's usual values */
export const DEFAULT_LEASE_NAME = 'faas-bridge'
export const DEFAULT_LEASE_DURATION_MS = 15_000
export const DEFAULT_RENEW_DEADLINE_MS = 10_000
export const DEFAULT_RETRY_PERIOD_MS = 2000
/** how long the leader waits for one peer's load before it holds */
export const DEFAULT_PEER_TIMEOUT_MS = 1000
/** the port of the provider's Service the peers are reached on (the chart names it http) */
export const DEFAULT_PEER_PORT_NAME = 'http'

/** One function's counters as one replica's invoke proxy counted them (cumulative since it started). */
export interface FunctionLoad {
  namespace: string
  name: string
  /** requests being served or held right now */
  inflight: number
  completed: number
  /** completed with a 2xx status */
  ok: number
  busySeconds: number
}

/** What one peer reported. */
export interface PeerReport {
  /** the peer's identity (its pod name) */
  identity: string
  functions: FunctionLoad[]
}

export interface PeerLoad {
  /** the peers that answered */
  peers: PeerReport[]
  /** peers that are members but did not answer (the caller holds its decisions) */
  missing: string[]
}

export interface LeadershipView {
  /** this process */
  identity: string
  /** this process may act for the whole deployment now */
  leading: boolean
  /** who holds the leadership as last seen; undefined when unknown or nobody */
  leader: string | undefined
  /** 'single' (one process, always leads) or the mechanism's name ('kubernetes-lease') */
  mode: string
}

export interface Coordination {
  readonly identity: string
  /** true while this process may decide for the whole deployment */
  isLeader: () => boolean
  view: () => LeadershipView
  /** called with the new value each time isLeader() changes; returns an unsubscribe */
  onLeadershipChange: (listener: (leading: boolean) => void) => () => void
  /** the other replicas' counters, read now (bounded by the implementation's timeout) */
  peerLoad: () => Promise<PeerLoad>
  start: () => Promise<void>
  /** gives up leadership (so another replica takes over at once) and stops */
  stop: () => Promise<void>
}

/** One process: always the leader, no peers. */
export class SingleProcess implements Coordination {
  readonly identity: string

  constructor (identity = 'single') {
    this.identity = identity
  }

  isLeader (): boolean {
    return true
  }

  view (): LeadershipView {
    return { identity: this.identity, leading: true, leader: this.identity, mode: 'single' }
  }

  onLeadershipChange (): () => void {
    return () => {}
  }

  async peerLoad (): Promise<PeerLoad> {
    return { peers: [], missing: [] }
  }

  async start (): Promise<void> {}
  async stop (): Promise<void> {}
}
