/*
 * GET /system/info (ProviderInfo; `version` is never null, or faas-cli version panics; with
 * `coordination`, who leads among the replicas — a field the gateway does not read) and
 * GET/HEAD /healthz (unauthenticated, empty 200).
 */
import type { FastifyPluginAsync } from 'fastify'
import type { ProviderInfo } from '../core/types.ts'
import type { SystemOptions } from './context.ts'

export const infoRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  const kinds = [...new Set(opts.backends.backends().map((b) => b.driver.kind))]
  const info: ProviderInfo = {
    provider: 'faas-bridge',
    version: { sha: opts.info.sha, release: opts.info.release },
    orchestration: kinds.join(',')
  }
  const { coordination } = opts
  app.get('/system/info', { onRequest: opts.auth }, async (): Promise<ProviderInfo> => {
    if (coordination === undefined) return info
    const v = coordination.view()
    return { ...info, coordination: { identity: v.identity, leader: v.leader ?? null, leading: v.leading, mode: v.mode } }
  })

  app.route({
    method: ['GET', 'HEAD'],
    url: '/healthz',
    exposeHeadRoute: false,
    handler: async (_request, reply) => reply.code(200).send()
  })
}
