/*
 * /system/logs from Cloud Logging: the entries of the service's revisions
 * (resource.type="cloud_run_revision", its service name and region), `since` as a timestamp
 * filter (default: logsLookbackMs ago), `tail` as the newest N, `instance` as labels.instanceId.
 * follow=true polls entries:list every logsPollMs for entries at or after the newest one seen
 * (deduplicated by insertId) until the signal aborts; each request reads a bounded number of pages.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Entry, Logging } from '@google-cloud/logging'
import type { LogQuery } from '../../src/core/driver.ts'
import type { LogMessage } from '../../src/core/types.ts'
import { mapGoogleError } from './errors.ts'
import type { CloudRunOptions, NamespaceTarget } from './options.ts'

const PAGE_SIZE = 1000

export interface LogSource {
  logging: Logging
  opts: CloudRunOptions
  target: NamespaceTarget
  serviceId: string
  query: LogQuery
}

/** Double quotes and backslashes escaped for a Logging filter string literal. */
function quote (value: string): string {
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

export function logFilter (src: LogSource, since: Date, strictlyAfter = false): string {
  const parts = [
    'resource.type="cloud_run_revision"',
    `resource.labels.service_name=${quote(src.serviceId)}`,
    `resource.labels.location=${quote(src.target.region)}`,
    `timestamp${strictlyAfter ? '>' : '>='}${quote(since.toISOString())}`
  ]
  if (src.query.instance !== undefined) parts.push(`labels.instanceId=${quote(src.query.instance)}`)
  return parts.join(' AND ')
}

function textOf (entry: Entry): string {
  const data: unknown = entry.data
  if (typeof data === 'string') return data
  if (typeof data === 'object' && data !== null) {
    const msg = (data as { message?: unknown }).message
    if (typeof msg === 'string') return msg
    if (Object.keys(data).length > 0) return JSON.stringify(data)
  }
  const http = entry.metadata.httpRequest
  if (http !== null && http !== undefined) return `${http.requestMethod ?? ''} ${String(http.status ?? '')} ${http.requestUrl ?? ''}`.trim()
  return ''
}

function timeOf (entry: Entry): Date {
  const ts = entry.metadata.timestamp
  const d = ts instanceof Date ? ts : new Date(typeof ts === 'string' ? ts : 0)
  return Number.isNaN(d.getTime()) ? new Date(0) : d
}

function toMessage (src: LogSource, entry: Entry): LogMessage {
  const labels = entry.metadata.labels as Record<string, string> | null | undefined
  return {
    name: src.query.name,
    namespace: src.query.namespace,
    instance: labels?.instanceId ?? '',
    timestamp: timeOf(entry).toISOString(),
    text: textOf(entry)
  }
}

/** Up to `max` entries matching `filter`, in `order`, reading at most maxListPages pages. */
async function read (src: LogSource, filter: string, order: 'asc' | 'desc', max: number, signal: AbortSignal): Promise<Entry[]> {
  const out: Entry[] = []
  let pageToken: string | undefined
  for (let page = 0; page < src.opts.maxListPages && out.length < max && !signal.aborted; page++) {
    const [entries, next] = await src.logging.getEntries({
      resourceNames: [`projects/${src.target.project}`],
      filter,
      orderBy: `timestamp ${order}`,
      pageSize: Math.min(PAGE_SIZE, max - out.length),
      autoPaginate: false,
      ...(pageToken !== undefined ? { pageToken } : {}),
      gaxOptions: { timeout: src.opts.requestTimeoutMs }
    })
    out.push(...entries)
    pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken ?? undefined
    if (pageToken === undefined || pageToken === '') break
  }
  return out.slice(0, max)
}

/** Reads the backlog (rejecting on set-up errors), then streams it and, with follow, new entries. */
export async function openLogs (src: LogSource, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
  const { query, opts } = src
  const since = query.since ?? new Date(Date.now() - opts.logsLookbackMs)
  let backlog: Entry[]
  try {
    backlog = query.tail !== undefined
      ? (await read(src, logFilter(src, since), 'desc', Math.min(query.tail, opts.logsMaxEntries), signal)).reverse()
      : await read(src, logFilter(src, since), 'asc', opts.logsMaxEntries, signal)
  } catch (err) {
    throw mapGoogleError(err, `reading Cloud Logging entries of "${query.name}"`)
  }
  return stream(src, backlog, since, signal)
}

async function * stream (src: LogSource, backlog: Entry[], since: Date, signal: AbortSignal): AsyncGenerator<LogMessage> {
  let last = since
  let seenAtLast = new Set<string>()
  const note = (entry: Entry): boolean => {
    const t = timeOf(entry)
    const id = entry.metadata.insertId ?? ''
    if (t < last) return false
    if (t.getTime() === last.getTime()) {
      if (id !== '' && seenAtLast.has(id)) return false
    } else {
      last = t
      seenAtLast = new Set()
    }
    if (id !== '') seenAtLast.add(id)
    return true
  }
  for (const entry of backlog) {
    if (signal.aborted) return
    note(entry)
    yield toMessage(src, entry)
  }
  if (!src.query.follow) return
  while (!signal.aborted) {
    try {
      await sleep(src.opts.logsPollMs, undefined, { signal })
    } catch {
      return // aborted
    }
    let fresh: Entry[]
    try {
      fresh = await read(src, logFilter(src, last), 'asc', src.opts.logsMaxEntries, signal)
    } catch {
      return // a failure mid-stream ends it (driver contract)
    }
    for (const entry of fresh) {
      if (signal.aborted) return
      if (note(entry)) yield toMessage(src, entry)
    }
  }
}
