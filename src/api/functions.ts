/*
 * /system/functions (list, deploy, update, delete) and /system/function/{name} (status).
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { notFound } from '../core/errors.ts'
import { dns1123Problem } from '../core/names.ts'
import type { DeleteFunctionRequest, FunctionDeployment } from '../core/types.ts'
import { normaliseDeployment } from '../core/validate.ts'
import { accepted, resolveNamespace, type SystemOptions } from './context.ts'
import { listJson } from './frozen-json.ts'
import { deleteFunctionSchema, functionDeploymentSchema } from './schemas.ts'

export const functionRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  const { backends } = opts
  const authGuard = opts.auth

  app.get('/system/functions', { onRequest: authGuard }, async (request, reply) => {
    const { namespace, backend } = resolveNamespace(request, undefined, backends)
    // fastify's own content type for a JSON answer; the text is JSON.stringify's (frozen-json.ts)
    const list = await backend.driver.list(namespace)
    return reply.type('application/json; charset=utf-8').send(listJson(list))
  })

  const deployOrUpdate = (kind: 'deploy' | 'update') => async (request: FastifyRequest, reply: FastifyReply) => {
    const fn = normaliseDeployment(request.body as FunctionDeployment)
    const { namespace, backend } = resolveNamespace(request, fn.namespace, backends)
    const spec = { ...fn, namespace }
    await backend.driver[kind](spec)
    return accepted(reply)
  }
  app.post('/system/functions', { onRequest: authGuard, schema: { body: functionDeploymentSchema } }, deployOrUpdate('deploy'))
  app.put('/system/functions', { onRequest: authGuard, schema: { body: functionDeploymentSchema } }, deployOrUpdate('update'))

  app.delete('/system/functions', { onRequest: authGuard, schema: { body: deleteFunctionSchema } }, async (request, reply) => {
    const body = request.body as DeleteFunctionRequest
    const { namespace, backend } = resolveNamespace(request, body.namespace, backends)
    if (dns1123Problem(body.functionName) !== undefined) throw notFound(`function "${body.functionName}" not found in namespace "${namespace}"`)
    await backend.driver.remove(namespace, body.functionName)
    opts.onFunctionRemoved?.(namespace, body.functionName)
    return accepted(reply)
  })

  app.get<{ Params: { name: string } }>('/system/function/:name', { onRequest: authGuard }, async (request) => {
    const { namespace, backend } = resolveNamespace(request, undefined, backends)
    const name = request.params.name
    if (dns1123Problem(name) !== undefined) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    return await backend.driver.status(namespace, name)
  })
}
