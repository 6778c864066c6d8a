/*
 * One invocation = one TaskRun. The call waits for a free run slot in this process (concurrency.ts)
 * and claims one of the function's slots in the cluster (cluster-runs.ts: a Lease, so other
 * provider replicas' runs count; released when the call ends), reads the
 * body (413 above maxBodyBytes), creates the request ConfigMap and the TaskRun (labelled with the
 * function and the call id), waits for it through a watch (runs.ts), and answers:
 *   200 + stdout (the `body` result, or the `response` step's log when larger than a result);
 *   500 + the failure reason and the failing step's log tail;
 *   TIMEOUT (504) when read_timeout passes, after which the TaskRun is cancelled;
 * a call the caller abandons cancels its TaskRun too. The request ConfigMap is deleted when the
 * call ends; finished TaskRuns are left for `faas-cli logs` and pruned by cleanup.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { DriverContext, HeaderMap, InvocationRequest, InvocationResponse } from '../../src/core/driver.ts'
import { backendError, isProviderError, timeout } from '../../src/core/errors.ts'
import { isKubeCode, kubeCall, toProviderError } from '../kubernetes/common/errors.ts'
import type { LeaseSlots, SlotClaim } from '../kubernetes/common/lease-slots.ts'
import type { ConcurrencyLimiter } from './concurrency.ts'
import {
  buildRequestConfigMap, buildTaskRun, maxConcurrencyOf, RESULT_BODY, RESULT_DELIVERY, RESULT_SIZE, STEP_FUNCTION,
  STEP_RESPONSE, stepContainer, stepEnv
} from './mapping.ts'
import { TASKRUN_TIMEOUT_MARGIN_MS, type TektonOptions } from './options.ts'
import type { TaskRunWaiter } from './run-waiter.ts'
import { firstHeader, headersEnv, readBody } from './request.ts'
import { cancelTaskRun, logTail, readLogBytes, TASKRUNS_RESOURCE, waitForTaskRun, type RunClients } from './runs.ts'
import { resultOf, succeeded, TASKRUNS, TEKTON_GROUP, TEKTON_VERSION, type Task, type TaskRun } from './tekton-types.ts'

export const CALL_ID_HEADER = 'x-call-id'
export const TASKRUN_HEADER = 'x-tekton-taskrun'

export interface InvokeDeps {
  clients: RunClients
  options: TektonOptions
  limiter: ConcurrencyLimiter
  /** the function's run slots in the cluster, shared by every provider replica (cluster-runs.ts) */
  slots: LeaseSlots
  logger: DriverContext['logger']
  execTimeoutMs: number
  /** a call ended: prune the function's old TaskRuns */
  onRunFinished: (namespace: string, fn: string) => void
  /** calls under way, so close() can cancel them */
  inFlight: Set<AbortController>
  /** waits for runs' ends through the TaskRun cache (run-waiter.ts); undefined: one watch per run */
  runWaiter?: TaskRunWaiter
}

/** lower-case letters and digits, as Kubernetes' generateName suffixes */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
export function runName (fn: string): string {
  let suffix = ''
  for (const b of randomBytes(8)) suffix += ALPHABET[b % ALPHABET.length]
  // ≤ 57 characters, so the pod's name (NAME-pod) stays a valid label value
  return `${fn.slice(0, 48).replace(/-+$/, '')}-${suffix}`
}

function textResponse (status: number, text: string, headers: HeaderMap): InvocationResponse {
  return { status, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: text }
}

/** The step whose container failed first (non-zero exit), else step `function`. */
function failingStep (run: TaskRun): string {
  const failed = run.status?.steps?.find((s) => (s.terminated?.exitCode ?? 0) !== 0)
  return failed?.container ?? stepContainer(failed?.name ?? STEP_FUNCTION)
}

export function makeCall (deps: InvokeDeps, namespace: string, task: Task): (req: InvocationRequest) => Promise<InvocationResponse> {
  const fn = task.metadata?.name ?? ''
  const key = `${namespace}/${fn}`
  const contentType = stepEnv(task, 'content_type')
  const { clients, options, logger } = deps

  return async (req) => {
    const started = performance.now()
    const ac = new AbortController()
    const deadline = AbortSignal.timeout(deps.execTimeoutMs)
    const signal = AbortSignal.any([req.signal, deadline, ac.signal])
    const timedOut = (): Error => timeout(`function "${fn}" did not finish within ${deps.execTimeoutMs} ms (read_timeout); its TaskRun was cancelled`)
    deps.inFlight.add(ac)
    let release: (() => void) | undefined
    let slot: SlotClaim | undefined
    let created: string | undefined
    let configMap: string | undefined
    let finished = false
    try {
      release = await deps.limiter.acquire(key, maxConcurrencyOf(task), signal)
      const callId = firstHeader(req.headers, CALL_ID_HEADER) ?? randomUUID()
      // the maximum holds for the whole deployment: other replicas' runs hold slots too
      slot = await deps.slots.claim(namespace, fn, maxConcurrencyOf(task), callId, signal)
      const body = await Promise.race([
        readBody(req, options.maxBodyBytes),
        new Promise<never>((_resolve, reject) => {
          signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
        })
      ])
      const headers = headersEnv(req, body.length)
      const name = runName(fn)
      const settings = {
        namespace,
        name,
        managedBy: options.managedBy,
        callId,
        timeoutMs: deps.execTimeoutMs + TASKRUN_TIMEOUT_MARGIN_MS,
        ...(options.serviceAccountName !== undefined ? { serviceAccountName: options.serviceAccountName } : {})
      }
      await kubeCall({ verb: 'create', resource: 'configmaps', namespace, name },
        async () => await clients.core.createNamespacedConfigMap({ namespace, body: buildRequestConfigMap(fn, settings, headers, body) }))
      configMap = name
      const run = await kubeCall({ verb: 'create', resource: TASKRUNS_RESOURCE, namespace, name },
        async () => await clients.custom.createNamespacedCustomObject({
          group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKRUNS, body: buildTaskRun(task, settings)
        }) as TaskRun)
      created = name
      logger.debug({ function: fn, namespace, taskRun: name, callId }, 'invocation: TaskRun created')
      const createdRv = run.metadata?.resourceVersion
      const perRun = async (): Promise<TaskRun> => await waitForTaskRun(clients, namespace, name, createdRv, signal)
      const done = deps.runWaiter !== undefined ? await deps.runWaiter.wait(namespace, name, createdRv, signal, perRun) : await perRun()
      finished = true
      const out: HeaderMap = {
        [TASKRUN_HEADER]: name,
        [CALL_ID_HEADER]: callId,
        'x-duration-seconds': ((performance.now() - started) / 1000).toFixed(6)
      }
      const cond = succeeded(done)
      if (cond?.status === 'True') {
        const size = Number(resultOf(done, RESULT_SIZE) ?? '0')
        let payload: Buffer
        if (resultOf(done, RESULT_DELIVERY) === 'log') {
          if (size > options.maxResponseBytes) {
            return textResponse(500, `TaskRun ${name} succeeded, but its response of ${size} bytes is larger than ${options.maxResponseBytes} bytes (option maxResponseBytes)\n`, out)
          }
          payload = await readLogBytes(clients, namespace, done.status?.podName ?? `${name}-pod`, stepContainer(STEP_RESPONSE), size, signal)
          if (payload.length < size) {
            return textResponse(500, `TaskRun ${name} succeeded, but only ${payload.length} of its ${size} response bytes could be read back from the log of step "${STEP_RESPONSE}"\n`, out)
          }
        } else {
          payload = Buffer.from(resultOf(done, RESULT_BODY) ?? '', 'utf8')
        }
        return { status: 200, headers: contentType !== undefined ? { ...out, 'content-type': contentType } : out, body: payload }
      }
      if (cond?.reason === 'TaskRunTimeout') throw timedOut()
      const container = failingStep(done)
      let tail: string
      try {
        const pod = done.status?.podName
        tail = pod === undefined || pod === '' ? '(the run has no pod)\n' : await logTail(clients, namespace, pod, container, options.failureLogLines)
      } catch (err) {
        tail = `(the log could not be read: ${(err as Error).message})\n`
      }
      const reason = `${cond?.reason ?? 'Failed'}: ${cond?.message ?? 'the TaskRun failed'}`
      const text = `TaskRun ${name} failed: ${reason}\n--- last ${options.failureLogLines} lines of ${container} ---\n${tail}${tail.endsWith('\n') || tail === '' ? '' : '\n'}`
      return textResponse(500, text, out)
    } catch (err) {
      if (deadline.aborted) throw timedOut()
      if (isProviderError(err) || req.signal.aborted || ac.signal.aborted) throw err
      throw backendError(`function "${fn}": ${(err as Error).message}`, err)
    } finally {
      // this process's next caller starts once the cluster slot is gone (else it would find it taken)
      if (slot !== undefined) {
        const local = release
        void slot.release().finally(() => local?.())
      } else {
        release?.()
      }
      deps.inFlight.delete(ac)
      if (created !== undefined && !finished) {
        const why = deadline.aborted
          ? `read_timeout of ${deps.execTimeoutMs} ms passed`
          : req.signal.aborted ? `the call ended before the run did (read_timeout of ${deps.execTimeoutMs} ms, or the caller went away)` : 'the provider stopped watching it'
        cancelTaskRun(clients, namespace, created, `faas-bridge: ${why}`).catch((err: unknown) => {
          logger.warn({ err, function: fn, namespace, taskRun: created }, 'could not cancel the TaskRun')
        })
      }
      if (configMap !== undefined) {
        const cm = configMap
        clients.core.deleteNamespacedConfigMap({ name: cm, namespace }).catch((err: unknown) => {
          if (!isKubeCode(err, 404)) logger.warn({ err: toProviderError(err, { verb: 'delete', resource: 'configmaps', namespace, name: cm }).message, function: fn, namespace }, 'could not delete the request ConfigMap')
        })
      }
      if (created !== undefined) deps.onRunFinished(namespace, fn)
    }
  }
}
