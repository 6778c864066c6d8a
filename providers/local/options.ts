/*
 * The local backend's options: named defaults in one place and one validateOptions() whose
 * messages say exactly which option is wrong.
 */

export type SecretsMount = 'auto' | 'namespace' | 'env'

export interface PortRange {
  from: number
  to: number
}

export interface LocalOptions {
  /** where deployments, secrets and namespaces persist (required) */
  stateDir: string
  /**
   * how functions see /var/openfaas/secrets: 'namespace' = a private mount namespace with the
   * function's secrets bind-mounted read-only there (root on Linux, needs util-linux unshare);
   * 'env' = a per-function directory announced in env secret_mount_path; 'auto' = namespace when
   * it works, else env.
   */
  secretsMount: SecretsMount
  /** where functions read secrets in 'namespace' mode */
  secretsMountPath: string
  /** loopback ports for http-mode replicas; undefined = any free port the kernel hands out */
  portRange?: PortRange
  /** SIGTERM → SIGKILL grace when stopping a replica */
  stopGraceMs: number
  /** first restart delay after a crash; doubles per crash up to restartBackoffMaxMs */
  restartBackoffMs: number
  restartBackoffMaxMs: number
  /** a replica that stays up this long resets its backoff */
  restartResetMs: number
  /** how often a starting http replica is probed for a listening port */
  readyPollMs: number
  /** suspended (parked) http-mode processes kept for scale to zero, all functions together; the oldest is stopped past it */
  maxParkedReplicas: number
  /** per-function log ring buffer bounds */
  logMaxLines: number
  logMaxBytes: number
}

export const DEFAULT_SECRETS_MOUNT: SecretsMount = 'auto'
export const DEFAULT_SECRETS_MOUNT_PATH = '/var/openfaas/secrets'
export const DEFAULT_STOP_GRACE_MS = 2000
export const DEFAULT_RESTART_BACKOFF_MS = 100
export const DEFAULT_RESTART_BACKOFF_MAX_MS = 10_000
export const DEFAULT_RESTART_RESET_MS = 10_000
export const DEFAULT_READY_POLL_MS = 20
export const DEFAULT_MAX_PARKED_REPLICAS = 100
export const DEFAULT_LOG_MAX_LINES = 1000
export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024

function positiveInt (options: Record<string, unknown>, key: string, fallback: number, min = 1): number {
  const value = options[key]
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new Error(`local backend: option "${key}" must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  }
  return value
}

export function validateOptions (options: Record<string, unknown> | undefined): LocalOptions {
  const opts = options ?? {}
  const stateDir = opts.stateDir
  if (typeof stateDir !== 'string' || stateDir === '') {
    throw new Error('local backend: option "stateDir" is required (a directory where deployments and secrets persist)')
  }
  const secretsMount = opts.secretsMount ?? DEFAULT_SECRETS_MOUNT
  if (secretsMount !== 'auto' && secretsMount !== 'namespace' && secretsMount !== 'env') {
    throw new Error(`local backend: option "secretsMount" must be "auto", "namespace" or "env", got ${JSON.stringify(secretsMount)}`)
  }
  const secretsMountPath = opts.secretsMountPath ?? DEFAULT_SECRETS_MOUNT_PATH
  if (typeof secretsMountPath !== 'string' || !secretsMountPath.startsWith('/')) {
    throw new Error(`local backend: option "secretsMountPath" must be an absolute path, got ${JSON.stringify(secretsMountPath)}`)
  }
  let portRange: PortRange | undefined
  if (opts.portRange !== undefined) {
    const r = opts.portRange as Partial<PortRange> | null
    const ok = typeof r === 'object' && r !== null &&
      Number.isInteger(r.from) && Number.isInteger(r.to) &&
      (r.from as number) >= 1024 && (r.to as number) <= 65535 && (r.from as number) <= (r.to as number)
    if (!ok) {
      throw new Error(`local backend: option "portRange" must be { from, to } with 1024 <= from <= to <= 65535, got ${JSON.stringify(opts.portRange)}`)
    }
    portRange = { from: r.from as number, to: r.to as number }
  }
  return {
    stateDir,
    secretsMount,
    secretsMountPath,
    portRange,
    stopGraceMs: positiveInt(opts, 'stopGraceMs', DEFAULT_STOP_GRACE_MS),
    restartBackoffMs: positiveInt(opts, 'restartBackoffMs', DEFAULT_RESTART_BACKOFF_MS),
    restartBackoffMaxMs: positiveInt(opts, 'restartBackoffMaxMs', DEFAULT_RESTART_BACKOFF_MAX_MS),
    restartResetMs: positiveInt(opts, 'restartResetMs', DEFAULT_RESTART_RESET_MS),
    readyPollMs: positiveInt(opts, 'readyPollMs', DEFAULT_READY_POLL_MS),
    maxParkedReplicas: positiveInt(opts, 'maxParkedReplicas', DEFAULT_MAX_PARKED_REPLICAS, 0),
    logMaxLines: positiveInt(opts, 'logMaxLines', DEFAULT_LOG_MAX_LINES),
    logMaxBytes: positiveInt(opts, 'logMaxBytes', DEFAULT_LOG_MAX_BYTES)
  }
}
