/*
 * The parts of a FunctionDeployment's mapping that every Kubernetes-based backend (kubernetes,
 * tekton) shares: the faas_function label, the secrets mount path, limits/requests as validated
 * quantities (a bad one is 400), constraints → nodeSelector, scale.min → initial replicas, user
 * annotations without faas-bridge's own keys, and RFC3339 times as Kubernetes writes them. Pure.
 */
import { invalid } from '../../../src/core/errors.ts'
import { FUNCTION_LABEL } from '../../../src/core/function-label.ts'
import type { FunctionDeployment, FunctionResources } from '../../../src/core/types.ts'

export { FUNCTION_LABEL } from '../../../src/core/function-label.ts'
export const SECRETS_MOUNT_PATH = '/var/openfaas/secrets'
export const SCALE_MIN_LABEL = 'com.openfaas.scale.min'
/** faas-bridge's own keys on status annotations and pod templates */
export const ANNOTATION_PREFIX = 'faas-bridge.dev/'
export const PROMETHEUS_SCRAPE = 'prometheus.io.scrape'
export const DOCKER_CONFIG_TYPES: ReadonlySet<string> = new Set(['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg'])
const RESOURCE_KEYS: ReadonlyArray<keyof FunctionResources> = ['memory', 'cpu', 'nvidia.com/gpu', 'amd.com/gpu', 'intel.com/gpu']
/** resource.Quantity's grammar: a signed decimal and a binary-SI, decimal-SI or exponent suffix */
export const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/

/** Initial replicas: label com.openfaas.scale.min when it is > 0, else 1 (as faas-netes). */
export function initialReplicas (fn: FunctionDeployment): number {
  const n = Number(fn.labels?.[SCALE_MIN_LABEL] ?? '')
  return Number.isInteger(n) && n > 0 ? n : 1
}

/** limits or requests as a Kubernetes resource list; INVALID (400) for a value that is not a quantity. */
export function resourceList (field: 'limits' | 'requests', r: FunctionResources | undefined): Record<string, string> | undefined {
  if (r === undefined) return undefined
  const out: Record<string, string> = {}
  for (const key of RESOURCE_KEYS) {
    const v = r[key]
    if (v === undefined || v === '') continue
    if (typeof v !== 'string' || !QUANTITY.test(v.trim())) {
      throw invalid(`${field}.${key}: "${String(v)}" is not a Kubernetes quantity (e.g. "128Mi", "100m", "0.5")`)
    }
    out[key] = v.trim()
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** A resource list read back from Kubernetes as FunctionResources. */
export function readResources (r: Record<string, string> | undefined): FunctionResources | undefined {
  if (r === undefined) return undefined
  const out: FunctionResources = {}
  for (const [k, v] of Object.entries(r)) (out as Record<string, string>)[k] = String(v)
  return Object.keys(out).length > 0 ? out : undefined
}

/** "key=value" (or "key==value") constraints → nodeSelector. */
export function nodeSelector (constraints: readonly string[] | undefined): Record<string, string> | undefined {
  if (constraints === undefined || constraints.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const c of constraints) {
    const m = /^\s*([^=\s]+)\s*==?\s*(\S*)\s*$/.exec(c)
    if (m === null) throw invalid(`constraint "${c}" must be "key=value" (a node label)`)
    out[m[1] as string] = m[2] as string
  }
  return out
}

/** The user's annotations without faas-bridge's keys, with faas-netes' prometheus.io.scrape default. */
export function userAnnotations (fn: FunctionDeployment): Record<string, string> {
  const out = { ...(fn.annotations ?? {}) }
  for (const k of Object.keys(out)) if (k.startsWith(ANNOTATION_PREFIX)) delete out[k]
  if (out[PROMETHEUS_SCRAPE] === undefined) out[PROMETHEUS_SCRAPE] = 'false'
  return out
}

/** RFC3339 as Kubernetes writes it (whole seconds). */
export function rfc3339 (d: Date | string | undefined): string {
  if (d === undefined) return '0001-01-01T00:00:00Z'
  const date = typeof d === 'string' ? new Date(d) : d
  return Number.isNaN(date.getTime()) ? '0001-01-01T00:00:00Z' : date.toISOString().replace(/\.000Z$/, 'Z')
}

/** The label selector of the functions this provider manages (label faas_function + managed-by). */
export function managedFunctionSelector (managedBy: { key: string, value: string }): string {
  return `${FUNCTION_LABEL},${managedBy.key}=${managedBy.value}`
}

/** Whether an object's labels make it one of this provider's functions. */
export function isManagedFunction (labels: Record<string, string> | undefined, managedBy: { key: string, value: string }): boolean {
  return labels?.[FUNCTION_LABEL] !== undefined && labels[managedBy.key] === managedBy.value
}
