/*
 * Function and namespace names: DNS-1123 label checks (what faas-netes validates) and the
 * `name.namespace` split on the last dot that the gateway and faas-netes both use.
 */
import { invalid } from './errors.ts'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const MAX_LABEL = 63

export function dns1123Problem (value: string): string | undefined {
  if (value.length === 0) return 'must not be empty'
  if (value.length > MAX_LABEL) return `must be at most ${MAX_LABEL} characters`
  if (!DNS1123_LABEL.test(value)) {
    return 'must be a DNS-1123 label: lower-case letters, digits and "-", starting and ending with a letter or digit'
  }
  return undefined
}

/** Throws a 400 naming the field when `value` is not a DNS-1123 label. */
export function assertDns1123 (field: string, value: string): void {
  const problem = dns1123Problem(value)
  if (problem !== undefined) throw invalid(`${field} "${value}" ${problem}`)
}

/** Splits `fn.ns` on the last dot; no dot means the default namespace. */
export function splitQualifiedName (qualified: string, defaultNamespace: string): { name: string, namespace: string } {
  const dot = qualified.lastIndexOf('.')
  if (dot === -1) return { name: qualified, namespace: defaultNamespace }
  return { name: qualified.slice(0, dot), namespace: qualified.slice(dot + 1) }
}
