/*
 * Names and labels on the Google side. OpenFaaS function "NAME" in namespace "NS" is the Cloud Run
 * service PREFIX+NAME in the namespace's project/region, labelled managed-by=faas-bridge and
 * openfaas-namespace=NS (list shows only those). Its secret "S" is the Secret Manager secret
 * SECRETPREFIX_NS_S ("." → "_", which OpenFaaS secret names never contain), with the same labels.
 */
import { invalid } from '../../src/core/errors.ts'
import type { NamespaceTarget } from './options.ts'

export const MANAGED_BY_LABEL = 'managed-by'
export const MANAGED_BY_VALUE = 'faas-bridge'
export const NAMESPACE_LABEL = 'openfaas-namespace'
export const FUNCTION_LABEL = 'openfaas-function'
/** labels the backend owns: a user label with one of these keys stays in the labels annotation only */
export const RESERVED_LABELS: ReadonlySet<string> = new Set([MANAGED_BY_LABEL, NAMESPACE_LABEL, FUNCTION_LABEL])

/** Cloud Run service ids: start with a letter, lower-case letters/digits/"-", no trailing "-", at most 49 characters. */
export const MAX_SERVICE_ID = 49
const SERVICE_ID = /^[a-z]([-a-z0-9]*[a-z0-9])?$/

export function serviceId (target: NamespaceTarget, name: string): string {
  const id = target.servicePrefix + name
  if (id.length > MAX_SERVICE_ID) {
    throw invalid(`function name "${name}" cannot fit Cloud Run's service name rules: "${id}" is ${id.length} characters, ` +
      `at most ${MAX_SERVICE_ID} are allowed${target.servicePrefix !== '' ? ` (including the prefix "${target.servicePrefix}")` : ''}`)
  }
  if (!SERVICE_ID.test(id)) {
    throw invalid(`function name "${name}" cannot fit Cloud Run's service name rules: "${id}" must start with a letter and ` +
      'hold only lower-case letters, digits and "-"')
  }
  return id
}

/** The function name of a service id, or undefined when the id does not carry the namespace's prefix. */
export function functionNameOf (target: NamespaceTarget, id: string): string | undefined {
  return id.startsWith(target.servicePrefix) ? id.slice(target.servicePrefix.length) : undefined
}

export function locationPath (t: NamespaceTarget): string {
  return `projects/${t.project}/locations/${t.region}`
}

export function servicePath (t: NamespaceTarget, id: string): string {
  return `${locationPath(t)}/services/${id}`
}

/** The last segment of a resource name. */
export function lastSegment (resource: string): string {
  return resource.slice(resource.lastIndexOf('/') + 1)
}

export function consoleUrl (t: NamespaceTarget, id: string): string {
  return `https://console.cloud.google.com/run/detail/${t.region}/${id}/metrics?project=${encodeURIComponent(t.project)}`
}

export function secretId (prefix: string, namespace: string, name: string): string {
  return `${prefix}_${namespace}_${name.replaceAll('.', '_')}`
}

/** The OpenFaaS secret name of a Secret Manager secret id, or undefined when it is not one of the namespace's. */
export function secretNameOf (prefix: string, namespace: string, id: string): string | undefined {
  const head = `${prefix}_${namespace}_`
  return id.startsWith(head) && id.length > head.length ? id.slice(head.length).replaceAll('_', '.') : undefined
}

/** Google label keys: 1-63 chars, lower-case letter first, then lower-case letters, digits, "_" and "-". */
const LABEL_KEY = /^\p{Ll}[\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u
/** Google label values: 0-63 chars of lower-case letters, digits, "_" and "-". */
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u
export const MAX_GOOGLE_LABELS = 64

export function isGoogleLabel (key: string, value: string): boolean {
  return LABEL_KEY.test(key) && LABEL_VALUE.test(value)
}

/**
 * The Google labels of a function: ours, plus every OpenFaaS label that satisfies Google's rules
 * (up to `max`, Google's 64 less the labels other tools set). The full OpenFaaS label map always travels in an annotation, so labels such
 * as com.openfaas.scale.min — which no Google label can hold — round-trip unchanged.
 */
export function googleLabels (namespace: string, name: string, labels: Record<string, string> | undefined, max = MAX_GOOGLE_LABELS): Record<string, string> {
  const out: Record<string, string> = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [NAMESPACE_LABEL]: namespace, [FUNCTION_LABEL]: name }
  let n = Object.keys(out).length
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (n >= max) break
    if (RESERVED_LABELS.has(k) || !isGoogleLabel(k, v)) continue
    out[k] = v
    n++
  }
  return out
}

export function isManagedIn (labels: Record<string, string> | null | undefined, namespace: string): boolean {
  return labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE && labels[NAMESPACE_LABEL] === namespace
}
