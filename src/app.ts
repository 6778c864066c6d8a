/*
 * buildApp(): the Fastify instance with every route of the faas-provider API, wired to a backend
 * table. It never listens: main.ts does that, and tests use inject() or listen on port 0.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { Backends } from './core/backends.ts'
import { SingleProcess, type Coordination } from './core/coordination.ts'
import { DEFAULT_MAX_REPLICAS } from './config.ts'
import { invalid } from './core/errors.ts'
import { basicAuthGuard, type Credentials } from './api/auth.ts'
import type { SystemOptions } from './api/context.ts'
import { registerErrorHandling, sendText } from './api/errors.ts'
import { functionRoutes } from './api/functions.ts'
import { infoRoutes } from './api/info.ts'
import { invokeRoutes, type InvokeOptions } from './api/invoke.ts'
import { logRoutes } from './api/logs.ts'
import { createMetrics, metricsRoutes, type Metrics } from './api/metrics.ts'
import { namespaceRoutes } from './api/namespaces.ts'
import { scaleRoutes } from './api/scale.ts'
import { secretRoutes } from './api/secrets.ts'
import { replicaLoadRoutes } from './api/replica-load.ts'
import { Autoscaler, type AutoscalerOptions } from './autoscale/autoscaler.ts'
import { uiRoutes } from './api/ui.ts'
import { lazyValidatorFactory } from './api/lazy-validator.ts'
import { historyRoutes } from './api/history.ts'
import { HistoryStore } from './history/store.ts'

/** longer than the gateway's idle pool timeout so the provider is not the side that closes first */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000
/**
 * Slow-loris guard: a client has this long to send its complete request headers, or the
 * connection is closed (Node's headersTimeout, a 408). Request bodies are not bounded
 * (requestTimeout 0) because invocation uploads stream for as long as they take. Generous for any
 * real client (faas-cli, the gateway send headers in one packet) and far below Node's 60 s.
 */
export const HEADERS_TIMEOUT_MS = 15_000
/** how often Node checks connections against headersTimeout (its default, 30 s, would let a slow client stay 45 s) */
export const CONNECTIONS_CHECK_INTERVAL_MS = 1000

export interface AppOptions {
  backends: Backends
  readTimeoutMs: number
  writeTimeoutMs: number
  systemBodyLimit: number
  maxIdleConnsPerHost: number
  /** see InvokeOptions.threads; undefined: none */
  invokeThreads?: { count: number, startRps: number }
  /** set when basic_auth=true */
  credentials?: Credentials
  maxReplicas?: number
  info?: { release: string, sha: string }
  logger?: FastifyServerOptions['loggerInstance'] | boolean
  /** the built-in autoscaler and scale to zero (src/autoscale/); off when absent */
  autoscale?: Omit<AutoscalerOptions, 'backends' | 'maxReplicas' | 'wakeTimeoutMs' | 'logger' | 'listener'>
  /** a registry made by the caller (main.ts instruments the drivers with it); default: a new one */
  metrics?: Metrics
  /** the dashboard's history (tests pass one with a fake clock); default: a new one */
  history?: HistoryStore
  /** the built dashboard served at /ui/; default dist/ui (see src/api/ui.ts) */
  uiRoot?: string
  /** see HEADERS_TIMEOUT_MS (tests shorten it) */
  headersTimeoutMs?: number
  /** who decides among several replicas (src/core/coordination.ts); default: this process alone */
  coordination?: Coordination
}

const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const
/** known /system paths and their methods: any other method gets 405, as gorilla/mux answers */
const SYSTEM_PATHS: Record<string, readonly string[]> = {
  '/system/functions': ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
  '/system/function/:name': ['GET', 'HEAD'],
  '/system/scale-function/:name': ['POST'],
  '/system/secrets': ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
  '/system/logs': ['GET', 'HEAD'],
  '/system/info': ['GET', 'HEAD'],
  '/system/namespaces': ['GET', 'HEAD'],
  '/system/namespace/:name': ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
  '/system/backends': ['GET', 'HEAD'],
  '/system/history': ['GET', 'HEAD'],
  '/system/history/:name': ['GET', 'HEAD'],
  '/system/replica-load': ['GET', 'HEAD'],
  '/healthz': ['GET', 'HEAD'],
  '/metrics': ['GET', 'HEAD']
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics
    history: HistoryStore
    autoscaler: Autoscaler | undefined
  }
}

export async function buildApp (opts: AppOptions): Promise<FastifyInstance> {
  const loggerOptions = typeof opts.logger === 'object' ? { loggerInstance: opts.logger } : { logger: opts.logger ?? false }
  const app = Fastify({
    ...loggerOptions,
    // one line per request, written in onResponse below
    logController: new LogController({ disableRequestLogging: true }),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // invocations stream bodies of any size for as long as they take; the proxy enforces read_timeout
    requestTimeout: 0,
    http: {
      headersTimeout: opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_INTERVAL_MS, opts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS)
    },
    bodyLimit: opts.systemBodyLimit,
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 500 },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    // idle memory: each route's schema is compiled on its first request (lazy-validator.ts)
    schemaController: { compilersFactory: { buildValidator: lazyValidatorFactory() } }
  })
  const metrics = opts.metrics ?? createMetrics()
  app.decorate('metrics', metrics)
  const history = opts.history ?? new HistoryStore()
  app.decorate('history', history)
  metrics.onBackendCall(({ backend, outcome }, seconds) => { history.observeBackendCall(backend, outcome === 'ok', seconds) })
  const coordination = opts.coordination ?? new SingleProcess()
  metrics.setLeadershipSource(() => coordination.view())
  // backends that keep local caches (informers) report them at scrape time
  metrics.setCacheSource(() => opts.backends.backends().flatMap((b) => (b.driver.caches?.() ?? []).map((r) => ({ backend: b.name, ...r }))))
  let autoscaler: Autoscaler | undefined
  if (opts.autoscale !== undefined) {
    const scaler = new Autoscaler({
      ...opts.autoscale,
      coordination,
      backends: opts.backends,
      maxReplicas: opts.maxReplicas ?? DEFAULT_MAX_REPLICAS,
      wakeTimeoutMs: opts.readTimeoutMs,
      logger: app.log,
      listener: {
        decision: (d) => {
          metrics.observeScaleDecision(d)
          history.decision(d.namespace, d.function, { action: d.action, from: d.from, to: d.to, reason: d.reason, ok: d.ok })
        },
        sampled: (r) => {
          history.sample(r.namespace, r.function, { inflight: r.inflight, replicas: r.replicas, available: r.availableReplicas, target: r.desiredReplicas })
        },
        forgotten: (namespace, name) => { history.forget(namespace, name) }
      }
    })
    metrics.setScaleSource(() => scaler.report())
    app.addHook('onReady', async () => { scaler.start() })
    // after the drain: requests held by a wake are served, not dropped
    app.addHook('onClose', async () => { await scaler.stop() })
    autoscaler = scaler
  }
  app.decorate('autoscaler', autoscaler)
  app.decorateRequest('backendName', '')
  registerErrorHandling(app)

  app.addHook('onResponse', async (request, reply) => {
    const path = request.routeOptions.url ?? 'unmatched'
    const seconds = reply.elapsedTime / 1000
    if (!path.startsWith('/function/')) {
      metrics.observeRequest({ method: request.method, path, code: reply.statusCode, backend: request.backendName }, seconds)
    }
    request.log.info({
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...(request.backendName !== '' ? { backend: request.backendName } : {})
    }, 'request')
  })

  const system: SystemOptions = {
    backends: opts.backends,
    ...(opts.credentials !== undefined ? { auth: basicAuthGuard(opts.credentials) } : {}),
    writeTimeoutMs: opts.writeTimeoutMs,
    maxReplicas: opts.maxReplicas ?? DEFAULT_MAX_REPLICAS,
    info: opts.info ?? { release: 'dev', sha: 'unknown' },
    onFunctionRemoved: (namespace, name) => { history.forget(namespace, name) },
    coordination
  }

  await app.register(async (scope) => {
    // The gateway's scale call has no Content-Type and faas-cli's DELETE bodies must be read too:
    // every /system body is JSON, whatever its Content-Type says.
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => {
      const buf = body as Buffer
      if (buf.length === 0) { done(null, undefined); return }
      try {
        done(null, JSON.parse(buf.toString('utf8')))
      } catch (err) {
        done(invalid(`request body is not valid JSON: ${(err as Error).message}`), undefined)
      }
    })
    await scope.register(functionRoutes, system)
    await scope.register(scaleRoutes, system)
    await scope.register(secretRoutes, system)
    await scope.register(logRoutes, system)
    await scope.register(namespaceRoutes, system)
    await scope.register(infoRoutes, system)
    await scope.register(metricsRoutes, { metrics })
    await scope.register(historyRoutes, { ...system, history })
    await scope.register(replicaLoadRoutes, {
      coordination,
      load: () => autoscaler?.localLoad() ?? [],
      ...(system.auth !== undefined ? { auth: system.auth } : {})
    })
    await scope.register(uiRoutes, {
      backends: opts.backends,
      ...(system.auth !== undefined ? { auth: system.auth } : {}),
      ...(opts.uiRoot !== undefined ? { root: opts.uiRoot } : {})
    })
    for (const [url, allowed] of Object.entries(SYSTEM_PATHS)) {
      const others = ALL_METHODS.filter((m) => !allowed.includes(m))
      scope.route({ method: others, url, handler: async (_request, reply) => sendText(reply, 405, 'method not allowed') })
    }
  })

  const invoke: InvokeOptions = {
    backends: opts.backends,
    readTimeoutMs: opts.readTimeoutMs,
    maxIdleConnsPerHost: opts.maxIdleConnsPerHost,
    ...(opts.invokeThreads !== undefined && opts.invokeThreads.count > 0 ? { threads: opts.invokeThreads } : {}),
    ...(autoscaler !== undefined ? { autoscaling: autoscaler } : {}),
    onInvocation: (labels, seconds) => {
      metrics.observeInvocation(labels, seconds)
      history.observeInvocation(labels.namespace, labels.function, labels.code, seconds)
      // invocations are the hot path: one line each at debug (proxy failures are logged at warn)
      app.log.debug({ invocation: labels, ms: Math.round(seconds * 10_000) / 10 }, 'invocation')
    }
  }
  // also passes WebSocket upgrades on /function/ through, on app.server
  await app.register(invokeRoutes, invoke)
  return app
}
