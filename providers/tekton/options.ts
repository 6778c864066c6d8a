/*
 * The tekton backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong. How to reach the cluster is checked by the shared
 * Kubernetes option code (../kubernetes/common/options.ts).
 */
import type { KubeConnectionOptions } from '../kubernetes/common/client.ts'
import {
  connectionOptions, DEFAULT_NAMESPACE_LABEL, managedByOption, oneOf, optionError, optionalString, parseLabelOption
} from '../kubernetes/common/options.ts'
import type { Label } from '../kubernetes/common/secrets.ts'
import { DEFAULT_CACHE_STALE_AFTER_MS } from '../kubernetes/common/informer.ts'
import { optionReader } from '../../src/core/option-reader.ts'

const BACKEND = 'tekton'
const reader = optionReader(BACKEND)

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never'

export interface TektonOptions extends KubeConnectionOptions {
  /** largest request body (bytes); a larger one is answered 413 */
  maxBodyBytes: number
  /** stdout up to this size (bytes) comes back as the Task result `body`; larger is read from the `response` step's log */
  resultLimitBytes: number
  /** largest response read back from the step's log (bytes); a larger one is a 500 */
  maxResponseBytes: number
  /** finished TaskRuns kept per function (older ones are deleted) */
  keepTaskRuns: number
  /** invocations that wait per function once `replicas` runs are under way; one more gets 429 */
  maxQueue: number
  /** a run slot's Lease not renewed for this long is free again (its holder died); renewed every third of it */
  slotLeaseSeconds: number
  /** lines of the failing step's log in a 500 answer */
  failureLogLines: number
  imagePullPolicy: ImagePullPolicy
  /** service account of the TaskRuns' pods; undefined = the namespace's default (Tekton's default-service-account) */
  serviceAccountName?: string
  /** marks Kubernetes Namespaces that hold functions ("key=value") */
  namespaceLabel: Label
  /** app.kubernetes.io/managed-by on everything this backend creates */
  managedBy: Label
  /** informer caches of the Tasks (list, status, invocations) and TaskRuns (a call's end); false: every read asks the API */
  cache: boolean
  /** a cache whose watch has been down longer than this is not trusted: reads go to the API */
  cacheStaleAfterMs: number
}

/** A ConfigMap holds at most 1 MiB; 16 KiB of it are kept for the request's headers. */
export const CONFIGMAP_LIMIT_BYTES = 1024 * 1024
export const MAX_HEADER_BYTES = 16 * 1024
export const MAX_BODY_BYTES_LIMIT = CONFIGMAP_LIMIT_BYTES - MAX_HEADER_BYTES
export const DEFAULT_MAX_BODY_BYTES = MAX_BODY_BYTES_LIMIT
/**
 * Tekton writes results through the container's termination message, 4096 bytes for all of a
 * step's results by default (feature flag max-result-size raises it with results-from:
 * sidecar-logs); the other two results and Tekton's own fields need the rest.
 */
export const DEFAULT_RESULT_LIMIT_BYTES = 3072
/** Tekton's largest max-result-size */
export const MAX_RESULT_LIMIT_BYTES = 1536 * 1024
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
export const DEFAULT_KEEP_TASKRUNS = 10
export const DEFAULT_MAX_QUEUE = 100
export const DEFAULT_FAILURE_LOG_LINES = 20
/** as client-go's leader election lease duration: a dead replica's slots come back within 15 s */
export const DEFAULT_SLOT_LEASE_SECONDS = 15
/** each invocation is a new pod: an image already on the node starts it fastest */
export const DEFAULT_IMAGE_PULL_POLICY: ImagePullPolicy = 'IfNotPresent'
/** A TaskRun's own timeout is read_timeout plus this, so Tekton stops runs the provider no longer watches. */
export const TASKRUN_TIMEOUT_MARGIN_MS = 30_000

function integer (opts: Record<string, unknown>, key: string, fallback: number, min: number, max: number): number {
  const v = opts[key] ?? fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) optionError(BACKEND, key, `an integer from ${min} to ${max}`, v)
  return v
}

export function validateOptions (options: Record<string, unknown> | undefined): TektonOptions {
  const opts = options ?? {}
  const serviceAccountName = optionalString(BACKEND, opts, 'serviceAccountName')
  if (serviceAccountName !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(serviceAccountName)) {
    optionError(BACKEND, 'serviceAccountName', 'a Kubernetes object name', serviceAccountName)
  }
  return {
    ...connectionOptions(BACKEND, opts),
    maxBodyBytes: integer(opts, 'maxBodyBytes', DEFAULT_MAX_BODY_BYTES, 0, MAX_BODY_BYTES_LIMIT),
    resultLimitBytes: integer(opts, 'resultLimitBytes', DEFAULT_RESULT_LIMIT_BYTES, 0, MAX_RESULT_LIMIT_BYTES),
    maxResponseBytes: integer(opts, 'maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES, 1, 1024 * 1024 * 1024),
    keepTaskRuns: integer(opts, 'keepTaskRuns', DEFAULT_KEEP_TASKRUNS, 0, 10_000),
    maxQueue: integer(opts, 'maxQueue', DEFAULT_MAX_QUEUE, 0, 100_000),
    slotLeaseSeconds: integer(opts, 'slotLeaseSeconds', DEFAULT_SLOT_LEASE_SECONDS, 1, 3600),
    failureLogLines: integer(opts, 'failureLogLines', DEFAULT_FAILURE_LOG_LINES, 0, 10_000),
    imagePullPolicy: oneOf(BACKEND, opts, 'imagePullPolicy', ['Always', 'IfNotPresent', 'Never'], DEFAULT_IMAGE_PULL_POLICY),
    ...(serviceAccountName !== undefined ? { serviceAccountName } : {}),
    namespaceLabel: parseLabelOption(BACKEND, 'namespaceLabel', opts.namespaceLabel ?? DEFAULT_NAMESPACE_LABEL),
    managedBy: managedByOption(BACKEND, opts),
    cache: reader.bool(opts, 'cache', true),
    cacheStaleAfterMs: reader.int(opts, 'cacheStaleAfterMs', DEFAULT_CACHE_STALE_AFTER_MS, 100)
  }
}
