/*
 * The one place where failures become HTTP responses. ProviderErrors carry their status through
 * the table in core/errors.ts; Fastify's own errors (validation, body size, media type) are
 * rephrased so the caller learns what is wrong; anything unexpected is a 500 whose details go to
 * the log, not to the caller. Bodies are plain text like faas-provider's http.Error.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isProviderError } from '../core/errors.ts'

export function sendText (reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .send(message.endsWith('\n') || message === '' ? message : `${message}\n`)
}

function describeValidation (err: FastifyError): string {
  const first = err.validation?.[0]
  if (first === undefined) return err.message
  const where = err.validationContext ?? 'body'
  const field = first.instancePath === '' ? where : `${where}${first.instancePath.replaceAll('/', '.')}`
  if (first.keyword === 'required') {
    return `invalid request: ${where}.${String(first.params.missingProperty)} is required`
  }
  return `invalid request: ${field} ${first.message ?? 'is invalid'}`
}

export function registerErrorHandling (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (isProviderError(err)) {
      if (err.statusCode >= 500) request.log.warn({ err: { code: err.code, message: err.message } }, 'backend error')
      return sendText(reply, err.statusCode, err.message)
    }
    if (err.validation !== undefined) return sendText(reply, 400, describeValidation(err))
    switch (err.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendText(reply, 413, `request body is larger than the limit of ${request.routeOptions.bodyLimit ?? 0} bytes`)
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendText(reply, 400, err.message)
    }
    const status = err.statusCode ?? 500
    if (status < 500) return sendText(reply, status, err.message)
    request.log.error({ err }, 'unhandled error')
    return sendText(reply, 500, 'internal error')
  })

  // gorilla/mux's answer for an unknown path, which clients are used to
  app.setNotFoundHandler((_request, reply) => sendText(reply, 404, '404 page not found'))
}
