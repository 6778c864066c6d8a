/*
 * FunctionDeployment → Deployment + ClusterIP Service, as faas-netes maps them (contract §10):
 * label faas_function, port 8080 named http, envProcess → env fprocess, envVars sorted, labels and
 * annotations on Deployment, pod template and Service, limits/requests as quantities (a bad one is
 * 400), readOnlyRootFilesystem with a writable emptyDir at /tmp, constraints → nodeSelector,
 * secrets projected read-only at /var/openfaas/secrets/NAME (docker-config Secrets become
 * imagePullSecrets), readiness/liveness probes, RollingUpdate with maxUnavailable 0. Pure: no I/O.
 */
import type {
  V1Container, V1Deployment, V1EnvVar, V1Probe, V1ResourceRequirements, V1Service, V1Volume, V1VolumeMount
} from '@kubernetes/client-node'
import type { FunctionDeployment } from '../../src/core/types.ts'
import {
  ANNOTATION_PREFIX, DOCKER_CONFIG_TYPES, FUNCTION_LABEL, nodeSelector, resourceList, SECRETS_MOUNT_PATH, userAnnotations
} from './common/function-spec.ts'
import type { Label } from './common/secrets.ts'
import { invalid } from '../../src/core/errors.ts'
import type { ImagePullPolicy, ProbeOptions, ProbeTiming } from './options.ts'

export {
  ANNOTATION_PREFIX, DOCKER_CONFIG_TYPES, FUNCTION_LABEL, initialReplicas, nodeSelector, PROMETHEUS_SCRAPE, SCALE_MIN_LABEL,
  SECRETS_MOUNT_PATH, userAnnotations
} from './common/function-spec.ts'
export const FUNCTION_PORT = 8080
/** set on the pod template by every update: a new value rolls the pods, as faas-netes' uid label */
export const UPDATED_AT_ANNOTATION = `${ANNOTATION_PREFIX}updated-at`

export interface MappingSettings {
  namespace: string
  replicas: number
  imagePullPolicy: ImagePullPolicy
  probe: ProbeOptions
  managedBy: Label
  /** secret name → type, for every secret the function names (all exist) */
  secretTypes: ReadonlyMap<string, string>
  /** set on update to roll the pods */
  updatedAt?: string
}

/**
 * Per-function probe annotations, the names OpenFaaS uses (docs.openfaas.com/reference/workloads,
 * "Custom HTTP health checks"): com.openfaas.ready.http.* for the readiness probe and
 * com.openfaas.health.http.* for the liveness probe; `path` makes the probe an HTTP GET on 8080
 * whatever probe.type says; `initialDelay` is seconds ("5" or "5s").
 */
export const READY_ANNOTATION = 'com.openfaas.ready.http.'
export const HEALTH_ANNOTATION = 'com.openfaas.health.http.'
const TIMING_KEYS: Record<string, { key: keyof ProbeTiming, min: number }> = {
  initialDelay: { key: 'initialDelaySeconds', min: 0 },
  initialDelaySeconds: { key: 'initialDelaySeconds', min: 0 },
  periodSeconds: { key: 'periodSeconds', min: 1 },
  timeoutSeconds: { key: 'timeoutSeconds', min: 1 },
  failureThreshold: { key: 'failureThreshold', min: 1 }
}

function probe (p: ProbeOptions, base: ProbeTiming, annotations: Record<string, string>, prefix: string): V1Probe | undefined {
  const timing: ProbeTiming = { ...base }
  let path: string | undefined
  for (const [k, v] of Object.entries(annotations)) {
    if (!k.startsWith(prefix)) continue
    const field = k.slice(prefix.length)
    if (field === 'path') {
      if (!v.startsWith('/')) throw invalid(`annotation ${k}: "${v}" must be an absolute URL path`)
      path = v
      continue
    }
    const t = TIMING_KEYS[field]
    if (t === undefined) throw invalid(`annotation ${k}: unknown probe setting "${field}" (path, initialDelay, periodSeconds, timeoutSeconds, failureThreshold)`)
    const m = /^(\d+)(s?)$/.exec(v.trim())
    const n = m === null ? NaN : Number(m[1])
    if (!Number.isInteger(n) || n < t.min || (m?.[2] === 's' && field !== 'initialDelay')) throw invalid(`annotation ${k}: "${v}" must be a whole number of seconds >= ${t.min}`)
    timing[t.key] = n
  }
  if (path !== undefined || p.type === 'http') return { httpGet: { path: path ?? p.path, port: FUNCTION_PORT, scheme: 'HTTP' }, ...timing }
  if (p.type === 'exec') return { exec: { command: ['cat', '/tmp/.lock'] }, ...timing }
  return undefined
}

function env (fn: FunctionDeployment): V1EnvVar[] {
  const vars = { ...(fn.envVars ?? {}) }
  if (fn.envProcess !== undefined && fn.envProcess !== '') vars.fprocess = fn.envProcess
  return Object.keys(vars).sort().map((name) => ({ name, value: vars[name] as string }))
}

function podLabels (fn: FunctionDeployment, managedBy: Label): Record<string, string> {
  return { ...(fn.labels ?? {}), [FUNCTION_LABEL]: fn.service, [managedBy.key]: managedBy.value }
}

export function buildDeployment (fn: FunctionDeployment, s: MappingSettings): V1Deployment {
  const limits = resourceList('limits', fn.limits)
  const requests = resourceList('requests', fn.requests)
  const selector = nodeSelector(fn.constraints)
  const annotations = userAnnotations(fn)
  const labels = podLabels(fn, s.managedBy)
  const volumes: V1Volume[] = []
  const mounts: V1VolumeMount[] = []
  const secrets = [...new Set(fn.secrets ?? [])].sort()
  const pullSecrets = secrets.filter((n) => DOCKER_CONFIG_TYPES.has(s.secretTypes.get(n) ?? ''))
  const projected = secrets.filter((n) => !DOCKER_CONFIG_TYPES.has(s.secretTypes.get(n) ?? ''))
  if (projected.length > 0) {
    const volume = `${fn.service}-projected-secrets`
    volumes.push({ name: volume, projected: { sources: projected.map((name) => ({ secret: { name } })) } })
    mounts.push({ name: volume, mountPath: SECRETS_MOUNT_PATH, readOnly: true })
  }
  if (fn.readOnlyRootFilesystem === true) {
    volumes.push({ name: 'temp', emptyDir: {} })
    mounts.push({ name: 'temp', mountPath: '/tmp' })
  }
  const res: V1ResourceRequirements = {}
  if (limits !== undefined) res.limits = limits
  if (requests !== undefined) res.requests = requests
  const readiness = probe(s.probe, s.probe.readiness, fn.annotations ?? {}, READY_ANNOTATION)
  const liveness = probe(s.probe, s.probe.liveness, fn.annotations ?? {}, HEALTH_ANNOTATION)
  const container: V1Container = {
    name: fn.service,
    image: fn.image,
    imagePullPolicy: s.imagePullPolicy,
    ports: [{ name: 'http', containerPort: FUNCTION_PORT, protocol: 'TCP' }],
    env: env(fn),
    resources: res,
    ...(readiness !== undefined ? { readinessProbe: readiness } : {}),
    ...(liveness !== undefined ? { livenessProbe: liveness } : {}),
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: fn.readOnlyRootFilesystem === true },
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {})
  }
  const templateAnnotations = s.updatedAt !== undefined ? { ...annotations, [UPDATED_AT_ANNOTATION]: s.updatedAt } : annotations
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: fn.service, namespace: s.namespace, labels, annotations },
    spec: {
      replicas: s.replicas,
      selector: { matchLabels: { [FUNCTION_LABEL]: fn.service } },
      revisionHistoryLimit: 10,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels, annotations: templateAnnotations },
        spec: {
          containers: [container],
          enableServiceLinks: false,
          ...(volumes.length > 0 ? { volumes } : {}),
          ...(selector !== undefined ? { nodeSelector: selector } : {}),
          ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets.map((name) => ({ name })) } : {})
        }
      }
    }
  }
}

export function buildService (fn: FunctionDeployment, s: Pick<MappingSettings, 'namespace' | 'managedBy'>): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: fn.service, namespace: s.namespace, labels: podLabels(fn, s.managedBy), annotations: userAnnotations(fn) },
    spec: {
      type: 'ClusterIP',
      selector: { [FUNCTION_LABEL]: fn.service },
      ports: [{ name: 'http', port: FUNCTION_PORT, targetPort: FUNCTION_PORT, protocol: 'TCP' }]
    }
  }
}
