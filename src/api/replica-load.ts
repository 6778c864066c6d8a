/*
 * GET /system/replica-load: this replica's own per-function counters (cumulative since it started)
 * and its identity. The leader among several provider replicas reads it from each peer on every
 * autoscaler tick and decides on the sum (src/autoscale/cluster-load.ts). Behind basic auth like
 * every /system route.
 */
import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify'
import type { Coordination, FunctionLoad } from '../core/coordination.ts'

export interface ReplicaLoadOptions {
  auth?: onRequestAsyncHookHandler
  coordination: Coordination
  /** the counters; none when the autoscaler is off */
  load: () => FunctionLoad[]
}

export const replicaLoadRoutes: FastifyPluginAsync<ReplicaLoadOptions> = async (app, opts) => {
  app.get('/system/replica-load', { onRequest: opts.auth }, async () => {
    const v = opts.coordination.view()
    return { identity: v.identity, leading: v.leading, functions: opts.load() }
  })
}
