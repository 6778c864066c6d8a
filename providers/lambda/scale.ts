/*
 * Scaling on Lambda, which scales itself per request:
 *   replicas = 0  → reserved concurrency 0: the function cannot run; invokes answer 503 and
 *                   availableReplicas is 0 (the gateway's scale-from-zero then scales it back up)
 *   replicas = N  → the reservation of 0 is deleted (Lambda scales on demand again); N is recorded
 *                   in the faas-bridge:replicas tag and shown as replicas/availableReplicas
 * A reserved concurrency other than 0 (set by someone else) is left alone when scaling up.
 */
import { DeleteFunctionConcurrencyCommand, PutFunctionConcurrencyCommand, TagResourceCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import { withRetry } from './aws-errors.ts'
import { TAG_REPLICAS } from './naming.ts'

export interface ScaleSettings {
  client: LambdaClient
  functionName: string
  arn: string
  requestTimeoutMs: number
  retryBaseMs: number
}

export async function applyScale (s: ScaleSettings, replicas: number, reserved: number | undefined): Promise<void> {
  const call = <T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> =>
    withRetry(fn, { timeoutMs: s.requestTimeoutMs, baseMs: s.retryBaseMs, what: `${what} ${s.functionName}` })
  if (replicas === 0 && reserved !== 0) {
    await call('PutFunctionConcurrency', (signal) => s.client.send(new PutFunctionConcurrencyCommand({
      FunctionName: s.functionName, ReservedConcurrentExecutions: 0
    }), { abortSignal: signal }))
  } else if (replicas > 0 && reserved === 0) {
    await call('DeleteFunctionConcurrency', (signal) => s.client.send(new DeleteFunctionConcurrencyCommand({
      FunctionName: s.functionName
    }), { abortSignal: signal }))
  }
  await call('TagResource', (signal) => s.client.send(new TagResourceCommand({
    Resource: s.arn, Tags: { [TAG_REPLICAS]: String(replicas) }
  }), { abortSignal: signal }))
}
