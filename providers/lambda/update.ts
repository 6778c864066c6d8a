/*
 * Updating a function: Lambda takes one change at a time (a second one while LastUpdateStatus is
 * InProgress is a ResourceConflictException). So: wait for any running update, UpdateFunctionCode
 * (image, architecture), wait, UpdateFunctionConfiguration (role, memory, timeout, environment),
 * wait, then sync the label/annotation tags. Every wait polls GetFunctionConfiguration, bounded by
 * updateTimeoutMs (504 when it runs out; a Failed update is a 500 with Lambda's reason).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  GetFunctionConfigurationCommand, TagResourceCommand, UntagResourceCommand, UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand, type LambdaClient
} from '@aws-sdk/client-lambda'
import { backendError, timeout } from '../../src/core/errors.ts'
import { withRetry } from './aws-errors.ts'
import type { FunctionSpec } from './mapping.ts'
import { RESERVED_TAG_PREFIX, TAG_ANNOTATION_PREFIX } from './naming.ts'

export interface UpdateSettings {
  client: LambdaClient
  functionName: string
  arn: string
  roleArn: string
  requestTimeoutMs: number
  retryBaseMs: number
  updateTimeoutMs: number
  updatePollMs: number
}

/** what waiting on a function's state needs */
export type WaitSettings = Pick<UpdateSettings, 'client' | 'functionName' | 'requestTimeoutMs' | 'retryBaseMs' | 'updateTimeoutMs' | 'updatePollMs'>

function call<T> (s: WaitSettings, what: string, fn: (signal: AbortSignal) => Promise<T>, idempotent = false): Promise<T> {
  return withRetry(fn, { timeoutMs: s.requestTimeoutMs, baseMs: s.retryBaseMs, idempotent, what: `${what} ${s.functionName}` })
}

/** Waits until the function is not Pending and no update is InProgress (bounded). */
export async function waitForUpdate (s: WaitSettings, step: string): Promise<void> {
  const deadline = Date.now() + s.updateTimeoutMs
  for (;;) {
    const c = await call(s, 'GetFunctionConfiguration', (signal) =>
      s.client.send(new GetFunctionConfigurationCommand({ FunctionName: s.functionName }), { abortSignal: signal }), true)
    if (c.LastUpdateStatus === 'Failed') {
      throw backendError(`${step} of ${s.functionName} failed: ${c.LastUpdateStatusReasonCode ?? ''} ${c.LastUpdateStatusReason ?? ''}`.trim())
    }
    if (c.State === 'Failed') throw backendError(`${s.functionName} is in state Failed: ${c.StateReason ?? ''}`)
    if (c.LastUpdateStatus !== 'InProgress' && c.State !== 'Pending') return
    if (Date.now() + s.updatePollMs > deadline) {
      throw timeout(`${step} of ${s.functionName} did not finish within ${s.updateTimeoutMs} ms (LastUpdateStatus ${c.LastUpdateStatus ?? '?'}, State ${c.State ?? '?'})`)
    }
    await sleep(s.updatePollMs)
  }
}

export async function applyUpdate (s: UpdateSettings, spec: FunctionSpec, currentTags: Record<string, string>): Promise<void> {
  await waitForUpdate(s, 'the previous update')
  await call(s, 'UpdateFunctionCode', (signal) => s.client.send(new UpdateFunctionCodeCommand({
    FunctionName: s.functionName,
    ImageUri: spec.imageUri,
    Architectures: spec.architectures
  }), { abortSignal: signal }))
  await waitForUpdate(s, 'the code update')
  await call(s, 'UpdateFunctionConfiguration', (signal) => s.client.send(new UpdateFunctionConfigurationCommand({
    FunctionName: s.functionName,
    Role: s.roleArn,
    MemorySize: spec.memorySize,
    Timeout: spec.timeout,
    Environment: { Variables: spec.environment }
  }), { abortSignal: signal }))
  await waitForUpdate(s, 'the configuration update')

  const isUserTag = (k: string): boolean => k.startsWith(TAG_ANNOTATION_PREFIX) || (!k.startsWith(RESERVED_TAG_PREFIX) && !k.startsWith('aws:'))
  const stale = Object.keys(currentTags).filter((k) => isUserTag(k) && !(k in spec.userTags))
  if (stale.length > 0) {
    await call(s, 'UntagResource', (signal) => s.client.send(new UntagResourceCommand({ Resource: s.arn, TagKeys: stale }), { abortSignal: signal }))
  }
  if (Object.keys(spec.userTags).length > 0) {
    await call(s, 'TagResource', (signal) => s.client.send(new TagResourceCommand({ Resource: s.arn, Tags: spec.userTags }), { abortSignal: signal }))
  }
}
