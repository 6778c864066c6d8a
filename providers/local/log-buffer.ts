/*
 * Function logs: a bounded ring buffer per function (line and byte caps) of the replicas'
 * stdout/stderr lines and the watchdog's own lines, plus live followers for `follow=true`.
 */
import type { LogQuery } from '../../src/core/driver.ts'
import type { LogMessage } from '../../src/core/types.ts'

interface Entry {
  message: LogMessage
  ms: number
}

type Follower = (entry: Entry) => void

/** Longest line kept; longer ones are cut (a runaway process must not fill memory). */
export const MAX_LINE_BYTES = 16 * 1024

export class FunctionLog {
  private entries: Entry[] = []
  private head = 0
  private bytes = 0
  private readonly followers = new Set<Follower>()
  private readonly enders = new Set<() => void>()
  readonly name: string
  readonly namespace: string
  private readonly maxLines: number
  private readonly maxBytes: number

  constructor (name: string, namespace: string, maxLines: number, maxBytes: number) {
    this.name = name
    this.namespace = namespace
    this.maxLines = maxLines
    this.maxBytes = maxBytes
  }

  append (instance: string, text: string): void {
    const now = new Date()
    const message: LogMessage = { name: this.name, namespace: this.namespace, instance, timestamp: now.toISOString(), text }
    const entry = { message, ms: now.getTime() }
    this.entries.push(entry)
    this.bytes += text.length
    while (this.entries.length - this.head > this.maxLines || (this.bytes > this.maxBytes && this.entries.length - this.head > 1)) {
      this.bytes -= (this.entries[this.head] as Entry).message.text.length
      this.head++
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
    for (const f of this.followers) f(entry)
  }

  /** Ends every follower (the function was removed or the driver closes). */
  end (): void {
    for (const e of this.enders) e()
  }

  async * query (q: LogQuery, signal: AbortSignal): AsyncGenerator<LogMessage> {
    const since = q.since?.getTime()
    const match = (e: Entry): boolean =>
      (q.instance === undefined || q.instance === '' || e.message.instance === q.instance) &&
      (since === undefined || e.ms >= since)
    let backlog = this.entries.slice(this.head).filter(match)
    if (q.tail !== undefined && q.tail > 0 && backlog.length > q.tail) backlog = backlog.slice(-q.tail)
    if (!q.follow) {
      for (const e of backlog) yield e.message
      return
    }
    // subscribe before yielding the backlog so nothing falls in between
    const queue: Entry[] = []
    let wake: (() => void) | undefined
    let ended = false
    const follower: Follower = (e) => { if (match(e)) { queue.push(e); wake?.() } }
    const ender = (): void => { ended = true; wake?.() }
    this.followers.add(follower)
    this.enders.add(ender)
    signal.addEventListener('abort', ender, { once: true })
    try {
      for (const e of backlog) {
        if (signal.aborted) return
        yield e.message
      }
      while (!signal.aborted) {
        const next = queue.shift()
        if (next !== undefined) {
          yield next.message
          continue
        }
        if (ended) return
        await new Promise<void>((resolve) => { wake = resolve })
        wake = undefined
      }
    } finally {
      this.followers.delete(follower)
      this.enders.delete(ender)
      signal.removeEventListener('abort', ender)
    }
  }
}

/** Splits a byte stream into lines and hands each complete line to `onLine`. */
export function lineSplitter (onLine: (line: string) => void): { write: (chunk: Buffer) => void, flush: () => void } {
  let partial = ''
  const emit = (line: string): void => {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line
    onLine(l.length > MAX_LINE_BYTES ? l.slice(0, MAX_LINE_BYTES) + '…' : l)
  }
  return {
    write (chunk: Buffer): void {
      const text = partial + chunk.toString('utf8')
      const lines = text.split('\n')
      partial = lines.pop() as string
      if (partial.length > MAX_LINE_BYTES) { emit(partial); partial = '' }
      for (const line of lines) emit(line)
    },
    flush (): void {
      if (partial !== '') emit(partial)
      partial = ''
    }
  }
}
