/*
 * FunctionDeployment → Lambda: the CreateFunction input (PackageType Image from an ECR image URI,
 * MemorySize from a Kubernetes quantity, Timeout and Architectures from config or annotations,
 * Environment with fprocess and the secrets' ARNs), and labels/annotations → tags under Lambda's
 * tag rules. Every refusal is a 400 that says what is wrong and why.
 */
import type { Architecture as SdkArchitecture } from '@aws-sdk/client-lambda'
import { invalid } from '../../src/core/errors.ts'
import type { FunctionDeployment } from '../../src/core/types.ts'
import {
  RESERVED_TAG_PREFIX, TAG_ANNOTATION_PREFIX, TAG_CREATED_AT, TAG_MANAGED, TAG_NAME, TAG_NAMESPACE, TAG_REPLICAS
} from './naming.ts'
import type { Architecture, LambdaOptions } from './options.ts'
import { MAX_TIMEOUT_SECONDS } from './options.ts'

/** annotation: function timeout in seconds (1..900) */
export const TIMEOUT_ANNOTATION = 'faas-bridge/lambda-timeout'
/** annotation: "x86_64" or "arm64" */
export const ARCHITECTURE_ANNOTATION = 'faas-bridge/lambda-architecture'
/** env var holding {"secret-name": "secret ARN", ...} for the function to read its secrets */
export const SECRETS_ENV = 'FAAS_BRIDGE_SECRETS'
export const FPROCESS_ENV = 'fprocess'

export const LAMBDA_MAX_TAGS = 50
const TAG_KEY_MAX = 128
const TAG_VALUE_MAX = 256
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u
const TAG_CHARS_TEXT = 'letters, digits, spaces and _ . : / = + - @'

/** ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPOSITORY[:TAG|@sha256:DIGEST] */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9][a-z0-9._/-]*)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127})|@(sha256:[a-f0-9]{64}))?$/

export function assertEcrImage (image: string, region: string): void {
  const m = ECR_IMAGE.exec(image)
  if (m === null) {
    throw invalid(`image "${image}" is not an Amazon ECR image URI: AWS Lambda runs container images only from ECR ` +
      '(ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG|@sha256:DIGEST]); push the image to an ECR repository in the function\'s region first')
  }
  if (m[2] !== region) {
    throw invalid(`image "${image}" is in ECR region ${m[2] as string}, but the function is created in ${region}: ` +
      'Lambda pulls container images only from ECR in the function\'s own region')
  }
}

const BINARY_SUFFIX: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 }
const DECIMAL_SUFFIX: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 }
const QUANTITY = /^([+]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/

/** A Kubernetes quantity ("128Mi", "1G", "0.5Gi", "134217728", "1e9") in bytes; undefined when not one. */
export function quantityBytes (text: string): number | undefined {
  const m = QUANTITY.exec(text.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  const suffix = m[2] ?? ''
  if (suffix in BINARY_SUFFIX) return n * (BINARY_SUFFIX[suffix] as number)
  if (suffix in DECIMAL_SUFFIX) return n * (DECIMAL_SUFFIX[suffix] as number)
  return n * 10 ** Number(suffix.slice(1))
}

/** limits.memory → Lambda MemorySize (MiB, rounded up), within the configured bounds. */
export function memorySize (fn: FunctionDeployment, options: LambdaOptions): number {
  const text = fn.limits?.memory
  if (text === undefined || text === '') return options.memoryMb
  const bytes = quantityBytes(text)
  if (bytes === undefined) throw invalid(`limits.memory "${text}" is not a Kubernetes quantity such as "256Mi" or "1Gi"`)
  const mb = Math.ceil(bytes / 2 ** 20)
  if (mb < options.minMemoryMb || mb > options.maxMemoryMb) {
    throw invalid(`limits.memory "${text}" is ${mb} MiB; Lambda functions here take ${options.minMemoryMb} to ${options.maxMemoryMb} MiB`)
  }
  return mb
}

export function timeoutSeconds (fn: FunctionDeployment, options: LambdaOptions): number {
  const text = fn.annotations?.[TIMEOUT_ANNOTATION]
  if (text === undefined) return options.timeoutSeconds
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!(n >= 1 && n <= MAX_TIMEOUT_SECONDS)) {
    throw invalid(`annotation ${TIMEOUT_ANNOTATION} must be whole seconds from 1 to ${MAX_TIMEOUT_SECONDS}, got "${text}"`)
  }
  return n
}

export function architecture (fn: FunctionDeployment, options: LambdaOptions): Architecture {
  const text = fn.annotations?.[ARCHITECTURE_ANNOTATION]
  if (text === undefined) return options.architecture
  if (text !== 'x86_64' && text !== 'arm64') throw invalid(`annotation ${ARCHITECTURE_ANNOTATION} must be "x86_64" or "arm64", got "${text}"`)
  return text
}

export function environment (fn: FunctionDeployment, secretArns: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...(fn.envVars ?? {}) }
  for (const reserved of [SECRETS_ENV, FPROCESS_ENV]) {
    if (reserved in env) throw invalid(`envVars.${reserved} is set by faas-bridge (use ${reserved === FPROCESS_ENV ? 'envProcess' : 'secrets'} instead)`)
  }
  if (fn.envProcess !== undefined && fn.envProcess !== '') env[FPROCESS_ENV] = fn.envProcess
  if (Object.keys(secretArns).length > 0) env[SECRETS_ENV] = JSON.stringify(secretArns)
  return env
}

function checkTag (what: string, key: string, value: string): void {
  if (key.length === 0 || key.length > TAG_KEY_MAX) throw invalid(`${what} key "${key}" becomes a Lambda tag key, which must have 1 to ${TAG_KEY_MAX} characters`)
  if (key.toLowerCase().startsWith('aws:')) throw invalid(`${what} key "${key}": Lambda tag keys must not start with "aws:"`)
  if (!TAG_CHARS.test(key)) throw invalid(`${what} key "${key}" has characters Lambda tag keys do not allow (allowed: ${TAG_CHARS_TEXT})`)
  if (value.length > TAG_VALUE_MAX) throw invalid(`${what} "${key}": the value has ${value.length} characters; Lambda tag values take at most ${TAG_VALUE_MAX}`)
  if (!TAG_CHARS.test(value)) throw invalid(`${what} "${key}" has the value "${value}" with characters Lambda tag values do not allow (allowed: ${TAG_CHARS_TEXT})`)
}

/** labels → tags under their own key, annotations → TAG_ANNOTATION_PREFIX + key; rules enforced. */
export function userTags (fn: FunctionDeployment): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const [k, v] of Object.entries(fn.labels ?? {})) {
    if (k.startsWith(RESERVED_TAG_PREFIX)) throw invalid(`label "${k}": keys starting with "${RESERVED_TAG_PREFIX}" are reserved for faas-bridge`)
    checkTag('label', k, v)
    tags[k] = v
  }
  for (const [k, v] of Object.entries(fn.annotations ?? {})) {
    checkTag('annotation', TAG_ANNOTATION_PREFIX + k, v)
    tags[TAG_ANNOTATION_PREFIX + k] = v
  }
  return tags
}

export function systemTags (namespace: string, name: string, replicas: number, createdAt: string): Record<string, string> {
  return {
    [TAG_MANAGED]: 'true',
    [TAG_NAMESPACE]: namespace,
    [TAG_NAME]: name,
    [TAG_REPLICAS]: String(replicas),
    [TAG_CREATED_AT]: createdAt
  }
}

export function assertTagCount (tags: Record<string, string>): void {
  const n = Object.keys(tags).length
  if (n > LAMBDA_MAX_TAGS) {
    throw invalid(`labels and annotations make ${n} Lambda tags (faas-bridge uses 5 of them); a Lambda function takes at most ${LAMBDA_MAX_TAGS}`)
  }
}

/** tags → labels and annotations (system tags left out) */
export function labelsAndAnnotations (tags: Record<string, string>): { labels: Record<string, string>, annotations: Record<string, string> } {
  const labels: Record<string, string> = {}
  const annotations: Record<string, string> = {}
  for (const [k, v] of Object.entries(tags)) {
    if (k.startsWith(TAG_ANNOTATION_PREFIX)) annotations[k.slice(TAG_ANNOTATION_PREFIX.length)] = v
    else if (!k.startsWith(RESERVED_TAG_PREFIX) && !k.startsWith('aws:')) labels[k] = v
  }
  return { labels, annotations }
}

/** Initial replicas: label com.openfaas.scale.min when it is an integer > 0, else 1 (as faas-netes). */
export function initialReplicas (fn: FunctionDeployment): number {
  const raw = fn.labels?.['com.openfaas.scale.min']
  const n = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : 0
  return n > 0 ? n : 1
}

export interface FunctionSpec {
  imageUri: string
  memorySize: number
  timeout: number
  architectures: SdkArchitecture[]
  environment: Record<string, string>
  userTags: Record<string, string>
}

/** Everything of a deployment that can be checked without AWS; secrets' ARNs come from the caller. */
export function functionSpec (fn: FunctionDeployment, options: LambdaOptions, region: string, secretArns: Record<string, string>): FunctionSpec {
  assertEcrImage(fn.image, region)
  return {
    imageUri: fn.image,
    memorySize: memorySize(fn, options),
    timeout: timeoutSeconds(fn, options),
    architectures: [architecture(fn, options)],
    environment: environment(fn, secretArns),
    userTags: userTags(fn)
  }
}
