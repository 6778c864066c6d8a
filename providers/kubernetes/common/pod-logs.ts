/*
 * Pod logs as LogMessages (shared by the kubernetes and tekton backends). The pods are chosen by a
 * label selector (and optionally one pod name, the `instance`); each pod's container log is read
 * with timestamps=true and every line becomes one message: timestamp from the kubelet's
 * RFC3339Nano prefix, instance = pod name (or a pod label's value, e.g. the TaskRun that made the
 * pod), text without the newline.
 *
 * follow=false: every pod's log is read to its end, merged by time, and `tail` applies to the
 * merged lines. follow=true: each pod's last `tail` lines, then new lines as they come; pods that
 * start later (a scale-up, a rollout) are followed too, through a ?watch=true on pods. The stream
 * ends when the signal aborts. A pod whose log cannot be opened (still starting) is skipped.
 */
import type { IncomingMessage } from 'node:http'
import { createInterface } from 'node:readline'
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node'
import type { LogMessage } from '../../../src/core/types.ts'
import { kubeCall, toProviderError } from './errors.ts'
import { kubeStream } from './raw-request.ts'

export interface PodLogQuery {
  namespace: string
  /** label selector of the pods, e.g. faas_function=NAME */
  selector: string
  /** LogMessage.name */
  name: string
  /** the container whose log is read; undefined = the pod's only container */
  container?: string
  /** only this instance (the pod's name, or its `instanceLabel` value) */
  instance?: string
  /** a pod label whose value names the instance (tekton.dev/taskRun); undefined = the pod's name */
  instanceLabel?: string
  since?: Date
  tail?: number
  follow: boolean
}

export interface PodLogLimits {
  /** messages buffered for a slow reader before pod streams pause */
  highWaterMark: number
  /** pods followed at once */
  maxPods: number
}

export const DEFAULT_LOG_LIMITS: PodLogLimits = { highWaterMark: 1000, maxPods: 100 }

type Logger = { debug (obj: unknown, msg?: string): void }

/** The kubelet's line: "2026-01-02T10:11:12.123456789Z text". */
export function parseLogLine (line: string): { timestamp: string, text: string } {
  const space = line.indexOf(' ')
  const stamp = space > 0 ? line.slice(0, space) : ''
  if (stamp !== '' && !Number.isNaN(Date.parse(stamp))) return { timestamp: stamp, text: line.slice(space + 1) }
  return { timestamp: new Date().toISOString(), text: line }
}

/** Nanosecond-precision RFC3339 strings compare by time once their fractions are padded alike. */
function sortKey (stamp: string): string {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(stamp)
  if (m === null) return new Date(Date.parse(stamp)).toISOString()
  return `${m[1] as string}.${(m[2] ?? '').padEnd(9, '0')}Z`
}

function hasLog (pod: V1Pod): boolean {
  const phase = pod.status?.phase
  return phase === 'Running' || phase === 'Succeeded' || phase === 'Failed'
}

function logPath (q: PodLogQuery, pod: string, follow: boolean, tail: number | undefined, since: Date | undefined): string {
  const params = new URLSearchParams({ timestamps: 'true', follow: String(follow) })
  if (q.container !== undefined) params.set('container', q.container)
  if (tail !== undefined) params.set('tailLines', String(tail))
  if (since !== undefined) params.set('sinceTime', since.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  return `/api/v1/namespaces/${encodeURIComponent(q.namespace)}/pods/${encodeURIComponent(pod)}/log?${params.toString()}`
}

/** A bounded queue between pod streams (producers) and the one reader. */
class MessageQueue implements AsyncIterable<LogMessage> {
  private readonly items: LogMessage[] = []
  private readonly highWaterMark: number
  private wakeReader: (() => void) | undefined
  private readonly wakeWriters: Array<() => void> = []
  private ended = false

  constructor (highWaterMark: number) {
    this.highWaterMark = highWaterMark
  }

  /** Resolves when there is room again (backpressure for the pod streams). */
  async push (m: LogMessage): Promise<void> {
    if (this.ended) return
    this.items.push(m)
    this.wakeReader?.()
    if (this.items.length >= this.highWaterMark) await new Promise<void>((resolve) => { this.wakeWriters.push(resolve) })
  }

  end (): void {
    this.ended = true
    this.wakeReader?.()
    for (const w of this.wakeWriters.splice(0)) w()
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<LogMessage> {
    for (;;) {
      const m = this.items.shift()
      if (m !== undefined) {
        if (this.items.length < this.highWaterMark) for (const w of this.wakeWriters.splice(0)) w()
        yield m
        continue
      }
      if (this.ended) return
      await new Promise<void>((resolve) => { this.wakeReader = resolve })
      this.wakeReader = undefined
    }
  }
}

export interface PodLogClients {
  config: KubeConfig
  core: CoreV1Api
}

/**
 * Opens the logs of the selected pods. Rejects when the pods cannot be listed (RBAC, API server
 * down); the caller checks beforehand that the function exists.
 */
export async function openPodLogs (
  clients: PodLogClients, q: PodLogQuery, signal: AbortSignal, logger: Logger, limits: PodLogLimits = DEFAULT_LOG_LIMITS
): Promise<AsyncIterable<LogMessage>> {
  const list = await kubeCall({ verb: 'list', resource: 'pods', namespace: q.namespace },
    async () => await clients.core.listNamespacedPod({ namespace: q.namespace, labelSelector: q.selector }))
  const instanceOf = (pod: V1Pod): string | undefined =>
    q.instanceLabel === undefined ? pod.metadata?.name : pod.metadata?.labels?.[q.instanceLabel]
  const instances = new Map<string, string>()
  const wanted = (pod: V1Pod): boolean => {
    const instance = instanceOf(pod)
    if (instance === undefined || (q.instance !== undefined && instance !== q.instance)) return false
    instances.set(pod.metadata?.name as string, instance)
    return true
  }
  const pods = list.items.filter((p) => wanted(p) && hasLog(p)).slice(0, limits.maxPods)
  const sinceMs = q.since?.getTime()
  /** the kubelet's sinceTime has whole seconds: finer `since` is applied here */
  const toMessage = (pod: string, line: string): LogMessage | undefined => {
    const { timestamp, text } = parseLogLine(line)
    if (sinceMs !== undefined && Date.parse(timestamp) < sinceMs) return undefined
    return { name: q.name, namespace: q.namespace, instance: instances.get(pod) ?? pod, timestamp, text }
  }

  if (!q.follow) {
    const all: LogMessage[] = []
    await Promise.all(pods.map(async (pod) => {
      const name = pod.metadata?.name as string
      const res = await openOne(clients.config, logPath(q, name, false, q.tail, q.since), signal, logger, name)
      if (res === undefined) return
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        const m = toMessage(name, line)
        if (m !== undefined) all.push(m)
      }
    }))
    all.sort((a, b) => sortKey(a.timestamp).localeCompare(sortKey(b.timestamp)))
    const out = q.tail !== undefined ? all.slice(-q.tail) : all
    return (async function * () { yield * out })()
  }

  const queue = new MessageQueue(limits.highWaterMark)
  const followed = new Set<string>()
  const open = new Set<IncomingMessage>()
  const follow = (pod: string, tail: number | undefined, since: Date | undefined): void => {
    if (followed.has(pod) || followed.size >= limits.maxPods || signal.aborted) return
    followed.add(pod)
    void (async () => {
      const res = await openOne(clients.config, logPath(q, pod, true, tail, since), signal, logger, pod)
      if (res === undefined) {
        followed.delete(pod) // not started yet: the watch will offer it again
        return
      }
      open.add(res)
      try {
        for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
          const m = toMessage(pod, line)
          if (m !== undefined) await queue.push(m)
        }
      } catch {
        // aborted or cut: the stream of this pod ends
      } finally {
        open.delete(res)
      }
    })()
  }
  for (const pod of pods) follow(pod.metadata?.name as string, q.tail, q.since)

  // pods that appear or start later
  const watchParams = new URLSearchParams({ watch: 'true', labelSelector: q.selector, resourceVersion: list.metadata?.resourceVersion ?? '' })
  void (async () => {
    try {
      const res = await kubeStream(clients.config, `/api/v1/namespaces/${encodeURIComponent(q.namespace)}/pods?${watchParams.toString()}`, signal)
      res.on('error', () => {}) // an abort destroys it; the loop below just ends
      open.add(res)
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        const ev = JSON.parse(line) as { type: string, object: V1Pod }
        if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && wanted(ev.object) && hasLog(ev.object)) {
          follow(ev.object.metadata?.name as string, undefined, q.since)
        }
      }
    } catch (err) {
      if (!signal.aborted) logger.debug({ err: toProviderError(err, { verb: 'watch', resource: 'pods', namespace: q.namespace }).message }, 'pod watch for logs ended')
    }
  })()

  const stop = (): void => {
    for (const res of open) res.destroy()
    queue.end()
  }
  if (signal.aborted) stop()
  else signal.addEventListener('abort', stop, { once: true })
  return queue
}

async function openOne (config: KubeConfig, path: string, signal: AbortSignal, logger: Logger, pod: string): Promise<IncomingMessage | undefined> {
  try {
    const res = await kubeStream(config, path, signal)
    res.on('error', () => {}) // an abort destroys it; readers see the end
    return res
  } catch (err) {
    if (!signal.aborted) logger.debug({ pod, err: toProviderError(err, { verb: 'get', resource: 'pods/log', name: pod }).message }, 'pod log not available')
    return undefined
  }
}
