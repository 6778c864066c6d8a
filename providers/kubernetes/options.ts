/*
 * The kubernetes backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong.
 */
import type { Label } from './common/secrets.ts'

/**
 * How invocations reach a function: 'service' = the ClusterIP Service by cluster DNS (in cluster);
 * 'endpoints' = a ready Pod IP from the Service's EndpointSlices, round robin (in cluster, skips
 * kube-proxy); 'proxy' = through the API server's service proxy with the kubeconfig's credentials
 * (out of cluster); 'auto' = 'service' in cluster, else 'proxy'.
 */
export type InvokeMode = 'auto' | 'service' | 'endpoints' | 'proxy'
export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never'
/** 'http' = GET /_/health on 8080 (of-watchdog); 'exec' = `cat /tmp/.lock` (classic watchdog); 'none' */
export type ProbeType = 'http' | 'exec' | 'none'

export interface ProbeOptions {
  type: ProbeType
  path: string
  initialDelaySeconds: number
  periodSeconds: number
  timeoutSeconds: number
  failureThreshold: number
}

export interface KubernetesOptions {
  /** true = the pod's service account; false = a kubeconfig; 'auto' = in cluster when KUBERNETES_SERVICE_HOST is set and no kubeconfig is given */
  inCluster: boolean | 'auto'
  /** kubeconfig file; undefined = $KUBECONFIG or ~/.kube/config */
  kubeconfig?: string
  /** kubeconfig context; undefined = current-context */
  context?: string
  invoke: InvokeMode
  /** cluster DNS domain for invoke 'service' */
  clusterDomain: string
  imagePullPolicy: ImagePullPolicy
  probe: ProbeOptions
  /** marks Kubernetes Namespaces that hold functions ("key=value") */
  namespaceLabel: Label
  /** value of app.kubernetes.io/managed-by on everything this backend creates */
  managedBy: Label
}

export const DEFAULT_IN_CLUSTER = 'auto'
export const DEFAULT_INVOKE: InvokeMode = 'auto'
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local'
/** as faas-netes: tags such as :latest are pulled again on every rollout */
export const DEFAULT_IMAGE_PULL_POLICY: ImagePullPolicy = 'Always'
export const DEFAULT_PROBE: ProbeOptions = {
  type: 'http',
  path: '/_/health',
  initialDelaySeconds: 2,
  periodSeconds: 2,
  timeoutSeconds: 1,
  failureThreshold: 3
}
/** as faasd and go-sdk mark function namespaces */
export const DEFAULT_NAMESPACE_LABEL = 'openfaas=1'
export const MANAGED_BY_KEY = 'app.kubernetes.io/managed-by'
export const DEFAULT_MANAGED_BY = 'faas-bridge'

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

function fail (key: string, what: string, got: unknown): never {
  throw new Error(`kubernetes backend: option "${key}" must be ${what}, got ${JSON.stringify(got)}`)
}

function optionalString (opts: Record<string, unknown>, key: string): string | undefined {
  const v = opts[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string' || v === '') fail(key, 'a non-empty string', v)
  return v
}

function oneOf<T extends string> (opts: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
  const v = opts[key] ?? fallback
  if (!allowed.includes(v as T)) fail(key, allowed.map((a) => `"${a}"`).join(', '), v)
  return v as T
}

function seconds (probe: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = probe[key] ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`probe.${key}`, `an integer >= ${min}`, v)
  return v
}

export function parseLabel (key: string, text: unknown): Label {
  if (typeof text !== 'string') fail(key, 'a label "key=value"', text)
  const i = text.indexOf('=')
  const k = i < 0 ? '' : text.slice(0, i)
  const v = i < 0 ? '' : text.slice(i + 1)
  if (!LABEL_KEY.test(k) || !LABEL_VALUE.test(v) || v.length > 63) fail(key, 'a label "key=value" with a valid Kubernetes key and value', text)
  return { key: k, value: v }
}

export function validateOptions (options: Record<string, unknown> | undefined): KubernetesOptions {
  const opts = options ?? {}
  const inCluster = opts.inCluster ?? DEFAULT_IN_CLUSTER
  if (inCluster !== true && inCluster !== false && inCluster !== 'auto') fail('inCluster', 'true, false or "auto"', inCluster)
  const probeIn = opts.probe ?? {}
  if (typeof probeIn !== 'object' || probeIn === null || Array.isArray(probeIn)) fail('probe', 'an object', probeIn)
  const p = probeIn as Record<string, unknown>
  const path = p.path ?? DEFAULT_PROBE.path
  if (typeof path !== 'string' || !path.startsWith('/')) fail('probe.path', 'an absolute URL path', path)
  const managedBy = opts.managedBy ?? DEFAULT_MANAGED_BY
  if (typeof managedBy !== 'string' || !LABEL_VALUE.test(managedBy) || managedBy === '' || managedBy.length > 63) fail('managedBy', 'a valid label value', managedBy)
  const clusterDomain = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN
  if (typeof clusterDomain !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(clusterDomain)) fail('clusterDomain', 'a DNS domain', clusterDomain)
  const kubeconfig = optionalString(opts, 'kubeconfig')
  if (inCluster === true && kubeconfig !== undefined) {
    throw new Error('kubernetes backend: options "inCluster": true and "kubeconfig" exclude each other')
  }
  return {
    inCluster,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(opts.context !== undefined ? { context: optionalString(opts, 'context') as string } : {}),
    invoke: oneOf(opts, 'invoke', ['auto', 'service', 'endpoints', 'proxy'], DEFAULT_INVOKE),
    clusterDomain,
    imagePullPolicy: oneOf(opts, 'imagePullPolicy', ['Always', 'IfNotPresent', 'Never'], DEFAULT_IMAGE_PULL_POLICY),
    probe: {
      type: oneOf(p, 'type', ['http', 'exec', 'none'], DEFAULT_PROBE.type),
      path,
      initialDelaySeconds: seconds(p, 'initialDelaySeconds', DEFAULT_PROBE.initialDelaySeconds, 0),
      periodSeconds: seconds(p, 'periodSeconds', DEFAULT_PROBE.periodSeconds, 1),
      timeoutSeconds: seconds(p, 'timeoutSeconds', DEFAULT_PROBE.timeoutSeconds, 1),
      failureThreshold: seconds(p, 'failureThreshold', DEFAULT_PROBE.failureThreshold, 1)
    },
    namespaceLabel: parseLabel('namespaceLabel', opts.namespaceLabel ?? DEFAULT_NAMESPACE_LABEL),
    managedBy: { key: MANAGED_BY_KEY, value: managedBy }
  }
}
