/*
 * The maximum of concurrent runs per function (its replicas), with a bounded queue: a call that
 * finds `limit` runs under way waits in line (first come, first served) while fewer than
 * `maxQueue` calls wait; one more is refused at once with TOO_MANY_REQUESTS (429). Waiting
 * counts against the call's timeout: an aborted waiter leaves the line. This line is per provider
 * process; the maximum across replicas is held by cluster-runs.ts (one Lease per run slot).
 */
import { tooManyRequests, unavailable } from '../../src/core/errors.ts'

interface Waiter {
  resolve: (release: () => void) => void
  reject: (err: unknown) => void
  signal: AbortSignal
  onAbort: () => void
}

interface Slot {
  running: number
  limit: number
  queue: Waiter[]
}

export class ConcurrencyLimiter {
  private readonly slots = new Map<string, Slot>()
  private readonly maxQueue: number

  constructor (maxQueue: number) {
    this.maxQueue = maxQueue
  }

  private slot (key: string): Slot {
    let s = this.slots.get(key)
    if (s === undefined) {
      s = { running: 0, limit: 1, queue: [] }
      this.slots.set(key, s)
    }
    return s
  }

  /** Runs under way and calls waiting for `key`. */
  usage (key: string): { running: number, queued: number } {
    const s = this.slots.get(key)
    return { running: s?.running ?? 0, queued: s?.queue.length ?? 0 }
  }

  /**
   * Resolves with a release function once a run may start. UNAVAILABLE when the limit is 0,
   * TOO_MANY_REQUESTS when the line is full; rejects with the signal's reason when it aborts.
   */
  async acquire (key: string, limit: number, signal: AbortSignal): Promise<() => void> {
    if (limit <= 0) throw unavailable(`${key}: scaled to 0 concurrent runs`)
    signal.throwIfAborted()
    const s = this.slot(key)
    s.limit = limit
    if (s.running < s.limit && s.queue.length === 0) {
      s.running++
      return this.releaser(key, s)
    }
    if (s.queue.length >= this.maxQueue) {
      throw tooManyRequests(`${key}: ${s.running} runs under way (the maximum is ${s.limit}) and ${s.queue.length} calls waiting; try again later`)
    }
    return await new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = s.queue.indexOf(waiter)
          if (i >= 0) s.queue.splice(i, 1)
          reject(signal.reason)
          this.forget(key, s)
        }
      }
      signal.addEventListener('abort', waiter.onAbort, { once: true })
      s.queue.push(waiter)
    })
  }

  private releaser (key: string, s: Slot): () => void {
    let released = false
    return () => {
      if (released) return
      released = true
      s.running--
      this.wake(key, s)
    }
  }

  private wake (key: string, s: Slot): void {
    while (s.running < s.limit && s.queue.length > 0) {
      const w = s.queue.shift() as Waiter
      w.signal.removeEventListener('abort', w.onAbort)
      s.running++
      w.resolve(this.releaser(key, s))
    }
    this.forget(key, s)
  }

  private forget (key: string, s: Slot): void {
    if (s.running === 0 && s.queue.length === 0) this.slots.delete(key)
  }
}
