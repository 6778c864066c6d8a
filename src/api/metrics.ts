/*
 * /metrics in Prometheus text format: request counts and durations per route and backend (the
 * names faas-provider uses, plus a backend label), and invocations per function. One registry per
 * app so that several apps in one process (tests) do not collide.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface Metrics {
  registry: Registry
  observeRequest (labels: { method: string, path: string, code: number, backend: string }, seconds: number): void
  observeInvocation (labels: { function: string, namespace: string, backend: string, code: number }, seconds: number): void
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
  return {
    registry,
    observeRequest ({ method, path, code, backend }, seconds) {
      const labels = { method, path, code: String(code), backend }
      requests.inc(labels)
      durations.observe(labels, seconds)
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
