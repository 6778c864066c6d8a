/*
 * /metrics in Prometheus text format: request counts and durations per route and backend (the
 * names faas-provider uses, plus a backend label), and invocations per function. One registry per
 * app so that several apps in one process (tests) do not collide. With the autoscaler: replicas
 * (current, available, desired) and load per function, read from it at scrape time, and a count of
 * its scaling actions. Backends with local caches (Driver.caches(): the kubernetes informers)
 * report per backend, resource and namespace: the state (syncing, synced, stale, stopped), the
 * last time the cache was known current, events, re-lists, reconnects, fallbacks to the API and
 * objects held.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
/** one function's replicas and load, as the autoscaler last saw them */
import type { FunctionReport as FunctionScaleReport } from '../autoscale/autoscaler.ts'
import type { SourceReport } from '../reconcile/reconciler.ts'
import type { LeadershipView } from '../core/coordination.ts'
import type { CacheReport } from '../core/driver.ts'

/** one backend cache's report, with the backend's configured name */
export type BackendCacheReport = CacheReport & { backend: string }
const CACHE_STATES = ['syncing', 'synced', 'stale', 'stopped'] as const


export interface ScaleDecisionLabels {
  function: string
  namespace: string
  backend: string
  /** up, down, zero, wake */
  action: string
  ok: boolean
}

export interface BackendCallLabels { backend: string, operation: string, outcome: string }

export interface Metrics {
  registry: Registry
  observeRequest (labels: { method: string, path: string, code: number, backend: string }, seconds: number): void
  observeInvocation (labels: { function: string, namespace: string, backend: string, code: number }, seconds: number): void
  /** one call into a backend's driver; outcome 'ok' or the error code */
  observeBackendCall (labels: BackendCallLabels, seconds: number): void
  /** also tell `listener` of every backend call (the dashboard's history) */
  onBackendCall (listener: (labels: BackendCallLabels, seconds: number) => void): void
  /** where the per-function replica and load gauges are read from at scrape time */
  setScaleSource (source: () => Iterable<FunctionScaleReport>): void
  /** where the backend cache series are read from at scrape time */
  setCacheSource (source: () => Iterable<BackendCacheReport>): void
  observeScaleDecision (labels: ScaleDecisionLabels): void
  /** where the declarative sources' reports are read from at scrape time */
  setReconcileSource (source: () => SourceReport[]): void
  /** one write of the reconciler (create, update, remove) */
  observeReconcileAction (labels: { source: string, action: string, ok: boolean }): void
  /** who leads among the provider's replicas, read at scrape time */
  setLeadershipSource (source: () => LeadershipView): void
}

export function createMetrics (): Metrics {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  const requests = new Counter({
    name: 'provider_http_requests_total',
    help: 'Requests to the provider API by route, method, status code and backend',
    labelNames: ['code', 'method', 'path', 'backend'] as const,
    registers: [registry]
  })
  const durations = new Histogram({
    name: 'provider_http_request_duration_seconds',
    help: 'Duration of provider API requests by route, method, status code and backend',
    labelNames: ['code', 'method', 'path', 'backend'] as const,
    registers: [registry]
  })
  const invocations = new Counter({
    name: 'faas_bridge_invocations_total',
    help: 'Function invocations through the provider by function, namespace, backend and status code',
    labelNames: ['function_name', 'namespace', 'backend', 'code'] as const,
    registers: [registry]
  })
  const invocationSeconds = new Histogram({
    name: 'faas_bridge_invocation_duration_seconds',
    help: 'Time until the function answered, by function, namespace, backend and status code',
    labelNames: ['function_name', 'namespace', 'backend', 'code'] as const,
    registers: [registry]
  })
  let scaleSource: (() => Iterable<FunctionScaleReport>) | undefined
  const backendCallListeners: Array<(labels: BackendCallLabels, seconds: number) => void> = []
  /**
   * A series computed when /metrics is scraped, reset first so no stale series stays: a gauge, or a
   * counter carrying totals kept elsewhere (a driver's cache counts).
   */
  const scraped = (kind: 'gauge' | 'counter', name: string, help: string, labelNames: readonly string[], fill: (set: (labels: Record<string, string>, v: number) => void) => void): void => {
    if (kind === 'gauge') {
      const g: Gauge<string> = new Gauge({ name, help, labelNames, registers: [registry], collect () { g.reset(); fill((l, v) => { g.set(l, v) }) } })
    } else {
      const c: Counter<string> = new Counter({ name, help, labelNames, registers: [registry], collect () { c.reset(); fill((l, v) => { c.inc(l, v) }) } })
    }
  }
  const fnLabels = ['function_name', 'namespace', 'backend'] as const
  /** a per-function gauge filled from the scale source */
  const gauge = (name: string, help: string, value: (r: FunctionScaleReport) => number | undefined): void => {
    scraped('gauge', name, help, fnLabels, (set) => {
      for (const r of scaleSource?.() ?? []) {
        const v = value(r)
        if (v !== undefined) set({ function_name: r.function, namespace: r.namespace, backend: r.backend }, v)
      }
    })
  }
  gauge('faas_bridge_function_replicas', 'Replicas per function as the backend reports them (desired count at the backend)', (r) => r.replicas)
  gauge('faas_bridge_function_available_replicas', 'Ready replicas per function', (r) => r.availableReplicas)
  gauge('faas_bridge_autoscale_desired_replicas', "The autoscaler's desired replicas per autoscaled function (0 while asleep)", (r) => r.desiredReplicas)
  gauge('faas_bridge_function_inflight_requests', 'Requests in flight per function through the invoke proxy (held requests of a waking function included)', (r) => r.inflight)
  gauge('faas_bridge_function_requests_per_second', 'Successful requests per second per function over the autoscaler window', (r) => r.rps)
  gauge('faas_bridge_function_concurrency', 'Mean requests in flight per function over the autoscaler window', (r) => r.concurrency)
  let leadershipSource: (() => LeadershipView) | undefined
  scraped('gauge', 'faas_bridge_leader', 'Whether this replica leads (1) or follows (0); labels: this replica, the leader it sees (empty when none) and the mechanism (single, kubernetes-lease)',
    ['identity', 'leader', 'mode'], (set) => {
      const v = leadershipSource?.()
      if (v !== undefined) set({ identity: v.identity, leader: v.leader ?? '', mode: v.mode }, v.leading ? 1 : 0)
    })
  const decisions = new Counter({
    name: 'faas_bridge_autoscale_actions_total',
    help: 'Scaling actions of the autoscaler by function, namespace, backend, action (up, down, zero, wake) and outcome',
    labelNames: ['function_name', 'namespace', 'backend', 'action', 'outcome'] as const,
    registers: [registry]
  })
  const backendCalls = new Histogram({
    name: 'faas_bridge_backend_call_duration_seconds',
    help: 'Calls into a backend (deploy, status, scale, secrets.create, ...) by backend, operation and outcome (ok or the error code)',
    labelNames: ['backend', 'operation', 'outcome'] as const,
    registers: [registry]
  })
  const backendErrors = new Counter({
    name: 'faas_bridge_backend_call_errors_total',
    help: 'Failed calls into a backend by backend, operation and error code (NOT_FOUND, BACKEND, TIMEOUT, ...)',
    labelNames: ['backend', 'operation', 'code'] as const,
    registers: [registry]
  })
  let reconcileSource: (() => SourceReport[]) | undefined
  const reconcileGauge = (name: string, help: string, labelNames: readonly string[], fill: (set: (labels: Record<string, string>, v: number) => void, r: SourceReport) => void): void => {
    scraped('gauge', name, help, labelNames, (set) => { for (const r of reconcileSource?.() ?? []) fill(set, r) })
  }
  reconcileGauge('faas_bridge_reconcile_functions', 'Declared functions per declarative source by state (in-sync, created, updated, removed, failed, conflict, orphaned) on its last pass',
    ['source', 'state'], (set, r) => {
      const counts = new Map<string, number>()
      for (const f of r.functions) counts.set(f.state, (counts.get(f.state) ?? 0) + 1)
      for (const [state, n] of counts) set({ source: r.source, state }, n)
    })
  reconcileGauge('faas_bridge_reconcile_problems', 'Entries of a declarative source that could not be applied (bad spec, unknown namespace, unreadable file) on its last pass',
    ['source'], (set, r) => { set({ source: r.source }, r.problems.length) })
  reconcileGauge('faas_bridge_reconcile_last_pass_timestamp_seconds', 'When the last reconcile pass of a declarative source finished',
    ['source'], (set, r) => { if (r.lastPass !== undefined) set({ source: r.source }, r.lastPass / 1000) })
  const reconcileActions = new Counter({
    name: 'faas_bridge_reconcile_actions_total',
    help: 'Writes of the reconciler by declarative source, action (create, update, remove) and outcome',
    labelNames: ['source', 'action', 'outcome'] as const,
    registers: [registry]
  })
  let cacheSource: (() => Iterable<BackendCacheReport>) | undefined
  const cacheLabels = ['backend', 'resource', 'namespace'] as const
  /** a per-cache series filled from the cache source; counters carry the driver's totals */
  const cacheSeries = (name: string, help: string, kind: 'gauge' | 'counter', value: (r: BackendCacheReport) => number | undefined): void => {
    scraped(kind, name, help, cacheLabels, (set) => {
      for (const r of cacheSource?.() ?? []) {
        const v = value(r)
        if (v !== undefined) set({ backend: r.backend, resource: r.resource, namespace: r.namespace }, v)
      }
    })
  }
  scraped('gauge', 'faas_bridge_backend_cache_state',
    'State of each backend cache: 1 for its current state (syncing, synced, stale = disconnected beyond its bound so reads go to the backend, stopped), 0 for the others',
    [...cacheLabels, 'state'], (set) => {
      for (const r of cacheSource?.() ?? []) {
        for (const state of CACHE_STATES) set({ backend: r.backend, resource: r.resource, namespace: r.namespace, state }, r.state === state ? 1 : 0)
      }
    })
  cacheSeries('faas_bridge_backend_cache_last_sync_timestamp_seconds', 'When each backend cache was last known current (a list, a change, a bookmark), Unix seconds', 'gauge', (r) => r.lastSyncAt === undefined ? undefined : r.lastSyncAt / 1000)
  cacheSeries('faas_bridge_backend_cache_objects', 'Objects held by each backend cache', 'gauge', (r) => r.objects)
  cacheSeries('faas_bridge_backend_cache_events_total', 'Changes each backend cache received from its watch', 'counter', (r) => r.events)
  cacheSeries('faas_bridge_backend_cache_bookmarks_total', 'Watch bookmarks each backend cache received', 'counter', (r) => r.bookmarks)
  cacheSeries('faas_bridge_backend_cache_relists_total', 'Full lists of each backend cache (the first, and each after 410 Gone)', 'counter', (r) => r.relists)
  cacheSeries('faas_bridge_backend_cache_reconnects_total', 'Watches each backend cache opened again after the first', 'counter', (r) => r.reconnects)
  cacheSeries('faas_bridge_backend_cache_fallbacks_total', 'Reads answered by the backend API because its cache could not be trusted (not synced, stale, or before it saw our own write)', 'counter', (r) => r.fallbacks)
  return {
    registry,
    setReconcileSource (source) {
      reconcileSource = source
    },
    observeReconcileAction ({ source, action, ok }) {
      reconcileActions.inc({ source, action, outcome: ok ? 'ok' : 'failed' })
    },
    setScaleSource (source) {
      scaleSource = source
    },
    setLeadershipSource (source) {
      leadershipSource = source
    },
    setCacheSource (source) {
      cacheSource = source
    },
    observeScaleDecision ({ function: fn, namespace, backend, action, ok }) {
      decisions.inc({ function_name: fn, namespace, backend, action, outcome: ok ? 'ok' : 'failed' })
    },
    observeRequest ({ method, path, code, backend }, seconds) {
      const labels = { method, path, code: String(code), backend }
      requests.inc(labels)
      durations.observe(labels, seconds)
    },
    observeBackendCall (labels, seconds) {
      const { backend, operation, outcome } = labels
      backendCalls.observe({ backend, operation, outcome }, seconds)
      if (outcome !== 'ok') backendErrors.inc({ backend, operation, code: outcome })
      for (const listener of backendCallListeners) listener(labels, seconds)
    },
    onBackendCall (listener) {
      backendCallListeners.push(listener)
    },
    observeInvocation ({ function: fn, namespace, backend, code }, seconds) {
      const labels = { function_name: fn, namespace, backend, code: String(code) }
      invocations.inc(labels)
      invocationSeconds.observe(labels, seconds)
    }
  }
}

export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics()
    return reply.header('content-type', metrics.registry.contentType).send(text)
  })
}
