/*
 * Option checks shared by the Kubernetes-based backends (kubernetes, tekton): how to reach the
 * cluster (inCluster / kubeconfig / context) and Kubernetes label options. Messages name the
 * backend and the option that is wrong.
 */
import type { KubeConnectionOptions } from './client.ts'
import type { Label } from './secrets.ts'
import { DEFAULT_KUBE_REQUEST_TIMEOUT_MS, MAX_KUBE_REQUEST_TIMEOUT_MS, MIN_KUBE_REQUEST_TIMEOUT_MS } from './transport.ts'

export const DEFAULT_IN_CLUSTER = 'auto'
/** as faasd and go-sdk mark function namespaces */
export const DEFAULT_NAMESPACE_LABEL = 'openfaas=1'
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by'
export const DEFAULT_MANAGED_BY = 'faas-bridge'

export const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** Throws "<backend> backend: option "<key>" must be <what>, got <value>". */
export function optionError (backend: string, key: string, what: string, got: unknown): never {
  throw new Error(`${backend} backend: option "${key}" must be ${what}, got ${JSON.stringify(got)}`)
}

export function optionalString (backend: string, opts: Record<string, unknown>, key: string): string | undefined {
  const v = opts[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') optionError(backend, key, 'a non-empty string', v)
  return v
}

export function oneOf<T extends string> (backend: string, opts: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
  const v = opts[key] ?? fallback
  if (!allowed.includes(v as T)) optionError(backend, key, allowed.map((a) => `"${a}"`).join(', '), v)
  return v as T
}

export function parseLabelOption (backend: string, key: string, text: unknown): Label {
  if (typeof text !== 'string') optionError(backend, key, 'a label "key=value"', text)
  const i = text.indexOf('=')
  const k = i < 0 ? '' : text.slice(0, i)
  const v = i < 0 ? '' : text.slice(i + 1)
  if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v) || v.length > 63) optionError(backend, key, 'a label "key=value" with a valid Kubernetes key and value', text)
  return { key: k, value: v }
}

/** managedBy: the value of app.kubernetes.io/managed-by on everything the backend creates. */
export function managedByOption (backend: string, opts: Record<string, unknown>): Label {
  const managedBy = opts.managedBy ?? DEFAULT_MANAGED_BY
  if (typeof managedBy !== 'string' || !LABEL_VALUE.test(managedBy) || managedBy === '' || managedBy.length > 63) optionError(backend, 'managedBy', 'a valid label value', managedBy)
  return { key: MANAGED_BY_KEY, value: managedBy }
}

/** inCluster, kubeconfig and context, checked together. */
export function connectionOptions (backend: string, opts: Record<string, unknown>): KubeConnectionOptions {
  const inCluster = opts.inCluster ?? DEFAULT_IN_CLUSTER
  if (inCluster !== true && inCluster !== false && inCluster !== 'auto') optionError(backend, 'inCluster', 'true, false or "auto"', inCluster)
  const kubeconfig = optionalString(backend, opts, 'kubeconfig')
  if (inCluster === true && kubeconfig !== undefined) {
    throw new Error(`${backend} backend: options "inCluster": true and "kubeconfig" exclude each other`)
  }
  const context = optionalString(backend, opts, 'context')
  const requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS
  if (typeof requestTimeoutMs !== 'number' || !Number.isInteger(requestTimeoutMs) || requestTimeoutMs < MIN_KUBE_REQUEST_TIMEOUT_MS || requestTimeoutMs > MAX_KUBE_REQUEST_TIMEOUT_MS) {
    optionError(backend, 'requestTimeoutMs', `an integer number of milliseconds from ${MIN_KUBE_REQUEST_TIMEOUT_MS} to ${MAX_KUBE_REQUEST_TIMEOUT_MS}`, requestTimeoutMs)
  }
  return {
    inCluster,
    requestTimeoutMs,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(context !== undefined ? { context } : {})
  }
}
