/*
 * Coordination (src/core/coordination.ts) for several provider replicas in a cluster: leadership
 * from a Lease (lease.ts), peers and their load from the provider's own Service (peers.ts). Chosen
 * by src/main.ts when leader election is on; it connects like the Kubernetes-based backends do.
 */
import type { Coordination, LeadershipView, PeerLoad } from '../../../src/core/coordination.ts'
import { loadKubeConfig, type KubeConnectionOptions } from './client.ts'
import { LeaseElector, type LeaseElectionOptions, type LeaseLogger } from './lease.ts'
import { ServicePeers, type PeerOptions } from './peers.ts'

export interface LeaseCoordinationOptions {
  connection: KubeConnectionOptions
  lease: LeaseElectionOptions
  peers: Omit<PeerOptions, 'identity'>
  logger: LeaseLogger
}

export class LeaseCoordination implements Coordination {
  private readonly elector: LeaseElector
  private readonly peers: ServicePeers

  constructor (opts: LeaseCoordinationOptions) {
    const { config } = loadKubeConfig(opts.connection)
    this.elector = new LeaseElector(config, opts.lease, opts.logger)
    this.peers = new ServicePeers(config, { ...opts.peers, identity: opts.lease.identity })
  }

  get identity (): string {
    return this.elector.identity
  }

  isLeader (): boolean {
    return this.elector.isLeader()
  }

  view (): LeadershipView {
    return { identity: this.identity, leading: this.isLeader(), leader: this.elector.leader(), mode: 'kubernetes-lease' }
  }

  onLeadershipChange (listener: (leading: boolean) => void): () => void {
    return this.elector.onChange(listener)
  }

  async peerLoad (): Promise<PeerLoad> {
    return await this.peers.load()
  }

  async start (): Promise<void> {
    this.elector.start()
  }

  async stop (): Promise<void> {
    await this.elector.stop()
  }
}

export function createLeaseCoordination (opts: LeaseCoordinationOptions): Coordination {
  return new LeaseCoordination(opts)
}
