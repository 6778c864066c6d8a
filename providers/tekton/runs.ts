/*
 * One TaskRun, from the outside: wait for it to finish through a ?watch=true stream on that one
 * TaskRun (no poll loop: after the stream opens, one GET catches a change made before it did;
 * a stream the API server ends is opened again from the last resourceVersion), cancel it
 * (spec.status: TaskRunCancelled), read a large response back from the `response` step's log,
 * and the tail of a failing step's log.
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import type { CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node'
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import { backendError } from '../../src/core/errors.ts'
import { isKubeCode, kubeCall, toProviderError } from '../kubernetes/common/errors.ts'
import { kubeStream } from '../kubernetes/common/raw-request.ts'
import {
  CANCELLED, isDone, TASKRUNS, TEKTON_GROUP, TEKTON_VERSION, type TaskRun
} from './tekton-types.ts'

export const TASKRUNS_RESOURCE = `${TASKRUNS}.${TEKTON_GROUP}`
/** Watch streams opened for one call at most (the API server ends streams after a few minutes). */
export const MAX_WATCH_STREAMS = 50
/** Pause before a watch stream is opened again. */
export const REWATCH_DELAY_MS = 100

export interface RunClients {
  config: KubeConfig
  core: CoreV1Api
  custom: CustomObjectsApi
}

function taskRunsPath (namespace: string): string {
  return `/apis/${TEKTON_GROUP}/${TEKTON_VERSION}/namespaces/${encodeURIComponent(namespace)}/${TASKRUNS}`
}

export async function getTaskRun (clients: RunClients, namespace: string, name: string): Promise<TaskRun | undefined> {
  try {
    return await clients.custom.getNamespacedCustomObject({ group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKRUNS, name }) as TaskRun
  } catch (err) {
    if (isKubeCode(err, 404)) return undefined
    throw toProviderError(err, { verb: 'get', resource: TASKRUNS_RESOURCE, namespace, name })
  }
}

export const deleted = (name: string): Error => backendError(`TaskRun "${name}" was deleted before it finished`)

/**
 * Resolves with the TaskRun once its Succeeded condition is True or False. Rejects with the
 * signal's reason when it aborts, or when the TaskRun is deleted.
 */
export async function waitForTaskRun (clients: RunClients, namespace: string, name: string, resourceVersion: string | undefined, signal: AbortSignal): Promise<TaskRun> {
  let rv = resourceVersion
  for (let stream = 0; stream < MAX_WATCH_STREAMS; stream++) {
    signal.throwIfAborted()
    const params = new URLSearchParams({ watch: 'true', fieldSelector: `metadata.name=${name}`, allowWatchBookmarks: 'true' })
    if (rv !== undefined) params.set('resourceVersion', rv)
    let res
    try {
      res = await kubeStream(clients.config, `${taskRunsPath(namespace)}?${params.toString()}`, signal)
    } catch (err) {
      if (signal.aborted) throw signal.reason
      // 410 Gone: our resourceVersion is too old; start from now (the GET below covers the gap)
      if (!isKubeCode(err, 410)) throw toProviderError(err, { verb: 'watch', resource: TASKRUNS_RESOURCE, namespace, name })
      rv = undefined
      continue
    }
    res.on('error', () => {}) // an abort destroys it; the loop below ends
    // Read lines from the moment the stream opens (they queue during the GET below), and close on
    // abort: a stream destroyed before a readline attaches to it would emit nothing, ever.
    const lines = createInterface({ input: res, crlfDelay: Infinity, signal })
    try {
      // what happened before the stream opened
      const now = await getTaskRun(clients, namespace, name)
      signal.throwIfAborted()
      if (now === undefined) throw deleted(name)
      if (isDone(now)) return now
      rv = now.metadata?.resourceVersion ?? rv
      for await (const line of lines) {
        if (line === '') continue
        const ev = JSON.parse(line) as { type: string, object: TaskRun & { code?: number } }
        if (ev.type === 'ERROR') {
          rv = undefined
          break
        }
        if (ev.object.metadata?.resourceVersion !== undefined) rv = ev.object.metadata.resourceVersion
        if (ev.type === 'BOOKMARK' || ev.object.metadata?.name !== name) continue
        if (ev.type === 'DELETED') throw deleted(name)
        if (isDone(ev.object)) return ev.object
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason
      throw err
    } finally {
      lines.close()
      res.destroy()
    }
    signal.throwIfAborted()
    await sleep(REWATCH_DELAY_MS, undefined, { signal })
  }
  throw backendError(`TaskRun "${name}": the watch ended ${MAX_WATCH_STREAMS} times before the run finished`)
}

/** spec.status: TaskRunCancelled, as `tkn taskrun cancel` does; a TaskRun already gone is fine. */
export async function cancelTaskRun (clients: RunClients, namespace: string, name: string, message: string): Promise<void> {
  try {
    await clients.custom.patchNamespacedCustomObject({
      group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKRUNS, name, body: { spec: { status: CANCELLED, statusMessage: message } }
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  } catch (err) {
    if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'patch', resource: TASKRUNS_RESOURCE, namespace, name })
  }
}

function podLogPath (namespace: string, pod: string, container: string, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams({ container, ...extra })
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${params.toString()}`
}

/** The first `size` bytes of a container's log, exactly (the response written by step `response`). */
export async function readLogBytes (clients: RunClients, namespace: string, pod: string, container: string, size: number, signal: AbortSignal): Promise<Buffer> {
  let res
  try {
    res = await kubeStream(clients.config, podLogPath(namespace, pod, container, { limitBytes: String(Math.max(size, 1)) }), signal)
  } catch (err) {
    throw toProviderError(err, { verb: 'get', resource: 'pods/log', namespace, name: pod })
  }
  const chunks: Buffer[] = []
  let got = 0
  try {
    for await (const c of res) {
      const chunk = c as Buffer
      chunks.push(chunk)
      got += chunk.length
      if (got >= size) break
    }
  } finally {
    res.destroy()
  }
  return Buffer.concat(chunks).subarray(0, size)
}

/** The last `lines` lines of a container's log; undefined when it cannot be read (the reason is logged by the caller). */
export async function logTail (clients: RunClients, namespace: string, pod: string, container: string, lines: number): Promise<string> {
  if (lines <= 0) return ''
  return await kubeCall({ verb: 'get', resource: 'pods/log', namespace, name: pod },
    async () => await clients.core.readNamespacedPodLog({ name: pod, namespace, container, tailLines: lines }))
}
