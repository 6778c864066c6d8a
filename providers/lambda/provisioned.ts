/*
 * Provisioned concurrency (option provisionedConcurrency: { alias, perReplica }). Lambda provisions
 * only published versions, reached through an alias, so:
 *   deploy/update → wait for the function, PublishVersion, point the alias at that version
 *                   (UpdateAlias, or CreateAlias the first time); Lambda re-provisions the alias
 *   scale N > 0   → PutProvisionedConcurrencyConfig(Qualifier = alias, N × perReplica)
 *   scale 0       → DeleteProvisionedConcurrencyConfig (reserved concurrency 0 is scale.ts's)
 *   status        → GetProvisionedConcurrencyConfig: READY / IN_PROGRESS count the environments
 *                   available (÷ perReplica), FAILED and none count 0
 * Invocations go to the alias (index.ts passes it as the Qualifier).
 */
import {
  CreateAliasCommand, DeleteProvisionedConcurrencyConfigCommand, GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand, PutProvisionedConcurrencyConfigCommand, UpdateAliasCommand, type LambdaClient
} from '@aws-sdk/client-lambda'
import { backendError, isProviderError } from '../../src/core/errors.ts'
import { withRetry } from './aws-errors.ts'
import type { ProvisionedConcurrency } from './options.ts'
import { waitForUpdate } from './update.ts'

export interface ProvisionedSettings {
  client: LambdaClient
  functionName: string
  config: ProvisionedConcurrency
  requestTimeoutMs: number
  retryBaseMs: number
  updateTimeoutMs: number
  updatePollMs: number
}

/** What GetProvisionedConcurrencyConfig says about the alias; undefined = no configuration. */
export interface ProvisionedState {
  status: 'READY' | 'IN_PROGRESS' | 'FAILED' | string
  requested: number
  available: number
  reason?: string
}

function call<T> (s: ProvisionedSettings, what: string, fn: (signal: AbortSignal) => Promise<T>, idempotent = false): Promise<T> {
  return withRetry(fn, { timeoutMs: s.requestTimeoutMs, baseMs: s.retryBaseMs, idempotent, what: `${what} ${s.functionName}` })
}

/** Waits for the function to settle, publishes a version and points the alias at it; returns the version. */
export async function publishToAlias (s: ProvisionedSettings): Promise<string> {
  await waitForUpdate(s, 'the function before PublishVersion')
  const published = await call(s, 'PublishVersion', (signal) => s.client.send(new PublishVersionCommand({
    FunctionName: s.functionName,
    Description: 'published by faas-bridge'
  }), { abortSignal: signal }))
  const version = published.Version
  if (version === undefined || version === '$LATEST') throw backendError(`PublishVersion ${s.functionName}: Lambda returned no version number`)
  const alias = s.config.alias
  try {
    await call(s, `UpdateAlias ${alias} of`, (signal) => s.client.send(new UpdateAliasCommand({
      FunctionName: s.functionName, Name: alias, FunctionVersion: version
    }), { abortSignal: signal }))
  } catch (err) {
    if (!isProviderError(err, 'NOT_FOUND')) throw err
    await call(s, `CreateAlias ${alias} of`, (signal) => s.client.send(new CreateAliasCommand({
      FunctionName: s.functionName, Name: alias, FunctionVersion: version, Description: 'managed by faas-bridge: invocations and provisioned concurrency'
    }), { abortSignal: signal }))
  }
  return version
}

/** The alias's provisioned concurrency configuration, or undefined when there is none. */
export async function readProvisioned (s: ProvisionedSettings): Promise<ProvisionedState | undefined> {
  try {
    const out = await call(s, 'GetProvisionedConcurrencyConfig', (signal) => s.client.send(new GetProvisionedConcurrencyConfigCommand({
      FunctionName: s.functionName, Qualifier: s.config.alias
    }), { abortSignal: signal }), true)
    return {
      status: out.Status ?? 'IN_PROGRESS',
      requested: out.RequestedProvisionedConcurrentExecutions ?? 0,
      available: out.AvailableProvisionedConcurrentExecutions ?? 0,
      ...(out.StatusReason !== undefined ? { reason: out.StatusReason } : {})
    }
  } catch (err) {
    // ProvisionedConcurrencyConfigNotFoundException, or the alias itself does not exist yet
    if (isProviderError(err, 'NOT_FOUND')) return undefined
    throw err
  }
}

/**
 * replicas × perReplica environments on the alias (0 deletes the configuration). An alias that does
 * not exist yet (a function deployed before the option was set) is created first.
 */
export async function setProvisioned (s: ProvisionedSettings, replicas: number): Promise<void> {
  if (replicas === 0) {
    try {
      await call(s, 'DeleteProvisionedConcurrencyConfig', (signal) => s.client.send(new DeleteProvisionedConcurrencyConfigCommand({
        FunctionName: s.functionName, Qualifier: s.config.alias
      }), { abortSignal: signal }))
    } catch (err) {
      if (!isProviderError(err, 'NOT_FOUND')) throw err
    }
    return
  }
  const put = async (): Promise<void> => {
    await call(s, 'PutProvisionedConcurrencyConfig', (signal) => s.client.send(new PutProvisionedConcurrencyConfigCommand({
      FunctionName: s.functionName, Qualifier: s.config.alias, ProvisionedConcurrentExecutions: replicas * s.config.perReplica
    }), { abortSignal: signal }))
  }
  try {
    await put()
  } catch (err) {
    if (!isProviderError(err, 'NOT_FOUND')) throw err
    await publishToAlias(s)
    await put()
  }
}

/** availableReplicas under provisioned concurrency: the environments available, in replicas, at most `replicas`. */
export function provisionedReplicas (state: ProvisionedState | undefined, replicas: number, perReplica: number): number {
  if (state === undefined || state.status === 'FAILED') return 0
  return Math.min(replicas, Math.floor(state.available / perReplica))
}
