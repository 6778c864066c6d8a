/*
 * The dashboard: the built single-page app (dist/ui/, from `npm run build:ui`) served at /ui/ with
 * @fastify/send, behind the same basic auth as /system; and GET /system/backends, the read-only
 * list of backends (name, driver kind, namespaces) the overview groups namespaces by.
 * index.html is revalidated on every load (no-cache); the other assets have content hashes in their
 * names and are cached for a year (private: they sit behind authentication). When the built UI is
 * missing, /ui/ answers 503 saying how to build it: the API never depends on it.
 * @fastify/send (and its MIME table) is imported on the first /ui/ request, not at start-up: an
 * idle provider that nobody opens the dashboard on does not carry it (~3 MB of RSS).
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { sendText } from './errors.ts'
import type { SystemOptions } from './context.ts'

export interface UiOptions {
  backends: SystemOptions['backends']
  auth?: SystemOptions['auth']
  /** where the built UI is; default: dist/ui of this checkout (or of the compiled dist/) */
  root?: string
}

/** dist/ui next to src/ when run from source, or dist/ui when run compiled from dist/src/. */
export function defaultUiRoot (): string {
  const top = fileURLToPath(new URL('../../', import.meta.url))
  return path.basename(top) === 'dist' ? path.join(top, 'ui') : path.join(top, 'dist', 'ui')
}

const IMMUTABLE = 'private, max-age=31536000, immutable'
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY'
}

export const uiRoutes: FastifyPluginAsync<UiOptions> = async (app, opts) => {
  if (opts.auth !== undefined) app.addHook('onRequest', opts.auth)

  app.get('/system/backends', async () => opts.backends.describe())

  const root = opts.root ?? defaultUiRoot()
  const redirect = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> => await reply.redirect('/ui/', 301)
  app.get('/ui', redirect)

  if (!existsSync(path.join(root, 'index.html'))) {
    app.log.warn({ root }, 'the dashboard is not built: /ui/ answers 503 until `npm run build:ui` has run')
    const missing = async (_request: unknown, reply: FastifyReply): Promise<FastifyReply> =>
      sendText(reply, 503, `the dashboard is not built (no ${path.join(root, 'index.html')}): run \`npm run build:ui\` and restart`)
    app.get('/ui/', missing)
    app.get('/ui/*', missing)
    return
  }

  let sender: Promise<typeof import('@fastify/send').send> | undefined
  const serve = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const send = await (sender ??= import('@fastify/send').then((m) => m.send))
    const file = (request.params as { '*'?: string })['*'] ?? ''
    // send URI-decodes the path and refuses what leaves root (403) and dot-files (dotfiles: deny)
    const result = await send(request.raw, encodeURI(`/${file === '' ? 'index.html' : file}`), {
      root, dotfiles: 'deny', index: false, cacheControl: false
    })
    if (result.type === 'directory') return sendText(reply, 404, 'not found')
    if (result.type === 'error') {
      const status = (result.metadata.error as { status?: number }).status ?? 500
      return sendText(reply, status, status === 404 ? 'not found' : result.metadata.error.message)
    }
    reply.code(result.statusCode).headers(result.headers)
    reply.header('cache-control', path.basename(result.metadata.path) === 'index.html' ? 'no-cache' : IMMUTABLE)
    return await reply.send(result.stream)
  }

  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v)
      return payload
    })
    scope.get('/ui/', serve)
    scope.get('/ui/*', serve)
  })
}
