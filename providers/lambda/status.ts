/*
 * GetFunction → FunctionStatus. Lambda has no replicas: `replicas` is what the user asked for (kept
 * in a tag); `availableReplicas` is that number while the function can run (State Active or
 * Inactive — Lambda wakes an inactive function on the next invoke — and reserved concurrency is
 * not 0), else 0 (Pending, Failed, or scaled to zero).
 */
import type { GetFunctionCommandOutput } from '@aws-sdk/client-lambda'
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionStatus } from '../../src/core/types.ts'
import { FPROCESS_ENV, labelsAndAnnotations, SECRETS_ENV } from './mapping.ts'
import { TAG_CREATED_AT, TAG_MANAGED, TAG_NAME, TAG_NAMESPACE, TAG_REPLICAS } from './naming.ts'

export type LambdaFunction = Pick<GetFunctionCommandOutput, 'Configuration' | 'Code' | 'Tags' | 'Concurrency'>

/** Is this the managed function for namespace/name (and not someone else's under the same name)? */
export function isManaged (fn: LambdaFunction, namespace: string, name: string): boolean {
  const tags = fn.Tags ?? {}
  return tags[TAG_MANAGED] === 'true' && tags[TAG_NAMESPACE] === namespace && tags[TAG_NAME] === name
}

export function desiredReplicas (fn: LambdaFunction): number {
  const raw = fn.Tags?.[TAG_REPLICAS]
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 1
}

/** can an invoke run now? */
export function isRunnable (fn: LambdaFunction): boolean {
  const state = fn.Configuration?.State
  const runnable = state === 'Active' || state === 'Inactive'
  return runnable && fn.Concurrency?.ReservedConcurrentExecutions !== 0
}

export function secretNames (env: Record<string, string> | undefined): string[] | undefined {
  const raw = env?.[SECRETS_ENV]
  if (raw === undefined) return undefined
  try {
    const parsed = JSON.parse(raw) as unknown
    if (typeof parsed === 'object' && parsed !== null) return Object.keys(parsed).sort()
  } catch {}
  return undefined
}

export function toStatus (fn: LambdaFunction, namespace: string, name: string): FunctionStatus {
  const config = fn.Configuration ?? {}
  const replicas = desiredReplicas(fn)
  const env = config.Environment?.Variables ?? {}
  const { labels, annotations } = labelsAndAnnotations(fn.Tags ?? {})
  const createdAt = fn.Tags?.[TAG_CREATED_AT] ?? config.LastModified
  const created = createdAt !== undefined && !Number.isNaN(Date.parse(createdAt)) ? new Date(createdAt).toISOString() : '0001-01-01T00:00:00Z'
  const status: FunctionStatus = {
    name,
    image: fn.Code?.ImageUri ?? '',
    namespace,
    replicas,
    availableReplicas: isRunnable(fn) ? replicas : 0,
    createdAt: created
  }
  const envProcess = env[FPROCESS_ENV]
  if (envProcess !== undefined) status.envProcess = envProcess
  const envVars = Object.fromEntries(Object.entries(env).filter(([k]) => k !== FPROCESS_ENV && k !== SECRETS_ENV))
  if (Object.keys(envVars).length > 0) status.envVars = envVars
  const secrets = secretNames(env)
  if (secrets !== undefined) status.secrets = secrets
  status.labels = withFunctionLabel(name, labels)
  if (Object.keys(annotations).length > 0) status.annotations = annotations
  if (config.MemorySize !== undefined) status.limits = { memory: `${config.MemorySize}Mi` }
  return status
}
