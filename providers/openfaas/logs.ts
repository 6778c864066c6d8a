/*
 * Logs from the remote's /system/logs: the query goes out as faas-cli sends it (remote namespace),
 * the NDJSON answer is read line by line as it arrives and each line becomes a LogMessage with the
 * local namespace. Set-up failures reject (the caller still gets a status code); once streaming, a
 * broken connection or an abort just ends the stream. Lines that are not JSON, or longer than
 * maxLogLineBytes, are skipped.
 */
import type { Readable } from 'node:stream'
import type { LogQuery } from '../../src/core/driver.ts'
import type { LogMessage } from '../../src/core/types.ts'
import { fromRemoteLog } from './mapping.ts'

/** The remote's /system/logs query for a local LogQuery. */
export function logsQuery (query: LogQuery, remoteNamespace: string): Record<string, string | undefined> {
  return {
    name: query.name,
    namespace: remoteNamespace,
    follow: query.follow ? 'true' : 'false',
    // faas-cli sends tail=-1 for "everything"
    tail: query.tail !== undefined ? String(query.tail) : '-1',
    since: query.since?.toISOString(),
    instance: query.instance
  }
}

export async function * readLogLines (
  body: Readable, localNamespace: string, fallbackName: string, maxLineBytes: number
): AsyncGenerator<LogMessage> {
  let pending: Buffer[] = []
  let pendingBytes = 0
  let skipping = false
  const emit = (line: Buffer): LogMessage | undefined => {
    const text = line.toString('utf8').trim()
    if (text === '') return undefined
    try {
      return fromRemoteLog(JSON.parse(text), localNamespace, fallbackName)
    } catch {
      return undefined
    }
  }
  try {
    for await (const chunk of body) {
      let buf = chunk as Buffer
      for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10)) {
        const part = buf.subarray(0, nl)
        buf = buf.subarray(nl + 1)
        if (skipping) {
          skipping = false
          continue
        }
        const line = pending.length === 0 ? part : Buffer.concat([...pending, part])
        pending = []
        pendingBytes = 0
        const m = emit(line)
        if (m !== undefined) yield m
      }
      if (buf.length === 0 || skipping) continue
      pendingBytes += buf.length
      if (pendingBytes > maxLineBytes) {
        // an over-long line is dropped up to its newline
        pending = []
        pendingBytes = 0
        skipping = true
        continue
      }
      pending.push(Buffer.from(buf))
    }
    if (!skipping && pending.length > 0) {
      const m = emit(Buffer.concat(pending))
      if (m !== undefined) yield m
    }
  } catch {
    // aborted, closed or broken mid-stream: the stream just ends
  } finally {
    body.destroy()
  }
}
