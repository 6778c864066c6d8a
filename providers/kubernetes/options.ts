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

export interface ProbeTiming {
  initialDelaySeconds: number
  periodSeconds: number
  timeoutSeconds: number
  failureThreshold: number
}

export interface ProbeOptions {
  type: ProbeType
  path: string
  /** readinessProbe.* (faas-netes' chart names): when a pod gets traffic */
  readiness: ProbeTiming
  /** livenessProbe.*: when a pod is restarted */
  liveness: ProbeTiming
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
  /** endpoints mode: while waking a function from zero, probe its new pods and send the waiting requests to the first that answers (wake-probe.ts) */
  wakeProbe: boolean
}

export const DEFAULT_INVOKE: InvokeMode = 'auto'
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local'
/** as faas-netes: tags such as :latest are pulled again on every rollout */
export const DEFAULT_IMAGE_PULL_POLICY: ImagePullPolicy = 'Always'
/**
 * Readiness is tuned for fast wake from zero: the kubelet probes from the container's start and
 * then every second (its minimum period), so a pod is Ready at most ~1 s (0.5 s on average) after
 * its server answers, instead of faas-netes' 2 s initial delay + 2 s period. The cost: one probe
 * request per second per pod. Liveness keeps faas-netes' timing (2 / 2 / 1 / 3): restarting a
 * slow starter early is worse than noticing a dead one late.
 */
export const DEFAULT_READINESS: Readonly<ProbeTiming> = { initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 }
export const DEFAULT_LIVENESS: Readonly<ProbeTiming> = { initialDelaySeconds: 2, periodSeconds: 2, timeoutSeconds: 1, failureThreshold: 3 }
export const DEFAULT_PROBE: ProbeOptions = {
  type: 'http',
  path: '/_/health',
  readiness: { ...DEFAULT_READINESS },
  liveness: { ...DEFAULT_LIVENESS }
}
const BACKEND = 'kubernetes'
const reader = optionReader(BACKEND)

function fail (key: string, what: string, got: unknown): never {
  return optionError(BACKEND, key, what, got)
}

function objectOption (opts: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = opts[key] ?? {}
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(key, 'an object', v)
  return v as Record<string, unknown>
}

/** One probe's timing: its own option (readinessProbe / livenessProbe), else probe.*, else the default. */
function timing (name: string, own: Record<string, unknown>, shared: Record<string, unknown>, fallback: Readonly<ProbeTiming>): ProbeTiming {
  const read = (key: keyof ProbeTiming, min: number): number => {
    const where = own[key] !== undefined ? `${name}.${key}` : `probe.${key}`
    const v = own[key] ?? shared[key] ?? fallback[key]
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(where, `an integer >= ${min}`, v)
    return v
  }
  return { initialDelaySeconds: read('initialDelaySeconds', 0), periodSeconds: read('periodSeconds', 1), timeoutSeconds: read('timeoutSeconds', 1), failureThreshold: read('failureThreshold', 1) }
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
  const p = objectOption(opts, 'probe')
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
      readiness: timing('readinessProbe', objectOption(opts, 'readinessProbe'), p, DEFAULT_READINESS),
      liveness: timing('livenessProbe', objectOption(opts, 'livenessProbe'), p, DEFAULT_LIVENESS)
    },
    namespaceLabel: parseLabel('namespaceLabel', opts.namespaceLabel ?? DEFAULT_NAMESPACE_LABEL),
    managedBy,
    cache: reader.bool(opts, 'cache', true),
    cacheStaleAfterMs: reader.int(opts, 'cacheStaleAfterMs', DEFAULT_CACHE_STALE_AFTER_MS, 100),
    wakeProbe: reader.bool(opts, 'wakeProbe', true)
  }
}
