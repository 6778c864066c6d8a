/*
 * The Lambda backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong. Namespaces come from the backend's configuration
 * (context.namespaces); each maps to a function-name prefix, a region, a role and a secrets prefix.
 */

export interface StaticCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
}

/**
 * 'default' = the SDK's default provider chain (env, shared files, SSO, container/instance roles);
 * 'env' = only AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN (never a metadata lookup);
 * an object = static keys.
 */
export type CredentialsSource = 'default' | 'env' | StaticCredentials

export type Architecture = 'x86_64' | 'arm64'

export interface NamespaceSettings {
  /** prepended to the OpenFaaS function name to form the Lambda function name */
  functionPrefix: string
  region: string
  roleArn: string | undefined
  /** prepended to the secret name to form the Secrets Manager secret name */
  secretsPrefix: string
}

export interface Endpoints {
  lambda?: string
  logs?: string
  secretsManager?: string
}

/**
 * Provisioned concurrency on scale: deploy/update publish a version and point `alias` at it, invoke
 * goes through the alias, and `replicas` N > 0 provisions N × perReplica concurrent environments on
 * the alias (0 removes the configuration).
 */
export interface ProvisionedConcurrency {
  alias: string
  perReplica: number
}

export interface LambdaOptions {
  region: string
  /** one endpoint for all three services (LocalStack, a test fake), overridden per service by `endpoints` */
  endpoints: Endpoints
  credentials: CredentialsSource
  /** execution role of every function (a namespace may override it); needed to deploy */
  roleArn: string | undefined
  namePrefix: string
  separator: string
  timeoutSeconds: number
  memoryMb: number
  minMemoryMb: number
  maxMemoryMb: number
  architecture: Architecture
  secretsPrefix: string
  /** `{function}` is replaced by the Lambda function name */
  logGroupPattern: string
  /** one AWS API call, throttling retries included */
  requestTimeoutMs: number
  /** first throttling back-off; doubles per retry (with jitter) while the request timeout allows */
  retryBaseMs: number
  /** bounded waiting for LastUpdateStatus between UpdateFunctionCode and UpdateFunctionConfiguration */
  updateTimeoutMs: number
  updatePollMs: number
  /** follow=true polls FilterLogEvents this often */
  logPollMs: number
  /** FilterLogEvents pages read for one non-follow request (tail scans included) */
  logMaxPages: number
  /** how long upstream() trusts a function's last known state */
  upstreamCacheMs: number
  /** request payload limit of a synchronous Invoke */
  maxPayloadBytes: number
  /** undefined = not managed (replicas only toggle reserved concurrency 0) */
  provisionedConcurrency: ProvisionedConcurrency | undefined
  namespaces: Record<string, NamespaceSettings>
}

export const DEFAULT_REGION = 'us-east-1'
export const DEFAULT_CREDENTIALS: CredentialsSource = 'default'
export const DEFAULT_NAME_PREFIX = ''
/** "_" never occurs in a DNS-1123 name, so namespace_name cannot collide */
export const DEFAULT_SEPARATOR = '_'
export const DEFAULT_TIMEOUT_SECONDS = 30
export const MAX_TIMEOUT_SECONDS = 900
export const DEFAULT_MEMORY_MB = 128
export const LAMBDA_MIN_MEMORY_MB = 128
export const LAMBDA_MAX_MEMORY_MB = 10_240
export const DEFAULT_ARCHITECTURE: Architecture = 'x86_64'
export const DEFAULT_SECRETS_PREFIX = 'openfaas/'
export const DEFAULT_LOG_GROUP_PATTERN = '/aws/lambda/{function}'
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
export const DEFAULT_RETRY_BASE_MS = 100
export const DEFAULT_UPDATE_TIMEOUT_MS = 120_000
export const DEFAULT_UPDATE_POLL_MS = 1000
export const DEFAULT_LOG_POLL_MS = 2000
export const MIN_LOG_POLL_MS = 10
export const DEFAULT_LOG_MAX_PAGES = 100
export const DEFAULT_UPSTREAM_CACHE_MS = 1000
/** Lambda's synchronous invocation request limit: 6 MB */
export const LAMBDA_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024

export const DEFAULT_PER_REPLICA = 1
/** a generous bound: Lambda's own limit is the account's (regional) concurrency */
export const MAX_PER_REPLICA = 10_000
/** Lambda alias names: 1–128 of letters, digits, "-" and "_", not only digits (those are versions) */
const ALIAS = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/
const FUNCTION_NAME_CHARS = /^[A-Za-z0-9_-]*$/
const SECRET_NAME_CHARS = /^[A-Za-z0-9/_+=.@-]*$/

function fail (message: string): never {
  throw new Error(`lambda backend: ${message}`)
}

function int (opts: Record<string, unknown>, key: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = opts[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`option "${key}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return value
}

function str (opts: Record<string, unknown>, key: string, fallback: string, check?: (v: string) => string | undefined): string {
  const value = opts[key]
  if (value === undefined) return fallback
  if (typeof value !== 'string') fail(`option "${key}" must be a string, got ${JSON.stringify(value)}`)
  const problem = check?.(value)
  if (problem !== undefined) fail(`option "${key}" ${problem}, got ${JSON.stringify(value)}`)
  return value
}

const checkRegion = (v: string): string | undefined => REGION.test(v) ? undefined : 'must be an AWS region such as "us-east-1"'
const checkRole = (v: string): string | undefined =>
  ROLE_ARN.test(v) ? undefined : 'must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)'
const checkFunctionPrefix = (v: string): string | undefined =>
  FUNCTION_NAME_CHARS.test(v) ? undefined : 'may only hold letters, digits, "-" and "_" (Lambda function name characters)'
const checkSecretsPrefix = (v: string): string | undefined =>
  SECRET_NAME_CHARS.test(v) ? undefined : 'may only hold letters, digits and / _ + = . @ - (Secrets Manager name characters)'

function url (key: string, value: unknown): string {
  if (typeof value !== 'string') fail(`option "${key}" must be a URL string, got ${JSON.stringify(value)}`)
  let parsed: URL
  try {
    parsed = new URL(value)
  } catch {
    fail(`option "${key}" must be an http(s) URL, got ${JSON.stringify(value)}`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(`option "${key}" must be an http(s) URL, got ${JSON.stringify(value)}`)
  return value
}

function credentials (value: unknown): CredentialsSource {
  if (value === undefined) return DEFAULT_CREDENTIALS
  if (value === 'default' || value === 'env') return value
  if (typeof value === 'object' && value !== null) {
    const c = value as Record<string, unknown>
    if (typeof c.accessKeyId === 'string' && c.accessKeyId !== '' && typeof c.secretAccessKey === 'string' && c.secretAccessKey !== '' &&
      (c.sessionToken === undefined || typeof c.sessionToken === 'string')) {
      return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken as string } : {}) }
    }
  }
  fail('option "credentials" must be "default", "env" or { accessKeyId, secretAccessKey, sessionToken? }')
}

function provisionedConcurrency (value: unknown): ProvisionedConcurrency | undefined {
  if (value === undefined || value === null) return undefined
  const shape = 'option "provisionedConcurrency" must be { alias: NAME, perReplica?: N }'
  if (typeof value !== 'object' || Array.isArray(value)) fail(`${shape}, got ${JSON.stringify(value)}`)
  const o = value as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (k !== 'alias' && k !== 'perReplica') fail(`option "provisionedConcurrency.${k}" is unknown (alias, perReplica)`)
  }
  if (o.alias === undefined) fail(`${shape}: "alias" is missing`)
  if (typeof o.alias !== 'string' || !ALIAS.test(o.alias)) {
    fail(`option "provisionedConcurrency.alias" must be a Lambda alias name (1–128 letters, digits, "-" or "_", not only digits), got ${JSON.stringify(o.alias)}`)
  }
  const perReplica = o.perReplica ?? DEFAULT_PER_REPLICA
  if (typeof perReplica !== 'number' || !Number.isInteger(perReplica) || perReplica < 1 || perReplica > MAX_PER_REPLICA) {
    fail(`option "provisionedConcurrency.perReplica" must be an integer from 1 to ${MAX_PER_REPLICA}, got ${JSON.stringify(perReplica)}`)
  }
  return { alias: o.alias, perReplica }
}

export function validateOptions (options: Record<string, unknown> | undefined, namespaces: string[]): LambdaOptions {
  const opts = options ?? {}
  const region = str(opts, 'region', DEFAULT_REGION, checkRegion)
  const endpoints: Endpoints = {}
  if (opts.endpoint !== undefined) {
    const e = url('endpoint', opts.endpoint)
    endpoints.lambda = e
    endpoints.logs = e
    endpoints.secretsManager = e
  }
  if (opts.endpoints !== undefined) {
    if (typeof opts.endpoints !== 'object' || opts.endpoints === null) fail('option "endpoints" must be { lambda?, logs?, secretsManager? }')
    for (const [k, v] of Object.entries(opts.endpoints as Record<string, unknown>)) {
      if (k !== 'lambda' && k !== 'logs' && k !== 'secretsManager') fail(`option "endpoints.${k}" is unknown (lambda, logs, secretsManager)`)
      endpoints[k] = url(`endpoints.${k}`, v)
    }
  }
  const roleArn = opts.roleArn === undefined ? undefined : str(opts, 'roleArn', '', checkRole)
  const namePrefix = str(opts, 'namePrefix', DEFAULT_NAME_PREFIX, checkFunctionPrefix)
  const separator = str(opts, 'separator', DEFAULT_SEPARATOR, (v) => v !== '' && FUNCTION_NAME_CHARS.test(v) ? undefined : 'must be one or more of "-" and "_" or letters/digits')
  const minMemoryMb = int(opts, 'minMemoryMb', LAMBDA_MIN_MEMORY_MB, LAMBDA_MIN_MEMORY_MB, LAMBDA_MAX_MEMORY_MB)
  const maxMemoryMb = int(opts, 'maxMemoryMb', LAMBDA_MAX_MEMORY_MB, minMemoryMb, LAMBDA_MAX_MEMORY_MB)
  const memoryMb = int(opts, 'memoryMb', Math.max(DEFAULT_MEMORY_MB, minMemoryMb), minMemoryMb, maxMemoryMb)
  const architecture = str(opts, 'architecture', DEFAULT_ARCHITECTURE,
    (v) => v === 'x86_64' || v === 'arm64' ? undefined : 'must be "x86_64" or "arm64"') as Architecture
  const secretsPrefix = str(opts, 'secretsPrefix', DEFAULT_SECRETS_PREFIX, checkSecretsPrefix)
  const logGroupPattern = str(opts, 'logGroupPattern', DEFAULT_LOG_GROUP_PATTERN,
    (v) => v.includes('{function}') ? undefined : 'must contain "{function}"')

  const perNamespace = opts.namespaces ?? {}
  if (typeof perNamespace !== 'object' || perNamespace === null || Array.isArray(perNamespace)) {
    fail('option "namespaces" must be an object: namespace → { functionPrefix?, region?, roleArn?, secretsPrefix? }')
  }
  const nsSettings: Record<string, NamespaceSettings> = {}
  for (const key of Object.keys(perNamespace)) {
    if (!namespaces.includes(key)) fail(`option "namespaces.${key}": namespace "${key}" is not assigned to this backend (it has: ${namespaces.join(', ')})`)
  }
  for (const ns of namespaces) {
    const raw = (perNamespace as Record<string, unknown>)[ns] ?? {}
    if (typeof raw !== 'object' || raw === null) fail(`option "namespaces.${ns}" must be an object`)
    const o = raw as Record<string, unknown>
    for (const k of Object.keys(o)) {
      if (!['functionPrefix', 'region', 'roleArn', 'secretsPrefix'].includes(k)) {
        fail(`option "namespaces.${ns}.${k}" is unknown (functionPrefix, region, roleArn, secretsPrefix)`)
      }
    }
    const sub = (key: string, fallback: string, check: (v: string) => string | undefined): string => {
      try {
        return str(o, key, fallback, check)
      } catch (err) {
        throw new Error((err as Error).message.replace(`option "${key}"`, `option "namespaces.${ns}.${key}"`))
      }
    }
    nsSettings[ns] = {
      functionPrefix: sub('functionPrefix', `${namePrefix}${ns}${separator}`, checkFunctionPrefix),
      region: sub('region', region, checkRegion),
      roleArn: o.roleArn === undefined ? roleArn : sub('roleArn', '', checkRole),
      secretsPrefix: sub('secretsPrefix', `${secretsPrefix}${ns}/`, checkSecretsPrefix)
    }
  }
  const prefixes = Object.entries(nsSettings)
  for (const [a, sa] of prefixes) {
    for (const [b, sb] of prefixes) {
      if (a !== b && sa.region === sb.region && sb.functionPrefix.startsWith(sa.functionPrefix)) {
        fail(`namespaces "${a}" and "${b}" have overlapping function prefixes ("${sa.functionPrefix}", "${sb.functionPrefix}") in ${sa.region}`)
      }
    }
  }

  return {
    region,
    endpoints,
    credentials: credentials(opts.credentials),
    roleArn,
    namePrefix,
    separator,
    timeoutSeconds: int(opts, 'timeoutSeconds', DEFAULT_TIMEOUT_SECONDS, 1, MAX_TIMEOUT_SECONDS),
    memoryMb,
    minMemoryMb,
    maxMemoryMb,
    architecture,
    secretsPrefix,
    logGroupPattern,
    requestTimeoutMs: int(opts, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS, 100),
    retryBaseMs: int(opts, 'retryBaseMs', DEFAULT_RETRY_BASE_MS, 1),
    updateTimeoutMs: int(opts, 'updateTimeoutMs', DEFAULT_UPDATE_TIMEOUT_MS, 100),
    updatePollMs: int(opts, 'updatePollMs', DEFAULT_UPDATE_POLL_MS, 5),
    logPollMs: int(opts, 'logPollMs', DEFAULT_LOG_POLL_MS, MIN_LOG_POLL_MS, 60_000),
    logMaxPages: int(opts, 'logMaxPages', DEFAULT_LOG_MAX_PAGES, 1, 10_000),
    upstreamCacheMs: int(opts, 'upstreamCacheMs', DEFAULT_UPSTREAM_CACHE_MS, 0, 60_000),
    maxPayloadBytes: int(opts, 'maxPayloadBytes', LAMBDA_MAX_PAYLOAD_BYTES, 1, LAMBDA_MAX_PAYLOAD_BYTES),
    provisionedConcurrency: provisionedConcurrency(opts.provisionedConcurrency),
    namespaces: nsSettings
  }
}
