/*
 * /system/secrets: list (names only, never values), create (409 when it exists), update and
 * delete (404 when missing). Namespace from the query, then the body, then the default.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { SecretStore } from '../core/driver.ts'
import { unsupported } from '../core/errors.ts'
import type { Secret } from '../core/types.ts'
import { assertSecretName, secretBytes } from '../core/validate.ts'
import { accepted, resolveNamespace, type SystemOptions } from './context.ts'
import { secretSchema } from './schemas.ts'

export const secretRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  const storeFor = (request: FastifyRequest, bodyNamespace?: string): { namespace: string, store: SecretStore } => {
    const { namespace, backend } = resolveNamespace(request, bodyNamespace, opts.backends)
    const store = backend.driver.secrets
    if (store === undefined) throw unsupported(`backend "${backend.name}" (${backend.driver.kind}) has no secret store`)
    return { namespace, store }
  }
  const authGuard = opts.auth

  app.get('/system/secrets', { onRequest: authGuard }, async (request) => {
    const { namespace, store } = storeFor(request)
    return await store.list(namespace)
  })

  const write = (op: 'create' | 'update') => async (request: FastifyRequest) => {
    const body = request.body as Secret
    assertSecretName(body.name)
    const { namespace, store } = storeFor(request, body.namespace)
    await store[op]({ name: body.name, namespace, value: secretBytes(body) })
  }
  app.post('/system/secrets', { onRequest: authGuard, schema: { body: secretSchema } }, async (request, reply) => {
    await write('create')(request)
    return accepted(reply)
  })
  app.put('/system/secrets', { onRequest: authGuard, schema: { body: secretSchema } }, async (request, reply) => {
    await write('update')(request)
    return accepted(reply)
  })

  app.delete('/system/secrets', { onRequest: authGuard, schema: { body: secretSchema } }, async (request, reply) => {
    const body = request.body as Secret
    assertSecretName(body.name)
    const { namespace, store } = storeFor(request, body.namespace)
    await store.remove(namespace, body.name)
    return accepted(reply)
  })
}
