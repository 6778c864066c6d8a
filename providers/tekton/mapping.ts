/*
 * FunctionDeployment → Tekton Task, and a call → its request ConfigMap + TaskRun. Pure: no I/O.
 *
 * The Task has two steps on the function's image. Step `function` runs a small sh wrapper that
 * keeps the classic watchdog's contract: the request's headers become Http_* variables (with
 * Http_Method, Http_Path, Http_Query, Http_ContentLength), the body is fprocess's stdin, stdout is
 * the response. The request reaches the step as the read-only workspace `request`, bound to a
 * ConfigMap made for the call (keys headers.env and body). stdout up to `resultLimitBytes` is
 * written to the Task result `body`; larger output is left in an emptyDir and step `response`
 * prints it, so the provider reads it back from that step's log. Results `size` (bytes of stdout)
 * and `delivery` ("inline" or "log") say which. envVars, fprocess, limits/requests and secrets
 * (projected read-only at /var/openfaas/secrets/NAME) are on step `function`; labels and
 * annotations on the Task (Tekton copies them to TaskRuns and pods); constraints, image-pull
 * secrets and the maximum of concurrent runs (replicas) are annotations read back when calls
 * create their TaskRuns.
 */
import type { V1ConfigMap, V1EnvVar, V1ResourceRequirements, V1Volume, V1VolumeMount } from '@kubernetes/client-node'
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionDeployment, FunctionStatus } from '../../src/core/types.ts'
import {
  ANNOTATION_PREFIX, DOCKER_CONFIG_TYPES, FUNCTION_LABEL, nodeSelector, readResources, resourceList, rfc3339,
  SECRETS_MOUNT_PATH, userAnnotations
} from '../kubernetes/common/function-spec.ts'
import type { Label } from '../kubernetes/common/secrets.ts'
import type { ImagePullPolicy } from './options.ts'
import { TEKTON_GROUP, TEKTON_VERSION, type Task, type TaskRun, type TektonStep } from './tekton-types.ts'

export const STEP_FUNCTION = 'function'
export const STEP_RESPONSE = 'response'
/** Tekton names a step's container step-NAME */
export const stepContainer = (step: string): string => `step-${step}`
export const REQUEST_WORKSPACE = 'request'
export const HEADERS_KEY = 'headers.env'
export const BODY_KEY = 'body'
export const RESULT_BODY = 'body'
export const RESULT_SIZE = 'size'
export const RESULT_DELIVERY = 'delivery'
export const OUTPUT_VOLUME = 'faas-bridge-output'
export const OUTPUT_DIR = '/var/run/faas-bridge'
export const RESULT_LIMIT_ENV = 'FAAS_BRIDGE_RESULT_LIMIT'
export const ANNOTATIONS = {
  maxConcurrency: `${ANNOTATION_PREFIX}max-concurrency`,
  constraints: `${ANNOTATION_PREFIX}constraints`,
  pullSecrets: `${ANNOTATION_PREFIX}image-pull-secrets`,
  callId: `${ANNOTATION_PREFIX}call-id`,
  /** when the call made the TaskRun, in ms (creationTimestamp has whole seconds): orders runs for cleanup */
  startedAt: `${ANNOTATION_PREFIX}started-at`,
  inFlight: `${ANNOTATION_PREFIX}runs-in-flight`,
  queued: `${ANNOTATION_PREFIX}runs-queued`
} as const
export const CALL_ID_LABEL = `${ANNOTATION_PREFIX}call-id`
/** marks a call's request ConfigMap */
export const ROLE_LABEL = `${ANNOTATION_PREFIX}role`
export const ROLE_REQUEST = 'request'

export const FUNCTION_SCRIPT = `#!/bin/sh
# faas-bridge: the classic watchdog's contract for one call (generated)
req="$(workspaces.${REQUEST_WORKSPACE}.path)"
out=${OUTPUT_DIR}/stdout
if [ -z "\${fprocess:-}" ]; then
  echo "faas-bridge: fprocess is not set: deploy with envProcess or set ENV fprocess in the image" >&2
  exit 127
fi
while IFS= read -r line || [ -n "$line" ]; do
  export "$line"
done < "$req/${HEADERS_KEY}"
sh -c "$fprocess" < "$req/${BODY_KEY}" > "$out"
code=$?
size=$(( $(wc -c < "$out") ))
printf '%s' "$size" > "$(results.${RESULT_SIZE}.path)"
if [ "$code" -ne 0 ]; then
  echo "faas-bridge: fprocess exited with code $code" >&2
  exit "$code"
fi
if [ "$size" -le "$${RESULT_LIMIT_ENV}" ]; then
  cat "$out" > "$(results.${RESULT_BODY}.path)"
  printf inline > "$(results.${RESULT_DELIVERY}.path)"
else
  printf log > "$(results.${RESULT_DELIVERY}.path)"
fi
`

export const RESPONSE_SCRIPT = `#!/bin/sh
# faas-bridge: prints a response too large for a Task result; the provider reads it from this log
if [ "$(cat "$(results.${RESULT_DELIVERY}.path)")" = log ]; then exec cat ${OUTPUT_DIR}/stdout; fi
`

export interface TaskSettings {
  namespace: string
  managedBy: Label
  imagePullPolicy: ImagePullPolicy
  resultLimitBytes: number
  /** maximum of concurrent runs (the function's replicas) */
  maxConcurrency: number
  /** secret name → type, for every secret the function names (all exist) */
  secretTypes: ReadonlyMap<string, string>
}

function env (fn: FunctionDeployment, resultLimit: number): V1EnvVar[] {
  const vars: Record<string, string> = { ...(fn.envVars ?? {}) }
  if (fn.envProcess !== undefined && fn.envProcess !== '') vars.fprocess = fn.envProcess
  vars[RESULT_LIMIT_ENV] = String(resultLimit)
  return Object.keys(vars).sort().map((name) => ({ name, value: vars[name] as string }))
}

export function functionLabels (fn: FunctionDeployment, managedBy: Label): Record<string, string> {
  return { ...(fn.labels ?? {}), [FUNCTION_LABEL]: fn.service, [managedBy.key]: managedBy.value }
}

/** INVALID (400) for a spec that cannot become a Task; nothing is read or written. */
export function buildTask (fn: FunctionDeployment, s: TaskSettings): Task {
  const limits = resourceList('limits', fn.limits)
  const requests = resourceList('requests', fn.requests)
  const selector = nodeSelector(fn.constraints)
  const secrets = [...new Set(fn.secrets ?? [])].sort()
  const pullSecrets = secrets.filter((n) => DOCKER_CONFIG_TYPES.has(s.secretTypes.get(n) ?? ''))
  const projected = secrets.filter((n) => !DOCKER_CONFIG_TYPES.has(s.secretTypes.get(n) ?? ''))
  const volumes: V1Volume[] = [{ name: OUTPUT_VOLUME, emptyDir: {} }]
  const output: V1VolumeMount = { name: OUTPUT_VOLUME, mountPath: OUTPUT_DIR }
  const mounts: V1VolumeMount[] = [output]
  if (projected.length > 0) {
    const volume = `${fn.service}-projected-secrets`.slice(0, 63).replace(/-+$/, '')
    volumes.push({ name: volume, projected: { sources: projected.map((name) => ({ secret: { name } })) } })
    mounts.push({ name: volume, mountPath: SECRETS_MOUNT_PATH, readOnly: true })
  }
  const resources: V1ResourceRequirements = {}
  if (limits !== undefined) resources.limits = limits
  if (requests !== undefined) resources.requests = requests
  const readOnly = fn.readOnlyRootFilesystem === true
  const fnStep: TektonStep = {
    name: STEP_FUNCTION,
    image: fn.image,
    imagePullPolicy: s.imagePullPolicy,
    env: env(fn, s.resultLimitBytes),
    ...(Object.keys(resources).length > 0 ? { computeResources: resources } : {}),
    volumeMounts: mounts,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: readOnly },
    script: FUNCTION_SCRIPT
  }
  const responseStep: TektonStep = {
    name: STEP_RESPONSE,
    image: fn.image,
    imagePullPolicy: s.imagePullPolicy,
    volumeMounts: [output],
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: readOnly },
    script: RESPONSE_SCRIPT
  }
  const annotations: Record<string, string> = { ...userAnnotations(fn), [ANNOTATIONS.maxConcurrency]: String(s.maxConcurrency) }
  if (selector !== undefined) annotations[ANNOTATIONS.constraints] = JSON.stringify(fn.constraints)
  if (pullSecrets.length > 0) annotations[ANNOTATIONS.pullSecrets] = pullSecrets.join(',')
  return {
    apiVersion: `${TEKTON_GROUP}/${TEKTON_VERSION}`,
    kind: 'Task',
    metadata: { name: fn.service, namespace: s.namespace, labels: functionLabels(fn, s.managedBy), annotations },
    spec: {
      description: `OpenFaaS function ${fn.service} (managed by faas-bridge): one run per invocation`,
      workspaces: [{ name: REQUEST_WORKSPACE, readOnly: true, description: `the call: ${HEADERS_KEY} (Http_* variables) and ${BODY_KEY}` }],
      results: [
        { name: RESULT_BODY, type: 'string', description: 'stdout, when it fits a result' },
        { name: RESULT_SIZE, type: 'string', description: 'bytes of stdout' },
        { name: RESULT_DELIVERY, type: 'string', description: `"inline" (result ${RESULT_BODY}) or "log" (the ${STEP_RESPONSE} step's log)` }
      ],
      volumes,
      steps: [fnStep, responseStep]
    }
  }
}

/** The maximum of concurrent runs as the Task records it (replicas). */
export function maxConcurrencyOf (task: Task): number {
  const n = Number(task.metadata?.annotations?.[ANNOTATIONS.maxConcurrency] ?? '1')
  return Number.isInteger(n) && n >= 0 ? n : 1
}

function functionStep (task: Task): TektonStep | undefined {
  return task.spec?.steps?.find((s) => s.name === STEP_FUNCTION) ?? task.spec?.steps?.[0]
}

/** The value of env var `name` on the function step (content_type, fprocess...). */
export function stepEnv (task: Task, name: string): string | undefined {
  return functionStep(task)?.env?.find((e) => e.name === name)?.value
}

export function taskConstraints (task: Task): string[] | undefined {
  const text = task.metadata?.annotations?.[ANNOTATIONS.constraints]
  if (text === undefined) return undefined
  try {
    const v = JSON.parse(text) as unknown
    return Array.isArray(v) ? v.map(String) : undefined
  } catch {
    return undefined
  }
}

export function taskPullSecrets (task: Task): string[] {
  const text = task.metadata?.annotations?.[ANNOTATIONS.pullSecrets] ?? ''
  return text.split(',').filter((s) => s !== '')
}

/** Task → FunctionStatus: the spec read back; replicas = available = the maximum of concurrent runs. */
export function toFunctionStatus (task: Task, managedBy: Label, extra: Record<string, string> = {}): FunctionStatus {
  const step = functionStep(task)
  const replicas = maxConcurrencyOf(task)
  const status: FunctionStatus = {
    name: task.metadata?.name ?? '',
    image: step?.image ?? '',
    namespace: task.metadata?.namespace ?? '',
    replicas,
    availableReplicas: replicas,
    createdAt: rfc3339(task.metadata?.creationTimestamp)
  }
  const envVars: Record<string, string> = {}
  for (const e of step?.env ?? []) {
    if (e.name === 'fprocess') status.envProcess = e.value ?? ''
    else if (e.name !== RESULT_LIMIT_ENV && e.value !== undefined) envVars[e.name] = e.value
  }
  if (Object.keys(envVars).length > 0) status.envVars = envVars
  const labels = { ...(task.metadata?.labels ?? {}) }
  delete labels[managedBy.key]
  status.labels = withFunctionLabel(status.name, labels)
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(task.metadata?.annotations ?? {})) if (!k.startsWith(ANNOTATION_PREFIX)) annotations[k] = v
  status.annotations = { ...annotations, ...extra }
  const limits = readResources(step?.computeResources?.limits as Record<string, string> | undefined)
  if (limits !== undefined) status.limits = limits
  const requests = readResources(step?.computeResources?.requests as Record<string, string> | undefined)
  if (requests !== undefined) status.requests = requests
  const secrets = [
    ...taskPullSecrets(task),
    ...(task.spec?.volumes ?? []).flatMap((v) => (v.projected?.sources ?? []).map((s) => s.secret?.name ?? ''))
  ].filter((n) => n !== '').sort()
  if (secrets.length > 0) status.secrets = secrets
  const constraints = taskConstraints(task)
  if (constraints !== undefined && constraints.length > 0) status.constraints = constraints
  if (step?.securityContext?.readOnlyRootFilesystem === true) status.readOnlyRootFilesystem = true
  return status
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** X-Call-Id as a label value: kept when valid, else its invalid characters become '-' (the annotation keeps it whole). */
export function callIdLabel (callId: string): string {
  if (callId.length <= 63 && LABEL_VALUE.test(callId)) return callId
  return callId.replace(/[^-A-Za-z0-9_.]/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '')
}

export interface RunSettings {
  namespace: string
  /** the TaskRun's name, also its request ConfigMap's */
  name: string
  managedBy: Label
  callId: string
  timeoutMs: number
  serviceAccountName?: string
}

/** The labels of a call's TaskRun and ConfigMap: the function, who manages it, the call id. */
export function runLabels (fn: string, s: Pick<RunSettings, 'managedBy' | 'callId'>): Record<string, string> {
  return { [FUNCTION_LABEL]: fn, [s.managedBy.key]: s.managedBy.value, [CALL_ID_LABEL]: callIdLabel(s.callId) }
}

export function buildRequestConfigMap (fn: string, s: RunSettings, headers: string, body: Buffer): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: { ...runLabels(fn, s), [ROLE_LABEL]: ROLE_REQUEST },
      annotations: { [ANNOTATIONS.callId]: s.callId }
    },
    data: { [HEADERS_KEY]: headers },
    binaryData: { [BODY_KEY]: body.toString('base64') },
    immutable: true
  }
}

/** Go's time.Duration text for whole seconds, as TaskRun spec.timeout takes it. */
export function goDuration (ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))}s`
}

export function buildTaskRun (task: Task, s: RunSettings): TaskRun {
  const fn = task.metadata?.name ?? ''
  const selector = nodeSelector(taskConstraints(task))
  const pullSecrets = taskPullSecrets(task)
  const podTemplate: NonNullable<TaskRun['spec']>['podTemplate'] = {}
  if (selector !== undefined) podTemplate.nodeSelector = selector
  if (pullSecrets.length > 0) podTemplate.imagePullSecrets = pullSecrets.map((name) => ({ name }))
  return {
    apiVersion: `${TEKTON_GROUP}/${TEKTON_VERSION}`,
    kind: 'TaskRun',
    metadata: {
      name: s.name,
      namespace: s.namespace,
      labels: runLabels(fn, s),
      annotations: { [ANNOTATIONS.callId]: s.callId, [ANNOTATIONS.startedAt]: new Date().toISOString() }
    },
    spec: {
      taskRef: { name: fn, kind: 'Task' },
      workspaces: [{ name: REQUEST_WORKSPACE, configMap: { name: s.name } }],
      timeout: goDuration(s.timeoutMs),
      ...(s.serviceAccountName !== undefined ? { serviceAccountName: s.serviceAccountName } : {}),
      ...(Object.keys(podTemplate).length > 0 ? { podTemplate } : {})
    }
  }
}
