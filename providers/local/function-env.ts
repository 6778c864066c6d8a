/*
 * What a function runs with, worked out once per deployed spec (not per call): the argv, the
 * environment (a small base env, fprocess, the function's envVars, secret_mount_path) and the
 * watchdog settings read from envVars (mode, exec_timeout, content_type).
 */
import { randomBytes } from 'node:crypto'
import { invalid } from '../../src/core/errors.ts'
import { parseDurationMs } from './durations.ts'
import type { Command } from './process-group.ts'
import type { SecretMounter } from './secret-mount.ts'
import type { Deployment } from './state-store.ts'

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

export interface RunSpec {
  name: string
  namespace: string
  mode: 'http' | 'fork'
  command: Command
  env: Record<string, string>
  execTimeoutMs: number
  /** env content_type: overrides the response Content-Type in fork mode */
  contentType: string | undefined
}

/** Backend-specific checks of a spec; throws InvalidError. */
export function validateSpec (spec: Deployment): void {
  const raw = spec.envVars?.exec_timeout
  if (raw !== undefined && raw !== '') {
    const ms = parseDurationMs(raw)
    if (ms === undefined || ms <= 0) throw invalid(`envVars.exec_timeout "${raw}" is not a duration (e.g. "10s", "1m30s" or seconds)`)
  }
  if (spec.envProcess === undefined || spec.envProcess.trim() === '') {
    throw invalid(`function "${spec.service}": envProcess (faas-cli --fprocess) is required by the local backend; the image is not run`)
  }
}

export function buildRunSpec (spec: Deployment, mounter: SecretMounter, secretDir: string, defaultExecTimeoutMs: number): RunSpec {
  const envVars = spec.envVars ?? {}
  const envProcess = spec.envProcess ?? ''
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? DEFAULT_PATH,
    HOME: process.env.HOME ?? '/',
    fprocess: envProcess,
    ...envVars,
    secret_mount_path: mounter.mountPath(secretDir)
  }
  const timeout = envVars.exec_timeout !== undefined && envVars.exec_timeout !== ''
    ? parseDurationMs(envVars.exec_timeout)
    : undefined
  const hasSecrets = (spec.secrets?.length ?? 0) > 0
  return {
    name: spec.service,
    namespace: spec.namespace,
    mode: envVars.mode === 'http' ? 'http' : 'fork',
    command: mounter.command(envProcess, secretDir, hasSecrets),
    env,
    execTimeoutMs: timeout ?? defaultExecTimeoutMs,
    contentType: envVars.content_type !== undefined && envVars.content_type !== '' ? envVars.content_type : undefined
  }
}

/** A replica name like Kubernetes pod suffixes: `fn-1a2b3`. */
export function instanceName (fn: string): string {
  return `${fn}-${randomBytes(3).toString('hex').slice(0, 5)}`
}
