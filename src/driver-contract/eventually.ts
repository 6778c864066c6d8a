/*
 * Bounded polling for tests: retry an assertion until it passes or the time is up, then fail with
 * the last error. Every wait in the driver tests goes through here, so none can hang a run.
 */
import { setTimeout as sleep } from 'node:timers/promises'

export interface EventuallyOptions {
  timeoutMs?: number
  intervalMs?: number
  /** what was awaited, for the failure message */
  what?: string
}

export async function eventually<T> (fn: () => T | Promise<T>, opts: EventuallyOptions = {}): Promise<T> {
  // generous: the suite runs beside other work; a wait that is met returns at once
  const timeoutMs = opts.timeoutMs ?? 30_000
  const intervalMs = opts.intervalMs ?? 20
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) break
    await sleep(intervalMs)
  }
  const message = `${opts.what ?? 'condition'} not reached within ${timeoutMs} ms: ${last instanceof Error ? last.message : String(last)}`
  throw new Error(message, { cause: last })
}

/** Throws unless `cond`; for use inside eventually(). */
export function check (cond: boolean, message: string): void {
  if (!cond) throw new Error(message)
}
