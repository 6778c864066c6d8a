/*
 * The dashboard's charts, from the provider's own memory (src/history/store.ts; lost on restart):
 *   GET /system/history/{name}?namespace=&window=15m|1h   one function's series and decisions
 *   GET /system/history?namespace=                        the overview's sparklines, p99 now, backends
 * Authenticated like /system. A function with no history yet is looked up at its backend, so a
 * name that does not exist is 404 and one that does gets its (empty) series.
 */
import type { FastifyPluginAsync } from 'fastify'
import { invalid, notFound } from '../core/errors.ts'
import { dns1123Problem } from '../core/names.ts'
import { isHistoryWindow, WINDOWS, type HistoryStore } from '../history/store.ts'
import { queryValue, resolveNamespace, type SystemOptions } from './context.ts'

export interface HistoryOptions extends SystemOptions {
  history: HistoryStore
}

const WINDOW_NAMES = Object.keys(WINDOWS).join(' or ')

export const historyRoutes: FastifyPluginAsync<HistoryOptions> = async (app, opts) => {
  const { backends, history } = opts

  app.get<{ Params: { name: string } }>('/system/history/:name', { onRequest: opts.auth }, async (request) => {
    const window = queryValue(request, 'window') ?? '15m'
    if (!isHistoryWindow(window)) throw invalid(`window must be ${WINDOW_NAMES}, not "${window}"`)
    const { namespace, backend } = resolveNamespace(request, undefined, backends)
    const name = request.params.name
    if (dns1123Problem(name) !== undefined) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    // only functions that exist get a history: ask the backend about one we have not seen
    if (!history.has(namespace, name)) await backend.driver.status(namespace, name)
    return history.history(namespace, name, window)
  })

  app.get('/system/history', { onRequest: opts.auth }, async (request) => {
    const ns = queryValue(request, 'namespace')
    if (ns === undefined || ns === '') return history.summary()
    return history.summary([resolveNamespace(request, undefined, backends).namespace])
  })
}
