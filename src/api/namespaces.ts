/*
 * GET /system/namespaces (never authenticated, as in faas-provider) and namespace CRUD on
 * /system/namespace/{name}, shaped as faasd and go-sdk use it: create is POST to
 * /system/namespace/ with an empty name (201, 409 when it exists); update needs the body's name to
 * match the path; mutations are authenticated here (the gateway always sends credentials).
 */
import type { FastifyPluginAsync } from 'fastify'
import { invalid } from '../core/errors.ts'
import type { FunctionNamespace } from '../core/types.ts'
import { normaliseNamespace } from '../core/validate.ts'
import { accepted, type SystemOptions } from './context.ts'
import { namespaceSchema } from './schemas.ts'

export const namespaceRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  const { backends } = opts
  const authGuard = opts.auth

  app.get('/system/namespaces', async () => backends.namespaces())

  app.get<{ Params: { name: string } }>('/system/namespace/:name', { onRequest: authGuard }, async (request) => {
    const name = request.params.name
    if (name === '') throw invalid('namespace name is required in the path: /system/namespace/NAME')
    return await backends.getNamespace(name)
  })

  app.post<{ Params: { name: string } }>('/system/namespace/:name', { onRequest: authGuard, schema: { body: namespaceSchema } }, async (request, reply) => {
    const ns = normaliseNamespace(request.body as FunctionNamespace)
    if (request.params.name !== '' && request.params.name !== ns.name) {
      throw invalid(`the body's name "${ns.name}" does not match the path's "${request.params.name}"`)
    }
    await backends.createNamespace(ns)
    return reply.code(201).send()
  })

  app.put<{ Params: { name: string } }>('/system/namespace/:name', { onRequest: authGuard, schema: { body: namespaceSchema } }, async (request, reply) => {
    const ns = normaliseNamespace(request.body as FunctionNamespace)
    if (request.params.name !== ns.name) {
      throw invalid(`the body's name "${ns.name}" does not match the path's "${request.params.name}"`)
    }
    await backends.updateNamespace(ns)
    return accepted(reply)
  })

  app.delete<{ Params: { name: string } }>('/system/namespace/:name', { onRequest: authGuard }, async (request, reply) => {
    const name = request.params.name
    if (name === '') throw invalid('namespace name is required in the path: /system/namespace/NAME')
    await backends.removeNamespace(name)
    return accepted(reply)
  })
}
