/*
 * Deployment (+ its Pods) → FunctionStatus. replicas = spec.replicas, availableReplicas =
 * status.availableReplicas (never above spec: pods still terminating after a scale-down do not
 * count), createdAt = creationTimestamp, and the spec read back from the pod template: image,
 * envProcess, envVars, labels, annotations, limits/requests, secrets, constraints,
 * readOnlyRootFilesystem. faas-bridge adds where the function runs as annotations under
 * faas-bridge.dev/ (printed by `faas-cli describe`): pods with their phases, nodes, restarts, the
 * last restart's reason, and why a container waits.
 */
import type { V1Deployment, V1Pod } from '@kubernetes/client-node'
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionStatus } from '../../src/core/types.ts'
import { readResources, rfc3339 } from './common/function-spec.ts'
import type { Label } from './common/secrets.ts'
import { ANNOTATION_PREFIX, FUNCTION_LABEL } from './mapping.ts'

export { rfc3339 } from './common/function-spec.ts'

export const STATUS_ANNOTATIONS = {
  pods: `${ANNOTATION_PREFIX}pods`,
  nodes: `${ANNOTATION_PREFIX}nodes`,
  restarts: `${ANNOTATION_PREFIX}restarts`,
  lastRestart: `${ANNOTATION_PREFIX}last-restart`,
  waiting: `${ANNOTATION_PREFIX}waiting`
} as const
/** pods named in the pods annotation before "and N more" */
export const MAX_PODS_LISTED = 10

function podAnnotations (pods: readonly V1Pod[]): Record<string, string> {
  const out: Record<string, string> = {}
  const sorted = [...pods].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''))
  const described = sorted.slice(0, MAX_PODS_LISTED).map((p) => {
    const ready = p.status?.containerStatuses?.every((c) => c.ready) === true
    const phase = p.status?.phase ?? 'Unknown'
    return `${p.metadata?.name ?? '?'} (${phase}${phase === 'Running' && !ready ? ', not ready' : ''})`
  })
  if (sorted.length > MAX_PODS_LISTED) described.push(`and ${sorted.length - MAX_PODS_LISTED} more`)
  out[STATUS_ANNOTATIONS.pods] = described.length > 0 ? described.join(', ') : 'none'
  const nodes = [...new Set(pods.map((p) => p.spec?.nodeName).filter((n): n is string => n !== undefined && n !== ''))].sort()
  if (nodes.length > 0) out[STATUS_ANNOTATIONS.nodes] = nodes.join(', ')
  let restarts = 0
  let last: { at: number, text: string } | undefined
  const waiting: string[] = []
  for (const p of sorted) {
    for (const c of p.status?.containerStatuses ?? []) {
      restarts += c.restartCount ?? 0
      const t = c.lastState?.terminated
      if (t !== undefined) {
        const at = t.finishedAt !== undefined ? new Date(t.finishedAt).getTime() : 0
        if (last === undefined || at >= last.at) {
          last = { at, text: `${t.reason ?? 'Terminated'} (exit code ${t.exitCode}) in ${p.metadata?.name ?? '?'} at ${rfc3339(t.finishedAt)}` }
        }
      }
      const w = c.state?.waiting?.reason
      if (w !== undefined && w !== 'ContainerCreating') waiting.push(`${w} in ${p.metadata?.name ?? '?'}${c.state?.waiting?.message !== undefined ? `: ${c.state.waiting.message}` : ''}`)
    }
  }
  out[STATUS_ANNOTATIONS.restarts] = String(restarts)
  if (last !== undefined) out[STATUS_ANNOTATIONS.lastRestart] = last.text
  if (waiting.length > 0) out[STATUS_ANNOTATIONS.waiting] = waiting.join('; ')
  return out
}

export function toFunctionStatus (dep: V1Deployment, pods: readonly V1Pod[], managedBy: Label): FunctionStatus {
  const template = dep.spec?.template
  const container = template?.spec?.containers?.[0]
  const replicas = dep.spec?.replicas ?? 1
  const status: FunctionStatus = {
    name: dep.metadata?.name ?? '',
    image: container?.image ?? '',
    namespace: dep.metadata?.namespace ?? '',
    replicas,
    availableReplicas: Math.min(dep.status?.availableReplicas ?? 0, replicas),
    createdAt: rfc3339(dep.metadata?.creationTimestamp)
  }
  const envVars: Record<string, string> = {}
  for (const e of container?.env ?? []) {
    if (e.name === 'fprocess') status.envProcess = e.value ?? ''
    else if (e.value !== undefined) envVars[e.name] = e.value
  }
  if (Object.keys(envVars).length > 0) status.envVars = envVars
  const labels = { ...(template?.metadata?.labels ?? {}) }
  delete labels[managedBy.key]
  status.labels = withFunctionLabel(status.name, labels)
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(template?.metadata?.annotations ?? {})) if (!k.startsWith(ANNOTATION_PREFIX)) annotations[k] = v
  status.annotations = { ...annotations, ...podAnnotations(pods) }
  const limits = readResources(container?.resources?.limits)
  if (limits !== undefined) status.limits = limits
  const requests = readResources(container?.resources?.requests)
  if (requests !== undefined) status.requests = requests
  const secrets = [
    ...(template?.spec?.imagePullSecrets ?? []).map((s) => s.name ?? ''),
    ...(template?.spec?.volumes ?? []).flatMap((v) => (v.projected?.sources ?? []).map((s) => s.secret?.name ?? ''))
  ].filter((n) => n !== '').sort()
  if (secrets.length > 0) status.secrets = secrets
  const selector = template?.spec?.nodeSelector
  if (selector !== undefined && Object.keys(selector).length > 0) status.constraints = Object.entries(selector).map(([k, v]) => `${k}=${v}`).sort()
  if (container?.securityContext?.readOnlyRootFilesystem === true) status.readOnlyRootFilesystem = true
  return status
}

/** Pods grouped by function name (label faas_function). */
export function podsByFunction (pods: readonly V1Pod[]): Map<string, V1Pod[]> {
  const out = new Map<string, V1Pod[]>()
  for (const p of pods) {
    const fn = p.metadata?.labels?.[FUNCTION_LABEL]
    if (fn === undefined) continue
    const list = out.get(fn)
    if (list === undefined) out.set(fn, [p])
    else list.push(p)
  }
  return out
}
