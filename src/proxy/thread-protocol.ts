/*
 * The messages between the main thread and its invoke threads (invoke-threads.ts,
 * invoke-thread.ts). Plain objects, structured-cloned by the MessagePort. Request ids are per
 * thread.
 */

/** What a thread needs to serve the public port the way the main thread's server does. */
export interface ThreadConfig {
  host: string
  port: number
  /** the main thread's internal server: every request that is not an invocation goes there */
  socketPath: string
  readTimeoutMs: number
  maxIdleConnsPerHost: number
  /** node:http server settings copied from the main thread's server */
  server: { keepAliveTimeout: number, headersTimeout: number, requestTimeout: number, maxHeaderSize: number, connectionsCheckingInterval: number }
}

export interface WireResolution {
  kind: 'http' | 'refused' | 'call'
  origin?: string
  path?: string
  base?: string
  /** the driver's extra request headers */
  headers?: Record<string, string>
  retry?: boolean
  status?: number
  message?: string
}

/** Per-invocation messages: each side sends them in batches, one port message per turn of its event loop. */
export type InvocationToMain =
  | { t: 'resolve', id: number, url: string }
  | { t: 'done', id: number, status: number, err?: { message: string, code?: string } }
  | { t: 'retry', id: number }

export type InvocationToThread =
  | { t: 'resolved', id: number, r: WireResolution }
  | { t: 'retried', id: number, next?: { origin: string, path: string } }

export type ToMain =
  | { t: 'listening', port: number }
  | { t: 'batch', m: InvocationToMain[] }
  | { t: 'closed' }

export type ToThread =
  | { t: 'batch', m: InvocationToThread[] }
  /** answer 503 to new invocations and stop accepting connections */
  | { t: 'closing' }
  /** finish what is in flight (bounded), then say `closed` and exit */
  | { t: 'close', graceMs: number }

/**
 * Coalesces messages into one port message per turn of the event loop: under load a turn serves
 * many requests, and each port message costs a structured clone and a wake-up of the other
 * thread's loop (three of them per invocation unbatched). Flushed from setImmediate, right after
 * the turn's I/O callbacks, so nothing waits for more than the rest of the current turn.
 */
export function batcher<T> (post: (batch: T[]) => void): (item: T) => void {
  let batch: T[] = []
  const flush = (): void => {
    const out = batch
    batch = []
    post(out)
  }
  return (item: T): void => {
    if (batch.push(item) === 1) setImmediate(flush)
  }
}
