/*
 * Checks on request bodies that JSON schema cannot express (DNS-1123 names, base64, label values),
 * and normalisation into the shape drivers receive (null maps become absent). Types and required
 * fields are checked earlier by the route schemas (src/api/schemas.ts).
 */
import { checkScaleLabels } from '../autoscale/labels.ts'
import { invalid } from './errors.ts'
import { withoutFunctionLabel } from './function-label.ts'
import { assertDns1123 } from './names.ts'
import type { FunctionDeployment, FunctionNamespace, Secret } from './types.ts'

/** Kubernetes secret names are DNS-1123 subdomains; ours become file names too. */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** the FunctionDeployment keys drivers receive; unknown keys (old `network`, `registryAuth`) are dropped */
const DEPLOYMENT_KEYS: ReadonlyArray<keyof FunctionDeployment> = [
  'service', 'image', 'namespace', 'envProcess', 'envVars', 'constraints', 'secrets', 'labels',
  'annotations', 'limits', 'requests', 'readOnlyRootFilesystem'
]
const NAMESPACE_KEYS: ReadonlyArray<keyof FunctionNamespace> = ['name', 'labels', 'annotations']

/** Only the known keys, and none that is null (Go reads null as "absent"). */
function pick<T extends object> (value: T, keys: ReadonlyArray<keyof T>): T {
  const out: Partial<T> = {}
  for (const k of keys) {
    const v = value[k]
    if (v !== null && v !== undefined) out[k] = v
  }
  return out as T
}

export function normaliseDeployment (body: FunctionDeployment): FunctionDeployment {
  assertDns1123('service', body.service)
  if (body.image.trim() === '') throw invalid('image is required')
  const fn = pick(body, DEPLOYMENT_KEYS)
  // faas_function is the provider's (its value is always the name): a status fed back as a
  // deployment (faas-cli, an exported stack.yml, the dashboard) must not store it as a user label
  const labels = withoutFunctionLabel(fn.labels)
  if (labels !== undefined) fn.labels = labels
  // com.openfaas.scale.*: each value checked, so the autoscaler never meets a bad one
  checkScaleLabels(fn.labels)
  for (const secret of fn.secrets ?? []) assertSecretName(secret)
  return fn
}

export function assertSecretName (name: string): void {
  if (name.length === 0 || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    throw invalid(`secret name "${name}" must be a DNS-1123 subdomain: lower-case letters, digits, "-" and "."`)
  }
}

/** The secret's bytes: rawValue (standard base64) wins over value, as faas-netes does. */
export function secretBytes (secret: Secret): Buffer {
  if (secret.rawValue !== undefined && secret.rawValue !== '') {
    if (!STD_BASE64.test(secret.rawValue)) throw invalid('rawValue must be standard base64 (with padding)')
    return Buffer.from(secret.rawValue, 'base64')
  }
  return Buffer.from(secret.value ?? '', 'utf8')
}

export function normaliseNamespace (ns: FunctionNamespace): FunctionNamespace {
  assertDns1123('name', ns.name)
  return pick(ns, NAMESPACE_KEYS)
}
