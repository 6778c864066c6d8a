/*
 * FunctionDeployment → Cloud Run v2 Service. One container named "function" on port 8080 (the
 * OpenFaaS watchdog's), env from envVars + fprocess, resources.limits converted to Cloud Run's
 * allowed cpu/memory values (a clear 400 otherwise), scaling from com.openfaas.scale.min/max,
 * secrets as Secret Manager volumes, traffic 100% to the latest revision. What Cloud Run cannot
 * do (constraints, read-only root filesystem, GPUs through limits) is refused with a 400.
 * Billing is request-based unless annotation faas-bridge/cloudrun-billing says "instance": Cloud
 * Run's ResourceRequirements.cpu_idle is "true by default. However, if ResourceRequirements is
 * set, the caller must explicitly set this field to true", so it is always sent. CPU below 1 gets
 * what Cloud Run requires for it (configuring/services/cpu): request-based billing, concurrency 1,
 * the first generation execution environment. The Google-valid labels go on the service and on
 * the revision template: "Cloud Billing and Cloud Logging only receive labels that are specified
 * in the spec.template.metadata.labels attribute" (configuring/labels).
 */
import type { protos } from '@google-cloud/run'
import { invalid } from '../../src/core/errors.ts'
import type { FunctionDeployment, FunctionResources } from '../../src/core/types.ts'
import { googleLabels, MAX_GOOGLE_LABELS, secretId } from './naming.ts'
import type { Ingress, NamespaceTarget } from './options.ts'

export type IService = protos.google.cloud.run.v2.IService

export const CONTAINER_NAME = 'function'
export const CONTAINER_PORT = 8080
export const SECRETS_MOUNT_PATH = '/var/openfaas/secrets'
export const SCALE_MIN_LABEL = 'com.openfaas.scale.min'
export const SCALE_MAX_LABEL = 'com.openfaas.scale.max'

/** Service annotations the backend owns: the OpenFaaS maps travel here as JSON, unchanged. */
export const LABELS_ANNOTATION = 'faas-bridge/labels'
export const ANNOTATIONS_ANNOTATION = 'faas-bridge/annotations'
export const REQUESTS_ANNOTATION = 'faas-bridge/requests'
/** revision-template annotation that makes every deploy/update a new revision */
export const DEPLOYED_AT_ANNOTATION = 'faas-bridge/deployed-at'
/** every service and template annotation under this prefix is the backend's; others' are kept on update */
export const OWNED_ANNOTATION_PREFIX = 'faas-bridge/'
/** user annotation: "request" (default: CPU only during requests, cpuIdle) or "instance" (CPU always allocated) */
export const BILLING_ANNOTATION = 'faas-bridge/cloudrun-billing'
export type Billing = 'request' | 'instance'
/** google.cloud.run.v2.ExecutionEnvironment.EXECUTION_ENVIRONMENT_GEN1 */
const EXECUTION_ENVIRONMENT_GEN1 = 1

/** google.cloud.run.v2.IngressTraffic */
export const INGRESS_ENUM: Readonly<Record<Ingress, number>> = {
  all: 1,
  internal: 2,
  'internal-and-cloud-load-balancing': 3
}
/** google.cloud.run.v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST */
const TRAFFIC_LATEST = 1

/** Environment variables Cloud Run sets itself and refuses in a spec. */
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION'])

const GIB = 1024 ** 3
const MIB = 1024 ** 2
/** Cloud Run's whole-CPU values; fractional CPU is 0.08-1 in steps of 0.01. */
const WHOLE_CPUS = [1, 2, 4, 6, 8]
const MIN_MEMORY = 128 * MIB
const MAX_MEMORY = 32 * GIB
/** at least this many CPUs for more than this much memory (Cloud Run's memory limits per CPU) */
const CPU_FOR_MEMORY: ReadonlyArray<[number, number]> = [[24 * GIB, 8], [16 * GIB, 6], [8 * GIB, 4], [4 * GIB, 2]]
/** at least this much memory for this many CPUs */
const MEMORY_FOR_CPU: ReadonlyArray<[number, number]> = [[8, 4 * GIB], [6, 4 * GIB], [4, 2 * GIB]]
/** Cloud Run's defaults when one of the two is not given */
const DEFAULT_CPU = 1
const DEFAULT_MEMORY = 512 * MIB

const MEMORY_UNITS: Record<string, number> = {
  '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: MIB, Gi: GIB, Ti: 1024 ** 4
}

/** "500m" → 0.5, "2" → 2; undefined when it is not a CPU quantity. */
export function parseCpu (text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(text.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  return m[2] === 'm' ? n / 1000 : n
}

/** "128Mi" → bytes; undefined when it is not a memory quantity. */
export function parseMemory (text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/.exec(text.trim())
  if (m === null) return undefined
  return Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] as number)
}

function formatMemory (bytes: number): string {
  return bytes % GIB === 0 ? `${bytes / GIB}Gi` : `${Math.ceil(bytes / MIB)}Mi`
}

/** OpenFaaS limits → Cloud Run resources.limits, or a 400 that says which value Cloud Run allows. */
export function convertLimits (limits: FunctionResources | undefined): Record<string, string> | undefined {
  if (limits === undefined) return undefined
  for (const gpu of ['nvidia.com/gpu', 'amd.com/gpu', 'intel.com/gpu'] as const) {
    if (limits[gpu] !== undefined && limits[gpu] !== '') throw invalid(`limits.${gpu} is not supported by the Cloud Run backend`)
  }
  const out: Record<string, string> = {}
  let cpu: number | undefined
  let memory: number | undefined
  if (limits.cpu !== undefined && limits.cpu !== '') {
    cpu = parseCpu(limits.cpu)
    if (cpu === undefined) throw invalid(`limits.cpu "${limits.cpu}" is not a CPU quantity such as "1", "2" or "500m"`)
    const milli = Math.round(cpu * 1000)
    const whole = WHOLE_CPUS.includes(cpu)
    const fractional = cpu >= 0.08 && cpu < 1 && milli % 10 === 0 && Math.abs(milli - cpu * 1000) < 1e-6
    if (!whole && !fractional) {
      throw invalid(`limits.cpu "${limits.cpu}" is not a Cloud Run CPU value: use 1, 2, 4, 6 or 8, or 0.08-1 in steps of 0.01 (80m-990m)`)
    }
    out.cpu = whole ? String(cpu) : `${milli}m`
  }
  if (limits.memory !== undefined && limits.memory !== '') {
    memory = parseMemory(limits.memory)
    if (memory === undefined) throw invalid(`limits.memory "${limits.memory}" is not a memory quantity such as "512Mi" or "2Gi"`)
    if (memory < MIN_MEMORY || memory > MAX_MEMORY) {
      throw invalid(`limits.memory "${limits.memory}" is outside Cloud Run's range of 128Mi to 32Gi`)
    }
    out.memory = formatMemory(memory)
  }
  if (cpu !== undefined || memory !== undefined) {
    const c = cpu ?? DEFAULT_CPU
    const m = memory ?? DEFAULT_MEMORY
    for (const [above, needCpu] of CPU_FOR_MEMORY) {
      if (m > above && c < needCpu) {
        throw invalid(`limits.memory ${formatMemory(m)} needs at least ${needCpu} CPUs on Cloud Run (limits.cpu is ${cpu === undefined ? 'unset, i.e. 1' : limits.cpu})`)
      }
    }
    for (const [cpus, needMemory] of MEMORY_FOR_CPU) {
      if (c >= cpus && m < needMemory) {
        throw invalid(`limits.cpu ${c} needs at least ${formatMemory(needMemory)} of memory on Cloud Run (limits.memory is ${memory === undefined ? 'unset, i.e. 512Mi' : limits.memory})`)
      }
    }
    if (c < 1 && m > GIB) throw invalid(`limits.cpu below 1 allows at most 1Gi of memory on Cloud Run (limits.memory is ${formatMemory(m)})`)
    if (c < 0.5 && m > 512 * MIB) throw invalid(`limits.cpu below 0.5 allows at most 512Mi of memory on Cloud Run (limits.memory is ${formatMemory(m)})`)
  }
  return Object.keys(out).length > 0 ? out : undefined
}

/** The billing the function asks for (annotation faas-bridge/cloudrun-billing), checked against its CPU. */
export function billingOf (fn: FunctionDeployment): Billing {
  const text = fn.annotations?.[BILLING_ANNOTATION]
  const b = text ?? 'request'
  if (b !== 'request' && b !== 'instance') throw invalid(`annotation ${BILLING_ANNOTATION} must be "request" or "instance", got "${b}"`)
  if (b === 'instance' && (cpuOf(fn) ?? DEFAULT_CPU) < 1) {
    throw invalid(`limits.cpu "${fn.limits?.cpu ?? ''}" is below 1, which Cloud Run allows only with request-based billing (annotation ${BILLING_ANNOTATION} is "instance")`)
  }
  return b
}

/** limits.cpu as a number of CPUs (undefined when unset; convertLimits has checked it). */
function cpuOf (fn: FunctionDeployment): number | undefined {
  const text = fn.limits?.cpu
  return text === undefined || text === '' ? undefined : parseCpu(text)
}

function wholeLabel (labels: Record<string, string> | undefined, key: string): number | undefined {
  const raw = labels?.[key]
  if (raw === undefined) return undefined
  if (!/^\d+$/.test(raw)) throw invalid(`label ${key} must be a whole number, got "${raw}"`)
  return Number(raw)
}

/** com.openfaas.scale.min / max, checked against each other. */
export function scaleLabels (labels: Record<string, string> | undefined): { min?: number, max?: number } {
  const min = wholeLabel(labels, SCALE_MIN_LABEL)
  const max = wholeLabel(labels, SCALE_MAX_LABEL)
  if (max !== undefined && max < 1) throw invalid(`label ${SCALE_MAX_LABEL} must be at least 1, got ${max}`)
  if (min !== undefined && max !== undefined && min > max) {
    throw invalid(`label ${SCALE_MIN_LABEL} (${min}) is above ${SCALE_MAX_LABEL} (${max})`)
  }
  return { ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) }
}

/** What Cloud Run cannot express; checked before anything is sent. */
export function assertDeployable (fn: FunctionDeployment): void {
  if (fn.constraints !== undefined && fn.constraints.length > 0) {
    throw invalid('constraints are not supported by the Cloud Run backend (Cloud Run has no node placement)')
  }
  if (fn.readOnlyRootFilesystem === true) {
    throw invalid('readOnlyRootFilesystem is not supported by the Cloud Run backend (its container filesystem is always writable, in memory)')
  }
  for (const name of Object.keys(fn.envVars ?? {})) {
    if (name === '' || name.includes('=')) throw invalid(`environment variable name "${name}" is not valid`)
    if (RESERVED_ENV.has(name)) throw invalid(`environment variable ${name} is reserved by Cloud Run and cannot be set`)
  }
  convertLimits(fn.limits)
  billingOf(fn)
  scaleLabels(fn.labels)
}

/**
 * What an update keeps of the service as it is: the labels and annotations (service and template)
 * that other tools wrote. Service.annotations "may be set by external tools ... and should be
 * preserved when modifying objects".
 */
export interface KeptMetadata {
  labels: Record<string, string>
  annotations: Record<string, string>
  templateLabels: Record<string, string>
  templateAnnotations: Record<string, string>
}

export interface ServiceContext {
  target: NamespaceTarget
  namespace: string
  secretPrefix: string
  /** service-level scaling.minInstanceCount */
  minInstances: number
  now: Date
  /** on update: the keys of the current service that are not the backend's */
  keep?: KeptMetadata
}

/** The whole Service resource for createService/updateService (no name: it is in the request). */
export function buildService (fn: FunctionDeployment, ctx: ServiceContext): IService {
  assertDeployable(fn)
  const { target, namespace } = ctx
  const env: Array<{ name: string, value: string }> = []
  for (const [name, value] of Object.entries(fn.envVars ?? {})) {
    if (name === 'fprocess' && fn.envProcess !== undefined && fn.envProcess !== '') continue
    env.push({ name, value })
  }
  if (fn.envProcess !== undefined && fn.envProcess !== '') env.push({ name: 'fprocess', value: fn.envProcess })
  const limits = convertLimits(fn.limits)
  const { max } = scaleLabels(fn.labels)
  const secrets = fn.secrets ?? []
  const volumes = secrets.map((s, i) => ({
    name: `secret-${i}`,
    secret: { secret: secretId(ctx.secretPrefix, namespace, s), items: [{ path: s, version: 'latest' }] }
  }))
  const volumeMounts = secrets.map((s, i) => ({ name: `secret-${i}`, mountPath: `${SECRETS_MOUNT_PATH}/${s}` }))
  const keep = ctx.keep
  const annotations: Record<string, string> = {
    ...keep?.annotations,
    [LABELS_ANNOTATION]: JSON.stringify(fn.labels ?? {}),
    [ANNOTATIONS_ANNOTATION]: JSON.stringify(fn.annotations ?? {})
  }
  if (fn.requests !== undefined) annotations[REQUESTS_ANNOTATION] = JSON.stringify(fn.requests)
  const labels = (kept: Record<string, string> | undefined): Record<string, string> => ({
    ...kept,
    ...googleLabels(namespace, fn.service, fn.labels, MAX_GOOGLE_LABELS - Object.keys(kept ?? {}).length)
  })
  const subCpu = (cpuOf(fn) ?? DEFAULT_CPU) < 1
  const template: NonNullable<IService['template']> = {
    labels: labels(keep?.templateLabels),
    annotations: { ...keep?.templateAnnotations, [DEPLOYED_AT_ANNOTATION]: ctx.now.toISOString() },
    containers: [{
      name: CONTAINER_NAME,
      image: fn.image,
      ports: [{ name: 'http1', containerPort: CONTAINER_PORT }],
      env,
      resources: { ...(limits !== undefined ? { limits } : {}), cpuIdle: billingOf(fn) === 'request' },
      ...(volumeMounts.length > 0 ? { volumeMounts } : {})
    }],
    ...(subCpu ? { maxInstanceRequestConcurrency: 1, executionEnvironment: EXECUTION_ENVIRONMENT_GEN1 } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(max !== undefined ? { scaling: { maxInstanceCount: max } } : {}),
    ...(target.serviceAccount !== undefined ? { serviceAccount: target.serviceAccount } : {})
  }
  return {
    labels: labels(keep?.labels),
    annotations,
    ingress: INGRESS_ENUM[target.ingress],
    scaling: { minInstanceCount: ctx.minInstances },
    traffic: [{ type: TRAFFIC_LATEST, percent: 100 }],
    template
  }
}
