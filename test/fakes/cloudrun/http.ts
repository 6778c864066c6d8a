/*
 * Shared wire helpers of the Google fakes: JSON bodies, Google's error body
 * {"error":{"code":404,"message":"…","status":"NOT_FOUND"}}, and injectable faults (fail or hang
 * the next matching request) so tests can drive every error path of the real clients.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export const HTTP_BY_STATUS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  ABORTED: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503
}

/** gRPC codes of the statuses above (operation errors carry these) */
export const GRPC_BY_STATUS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16
}

export class GoogleHttpError extends Error {
  readonly status: string
  constructor (status: string, message: string) {
    super(message)
    this.status = status
  }
}

export async function readJson (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return {}
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new GoogleHttpError('INVALID_ARGUMENT', 'Invalid JSON payload received.')
  }
}

export function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export function sendGoogleError (res: ServerResponse, status: string, message: string): void {
  const code = HTTP_BY_STATUS[status] ?? 500
  sendJson(res, code, { error: { code, message, status } })
}

export interface Fault {
  method?: string
  /** matched against the request path (without query) */
  path?: RegExp
  /** Google status name, e.g. PERMISSION_DENIED; omitted with hang */
  status?: string
  message?: string
  /** never answer (until the fake closes) */
  hang?: boolean
  /** how many matching requests it applies to (default 1) */
  times?: number
}

export class Faults {
  private readonly faults: Array<Fault & { left: number }> = []
  private readonly hung = new Set<ServerResponse>()

  add (fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 })
  }

  clear (): void {
    this.faults.length = 0
  }

  /** true when a fault answered (or swallowed) the request */
  apply (method: string, path: string, res: ServerResponse): boolean {
    const i = this.faults.findIndex((f) => (f.method === undefined || f.method === method) && (f.path === undefined || f.path.test(path)))
    if (i === -1) return false
    const f = this.faults[i] as Fault & { left: number }
    if (--f.left <= 0) this.faults.splice(i, 1)
    if (f.hang === true) {
      this.hung.add(res)
      res.on('close', () => { this.hung.delete(res) })
      return true
    }
    sendGoogleError(res, f.status ?? 'INTERNAL', f.message ?? 'injected failure')
    return true
  }

  releaseHung (): void {
    for (const res of this.hung) res.destroy()
    this.hung.clear()
  }
}

/** RFC3339 with nanoseconds, as Google writes timestamps. */
export function rfc3339 (d: Date, nanos = 0): string {
  return `${d.toISOString().slice(0, 23)}${String(nanos).padStart(6, '0')}Z`
}
