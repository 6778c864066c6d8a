/*
 * The checks the API makes on a deployment (src/core/validate.ts, src/core/names.ts), made in the
 * browser first so a mistake is shown next to its field before anything is sent; and the mapping
 * of the API's own 400/409 messages back to the field they name.
 */
import type { FunctionDeployment } from './api.ts'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const SCALE_LABELS = ['com.openfaas.scale.min', 'com.openfaas.scale.max']

export type Field = 'service' | 'namespace' | 'image' | 'envProcess' | 'envVars' | 'labels' | 'annotations' |
  'secrets' | 'limits' | 'requests' | 'form'
export type Errors = Partial<Record<Field, string>>

export function dns1123Problem (value: string): string | undefined {
  if (value.length === 0) return 'is required'
  if (value.length > 63) return 'must be at most 63 characters'
  if (!DNS1123_LABEL.test(value)) return 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit'
  return undefined
}

export function secretNameProblem (name: string): string | undefined {
  if (name.length === 0 || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return `secret name "${name}" must be a DNS-1123 subdomain: lower-case letters, digits, "-" and "."`
  }
  return undefined
}

/** KEY=VALUE lines (blank lines and lines starting with # are skipped) → a map; errors name the line. */
export function parsePairs (text: string, what: string): { map: Record<string, string>, error?: string } {
  const map: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').replace(/\r$/, '')
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const eq = line.indexOf('=')
    if (eq <= 0) return { map, error: `line ${i + 1}: write each ${what} as KEY=VALUE` }
    const key = line.slice(0, eq).trim()
    if (key in map) return { map, error: `line ${i + 1}: ${what} "${key}" is given twice` }
    map[key] = line.slice(eq + 1)
  }
  return { map }
}

/** one environment variable: its value may hold newlines (a PEM, a JSON document), so each has its own text area */
export interface EnvRow { key: string, value: string }

/** rows → a map; rows with neither key nor value are skipped; errors name the row */
export function readEnvRows (rows: EnvRow[]): { map: Record<string, string>, error?: string } {
  const map: Record<string, string> = {}
  for (const [i, r] of rows.entries()) {
    const key = r.key.trim()
    if (key === '' && r.value === '') continue
    if (key === '') return { map, error: `variable ${i + 1}: a value needs a name` }
    if (/[=\s]/.test(key)) return { map, error: `variable ${i + 1}: the name "${key}" cannot hold "=" or spaces` }
    if (key in map) return { map, error: `variable ${i + 1}: "${key}" is given twice` }
    map[key] = r.value
  }
  return { map }
}

export const formatPairs = (map: Record<string, string> | undefined): string =>
  Object.entries(map ?? {}).map(([k, v]) => `${k}=${v}`).join('\n')

/** The same checks as the API's normaliseDeployment, field by field. */
export function validateDeployment (fn: FunctionDeployment, knownNamespaces: string[]): Errors {
  const errors: Errors = {}
  const service = dns1123Problem(fn.service)
  if (service !== undefined) errors.service = `service "${fn.service}" ${service}`
  if (fn.image.trim() === '') errors.image = 'image is required'
  if (fn.namespace !== undefined && fn.namespace !== '' && !knownNamespaces.includes(fn.namespace)) {
    errors.namespace = `namespace "${fn.namespace}" is not served by this provider`
  }
  for (const label of SCALE_LABELS) {
    const v = fn.labels?.[label]
    if (v !== undefined && !/^\d+$/.test(v)) errors.labels = `label ${label} must be a whole number, got "${v}"`
  }
  for (const s of fn.secrets ?? []) {
    const problem = secretNameProblem(s)
    if (problem !== undefined) { errors.secrets = problem; break }
  }
  return errors
}

/** Which field an API error message is about (the API names it: `service "x" ...`, `body.image ...`). */
export function fieldOfApiError (status: number, message: string): Field {
  const m = message.toLowerCase()
  const body = /body\.([a-zA-Z]+)/.exec(message)?.[1]
  const fields: Field[] = ['service', 'namespace', 'image', 'envProcess', 'envVars', 'labels', 'annotations', 'secrets', 'limits', 'requests']
  if (body !== undefined && (fields as string[]).includes(body)) return body as Field
  if (status === 409 || /^service\b/.test(m) || /function "/.test(m)) return 'service'
  if (/^image\b/.test(m)) return 'image'
  if (/^namespace\b/.test(m)) return 'namespace'
  if (/\bsecret/.test(m)) return 'secrets'
  if (/\blabels? /.test(m)) return 'labels'
  if (/\bannotations? /.test(m)) return 'annotations'
  if (/\b(memory|cpu|limits?)\b/.test(m)) return 'limits'
  if (/\b(env|environment)\b/.test(m)) return 'envVars'
  return 'form'
}
