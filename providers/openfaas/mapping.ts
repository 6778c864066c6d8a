/*
 * What crosses the wire to the remote and back: deployments go out with the remote namespace;
 * statuses and secrets come back with the local one. Statuses are copied field by field as the Go
 * gateway would decode them (unknown keys dropped, wrong types refused), replicas exactly as the
 * remote reports them (Go omits 0, so a missing count is 0).
 */
import { badGateway } from '../../src/core/errors.ts'
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionDeployment, FunctionResources, FunctionStatus, LogMessage, SecretInfo } from '../../src/core/types.ts'

/** Go's zero time.Time, what a Go remote sends when it has no creation time. */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function stringMap (v: unknown): Record<string, string> | undefined {
  if (!isRecord(v)) return undefined
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val
  return out
}

function stringList (v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined
}

function resources (v: unknown): FunctionResources | undefined {
  const m = stringMap(v)
  return m === undefined ? undefined : m as FunctionResources
}

function count (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0
}

/** The deployment as the remote should receive it. */
export function toRemoteDeployment (fn: FunctionDeployment & { namespace: string }, remoteNamespace: string): FunctionDeployment {
  return { ...fn, namespace: remoteNamespace }
}

/** A remote FunctionStatus as ours: the local namespace, only known fields, counts as reported. */
export function fromRemoteStatus (raw: unknown, localNamespace: string, what: string): FunctionStatus {
  if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '') {
    throw badGateway(`${what}: the remote answered a function status without a name: ${JSON.stringify(raw)?.slice(0, 200)}`)
  }
  const s: FunctionStatus = {
    name: raw.name,
    image: typeof raw.image === 'string' ? raw.image : '',
    namespace: localNamespace,
    replicas: count(raw.replicas),
    availableReplicas: count(raw.availableReplicas),
    createdAt: typeof raw.createdAt === 'string' && raw.createdAt !== '' ? raw.createdAt : ZERO_TIME
  }
  if (typeof raw.envProcess === 'string' && raw.envProcess !== '') s.envProcess = raw.envProcess
  const envVars = stringMap(raw.envVars)
  if (envVars !== undefined) s.envVars = envVars
  const constraints = stringList(raw.constraints)
  if (constraints !== undefined) s.constraints = constraints
  const secrets = stringList(raw.secrets)
  if (secrets !== undefined) s.secrets = secrets
  // faas-netes reports faas_function itself, other remotes may not: ours always carries it (once)
  s.labels = withFunctionLabel(raw.name, stringMap(raw.labels))
  const annotations = stringMap(raw.annotations)
  if (annotations !== undefined) s.annotations = annotations
  const limits = resources(raw.limits)
  if (limits !== undefined) s.limits = limits
  const requests = resources(raw.requests)
  if (requests !== undefined) s.requests = requests
  if (raw.readOnlyRootFilesystem === true) s.readOnlyRootFilesystem = true
  if (typeof raw.invocationCount === 'number' && raw.invocationCount > 0) s.invocationCount = raw.invocationCount
  if (isRecord(raw.usage)) {
    const usage: NonNullable<FunctionStatus['usage']> = {}
    if (typeof raw.usage.cpu === 'number') usage.cpu = raw.usage.cpu
    if (typeof raw.usage.totalMemoryBytes === 'number') usage.totalMemoryBytes = raw.usage.totalMemoryBytes
    s.usage = usage
  }
  return s
}

/** A remote list (Go's nil slice is `null`) as ours. */
export function fromRemoteList (raw: unknown, localNamespace: string, what: string): FunctionStatus[] {
  if (raw === null) return []
  if (!Array.isArray(raw)) throw badGateway(`${what}: the remote answered something that is not a list: ${JSON.stringify(raw)?.slice(0, 200)}`)
  return raw.map((item) => fromRemoteStatus(item, localNamespace, what))
}

export function fromRemoteSecrets (raw: unknown, localNamespace: string, what: string): SecretInfo[] {
  if (raw === null) return []
  if (!Array.isArray(raw)) throw badGateway(`${what}: the remote answered something that is not a list: ${JSON.stringify(raw)?.slice(0, 200)}`)
  const out: SecretInfo[] = []
  for (const item of raw) {
    if (isRecord(item) && typeof item.name === 'string' && item.name !== '') out.push({ name: item.name, namespace: localNamespace })
  }
  return out
}

/**
 * One remote log line as ours. faas-netes leaves `namespace` empty and keeps the trailing newline
 * in `text`; both are passed on as they are, except the namespace, which is always the local one.
 */
export function fromRemoteLog (raw: unknown, localNamespace: string, fallbackName: string): LogMessage | undefined {
  if (!isRecord(raw)) return undefined
  return {
    name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : fallbackName,
    namespace: localNamespace,
    instance: typeof raw.instance === 'string' ? raw.instance : '',
    timestamp: typeof raw.timestamp === 'string' && raw.timestamp !== '' ? raw.timestamp : ZERO_TIME,
    text: typeof raw.text === 'string' ? raw.text : ''
  }
}

/**
 * A secret's value as the remote reads it: `rawValue` (base64, what every current provider uses
 * first) and, when the bytes are UTF-8 text, `value` too for providers older than rawValue.
 */
export function secretBody (name: string, remoteNamespace: string, value: Buffer): Record<string, string> {
  const body: Record<string, string> = { name, namespace: remoteNamespace }
  if (value.length === 0) return { ...body, value: '' }
  body.rawValue = value.toString('base64')
  const text = value.toString('utf8')
  if (Buffer.from(text, 'utf8').equals(value)) body.value = text
  return body
}
