/*
 * faas-cli stack.yml from deployed functions, written without a YAML library: every string is a
 * double-quoted YAML scalar (JSON string syntax is valid YAML), so no value can change meaning.
 */
import type { FunctionStatus } from './api.ts'
import { isStatusAnnotation, userLabels } from './status.ts'

const str = (s: string): string => JSON.stringify(s)
const key = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_.\/-]*$/.test(k) && !/^(true|false|null|yes|no|on|off|y|n|~)$/i.test(k) ? k : str(k))

function map (indent: string, name: string, m: Record<string, string> | undefined): string[] {
  const entries = Object.entries(m ?? {})
  if (entries.length === 0) return []
  return [`${indent}${name}:`, ...entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${indent}  ${key(k)}: ${str(v)}`)]
}

function list (indent: string, name: string, items: string[] | undefined): string[] {
  if (items === undefined || items.length === 0) return []
  return [`${indent}${name}:`, ...items.map((i) => `${indent}  - ${str(i)}`)]
}

export interface StackResult { yaml: string, skipped: FunctionStatus[] }

/** One stack file; a name deployed in two namespaces can only appear once (stack.yml keys by name). */
export function toStackYaml (functions: FunctionStatus[], gateway: string): StackResult {
  const lines = ['version: 1.0', 'provider:', '  name: openfaas', `  gateway: ${str(gateway)}`]
  const taken = new Set<string>()
  const skipped: FunctionStatus[] = []
  const fnLines: string[] = []
  for (const fn of functions) {
    if (taken.has(fn.name)) { skipped.push(fn); continue }
    taken.add(fn.name)
    const annotations = Object.fromEntries(Object.entries(fn.annotations ?? {}).filter(([k]) => !isStatusAnnotation(k)))
    const i = '    '
    fnLines.push(`  ${key(fn.name)}:`, `${i}image: ${str(fn.image)}`, `${i}namespace: ${str(fn.namespace)}`)
    if (fn.envProcess !== undefined && fn.envProcess !== '') fnLines.push(`${i}fprocess: ${str(fn.envProcess)}`)
    fnLines.push(...map(i, 'environment', fn.envVars), ...map(i, 'labels', userLabels(fn.labels)), ...map(i, 'annotations', annotations))
    fnLines.push(...list(i, 'secrets', fn.secrets), ...list(i, 'constraints', fn.constraints))
    for (const res of ['limits', 'requests'] as const) {
      const r = fn[res]
      if (r === undefined) continue
      const parts = (['memory', 'cpu'] as const).filter((k) => r[k] !== undefined && r[k] !== '')
      if (parts.length > 0) fnLines.push(`${i}${res}:`, ...parts.map((k) => `${i}  ${k}: ${str(r[k] ?? '')}`))
    }
    if (fn.readOnlyRootFilesystem === true) fnLines.push(`${i}readonly_root_filesystem: true`)
  }
  lines.push(fnLines.length > 0 ? 'functions:' : 'functions: {}', ...fnLines)
  return { yaml: `${lines.join('\n')}\n`, skipped }
}
