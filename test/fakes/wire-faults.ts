/*
 * Wire-level fault modes shared by the HTTP fakes (Lambda/AWS, Google, a scripted OpenFaaS remote).
 * A test adds faults; each request the fake serves is first offered to them by its key (an
 * operation name such as "Lambda.GetFunction", or "METHOD /path"):
 *   latency  — wait latencyMs, then answer normally
 *   status   — answer `status` (default 500) with the service's own error body and `message`
 *   throttle — answer 429 with Retry-After: retryAfterSeconds (the service's throttling body)
 *   reset    — destroy the socket before any answer (ECONNRESET for the client)
 *   truncate — 200 with a Content-Length larger than what is sent, part of a JSON body, then destroy
 *   hang     — never answer; held until the client gives up or the fake closes
 * `times` bounds how many matching requests a fault takes (default 1; Infinity = persistent).
 * close() destroys every held socket and cancels pending latency timers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export type WireFaultKind = 'latency' | 'status' | 'throttle' | 'reset' | 'truncate' | 'hang'

export const WIRE_FAULT_KINDS: readonly WireFaultKind[] = ['latency', 'status', 'throttle', 'reset', 'truncate', 'hang']

export interface WireFault {
  kind: WireFaultKind
  /** the request key it applies to: exact string or pattern; omitted = every request */
  match?: string | RegExp
  /** how many matching requests (default 1; Infinity for a persistent fault) */
  times?: number
  /** latency: added delay (default 100 ms) */
  latencyMs?: number
  /** status: HTTP status (default 500) */
  status?: number
  /** status/throttle: the service's reason */
  message?: string
  /** throttle: the Retry-After header in seconds (default 0); may be fractional for tests */
  retryAfterSeconds?: number
}

/** Writes the service's own error body (AWS, Google or plain text) for `status`. */
export type ErrorWriter = (res: ServerResponse, status: number, message: string, kind: 'status' | 'throttle') => void

interface Armed extends WireFault {
  left: number
}

export class WireFaults {
  private readonly armed: Armed[] = []
  private readonly held = new Set<ServerResponse>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly writeError: ErrorWriter
  /** every fault taken, as "kind key" (for assertions) */
  readonly taken: string[] = []

  constructor (writeError: ErrorWriter) {
    this.writeError = writeError
  }

  add (fault: WireFault): void {
    this.armed.push({ ...fault, left: fault.times ?? 1 })
  }

  clear (): void {
    this.armed.length = 0
  }

  private take (key: string): WireFault | undefined {
    const i = this.armed.findIndex((f) => f.match === undefined || (typeof f.match === 'string' ? f.match === key : f.match.test(key)))
    if (i === -1) return undefined
    const f = this.armed[i] as Armed
    if (--f.left <= 0) this.armed.splice(i, 1)
    this.taken.push(`${f.kind} ${key}`)
    return f
  }

  /**
   * Offers the request to the faults. Resolves true when a fault answered it (or swallowed it);
   * false when the fake should serve it normally (no fault, or after the added latency).
   */
  async intercept (key: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const f = this.take(key)
    if (f === undefined) return false
    const drain = (): void => { req.resume() }
    switch (f.kind) {
      case 'latency':
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { this.timers.delete(timer); resolve() }, f.latencyMs ?? 100)
          this.timers.add(timer)
          res.on('close', () => { clearTimeout(timer); this.timers.delete(timer); resolve() })
        })
        return res.destroyed
      case 'status':
        drain()
        this.writeError(res, f.status ?? 500, f.message ?? 'injected backend failure', 'status')
        return true
      case 'throttle':
        drain()
        res.setHeader('retry-after', String(f.retryAfterSeconds ?? 0))
        this.writeError(res, 429, f.message ?? 'Rate exceeded', 'throttle')
        return true
      case 'reset':
        req.socket.destroy()
        return true
      case 'truncate': {
        drain()
        const part = '{"truncated":"this body ends before its Content-Length'
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(part.length + 4096) })
        res.write(part, () => { res.socket?.destroy() })
        return true
      }
      case 'hang':
        drain()
        this.held.add(res)
        res.on('close', () => { this.held.delete(res) })
        return true
    }
  }

  /** Ends everything a fault holds: held requests are destroyed, latency timers cancelled. */
  close (): void {
    for (const res of this.held) res.socket?.destroy()
    this.held.clear()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
