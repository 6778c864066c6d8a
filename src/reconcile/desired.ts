/*
 * What a declarative source wants, and how the reconciler tells its own functions and their drift:
 * two annotations on every function it deploys — the source's id, and a hash of the declared spec —
 * and a field-by-field comparison with what the backend reports.
 */
import { createHash } from 'node:crypto'
import { withoutFunctionLabel } from '../core/function-label.ts'
import type { FunctionDeployment, FunctionResources, FunctionStatus } from '../core/types.ts'
import type { SourceReport } from './reconciler.ts'
import { SOURCE_ANNOTATION, SPEC_HASH_ANNOTATION } from './markers.ts'

export { SOURCE_ANNOTATION, SPEC_HASH_ANNOTATION }

export interface DesiredFunction {
  /** the faas-bridge namespace (the entry's, or the default) */
  namespace: string
  /** normalised (src/core/validate.ts), without the reconciler's annotations */
  spec: FunctionDeployment
  /** where it was declared, for messages: "stack.yml: functions.echo" */
  where: string
  /**
   * the source asks for the function's removal (a deleted Function resource whose finalizer is
   * still on): the explicit removal, independent of prune; a function not carrying the source's
   * marker is still left alone
   */
  remove?: boolean
}

/** An entry the source could not turn into a function; it is reported and skipped, the others go on. */
export interface SourceProblem {
  /** the entry: "stack.yml: functions.echo" */
  where: string
  /** the whole sentence, naming the entry and the key: "stack.yml: functions.echo.image: required" */
  message: string
}

export interface DesiredState {
  functions: DesiredFunction[]
  problems: SourceProblem[]
  /** every function name the source declares, bad entries included: prune never removes these */
  declared: Set<string>
  /** false when part of the source could not be read: nothing is pruned on such a pass */
  complete: boolean
}

/** A source of desired functions (a stack.yml file or directory; Function resources later). */
export interface DeclarativeSource {
  /** stable and short: stored in SOURCE_ANNOTATION (Lambda tag values hold 256 characters) */
  readonly id: string
  /** remove functions of this source that it no longer declares */
  readonly prune: boolean
  read: () => Promise<DesiredState>
  /** calls back when the source may have changed; returns a stop function */
  watch?: (onChange: () => void) => () => void
  /** called with what became of each entry after every pass over this source (to write status back) */
  onReport?: (report: SourceReport) => Promise<void>
}

function canonical (value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
  }
  return value
}

export function specHash (spec: FunctionDeployment): string {
  return createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex').slice(0, 32)
}

/** The spec as the reconciler deploys it: the declared one plus its two annotations. */
export function managedSpec (sourceId: string, fn: DesiredFunction): FunctionDeployment & { namespace: string } {
  return {
    ...fn.spec,
    namespace: fn.namespace,
    annotations: { ...fn.spec.annotations, [SOURCE_ANNOTATION]: sourceId, [SPEC_HASH_ANNOTATION]: specHash(fn.spec) }
  }
}

export function managedBy (status: FunctionStatus): string | undefined {
  return status.annotations?.[SOURCE_ANNOTATION]
}

function sameMap (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {})
  if (ka.length !== Object.keys(b ?? {}).length) return false
  return ka.every((k) => a?.[k] === b?.[k])
}

function sameList (a: string[] | undefined, b: string[] | undefined): boolean {
  const sa = [...(a ?? [])].sort()
  const sb = [...(b ?? [])].sort()
  return sa.length === sb.length && sa.every((v, i) => v === sb[i])
}

function sameResources (a: FunctionResources | undefined, b: FunctionResources | undefined): boolean {
  return sameMap(a as Record<string, string> | undefined, b as Record<string, string> | undefined)
}

/**
 * The fields where the function differs from its declaration; empty when in sync. Fields the backend
 * does not report (undefined in the status) are judged by the spec hash alone, so a backend that
 * reports less never looks drifted for ever.
 */
export function drift (fn: DesiredFunction, status: FunctionStatus): string[] {
  const out: string[] = []
  const spec = fn.spec
  if (status.annotations?.[SPEC_HASH_ANNOTATION] !== specHash(spec)) out.push('spec-hash')
  if (status.image !== spec.image) out.push('image')
  if (status.envProcess !== undefined && status.envProcess !== (spec.envProcess ?? '')) out.push('envProcess')
  if (status.envVars !== undefined && !sameMap(status.envVars, spec.envVars)) out.push('envVars')
  if (status.secrets !== undefined && !sameList(status.secrets, spec.secrets)) out.push('secrets')
  if (status.constraints !== undefined && !sameList(status.constraints, spec.constraints)) out.push('constraints')
  if (status.labels !== undefined) {
    // faas_function is the backend's, never declared
    if (!sameMap(withoutFunctionLabel(status.labels), spec.labels)) out.push('labels')
  }
  // backends add annotations of their own (where a function runs): only the declared ones must match
  for (const [k, v] of Object.entries(spec.annotations ?? {})) {
    if (status.annotations?.[k] !== v) { out.push('annotations'); break }
  }
  // backends report their defaults (Lambda's memory size): resources are compared only where declared
  if (spec.limits !== undefined && status.limits !== undefined && !sameResources(status.limits, spec.limits)) out.push('limits')
  if (spec.requests !== undefined && status.requests !== undefined && !sameResources(status.requests, spec.requests)) out.push('requests')
  if (status.readOnlyRootFilesystem !== undefined && status.readOnlyRootFilesystem !== (spec.readOnlyRootFilesystem ?? false)) out.push('readOnlyRootFilesystem')
  return out
}
