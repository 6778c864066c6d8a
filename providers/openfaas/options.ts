/*
 * The openfaas backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong. Credential files are read here, once, at start-up
 * (as faas-provider and the gateway read theirs), so a missing file stops the process with a
 * clear message instead of failing every request later.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { dns1123Problem } from '../../src/core/names.ts'
import { isRecord, optionReader, type OptionReader } from '../../src/core/option-reader.ts'

const reader = optionReader('openfaas')
// annotated, so that TypeScript narrows after fail() (it returns never)
const fail: OptionReader['fail'] = reader.fail
const str: OptionReader['str'] = reader.str
const int: OptionReader['int'] = reader.int
const bool: OptionReader['bool'] = reader.bool

/**
 * How invocations reach the remote: 'proxy' = the core's streaming proxy (HTTP/1.1, WebSockets);
 * 'driver' = this driver's own HTTP client, which honours caFile/insecure; 'auto' = 'driver' only
 * when the remote is https with caFile or insecure set (the core proxy uses the system CAs).
 */
export type InvokeVia = 'auto' | 'proxy' | 'driver'

export interface OpenFaaSOptions {
  /** the remote provider's or gateway's base URL, always ending in "/" */
  url: URL
  /** the Authorization header for /system calls, undefined = none */
  authorization: string | undefined
  /** 'basic', 'bearer' or 'none', for messages */
  authKind: 'basic' | 'bearer' | 'none'
  /** local namespace → remote namespace (every namespace the backend owns has an entry) */
  remoteNamespaces: Map<string, string>
  /** bound on one /system call: connect, headers and body */
  requestTimeoutMs: number
  connectTimeoutMs: number
  /** first back-off of a retried call (doubles per retry, with jitter, within requestTimeoutMs) */
  retryBaseMs: number
  /** PEM bundle trusted for an https remote; it replaces the system CAs */
  ca: string | undefined
  caFile: string | undefined
  /** skip certificate verification (self-signed test installations only) */
  insecure: boolean
  invokeVia: 'proxy' | 'driver'
  /** send the system Authorization header on /function calls too (default: the caller's own) */
  invokeAuth: boolean
  /**
   * forward invocations of a function the remote reports with 0 available replicas (a remote
   * gateway with scale_from_zero scales it up itself); default false: 503 as faas-provider answers
   */
  invokeWhenUnready: boolean
  /** how long upstream() reuses a "ready" answer from the remote */
  statusCacheMs: number
  /** keep-alive connections to the remote */
  connections: number
  /** bound on a buffered /system response (lists, statuses, error texts) */
  maxResponseBytes: number
  /** bound on one log line; longer lines are dropped */
  maxLogLineBytes: number
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
export const DEFAULT_RETRY_BASE_MS = 100
export const DEFAULT_STATUS_CACHE_MS = 1_000
export const DEFAULT_CONNECTIONS = 64
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
export const DEFAULT_MAX_LOG_LINE_BYTES = 1024 * 1024
/** faas-cli's and the gateway's default user */
export const DEFAULT_BASIC_AUTH_USER = 'admin'

const KNOWN = ['url', 'auth', 'namespaces', 'requestTimeoutMs', 'connectTimeoutMs', 'retryBaseMs', 'caFile', 'insecure', 'invokeVia',
  'invokeAuth', 'invokeWhenUnready', 'statusCacheMs', 'connections', 'maxResponseBytes', 'maxLogLineBytes']

/** A credential file's content, trimmed as faas-provider trims basic-auth files. */
function readSecretFile (option: string, file: string): string {
  let text: string
  try {
    text = readFileSync(file, 'utf8').trim()
  } catch (err) {
    fail(`option "${option}": cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  if (text === '') fail(`option "${option}": ${file} is empty`)
  return text
}

/** "http://host:8080" → "http://host:8080/"; a path prefix (".../openfaas") keeps its segments. */
export function normaliseUrl (value: unknown): URL {
  let url: URL
  try {
    if (typeof value !== 'string' || value === '') throw new Error('not a string')
    url = new URL(value)
  } catch {
    fail(`option "url" must be the remote provider's or gateway's URL, e.g. "http://gateway.openfaas:8080/", got ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`option "url" must be an http or https URL, got ${JSON.stringify(value)}`)
  if (url.search !== '' || url.hash !== '') fail(`option "url" must not carry a query or fragment, got ${JSON.stringify(value)}`)
  if (url.username !== '' || url.password !== '') fail('option "url" must not carry credentials: use option "auth"')
  if (!url.pathname.endsWith('/')) url.pathname += '/'
  return url
}

function parseAuth (raw: unknown): { authorization: string | undefined, authKind: OpenFaaSOptions['authKind'] } {
  if (raw === undefined) return { authorization: undefined, authKind: 'none' }
  if (!isRecord(raw)) fail('option "auth" must be a mapping such as { type: basic, user: admin, passwordFile: /var/secrets/basic-auth-password }')
  const type = raw.type
  const allowed: Record<string, string[]> = {
    none: ['type'],
    basic: ['type', 'user', 'password', 'passwordFile', 'secretMountPath'],
    bearer: ['type', 'token', 'tokenFile']
  }
  if (typeof type !== 'string' || allowed[type] === undefined) {
    fail(`option "auth.type" must be one of "basic", "bearer", "none", got ${JSON.stringify(type)}`)
  }
  for (const key of Object.keys(raw)) {
    if (!(allowed[type] as string[]).includes(key)) fail(`unknown option "auth.${key}" for auth type "${type}" (expected ${(allowed[type] as string[]).join(', ')})`)
  }
  if (type === 'none') return { authorization: undefined, authKind: 'none' }
  if (type === 'bearer') {
    const token = str(raw, 'token', 'auth.')
    const tokenFile = str(raw, 'tokenFile', 'auth.')
    if ((token === undefined) === (tokenFile === undefined)) fail('auth type "bearer" needs exactly one of "auth.token" or "auth.tokenFile"')
    return { authorization: `Bearer ${token ?? readSecretFile('auth.tokenFile', tokenFile as string)}`, authKind: 'bearer' }
  }
  const password = str(raw, 'password', 'auth.')
  const passwordFile = str(raw, 'passwordFile', 'auth.')
  const mount = str(raw, 'secretMountPath', 'auth.')
  const sources = [password, passwordFile, mount].filter((s) => s !== undefined).length
  if (sources !== 1) {
    fail('auth type "basic" needs exactly one of "auth.password", "auth.passwordFile" or "auth.secretMountPath" ' +
      '(a directory holding basic-auth-user and basic-auth-password, as the gateway reads them)')
  }
  let user = str(raw, 'user', 'auth.')
  let secret: string
  if (mount !== undefined) {
    user ??= readSecretFile('auth.secretMountPath', path.join(mount, 'basic-auth-user'))
    secret = readSecretFile('auth.secretMountPath', path.join(mount, 'basic-auth-password'))
  } else {
    secret = password ?? readSecretFile('auth.passwordFile', passwordFile as string)
  }
  user ??= DEFAULT_BASIC_AUTH_USER
  if (user.includes(':')) fail('option "auth.user" must not contain ":"')
  return { authorization: `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`, authKind: 'basic' }
}

function parseNamespaces (raw: unknown, owned: readonly string[]): Map<string, string> {
  const map = raw ?? {}
  if (!isRecord(map)) fail('option "namespaces" must be a mapping of local namespace → remote namespace, e.g. { edge: openfaas-fn }')
  for (const [local, remote] of Object.entries(map)) {
    if (!owned.includes(local)) fail(`option "namespaces.${local}" names a namespace this backend does not own (owns: ${owned.join(', ')})`)
    if (typeof remote !== 'string') fail(`option "namespaces.${local}" must be the remote namespace's name, got ${JSON.stringify(remote)}`)
    const problem = dns1123Problem(remote)
    if (problem !== undefined) fail(`option "namespaces.${local}": remote namespace "${remote}" ${problem}`)
  }
  const out = new Map<string, string>()
  const seen = new Map<string, string>()
  for (const local of owned) {
    const remote = (map[local] as string | undefined) ?? local
    const other = seen.get(remote)
    if (other !== undefined) {
      fail(`namespaces "${other}" and "${local}" both map to remote namespace "${remote}": ` +
        'their functions would be the same; map each local namespace to its own remote namespace')
    }
    seen.set(remote, local)
    out.set(local, remote)
  }
  return out
}

export function validateOptions (options: Record<string, unknown> | undefined, namespaces: readonly string[]): OpenFaaSOptions {
  const opts = options ?? {}
  for (const key of Object.keys(opts)) if (!KNOWN.includes(key)) fail(`unknown option "${key}" (expected ${KNOWN.join(', ')})`)
  if (namespaces.length === 0) fail('the backend owns no namespace')
  if (opts.url === undefined) fail('option "url" is required: the remote provider\'s or gateway\'s URL, e.g. "http://gateway.openfaas:8080/"')
  const url = normaliseUrl(opts.url)
  const { authorization, authKind } = parseAuth(opts.auth)
  const caFile = str(opts, 'caFile')
  const ca = caFile === undefined ? undefined : readSecretFile('caFile', caFile)
  const insecure = bool(opts, 'insecure', false)
  if ((caFile !== undefined || insecure) && url.protocol !== 'https:') {
    fail(`options "caFile" and "insecure" only apply to an https remote, but "url" is ${url.href}`)
  }
  const via = opts.invokeVia ?? 'auto'
  if (via !== 'auto' && via !== 'proxy' && via !== 'driver') fail(`option "invokeVia" must be one of "auto", "proxy", "driver", got ${JSON.stringify(via)}`)
  const customTls = caFile !== undefined || insecure
  if (via === 'proxy' && customTls) {
    fail('option "invokeVia: proxy" cannot honour "caFile" or "insecure" (the core proxy trusts the system CAs only): use "auto" or "driver"')
  }
  return {
    url,
    authorization,
    authKind,
    remoteNamespaces: parseNamespaces(opts.namespaces, namespaces),
    requestTimeoutMs: int(opts, 'requestTimeoutMs', DEFAULT_REQUEST_TIMEOUT_MS),
    connectTimeoutMs: int(opts, 'connectTimeoutMs', DEFAULT_CONNECT_TIMEOUT_MS),
    retryBaseMs: int(opts, 'retryBaseMs', DEFAULT_RETRY_BASE_MS),
    ca,
    caFile,
    insecure,
    invokeVia: via === 'auto' ? (customTls ? 'driver' : 'proxy') : via,
    invokeAuth: bool(opts, 'invokeAuth', false),
    invokeWhenUnready: bool(opts, 'invokeWhenUnready', false),
    statusCacheMs: int(opts, 'statusCacheMs', DEFAULT_STATUS_CACHE_MS, 0),
    connections: int(opts, 'connections', DEFAULT_CONNECTIONS),
    maxResponseBytes: int(opts, 'maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES, 1024),
    maxLogLineBytes: int(opts, 'maxLogLineBytes', DEFAULT_MAX_LOG_LINE_BYTES, 1024)
  }
}
