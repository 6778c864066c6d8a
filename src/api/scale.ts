/*
 * POST /system/scale-function/{name}. The name comes from the path (faas-netes ignores the body's
 * serviceName); the namespace from the query (the gateway), then the body (faas-cli, go-sdk).
 * The gateway sends this body without a Content-Type: the catch-all parser in app.ts reads it.
 */
import type { FastifyPluginAsync } from 'fastify'
import { invalid, notFound } from '../core/errors.ts'
import { dns1123Problem } from '../core/names.ts'
import type { ScaleServiceRequest } from '../core/types.ts'
import { accepted, resolveNamespace, type SystemOptions } from './context.ts'
import { scaleSchema } from './schemas.ts'

export const scaleRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  app.post<{ Params: { name: string } }>('/system/scale-function/:name', {
    onRequest: opts.auth,
    schema: { body: scaleSchema }
  }, async (request, reply) => {
    const body = request.body as ScaleServiceRequest
    const { namespace, backend } = resolveNamespace(request, body.namespace, opts.backends)
    const name = request.params.name
    if (dns1123Problem(name) !== undefined) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    if (body.replicas > opts.maxReplicas) {
      throw invalid(`replicas ${body.replicas} is above this provider's limit of ${opts.maxReplicas} (max_replicas)`)
    }
    await backend.driver.scale(namespace, name, body.replicas)
    return accepted(reply)
  })
}
