/*
 * The Driver contract: what every backend (local, kubernetes, tekton, lambda, cloudrun, plugins)
 * implements. A driver never sees HTTP routing objects; the API layer never imports a provider.
 * Failures are thrown as ProviderError (./errors.ts); what a backend cannot do is `unsupported`.
 */
import type { Readable } from 'node:stream'
import type {
  FunctionDeployment, FunctionNamespace, FunctionStatus, LogMessage, SecretInfo
} from './types.ts'

export interface LogQuery {
  name: string
  namespace: string
  /** only this instance (replica) */
  instance?: string
  /** only messages at or after this time */
  since?: Date
  /** the last N messages; undefined = all */
  tail?: number
  /** keep the stream open for new messages */
  follow: boolean
}

/** A secret to store: the value is already decoded (rawValue wins over value). */
export interface SecretInput {
  name: string
  namespace: string
  value: Buffer
}

export interface SecretStore {
  /** names only: values never leave a store through the API */
  list (namespace: string): Promise<SecretInfo[]>
  /** ConflictError if it exists */
  create (secret: SecretInput): Promise<void>
  /** NotFoundError if it does not */
  update (secret: SecretInput): Promise<void>
  /** NotFoundError if it does not */
  remove (namespace: string, name: string): Promise<void>
}

/** Namespaces a backend can create at run time (POST /system/namespace/). */
export interface NamespaceStore {
  list (): Promise<FunctionNamespace[]>
  /** NotFoundError if it does not exist */
  get (name: string): Promise<FunctionNamespace>
  /** ConflictError if it exists */
  create (ns: FunctionNamespace): Promise<void>
  update (ns: FunctionNamespace): Promise<void>
  /** NotFoundError if missing; InvalidError if it still holds functions */
  remove (name: string): Promise<void>
}

export type HeaderMap = Record<string, string | string[] | undefined>

/** An invocation handed to a driver that runs calls itself (Upstream kind 'call'). */
export interface InvocationRequest {
  method: string
  /** path below /function/NAME, always starting with '/' */
  path: string
  /** raw query string without '?', '' when none */
  query: string
  headers: HeaderMap
  body: Readable
  signal: AbortSignal
}

export interface InvocationResponse {
  status: number
  headers: HeaderMap
  body: Readable | Buffer | string
}

export type Upstream =
  /**
   * the API layer streams the request to this base URL; `alternate`, when given, names another
   * instance of the same function to try after a connection failure to `url` (undefined: none
   * left), which the API layer does only for idempotent requests whose body was not sent
   */
  | { kind: 'http', url: URL, headers?: Record<string, string>, alternate?: () => URL | undefined }
  /** the driver runs the call itself (fork-per-request, a cloud invoke API) */
  | { kind: 'call', call (req: InvocationRequest): Promise<InvocationResponse> }

/** One local cache (informer) of a backend, for /metrics and `--check`. */
export interface CacheReport {
  /** what is cached, e.g. "deployments.apps" */
  resource: string
  namespace: string
  /** syncing: not listed yet; synced: trusted; stale: disconnected longer than its bound (reads go to the backend); stopped */
  state: 'syncing' | 'synced' | 'stale' | 'stopped'
  /** ms since the epoch when the cache was last known current */
  lastSyncAt: number | undefined
  /** changes received */
  events: number
  /** bookmarks received (they advance the version a reconnect resumes from) */
  bookmarks: number
  /** full re-reads (the first included) */
  relists: number
  /** change streams opened again after the first */
  reconnects: number
  /** reads answered by the backend because the cache could not be trusted */
  fallbacks: number
  objects: number
}

export interface Driver {
  /** "local", "kubernetes", ... */
  readonly kind: string
  /** CONFLICT if it exists; INVALID for a bad spec or a secret that does not exist (nothing changes) */
  deploy (fn: FunctionDeployment & { namespace: string }): Promise<void>
  /** NOT_FOUND if it does not exist (faas-cli deploy relies on the 404); INVALID as for deploy */
  update (fn: FunctionDeployment & { namespace: string }): Promise<void>
  remove (namespace: string, name: string): Promise<void>
  list (namespace: string): Promise<FunctionStatus[]>
  /** NotFoundError if it does not exist; replicas/availableReplicas are the backend's truth */
  status (namespace: string, name: string): Promise<FunctionStatus>
  scale (namespace: string, name: string, replicas: number): Promise<void>
  /**
   * Optional, for scale to zero: like scale(namespace, name, 0) — replicas and availableReplicas
   * report 0 — but the backend may keep the instances suspended, so that the next scale up resumes
   * them in milliseconds instead of starting them. Without it the autoscaler calls scale(…, 0).
   */
  park? (namespace: string, name: string): Promise<void>
  secrets?: SecretStore
  namespaces?: NamespaceStore
  /**
   * Resolves once the log source is open: an unknown function (NOT_FOUND) or a backend failure
   * rejects here, while the API can still answer with a status code. The stream then ends when the
   * source ends (follow=false) or when signal aborts; a failure mid-stream just ends it.
   */
  logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>>
  /** UnavailableError when the function exists but has no ready instance; NotFoundError when unknown */
  upstream (namespace: string, name: string): Promise<Upstream>
  /**
   * Optional start-up probe for `--check`: one cheap read that proves the backend is usable (the
   * API answers, the credentials work, the state directory is writable). Rejects with a message
   * that says what is wrong. Drivers without it are only created (their configuration check).
   */
  check? (): Promise<void>
  /** Optional: the backend's local caches, if it keeps any (read at scrape time; must be cheap). */
  caches? (): CacheReport[]
  close (): Promise<void>
}

export interface DriverContext {
  /** pino-compatible logger */
  logger: {
    info (obj: unknown, msg?: string): void
    warn (obj: unknown, msg?: string): void
    error (obj: unknown, msg?: string): void
    debug (obj: unknown, msg?: string): void
    child (bindings: Record<string, unknown>): DriverContext['logger']
  }
  /** namespaces this driver owns per configuration */
  namespaces: string[]
  /** invocation timeout (ms) for drivers that run calls themselves */
  execTimeoutMs: number
  /**
   * The driver is created only for `--check`, perhaps next to a live provider on the same state:
   * read and verify, but start, reap or clean up nothing.
   */
  checkOnly?: boolean
}

export type CreateDriver = (options: Record<string, unknown>, context: DriverContext) => Promise<Driver> | Driver

/**
 * The version of this contract. It changes only when a driver written for the previous version
 * could break (a new required member, a changed meaning); new optional members and new error codes
 * keep it. A driver package may export `driverApiVersion`: the loader refuses to start with a
 * driver that declares another version.
 */
export const DRIVER_API_VERSION = 1

/** What a driver package exports (faas-bridge loads it by name from the config's `driver`). */
export interface DriverModule {
  createDriver: CreateDriver
  /** the DRIVER_API_VERSION the driver was written for */
  driverApiVersion?: number
}
