/*
 * Cloud Run Service → FunctionStatus. Services arrive in two shapes: unary calls give plain objects
 * (string enums, int64 as strings, timestamps as {seconds: "…", nanos}), long-running operations
 * give protobuf objects (enums as numbers, int64 as Long). normalise() reads both into one view.
 *
 * Replica mapping (documented in docs/backends/cloudrun.md):
 *   Ready condition succeeded, minInstanceCount = N ≥ 1 → replicas N, availableReplicas N
 *   Ready, N = 0, scaleToZero 'native'  → replicas 1, availableReplicas 1 (invocable; Cloud Run cold-starts)
 *   Ready, N = 0, scaleToZero 'gateway' → replicas 0, availableReplicas 0 (off until scaled up)
 *   not Ready (deploying, failed)       → replicas N, availableReplicas 0
 */
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionResources, FunctionStatus } from '../../src/core/types.ts'
import {
  ANNOTATIONS_ANNOTATION, CONTAINER_NAME, LABELS_ANNOTATION, OWNED_ANNOTATION_PREFIX, REQUESTS_ANNOTATION, SECRETS_MOUNT_PATH,
  type IService, type KeptMetadata
} from './mapping.ts'
import { consoleUrl, FUNCTION_LABEL, lastSegment, NAMESPACE_LABEL, RESERVED_LABELS } from './naming.ts'
import type { NamespaceTarget, ScaleToZeroMode } from './options.ts'

/** Status annotations added to every FunctionStatus (not stored on the service). */
export const URL_STATUS_ANNOTATION = 'faas-bridge/url'
export const CONSOLE_STATUS_ANNOTATION = 'faas-bridge/console'

/** label/annotation namespaces Cloud Run v2 rejects on input (service.proto, revision_template.proto) */
const CLOUD_RUN_NAMESPACES = ['run.googleapis.com', 'cloud.googleapis.com', 'serving.knative.dev', 'autoscaling.knative.dev']

/** google.cloud.run.v2.Condition.State */
const CONDITION_STATE: Readonly<Record<string, number>> = {
  STATE_UNSPECIFIED: 0, CONDITION_PENDING: 1, CONDITION_RECONCILING: 2, CONDITION_FAILED: 3, CONDITION_SUCCEEDED: 4
}
const SUCCEEDED = 4
const FAILED = 3

interface LongLike { toNumber (): number }

/** int64/int32 in any of its shapes (number, decimal string, Long) → number; NaN-free. */
export function toNumber (v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v !== '') return Number(v)
  if (typeof v === 'object' && v !== null && typeof (v as LongLike).toNumber === 'function') return (v as LongLike).toNumber()
  return 0
}

/** An enum as its number, whether it came as a number or as its name. */
export function enumNumber (v: unknown, names: Readonly<Record<string, number>>): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string') return names[v] ?? 0
  return 0
}

/** google.protobuf.Timestamp ({seconds, nanos} with Long/string seconds), RFC3339 string or Date → RFC3339. */
export function toRfc3339 (ts: unknown): string | undefined {
  if (ts === null || ts === undefined) return undefined
  if (ts instanceof Date) return ts.toISOString()
  if (typeof ts === 'string') return Number.isNaN(Date.parse(ts)) ? undefined : ts
  if (typeof ts === 'object') {
    const { seconds, nanos } = ts as { seconds?: unknown, nanos?: unknown }
    const s = toNumber(seconds)
    const n = toNumber(nanos)
    if (s === 0 && n === 0) return undefined
    const base = new Date(s * 1000).toISOString().slice(0, 19)
    return n === 0 ? `${base}Z` : `${base}.${String(n).padStart(9, '0').replace(/0+$/, '')}Z`
  }
  return undefined
}

/** A Service read into what the backend needs, independent of the shape it arrived in. */
export interface ServiceView {
  id: string
  labels: Record<string, string>
  annotations: Record<string, string>
  /** the revision template's labels and annotations (others' keys are kept on update) */
  templateLabels: Record<string, string>
  templateAnnotations: Record<string, string>
  /** Service.etag: sent back with an update, which Cloud Run refuses if the service changed since */
  etag: string
  uri: string
  createTime: string
  ready: boolean
  failed: boolean
  /** the Ready condition's message when not ready */
  reason: string
  minInstances: number
  maxInstances?: number
  image: string
  env: Record<string, string>
  limits?: Record<string, string>
  secrets: string[]
  invokerIamDisabled: boolean
}

function plainMap (m: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (typeof m === 'object' && m !== null) {
    for (const [k, v] of Object.entries(m)) if (typeof v === 'string') out[k] = v
  }
  return out
}

export function normalise (svc: IService): ServiceView {
  const cond = svc.terminalCondition
  const state = enumNumber(cond?.state, CONDITION_STATE)
  const ready = (cond?.type ?? 'Ready') === 'Ready' && state === SUCCEEDED
  const container = svc.template?.containers?.find((c) => c.name === CONTAINER_NAME) ?? svc.template?.containers?.[0]
  const env: Record<string, string> = {}
  for (const e of container?.env ?? []) {
    if (typeof e.name === 'string' && typeof e.value === 'string') env[e.name] = e.value
  }
  const secrets: string[] = []
  for (const m of container?.volumeMounts ?? []) {
    const p = m.mountPath ?? ''
    if (p.startsWith(`${SECRETS_MOUNT_PATH}/`)) secrets.push(p.slice(SECRETS_MOUNT_PATH.length + 1))
  }
  const limits = plainMap(container?.resources?.limits)
  const max = toNumber(svc.template?.scaling?.maxInstanceCount)
  const view: ServiceView = {
    id: lastSegment(svc.name ?? ''),
    labels: plainMap(svc.labels),
    annotations: plainMap(svc.annotations),
    templateLabels: plainMap(svc.template?.labels),
    templateAnnotations: plainMap(svc.template?.annotations),
    etag: svc.etag ?? '',
    uri: svc.uri ?? '',
    createTime: toRfc3339(svc.createTime) ?? '0001-01-01T00:00:00Z',
    ready,
    failed: state === FAILED,
    reason: cond?.message ?? '',
    minInstances: toNumber(svc.scaling?.minInstanceCount),
    image: container?.image ?? '',
    env,
    secrets,
    invokerIamDisabled: svc.invokerIamDisabled === true
  }
  if (max > 0) view.maxInstances = max
  if (Object.keys(limits).length > 0) view.limits = limits
  return view
}

/** The replica counts the gateway and faas-cli see (the mapping at the top of this file). */
export function replicaCounts (view: ServiceView, mode: ScaleToZeroMode): { replicas: number, availableReplicas: number } {
  const replicas = view.minInstances > 0 ? view.minInstances : mode === 'native' && view.ready ? 1 : 0
  return { replicas, availableReplicas: view.ready ? replicas : 0 }
}

function parseJsonMap (text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined
  try {
    const v: unknown = JSON.parse(text)
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? plainMap(v) : undefined
  } catch {
    return undefined
  }
}

/**
 * The labels and annotations of the current service (and its template) that are not the
 * backend's, for an update to keep. Ours: annotations under faas-bridge/, the reserved labels,
 * and the labels the last deploy set (the keys of its OpenFaaS label map), so a label the user
 * drops is dropped on Cloud Run too. Keys in Cloud Run's own namespaces (a v1 client such as
 * gcloud writes run.googleapis.com/...) are not sent back: v2 rejects them (Service and
 * RevisionTemplate labels/annotations) and expresses them as fields.
 */
export function keptMetadata (view: ServiceView): KeptMetadata {
  const deployed = new Set(Object.keys(parseJsonMap(view.annotations[LABELS_ANNOTATION]) ?? {}))
  const foreign = (k: string): boolean => !CLOUD_RUN_NAMESPACES.some((ns) => k.startsWith(`${ns}/`) || k.includes(`.${ns}/`))
  const labels = (m: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !RESERVED_LABELS.has(k) && !deployed.has(k) && foreign(k)))
  const annotations = (m: Record<string, string>): Record<string, string> =>
    Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith(OWNED_ANNOTATION_PREFIX) && foreign(k)))
  return {
    labels: labels(view.labels),
    annotations: annotations(view.annotations),
    templateLabels: labels(view.templateLabels),
    templateAnnotations: annotations(view.templateAnnotations)
  }
}

export function toFunctionStatus (view: ServiceView, namespace: string, name: string, target: NamespaceTarget, mode: ScaleToZeroMode): FunctionStatus {
  const envVars = { ...view.env }
  const envProcess = envVars.fprocess
  delete envVars.fprocess
  const labels = parseJsonMap(view.annotations[LABELS_ANNOTATION]) ?? Object.fromEntries(
    Object.entries(view.labels).filter(([k]) => !RESERVED_LABELS.has(k)))
  const annotations = parseJsonMap(view.annotations[ANNOTATIONS_ANNOTATION]) ?? {}
  if (view.uri !== '') annotations[URL_STATUS_ANNOTATION] = view.uri
  annotations[CONSOLE_STATUS_ANNOTATION] = consoleUrl(target, view.id)
  const status: FunctionStatus = {
    name,
    image: view.image,
    namespace,
    ...replicaCounts(view, mode),
    createdAt: view.createTime,
    labels: withFunctionLabel(name, labels),
    annotations
  }
  if (envProcess !== undefined) status.envProcess = envProcess
  if (Object.keys(envVars).length > 0) status.envVars = envVars
  if (view.secrets.length > 0) status.secrets = view.secrets
  if (view.limits !== undefined) status.limits = view.limits as FunctionResources
  const requests = parseJsonMap(view.annotations[REQUESTS_ANNOTATION])
  if (requests !== undefined) status.requests = requests as FunctionResources
  return status
}

/** The function name recorded on the service (label), for list. */
export function functionLabelOf (view: ServiceView): string | undefined {
  return view.labels[FUNCTION_LABEL]
}

export function namespaceLabelOf (view: ServiceView): string | undefined {
  return view.labels[NAMESPACE_LABEL]
}
