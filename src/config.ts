/*
 * Configuration: faas-provider's environment variable names where one exists (port, read_timeout,
 * write_timeout, basic_auth, secret_mount_path, function_namespace, max_idle_conns*), plus an
 * optional YAML file that declares the backends. Every mistake names the key that is wrong.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { lazyRequire } from './core/lazy-require.ts'
import { dns1123Problem } from './core/names.ts'
import {
  DEFAULT_LEASE_DURATION_MS, DEFAULT_LEASE_NAME, DEFAULT_PEER_PORT_NAME, DEFAULT_PEER_TIMEOUT_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS
} from './core/coordination.ts'

/** only a provider with a config file loads the YAML parser */
const yaml = lazyRequire<typeof import('yaml')>('yaml')

export const DEFAULT_PORT = 8080
/** faas-provider's default for both timeouts */
export const DEFAULT_TIMEOUT_MS = 10_000
export const DEFAULT_NAMESPACE = 'openfaas-fn'
export const DEFAULT_SECRET_MOUNT_PATH = '/run/secrets/'
/** faas-provider's proxy pool size (max_idle_conns_per_host) */
export const DEFAULT_MAX_IDLE_CONNS = 1024
/** largest JSON body accepted on /system routes; invocations have no limit */
export const DEFAULT_SYSTEM_BODY_LIMIT = 1024 * 1024
/** loopback unless auth is on or the operator says otherwise: the local backend runs what it is sent */
export const LOOPBACK_ADDRESS = '127.0.0.1'
/** the scale API refuses more replicas than this: a typo must not start a million processes */
export const DEFAULT_MAX_REPLICAS = 100
/** idle time before a function labelled com.openfaas.scale.zero=true goes to zero (faas-idler's
 * inactivity_duration; the label com.openfaas.scale.zero-duration overrides it per function) */
export const DEFAULT_INACTIVITY_DURATION_MS = 15 * 60_000
/** how often the autoscaler samples load and decides */
export const DEFAULT_AUTOSCALE_INTERVAL_MS = 2000
/** how often declarative sources are re-read and compared with the backends */
export const DEFAULT_RESYNC_MS = 30_000

/** what the autoscaler does with a backend's functions; unset = by driver (local, kubernetes: scale; others: report) */
export type AutoscaleMode = 'scale' | 'report' | 'off'
const AUTOSCALE_MODES: readonly string[] = ['scale', 'report', 'off']

export interface BackendConfig {
  /** the name used in logs and metrics */
  name: string
  /** built-in driver name (local, kubernetes, ...) or an npm package exporting createDriver */
  driver: string
  namespaces: string[]
  options: Record<string, unknown>
  /** set only when the config file says so */
  autoscale?: AutoscaleMode
}

/** Leader election (src/core/coordination.ts): on, its Lease, its timing and how peers are found. */
export interface LeaderElectionConfig {
  /** the cluster that holds the Lease and the provider's Service: the pod's own (in-cluster) unless a kubeconfig is given */
  kubeconfig: string | undefined
  leaseName: string
  /** undefined: the pod's own namespace (its service account's namespace file) */
  namespace: string | undefined
  /** undefined: the host name (the pod name in Kubernetes) */
  identity: string | undefined
  leaseDurationMs: number
  renewDeadlineMs: number
  retryPeriodMs: number
  /** the provider's own Service, whose ready endpoints are the peers */
  peerService: string
  peerPortName: string
  peerTimeoutMs: number
}

export interface Config {
  port: number
  /** address to listen on */
  host: string
  /** true when host was chosen by the operator */
  hostExplicit: boolean
  readTimeoutMs: number
  writeTimeoutMs: number
  basicAuth: boolean
  secretMountPath: string
  defaultNamespace: string
  maxIdleConns: number
  maxIdleConnsPerHost: number
  /** invoke threads (src/proxy/invoke-threads.ts): how many, and the invocation rate that starts them; 0 threads: off */
  invokeThreads: { count: number, startRps: number }
  systemBodyLimit: number
  /** the scale API refuses more replicas than this */
  maxReplicas: number
  logLevel: string
  backends: BackendConfig[]
  declarative?: DeclarativeConfig
  autoscale: {
    /** provider-wide idle time before scale to zero (env inactivity_duration) */
    zeroDurationMs: number
    /** env autoscale_interval */
    intervalMs: number
  }
  /** undefined: one process, always its own leader */
  leaderElection: LeaderElectionConfig | undefined
}

export interface StackFileConfig {
  /** absolute: a stack file or a directory of them */
  path: string
  prune: boolean
  /** stored on every function the source deploys */
  id: string
}

/** OpenFaaS Function custom resources (openfaas.com/v1) watched in Kubernetes namespaces */
export interface FunctionResourcesConfig {
  /** Kubernetes namespaces whose Function resources are reconciled */
  namespaces: string[]
  /** Kubernetes namespace → faas-bridge namespace (default: the same name) */
  map: Record<string, string>
  /** how to reach the cluster: true/false/'auto' (default) */
  inCluster: boolean | 'auto'
  /** absolute path of a kubeconfig */
  kubeconfig?: string
  context?: string
}

/** declared functions (src/reconcile/): off when absent */
export interface DeclarativeConfig {
  resyncMs: number
  /** may be empty when functionResources is set */
  stackFiles: StackFileConfig[]
  functionResources?: FunctionResourcesConfig
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** An integer number of seconds, or a Go duration string ("65s", "1m5s", "1.5h", "500ms"). */
export function parseDuration (key: string, value: string): number {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number)
    consumed = re.lastIndex
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new ConfigError(`${key}: "${value}" is not a duration (use seconds, e.g. 10, or a Go duration, e.g. 1m5s)`)
  }
  return Math.round(total)
}

function parseInteger (key: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`${key}: "${value}" is not a whole number`)
  const n = Number(value.trim())
  if (n < min || n > max) throw new ConfigError(`${key}: ${n} is outside ${min}..${max}`)
  return n
}

function defaultStateDir (env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ''
    ? env.XDG_STATE_HOME
    : path.join(env.HOME ?? os.homedir(), '.local', 'state')
  return path.join(base, 'faas-bridge')
}

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The config file: `backends` (required) and `declarative` (optional). */
function parseConfigFile (file: string, text: string, configDir: string): { backends: BackendConfig[], declarative?: DeclarativeConfig } {
  let doc: unknown
  try {
    doc = yaml().parse(text)
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`)
  }
  if (!isRecord(doc)) throw new ConfigError(`${file}: expected a mapping with a "backends" key`)
  for (const key of Object.keys(doc)) {
    if (key !== 'backends' && key !== 'declarative') throw new ConfigError(`${file}: unknown key "${key}" (expected backends, declarative)`)
  }
  const declarative = doc.declarative !== undefined ? declarativeFromFile(file, doc.declarative, configDir) : undefined
  return { backends: backendsFromFile(file, doc), ...(declarative !== undefined ? { declarative } : {}) }
}

/**
 * `declarative:` — sources of declared functions (issue: declarative functions):
 *   resync: 30s                       how often every source is re-read and the backends compared
 *   stackFiles:                       stack.yml files or directories (paths relative to the config file)
 *     - { path: ./functions, prune: false, id: stack:functions }
 *   functionResources:                OpenFaaS Function custom resources (openfaas.com/v1)
 *     namespaces: [openfaas-fn]       the Kubernetes namespaces watched
 *     map: { team-a: aws }            Kubernetes namespace → faas-bridge namespace (default: the same)
 *     inCluster: auto                 or kubeconfig: ./kubeconfig (relative to the config file), context
 */
function declarativeFromFile (file: string, raw: unknown, configDir: string): DeclarativeConfig {
  const where = `${file}: declarative`
  if (!isRecord(raw)) throw new ConfigError(`${where}: expected a mapping with stackFiles and/or functionResources (and resync)`)
  for (const key of Object.keys(raw)) {
    if (key !== 'resync' && key !== 'stackFiles' && key !== 'functionResources') throw new ConfigError(`${where}: unknown key "${key}" (expected resync, stackFiles, functionResources)`)
  }
  let resyncMs = DEFAULT_RESYNC_MS
  if (raw.resync !== undefined) {
    if (typeof raw.resync !== 'string' && typeof raw.resync !== 'number') throw new ConfigError(`${where}.resync: expected a duration such as 30s`)
    resyncMs = parseDuration(`${where}.resync`, String(raw.resync))
    if (resyncMs < 100) throw new ConfigError(`${where}.resync: must be at least 100ms`)
  }
  const functionResources = raw.functionResources !== undefined ? functionResourcesFrom(`${where}.functionResources`, raw.functionResources, configDir) : undefined
  const listed = raw.stackFiles ?? (functionResources !== undefined ? [] : undefined)
  if (!Array.isArray(listed) || (listed.length === 0 && functionResources === undefined)) throw new ConfigError(`${where}.stackFiles: expected a non-empty list of { path, prune }`)
  const ids = new Set<string>()
  const stackFiles = listed.map((entry: unknown, i: number): StackFileConfig => {
    const at = `${where}.stackFiles[${i}]`
    if (!isRecord(entry)) throw new ConfigError(`${at}: expected a mapping with path (and prune, id)`)
    for (const key of Object.keys(entry)) {
      if (!['path', 'prune', 'id'].includes(key)) throw new ConfigError(`${at}: unknown key "${key}" (expected path, prune, id)`)
    }
    if (typeof entry.path !== 'string' || entry.path === '') throw new ConfigError(`${at}.path: expected a file or directory`)
    if (entry.prune !== undefined && typeof entry.prune !== 'boolean') throw new ConfigError(`${at}.prune: expected true or false`)
    const p = path.resolve(configDir, entry.path)
    const id = entry.id ?? `stack:${path.basename(p)}`
    if (typeof id !== 'string' || !/^[A-Za-z0-9_.:/=+@-]{1,200}$/.test(id)) {
      throw new ConfigError(`${at}.id: expected up to 200 letters, digits and _.:/=+@- (it is stored on every function it deploys)`)
    }
    if (ids.has(id)) throw new ConfigError(`${at}.id: "${id}" is used by another source: give each an id`)
    ids.add(id)
    return { path: p, prune: entry.prune === true, id }
  })
  return { resyncMs, stackFiles, ...(functionResources !== undefined ? { functionResources } : {}) }
}

function functionResourcesFrom (where: string, raw: unknown, configDir: string): FunctionResourcesConfig {
  if (!isRecord(raw)) throw new ConfigError(`${where}: expected a mapping with namespaces (and map, inCluster, kubeconfig, context)`)
  const keys = ['namespaces', 'map', 'inCluster', 'kubeconfig', 'context']
  for (const key of Object.keys(raw)) {
    if (!keys.includes(key)) throw new ConfigError(`${where}: unknown key "${key}" (expected ${keys.join(', ')})`)
  }
  const namespaces = raw.namespaces
  if (!Array.isArray(namespaces) || namespaces.length === 0 || !namespaces.every((n) => typeof n === 'string')) {
    throw new ConfigError(`${where}.namespaces: expected a non-empty list of Kubernetes namespace names`)
  }
  for (const ns of namespaces as string[]) {
    const problem = dns1123Problem(ns)
    if (problem !== undefined) throw new ConfigError(`${where}.namespaces: "${ns}" ${problem}`)
  }
  const map = raw.map ?? {}
  if (!isRecord(map)) throw new ConfigError(`${where}.map: expected a mapping of Kubernetes namespace → faas-bridge namespace`)
  for (const [k, v] of Object.entries(map)) {
    if (!(namespaces as string[]).includes(k)) throw new ConfigError(`${where}.map.${k}: not one of the watched namespaces (${(namespaces as string[]).join(', ')})`)
    if (typeof v !== 'string' || dns1123Problem(v) !== undefined) throw new ConfigError(`${where}.map.${k}: expected a faas-bridge namespace name, got ${JSON.stringify(v)}`)
  }
  const inCluster = raw.inCluster ?? 'auto'
  if (inCluster !== true && inCluster !== false && inCluster !== 'auto') throw new ConfigError(`${where}.inCluster: expected true, false or auto`)
  for (const key of ['kubeconfig', 'context']) {
    if (raw[key] !== undefined && (typeof raw[key] !== 'string' || raw[key] === '')) throw new ConfigError(`${where}.${key}: expected a non-empty string`)
  }
  if (inCluster === true && raw.kubeconfig !== undefined) throw new ConfigError(`${where}: inCluster: true and kubeconfig exclude each other`)
  return {
    namespaces: namespaces as string[],
    map: map as Record<string, string>,
    inCluster,
    ...(raw.kubeconfig !== undefined ? { kubeconfig: path.resolve(configDir, raw.kubeconfig as string) } : {}),
    ...(raw.context !== undefined ? { context: raw.context as string } : {})
  }
}

function backendsFromFile (file: string, doc: Record<string, unknown>): BackendConfig[] {
  const backends = doc.backends
  if (!isRecord(backends) || Object.keys(backends).length === 0) {
    throw new ConfigError(`${file}: backends: expected a mapping of backend name → { driver, namespaces, options }`)
  }
  return Object.entries(backends).map(([name, raw]) => {
    const where = `${file}: backends.${name}`
    if (!isRecord(raw)) throw new ConfigError(`${where}: expected a mapping`)
    for (const key of Object.keys(raw)) {
      if (!['driver', 'namespaces', 'options', 'autoscale'].includes(key)) {
        throw new ConfigError(`${where}: unknown key "${key}" (expected driver, namespaces, options, autoscale)`)
      }
    }
    const driver = raw.driver ?? name
    if (typeof driver !== 'string' || driver === '') throw new ConfigError(`${where}.driver: expected a driver name`)
    const namespaces = raw.namespaces
    if (!Array.isArray(namespaces) || namespaces.length === 0 || !namespaces.every((n) => typeof n === 'string')) {
      throw new ConfigError(`${where}.namespaces: expected a non-empty list of namespace names`)
    }
    for (const ns of namespaces as string[]) {
      const problem = dns1123Problem(ns)
      if (problem !== undefined) throw new ConfigError(`${where}.namespaces: "${ns}" ${problem}`)
    }
    const options = raw.options ?? {}
    if (!isRecord(options)) throw new ConfigError(`${where}.options: expected a mapping`)
    const autoscale = raw.autoscale
    if (autoscale !== undefined && (typeof autoscale !== 'string' || !AUTOSCALE_MODES.includes(autoscale))) {
      throw new ConfigError(`${where}.autoscale: expected scale, report or off, got ${JSON.stringify(autoscale)}`)
    }
    return { name, driver, namespaces: namespaces as string[], options, ...(autoscale !== undefined ? { autoscale: autoscale as AutoscaleMode } : {}) }
  })
}

/**
 * leader_election: "auto" (default) turns it on in a pod (KUBERNETES_SERVICE_HOST set) when no
 * local backend is configured; "true" insists (and refuses a local backend: its functions are
 * processes of one replica); "false" keeps one process its own leader. The Lease and the
 * provider's Service are in the pod's own cluster (leader_election_kubeconfig: another one).
 */
function leaderElectionFrom (get: (key: string) => string | undefined, env: NodeJS.ProcessEnv, backends: BackendConfig[]): LeaderElectionConfig | undefined {
  const mode = get('leader_election') ?? 'auto'
  if (!['auto', 'true', 'false'].includes(mode)) throw new ConfigError(`leader_election: expected auto, true or false, got "${mode}"`)
  if (mode === 'false') return undefined
  const local = backends.find((b) => b.driver === 'local')
  if (mode === 'auto' && (local !== undefined || (env.KUBERNETES_SERVICE_HOST ?? '') === '')) return undefined
  if (local !== undefined) throw new ConfigError(`leader_election: true cannot be used with the local backend "${local.name}" (its functions are processes of one replica)`)
  const duration = (key: string, fallback: number): number => {
    const v = get(key)
    if (v === undefined) return fallback
    const ms = parseDuration(key, v)
    if (ms <= 0) throw new ConfigError(`${key}: must be above 0`)
    return ms
  }
  const leaseDurationMs = duration('leader_election_lease_duration', DEFAULT_LEASE_DURATION_MS)
  const renewDeadlineMs = duration('leader_election_renew_deadline', DEFAULT_RENEW_DEADLINE_MS)
  const retryPeriodMs = duration('leader_election_retry_period', DEFAULT_RETRY_PERIOD_MS)
  if (leaseDurationMs < 1000) throw new ConfigError('leader_election_lease_duration: must be at least 1s (a Lease counts whole seconds)')
  if (renewDeadlineMs >= leaseDurationMs) throw new ConfigError(`leader_election_renew_deadline: must be shorter than leader_election_lease_duration (${renewDeadlineMs} ms >= ${leaseDurationMs} ms)`)
  if (retryPeriodMs >= renewDeadlineMs) throw new ConfigError(`leader_election_retry_period: must be shorter than leader_election_renew_deadline (${retryPeriodMs} ms >= ${renewDeadlineMs} ms)`)
  const name = (key: string, fallback: string | undefined): string | undefined => {
    const v = get(key) ?? fallback
    if (v === undefined) return undefined
    const problem = dns1123Problem(v)
    if (problem !== undefined) throw new ConfigError(`${key}: "${v}" ${problem}`)
    return v
  }
  const leaseName = name('leader_election_lease_name', DEFAULT_LEASE_NAME) as string
  return {
    kubeconfig: get('leader_election_kubeconfig'),
    leaseName,
    namespace: name('leader_election_namespace', undefined),
    identity: get('leader_election_identity'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    peerService: name('peer_service', leaseName) as string,
    peerPortName: get('peer_port_name') ?? DEFAULT_PEER_PORT_NAME,
    peerTimeoutMs: duration('peer_timeout', DEFAULT_PEER_TIMEOUT_MS)
  }
}

/**
 * Reads the configuration from the environment (and the YAML file that `config_file` names).
 * `readFile` is injectable for tests.
 */
export function loadConfig (env: NodeJS.ProcessEnv = process.env, readFile = (f: string) => readFileSync(f, 'utf8')): Config {
  const get = (key: string): string | undefined => {
    const v = env[key]
    return v === undefined || v.trim() === '' ? undefined : v
  }
  const port = get('port') !== undefined ? parseInteger('port', get('port') as string, 0, 65535) : DEFAULT_PORT
  const readTimeoutMs = get('read_timeout') !== undefined ? parseDuration('read_timeout', get('read_timeout') as string) : DEFAULT_TIMEOUT_MS
  const writeTimeoutMs = get('write_timeout') !== undefined ? parseDuration('write_timeout', get('write_timeout') as string) : DEFAULT_TIMEOUT_MS
  // faas-provider: only the exact string "true" enables auth
  const basicAuth = env.basic_auth === 'true'
  const defaultNamespace = get('function_namespace') ?? DEFAULT_NAMESPACE
  const nsProblem = dns1123Problem(defaultNamespace)
  if (nsProblem !== undefined) throw new ConfigError(`function_namespace: "${defaultNamespace}" ${nsProblem}`)
  const maxIdleConns = get('max_idle_conns') !== undefined ? parseInteger('max_idle_conns', get('max_idle_conns') as string, 1, 1e6) : DEFAULT_MAX_IDLE_CONNS
  const maxIdleConnsPerHost = get('max_idle_conns_per_host') !== undefined
    ? parseInteger('max_idle_conns_per_host', get('max_idle_conns_per_host') as string, 1, 1e6)
    : DEFAULT_MAX_IDLE_CONNS
  // opt-in: more cores for /function/ (SO_REUSEPORT, Linux only)
  const invokeThreads = {
    count: get('invoke_threads') !== undefined ? parseInteger('invoke_threads', get('invoke_threads') as string, 0, 64) : 0,
    startRps: get('invoke_threads_start_rps') !== undefined ? parseInteger('invoke_threads_start_rps', get('invoke_threads_start_rps') as string, 0, 1e7) : 500
  }
  if (invokeThreads.count > 0 && process.platform !== 'linux') {
    throw new ConfigError(`invoke_threads: needs SO_REUSEPORT load balancing, which only Linux has (this is ${process.platform}); leave it unset`)
  }
  const systemBodyLimit = get('max_system_body_bytes') !== undefined
    ? parseInteger('max_system_body_bytes', get('max_system_body_bytes') as string, 1024, 1024 ** 3)
    : DEFAULT_SYSTEM_BODY_LIMIT
  const zeroDurationMs = get('inactivity_duration') !== undefined
    ? parseDuration('inactivity_duration', get('inactivity_duration') as string)
    : DEFAULT_INACTIVITY_DURATION_MS
  if (zeroDurationMs <= 0) throw new ConfigError('inactivity_duration: must be above 0')
  const intervalMs = get('autoscale_interval') !== undefined
    ? parseDuration('autoscale_interval', get('autoscale_interval') as string)
    : DEFAULT_AUTOSCALE_INTERVAL_MS
  if (intervalMs < 10) throw new ConfigError('autoscale_interval: must be at least 10ms')
  const hostExplicit = get('bind_address') !== undefined
  const host = get('bind_address') ?? (basicAuth ? '0.0.0.0' : LOOPBACK_ADDRESS)

  let backends: BackendConfig[]
  let declarative: DeclarativeConfig | undefined
  const file = get('config_file')
  if (file !== undefined) {
    let text: string
    try {
      text = readFile(file)
    } catch (err) {
      throw new ConfigError(`config_file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    const parsed = parseConfigFile(file, text, path.dirname(path.resolve(file)))
    backends = parsed.backends
    declarative = parsed.declarative
    // a local backend without its own stateDir keeps its state where state_dir says
    for (const b of backends) {
      if (b.driver === 'local' && b.options.stateDir === undefined) b.options.stateDir = get('state_dir') ?? defaultStateDir(env)
    }
  } else {
    backends = [{
      name: 'local',
      driver: 'local',
      namespaces: [defaultNamespace],
      options: { stateDir: get('state_dir') ?? defaultStateDir(env) }
    }]
  }
  // stack_file: one stack file or directory, for a laptop without a config file
  const stackFile = get('stack_file')
  if (stackFile !== undefined) {
    if (declarative !== undefined) throw new ConfigError('stack_file: set it or the config file\'s declarative.stackFiles, not both')
    const p = path.resolve(stackFile)
    declarative = { resyncMs: DEFAULT_RESYNC_MS, stackFiles: [{ path: p, prune: env.stack_prune === 'true', id: `stack:${path.basename(p)}` }] }
  }
  if (!backends.some((b) => b.namespaces.includes(defaultNamespace))) {
    throw new ConfigError(`function_namespace: "${defaultNamespace}" is not listed in any backend's namespaces`)
  }
  return {
    port,
    host,
    hostExplicit,
    readTimeoutMs,
    writeTimeoutMs,
    basicAuth,
    secretMountPath: get('secret_mount_path') ?? DEFAULT_SECRET_MOUNT_PATH,
    defaultNamespace,
    maxIdleConns,
    maxIdleConnsPerHost,
    invokeThreads,
    systemBodyLimit,
    maxReplicas: get('max_replicas') !== undefined ? parseInteger('max_replicas', get('max_replicas') as string, 1, 100_000) : DEFAULT_MAX_REPLICAS,
    logLevel: get('log_level') ?? 'info',
    backends,
    autoscale: { zeroDurationMs, intervalMs },
    leaderElection: leaderElectionFrom(get, env, backends),
    ...(declarative !== undefined ? { declarative } : {})
  }
}
