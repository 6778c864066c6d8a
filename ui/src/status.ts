/*
 * How a function's state is shown: the status badge from replicas, the backend details carried in
 * status annotations (faas-bridge.dev/* from Kubernetes and Tekton, faas-bridge/url and
 * faas-bridge/console from Cloud Run), and times.
 */
import { withoutFunctionLabel } from '../../src/core/function-label.ts'
import { SOURCE_ANNOTATION } from '../../src/reconcile/markers.ts'
import type { FunctionStatus } from './api.ts'

const STATUS_KEYS = new Set(['faas-bridge/url', 'faas-bridge/console'])

/** an annotation the backend reports about the running function, not one the user deployed */
export const isStatusAnnotation = (k: string): boolean => k.startsWith('faas-bridge.dev/') || k.startsWith('reconcile.faas-bridge.dev/') || STATUS_KEYS.has(k)

/**
 * The labels the user deployed: every status carries faas_function = NAME (the provider's label,
 * src/core/function-label.ts), which is never sent back as a user label (edit, stack.yml export).
 */
export function userLabels (labels: Record<string, string> | undefined): Record<string, string> {
  return withoutFunctionLabel(labels) ?? {}
}


/** the declarative source managing the function, if any: the dashboard then shows it read-only */
export function managedBy (fn: FunctionStatus): string | undefined {
  const v = fn.annotations?.[SOURCE_ANNOTATION]
  return v === undefined || v === '' ? undefined : v
}

export interface Detail { key: string, label: string, value: string, href?: string }

export function backendDetails (fn: FunctionStatus): Detail[] {
  return Object.entries(fn.annotations ?? {})
    .filter(([k]) => isStatusAnnotation(k))
    .map(([k, v]) => {
      const label = k.slice(k.indexOf('/') + 1).replaceAll('-', ' ')
      return /^https:\/\//.test(v) ? { key: k, label, value: v, href: v } : { key: k, label, value: v }
    })
}

export type Health = 'ready' | 'partial' | 'starting' | 'scaled-to-zero'

export function health (fn: FunctionStatus): Health {
  if (fn.replicas === 0) return 'scaled-to-zero'
  if (fn.availableReplicas >= fn.replicas) return 'ready'
  return fn.availableReplicas > 0 ? 'partial' : 'starting'
}

export const HEALTH_TEXT: Record<Health, string> = {
  ready: 'Ready',
  partial: 'Degraded',
  starting: 'Not ready',
  'scaled-to-zero': 'Scaled to zero'
}

export function ago (iso: string, now = Date.now()): string {
  const t = Date.parse(iso)
  if (Number.isNaN(t) || t <= 0) return 'unknown'
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}
