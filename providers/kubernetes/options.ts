/*
 * The kubernetes backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong.
 */
import {
  connectionOptions, DEFAULT_NAMESPACE_LABEL, managedByOption, oneOf as oneOfFor, optionError, parseLabelOption
} from './common/options.ts'
import type { Label } from './common/secrets.ts'
import { optionReader } from '../../src/core/option-reader.ts'
import { DEFAULT_CACHE_STALE_AFTER_MS } from './common/informer.ts'

export { DEFAULT_IN_CLUSTER, DEFAULT_MANAGED_BY, DEFAULT_NAMESPACE_LABEL, MANAGED_BY_KEY } from './common/options.ts'

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
  /** informer caches for invocations, list, status and the autoscaler (false: every read asks the API) */
  cache: boolean
  /** a cache whose watch has been down longer than this is not trusted: reads go to the API */
  cacheStaleAfterMs: number
}

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
const BACKEND = 'kubernetes'
const reader = optionReader(BACKEND)

function fail (key: string, what: string, got: unknown): never {
  return optionError(BACKEND, key, what, got)
}

function seconds (probe: Record<string, unknown>, key: string, fallback: number, min: number): number {
  const v = probe[key] ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`probe.${key}`, `an integer >= ${min}`, v)
  return v
}

export function parseLabel (key: string, text: unknown): Label {
  return parseLabelOption(BACKEND, key, text)
}

function oneOf<T extends string> (opts: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T): T {
  return oneOfFor(BACKEND, opts, key, allowed, fallback)
}

export function validateOptions (options: Record<string, unknown> | undefined): KubernetesOptions {
  const opts = options ?? {}
  const connection = connectionOptions(BACKEND, opts)
  const probeIn = opts.probe ?? {}
  if (typeof probeIn !== 'object' || probeIn === null || Array.isArray(probeIn)) fail('probe', 'an object', probeIn)
  const p = probeIn as Record<string, unknown>
  const path = p.path ?? DEFAULT_PROBE.path
  if (typeof path !== 'string' || !path.startsWith('/')) fail('probe.path', 'an absolute URL path', path)
  const managedBy = managedByOption(BACKEND, opts)
  const clusterDomain = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN
  if (typeof clusterDomain !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(clusterDomain)) fail('clusterDomain', 'a DNS domain', clusterDomain)
  return {
    ...connection,
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
    managedBy,
    cache: reader.bool(opts, 'cache', true),
    cacheStaleAfterMs: reader.int(opts, 'cacheStaleAfterMs', DEFAULT_CACHE_STALE_AFTER_MS, 100)
  }
}
