/*
 * The parts of Tekton's tekton.dev/v1 Task and TaskRun this backend writes and reads (Tekton's
 * own Go types, trimmed). @kubernetes/client-node has no Tekton types: CRDs go through
 * CustomObjectsApi, which takes and returns plain objects.
 */
import type {
  V1EnvVar, V1LocalObjectReference, V1ObjectMeta, V1ResourceRequirements, V1SecurityContext, V1Volume, V1VolumeMount
} from '@kubernetes/client-node'

export const TEKTON_GROUP = 'tekton.dev'
export const TEKTON_VERSION = 'v1'
export const TASKS = 'tasks'
export const TASKRUNS = 'taskruns'
/** set by Tekton on a TaskRun's pod */
export const TASKRUN_LABEL = 'tekton.dev/taskRun'
export const CANCELLED = 'TaskRunCancelled'

export interface TektonStep {
  name: string
  image: string
  imagePullPolicy?: string
  env?: V1EnvVar[]
  computeResources?: V1ResourceRequirements
  volumeMounts?: V1VolumeMount[]
  securityContext?: V1SecurityContext
  script?: string
}

export interface Task {
  apiVersion?: string
  kind?: string
  metadata?: V1ObjectMeta
  spec?: {
    description?: string
    steps?: TektonStep[]
    volumes?: V1Volume[]
    workspaces?: Array<{ name: string, description?: string, readOnly?: boolean, mountPath?: string }>
    results?: Array<{ name: string, type?: string, description?: string }>
  }
}

export interface Condition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  reason?: string
  message?: string
  lastTransitionTime?: string
}

export interface StepState {
  name?: string
  container?: string
  terminated?: { exitCode?: number, reason?: string, message?: string }
}

export interface TaskRun {
  apiVersion?: string
  kind?: string
  metadata?: V1ObjectMeta
  spec?: {
    taskRef?: { name: string, kind?: string }
    workspaces?: Array<{ name: string, configMap?: { name: string } }>
    timeout?: string
    serviceAccountName?: string
    podTemplate?: { nodeSelector?: Record<string, string>, imagePullSecrets?: V1LocalObjectReference[] }
    status?: string
    statusMessage?: string
  }
  status?: {
    podName?: string
    startTime?: string
    completionTime?: string
    conditions?: Condition[]
    results?: Array<{ name: string, type?: string, value: unknown }>
    steps?: StepState[]
  }
}

export interface TaskRunList {
  metadata?: { resourceVersion?: string }
  items: TaskRun[]
}

export interface TaskList {
  metadata?: { resourceVersion?: string }
  items: Task[]
}

/** The Succeeded condition: 'True' done well, 'False' failed (or cancelled, timed out), 'Unknown' still running. */
export function succeeded (run: TaskRun): Condition | undefined {
  return run.status?.conditions?.find((c) => c.type === 'Succeeded')
}

export function isDone (run: TaskRun): boolean {
  const c = succeeded(run)
  return c !== undefined && c.status !== 'Unknown'
}

export function resultOf (run: TaskRun, name: string): string | undefined {
  const r = run.status?.results?.find((x) => x.name === name)
  if (r === undefined) return undefined
  return typeof r.value === 'string' ? r.value : JSON.stringify(r.value)
}
