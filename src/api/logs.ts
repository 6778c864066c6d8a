/*
 * GET /system/logs: query name, namespace, instance, tail, follow, since (faas-provider's
 * logs.Request). Bad tail or since → 422; unknown function → 404; the stream is NDJSON, flushed at
 * once, and ends when the backend's stream ends, the client leaves, or write_timeout passes.
 */
import type { FastifyPluginAsync } from 'fastify'
import type { LogQuery } from '../core/driver.ts'
import { notFound, unprocessable } from '../core/errors.ts'
import { dns1123Problem } from '../core/names.ts'
import { queryValue, resolveNamespace, type SystemOptions } from './context.ts'
import { writeNdjson } from './ndjson.ts'

/** RFC3339 with optional fraction and a zone, as Go's time.Parse(time.RFC3339, ...) accepts */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True'])

export function parseLogQuery (get: (key: string) => string | undefined): Omit<LogQuery, 'namespace'> {
  const name = get('name') ?? ''
  if (name === '') throw unprocessable('could not parse the log request: name is required')
  const tailText = get('tail')
  let tail: number | undefined
  if (tailText !== undefined) {
    if (!/^[-+]?\d+$/.test(tailText)) throw unprocessable(`could not parse the log request: tail "${tailText}" is not an integer`)
    const n = Number(tailText)
    tail = n > 0 ? n : undefined // ≤ 0 means everything
  }
  const sinceText = get('since')
  let since: Date | undefined
  if (sinceText !== undefined && sinceText !== '') {
    const t = Date.parse(sinceText)
    if (!RFC3339.test(sinceText) || Number.isNaN(t)) {
      throw unprocessable(`could not parse the log request: since "${sinceText}" is not an RFC3339 time`)
    }
    since = new Date(t)
  }
  const instance = get('instance')
  return {
    name,
    ...(instance !== undefined && instance !== '' ? { instance } : {}),
    ...(tail !== undefined ? { tail } : {}),
    ...(since !== undefined ? { since } : {}),
    // Go's strconv.ParseBool; anything unparsable is false
    follow: GO_TRUE.has(get('follow') ?? '')
  }
}

export const logRoutes: FastifyPluginAsync<SystemOptions> = async (app, opts) => {
  app.get('/system/logs', { onRequest: opts.auth }, async (request, reply) => {
    const parsed = parseLogQuery((key) => queryValue(request, key))
    const { namespace, backend } = resolveNamespace(request, undefined, opts.backends)
    if (dns1123Problem(parsed.name) !== undefined) throw notFound(`function "${parsed.name}" not found in namespace "${namespace}"`)
    const abort = new AbortController()
    // set-up failures (unknown function, backend down) reject here, while a status code can still say so
    const messages = await backend.driver.logs({ ...parsed, namespace }, abort.signal)
    reply.hijack()
    try {
      await writeNdjson(reply.raw, messages, { timeoutMs: opts.writeTimeoutMs, signal: abort })
    } catch (err) {
      request.log.warn({ err: { message: (err as Error).message } }, 'log stream failed')
    }
  })
}
