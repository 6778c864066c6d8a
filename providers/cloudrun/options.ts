/*
 * The Cloud Run backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong. Every OpenFaaS namespace the driver owns maps to a
 * Google Cloud project + region (and optionally a service-name prefix, service account, ingress).
 */

import { isRecord, optionReader, type OptionReader } from '../../src/core/option-reader.ts'

const reader = optionReader('cloudrun')
// annotated, so that TypeScript narrows after fail() (it returns never)
const fail: OptionReader['fail'] = reader.fail
const str: OptionReader['str'] = reader.str
const int: OptionReader['int'] = reader.int
const oneOf: OptionReader['oneOf'] = reader.oneOf

export type Ingress = 'all' | 'internal' | 'internal-and-cloud-load-balancing'
/**
 * How `replicas` / `availableReplicas` read when minInstanceCount is 0:
 * 'native' — Cloud Run scales to zero by itself and is always invocable: a Ready service reports 1/1,
 *            so the gateway's scale-from-zero never blocks (the first request cold-starts in Cloud Run).
 * 'gateway' — 0 means "off" as in OpenFaaS: 0/0 is reported and invocations answer 503 until the
 *            gateway (or faas-cli) scales it back up, which sets minInstanceCount ≥ 1.
 */
export type ScaleToZeroMode = 'native' | 'gateway'
/** API credentials: 'adc' = Application Default Credentials; 'none' = no token (emulators, tests). */
export type ApiAuth = 'adc' | 'none'
/** Invocation: 'id-token' = a Google ID token for the service URL unless the service has IAM invoker checks disabled. */
export type InvokeAuth = 'id-token' | 'none'

/** Anything that mints Google ID tokens for an audience (google-auth-library's JWT, Compute, Impersonated clients). */
export interface IdTokenProvider {
  fetchIdToken (audience: string): Promise<string>
}

export interface NamespaceTarget {
  project: string
  region: string
  /** prepended to every Cloud Run service id of this namespace */
  servicePrefix: string
  serviceAccount?: string
  ingress: Ingress
}

export interface Endpoint {
  apiEndpoint: string
  port: number
  protocol: 'http' | 'https'
}

export interface CloudRunOptions {
  /** OpenFaaS namespace → where its functions run */
  targets: Map<string, NamespaceTarget>
  /** Secret Manager secret ids are PREFIX_NAMESPACE_NAME */
  secretPrefix: string
  scaleToZero: ScaleToZeroMode
  /** minInstanceCount when com.openfaas.scale.min is absent */
  defaultMinInstances: number
  auth: ApiAuth
  keyFilename?: string
  invokeAuth: InvokeAuth
  idTokenProvider?: IdTokenProvider
  /** API endpoints (tests, emulators, private service connect); default: Google's */
  endpoints: { run?: Endpoint, secretManager?: Endpoint, logging?: Endpoint }
  /** bound on waiting for a create/update/delete long-running operation */
  operationTimeoutMs: number
  /** first operation poll delay (×1.3 per poll, at most operationPollMaxMs) */
  operationPollMs: number
  operationPollMaxMs: number
  /** per API call (retries included) */
  requestTimeoutMs: number
  /** first back-off of a retried API call (doubles per retry, with jitter, within requestTimeoutMs) */
  retryBaseMs: number
  /** how long a resolved service URL is reused for invocations */
  upstreamCacheMs: number
  /** follow=true polls Cloud Logging this often */
  logsPollMs: number
  /** at most this many entries per log request (and per follow poll) */
  logsMaxEntries: number
  /** window read when no `since` is given */
  logsLookbackMs: number
  /** bound on list pagination */
  maxListPages: number
}

export const DEFAULT_INGRESS: Ingress = 'all'
export const DEFAULT_SECRET_PREFIX = 'openfaas'
export const DEFAULT_SCALE_TO_ZERO: ScaleToZeroMode = 'native'
export const DEFAULT_OPERATION_TIMEOUT_MS = 5 * 60_000
export const DEFAULT_OPERATION_POLL_MS = 500
export const DEFAULT_OPERATION_POLL_MAX_MS = 5_000
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_RETRY_BASE_MS = 100
export const DEFAULT_UPSTREAM_CACHE_MS = 2_000
export const DEFAULT_LOGS_POLL_MS = 2_000
export const DEFAULT_LOGS_MAX_ENTRIES = 10_000
export const DEFAULT_LOGS_LOOKBACK_MS = 24 * 60 * 60_000
export const DEFAULT_MAX_LIST_PAGES = 100

const INGRESSES: readonly Ingress[] = ['all', 'internal', 'internal-and-cloud-load-balancing']
const PROJECT_ID = /^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/
const REGION = /^[a-z]+-[a-z]+\d+$/
const PREFIX = /^([a-z][a-z0-9-]*)?$/
const SECRET_PREFIX = /^[A-Za-z0-9-]{1,40}$/

/** "http://127.0.0.1:8085" → the gax client's apiEndpoint/port/protocol. */
export function parseEndpoint (key: string, value: unknown): Endpoint {
  let url: URL
  try {
    if (typeof value !== 'string') throw new Error('not a string')
    url = new URL(value)
  } catch {
    fail(`option "endpoints.${key}" must be a URL such as "https://run.googleapis.com" or "http://127.0.0.1:8085", got ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`option "endpoints.${key}" must be an http or https URL, got ${JSON.stringify(value)}`)
  if (url.pathname !== '/' || url.search !== '') fail(`option "endpoints.${key}" must be an origin without a path, got ${JSON.stringify(value)}`)
  const protocol = url.protocol === 'http:' ? 'http' : 'https'
  const port = url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port)
  return { apiEndpoint: url.hostname.replace(/^\[|\]$/g, ''), port, protocol }
}

export function validateOptions (options: Record<string, unknown> | undefined, namespaces: readonly string[]): CloudRunOptions {
  const opts = options ?? {}
  const known = new Set(['project', 'region', 'namespaces', 'serviceAccount', 'ingress', 'servicePrefix', 'secretPrefix',
    'scaleToZero', 'defaultMinInstances', 'auth', 'keyFilename', 'invokeAuth', 'idTokenProvider', 'endpoints',
    'operationTimeoutMs', 'operationPollMs', 'operationPollMaxMs', 'requestTimeoutMs', 'retryBaseMs', 'upstreamCacheMs', 'logsPollMs',
    'logsMaxEntries', 'logsLookbackMs', 'maxListPages'])
  for (const key of Object.keys(opts)) if (!known.has(key)) fail(`unknown option "${key}"`)

  const project = str(opts, 'project')
  const region = str(opts, 'region')
  const serviceAccount = str(opts, 'serviceAccount')
  const servicePrefix = str(opts, 'servicePrefix') ?? ''
  const ingress = oneOf(opts, 'ingress', INGRESSES, DEFAULT_INGRESS)
  const perNs = opts.namespaces ?? {}
  if (!isRecord(perNs)) fail('option "namespaces" must be a mapping of OpenFaaS namespace → { project, region, servicePrefix, serviceAccount, ingress }')
  for (const ns of Object.keys(perNs)) {
    if (!namespaces.includes(ns)) fail(`option "namespaces.${ns}" names a namespace this backend does not own (owns: ${namespaces.join(', ')})`)
  }
  if (namespaces.length === 0) fail('the backend owns no namespace')

  const targets = new Map<string, NamespaceTarget>()
  const seen = new Map<string, string>()
  for (const ns of namespaces) {
    const raw = perNs[ns] ?? {}
    if (!isRecord(raw)) fail(`option "namespaces.${ns}" must be a mapping`)
    const where = `namespaces.${ns}.`
    for (const key of Object.keys(raw)) {
      if (!['project', 'region', 'servicePrefix', 'serviceAccount', 'ingress'].includes(key)) fail(`unknown option "${where}${key}"`)
    }
    const t: NamespaceTarget = {
      project: str(raw, 'project', where) ?? project ?? fail(`namespace "${ns}" has no project: set option "project" or "${where}project"`),
      region: str(raw, 'region', where) ?? region ?? fail(`namespace "${ns}" has no region: set option "region" or "${where}region"`),
      servicePrefix: (raw.servicePrefix === '' ? '' : str(raw, 'servicePrefix', where)) ?? servicePrefix,
      ingress: oneOf(raw, 'ingress', INGRESSES, ingress, where)
    }
    const sa = str(raw, 'serviceAccount', where) ?? serviceAccount
    if (sa !== undefined) t.serviceAccount = sa
    if (!PROJECT_ID.test(t.project)) fail(`project "${t.project}" of namespace "${ns}" is not a Google Cloud project id`)
    if (!REGION.test(t.region)) fail(`region "${t.region}" of namespace "${ns}" is not a Google Cloud region such as "europe-west1"`)
    if (!PREFIX.test(t.servicePrefix)) fail(`servicePrefix "${t.servicePrefix}" of namespace "${ns}" must start with a lower-case letter and hold only lower-case letters, digits and "-"`)
    const key = `${t.project}/${t.region}/${t.servicePrefix}`
    const other = seen.get(key)
    if (other !== undefined) {
      fail(`namespaces "${other}" and "${ns}" both map to project "${t.project}", region "${t.region}" with service prefix "${t.servicePrefix}": ` +
        `their functions would collide; give one of them a different "servicePrefix"`)
    }
    seen.set(key, ns)
    targets.set(ns, t)
  }

  const secretPrefix = str(opts, 'secretPrefix') ?? DEFAULT_SECRET_PREFIX
  if (!SECRET_PREFIX.test(secretPrefix)) fail(`option "secretPrefix" must be 1-40 letters, digits or "-", got ${JSON.stringify(secretPrefix)}`)
  const scaleToZero = oneOf<ScaleToZeroMode>(opts, 'scaleToZero', ['native', 'gateway'], DEFAULT_SCALE_TO_ZERO)
  const auth = oneOf<ApiAuth>(opts, 'auth', ['adc', 'none'], 'adc')
  const invokeAuth = oneOf<InvokeAuth>(opts, 'invokeAuth', ['id-token', 'none'], 'id-token')
  let idTokenProvider: IdTokenProvider | undefined
  if (opts.idTokenProvider !== undefined) {
    const p = opts.idTokenProvider as Partial<IdTokenProvider> | null
    if (typeof p !== 'object' || p === null || typeof p.fetchIdToken !== 'function') {
      fail('option "idTokenProvider" must be an object with fetchIdToken(audience) (set programmatically)')
    }
    idTokenProvider = p as IdTokenProvider
  }
  if (invokeAuth === 'id-token' && auth === 'none' && idTokenProvider === undefined) {
    fail('invokeAuth "id-token" needs credentials: use auth "adc" or pass an idTokenProvider')
  }
  const endpointsRaw = opts.endpoints ?? {}
  if (!isRecord(endpointsRaw)) fail('option "endpoints" must be a mapping { run, secretManager, logging } of URLs')
  const endpoints: CloudRunOptions['endpoints'] = {}
  for (const key of Object.keys(endpointsRaw)) {
    if (key !== 'run' && key !== 'secretManager' && key !== 'logging') fail(`unknown option "endpoints.${key}" (expected run, secretManager, logging)`)
    endpoints[key] = parseEndpoint(key, endpointsRaw[key])
  }
  const out: CloudRunOptions = {
    targets,
    secretPrefix,
    scaleToZero,
    defaultMinInstances: int(opts, 'defaultMinInstances', scaleToZero === 'native' ? 0 : 1, 0),
    auth,
    invokeAuth,
    endpoints,
    operationTimeoutMs: int(opts, 'operationTimeoutMs', DEFAULT_OPERATION_TIMEOUT_MS),
    operationPollMs: int(opts, 'operationPollMs', DEFAULT_OPERATION_POLL_MS),
    operationPollMaxMs: int(opts, 'operationPollMaxMs', DEFAULT_OPERATION_POLL_MAX_MS),
    requestTimeoutMs: int(opts, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS),
    retryBaseMs: int(opts, 'retryBaseMs', DEFAULT_RETRY_BASE_MS),
    upstreamCacheMs: int(opts, 'upstreamCacheMs', DEFAULT_UPSTREAM_CACHE_MS, 0),
    logsPollMs: int(opts, 'logsPollMs', DEFAULT_LOGS_POLL_MS),
    logsMaxEntries: int(opts, 'logsMaxEntries', DEFAULT_LOGS_MAX_ENTRIES),
    logsLookbackMs: int(opts, 'logsLookbackMs', DEFAULT_LOGS_LOOKBACK_MS),
    maxListPages: int(opts, 'maxListPages', DEFAULT_MAX_LIST_PAGES)
  }
  const keyFilename = str(opts, 'keyFilename')
  if (keyFilename !== undefined) out.keyFilename = keyFilename
  if (idTokenProvider !== undefined) out.idTokenProvider = idTokenProvider
  return out
}
