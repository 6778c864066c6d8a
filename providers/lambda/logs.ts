/*
 * Function logs from CloudWatch Logs: FilterLogEvents on the function's log group (since →
 * startTime, instance → logStreamNames, tail → the last N of a bounded scan). follow=true keeps
 * paging forward from the newest timestamp seen (events at that timestamp de-duplicated by id),
 * polling every logPollMs until the signal aborts. instance = the log stream name.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { FilterLogEventsCommand, type CloudWatchLogsClient, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs'
import type { LogQuery } from '../../src/core/driver.ts'
import type { LogMessage } from '../../src/core/types.ts'
import { awsErrorName, withRetry } from './aws-errors.ts'

export interface LogSettings {
  client: CloudWatchLogsClient
  logGroup: string
  pollMs: number
  maxPages: number
  requestTimeoutMs: number
  retryBaseMs: number
  onError: (err: unknown) => void
}

interface Page {
  events: FilteredLogEvent[]
  nextToken: string | undefined
}

const PAGE_LIMIT = 1000

/** One FilterLogEvents page; a missing log group (never invoked yet) is an empty page. */
async function page (s: LogSettings, q: LogQuery, startTime: number | undefined, nextToken: string | undefined, signal: AbortSignal): Promise<Page> {
  try {
    const out = await withRetry((sig) => s.client.send(new FilterLogEventsCommand({
      logGroupName: s.logGroup,
      ...(q.instance !== undefined && q.instance !== '' ? { logStreamNames: [q.instance] } : {}),
      ...(startTime !== undefined ? { startTime } : {}),
      ...(nextToken !== undefined ? { nextToken } : {}),
      limit: PAGE_LIMIT
    }), { abortSignal: sig }), {
      timeoutMs: s.requestTimeoutMs, baseMs: s.retryBaseMs, idempotent: true, signal, what: `FilterLogEvents ${s.logGroup}`
    })
    return { events: out.events ?? [], nextToken: out.nextToken }
  } catch (err) {
    if (awsErrorName(err) === 'ResourceNotFoundException' || (err as { code?: string }).code === 'NOT_FOUND') return { events: [], nextToken: undefined }
    throw err
  }
}

function toMessage (q: LogQuery, e: FilteredLogEvent): LogMessage {
  return {
    name: q.name,
    namespace: q.namespace,
    instance: e.logStreamName ?? '',
    timestamp: new Date(e.timestamp ?? 0).toISOString(),
    text: (e.message ?? '').replace(/\r?\n$/, '')
  }
}

/**
 * Opens the source (the first page is read here, so set-up failures reject) and returns the
 * stream of messages.
 */
export async function openLogs (s: LogSettings, q: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
  const since = q.since?.getTime()
  // the backlog is read to its end even if the caller leaves meanwhile (bounded by maxPages and
  // the request timeout): a cut-off scan would give the wrong "last N"; the signal ends follow
  const backlog = new AbortController().signal
  const firstPage = await page(s, q, since, undefined, backlog)

  return (async function * (): AsyncGenerator<LogMessage> {
    let lastTs = since ?? 0
    const seenAtLast = new Set<string>()
    /** remembers the newest timestamp and the ids seen at it; false = seen before (follow) */
    const note = (e: FilteredLogEvent, dropOlder: boolean): boolean => {
      const ts = e.timestamp ?? 0
      const id = e.eventId ?? `${e.logStreamName ?? ''}/${ts}/${e.message ?? ''}`
      if (dropOlder && (ts < lastTs || (ts === lastTs && seenAtLast.has(id)))) return false
      if (ts > lastTs) {
        lastTs = ts
        seenAtLast.clear()
      }
      if (ts === lastTs) seenAtLast.add(id)
      return true
    }
    try {
      // the backlog: pages as they come, or the last `tail` of a bounded scan
      const tail: FilteredLogEvent[] = []
      let current: Page = firstPage
      for (let pages = 1; ; pages++) {
        for (const e of current.events) {
          note(e, false)
          if (q.tail === undefined) yield toMessage(q, e)
          else {
            tail.push(e)
            if (tail.length > q.tail) tail.shift()
          }
        }
        if (current.nextToken === undefined || pages >= s.maxPages) break
        current = await page(s, q, since, current.nextToken, backlog)
      }
      for (const e of tail) yield toMessage(q, e)
      if (!q.follow) return

      // follow: poll forward from the newest timestamp seen
      while (!signal.aborted) {
        await sleep(s.pollMs, undefined, { signal }).catch(() => {})
        if (signal.aborted) return
        let token: string | undefined
        const from = lastTs === 0 ? since : lastTs
        for (let pages = 0; pages < s.maxPages && !signal.aborted; pages++) {
          const p = await page(s, q, from, token, signal)
          for (const e of p.events) if (note(e, true)) yield toMessage(q, e)
          token = p.nextToken
          if (token === undefined) break
        }
      }
    } catch (err) {
      if (!signal.aborted) s.onError(err)
    }
  })()
}
