/*
 * The responses the invoke proxy writes itself (as opposed to passing the function's through).
 * Every one carries `X-OpenFaaS-Internal: proxy`, so callers can tell a proxy failure from a
 * function's own 5xx. Messages are faas-provider's, word for word.
 */
import type { ServerResponse } from 'node:http'

export const INTERNAL_HEADER = 'X-OpenFaaS-Internal'

export const messages = {
  noName: 'Provide function name in the request path',
  noEndpoints: (name: string) => `No endpoints available for: ${name}.`,
  unreachable: (name: string) => `Can't reach service for: ${name}.`,
  timeout: (name: string) => `Timed out waiting for: ${name}.`,
  shuttingDown: 'Service Unavailable: the provider is shutting down'
}

/** Status used in metrics when the caller went away before a response was sent (nginx's 499). */
export const CLIENT_CLOSED = 499

/** Writes a plain-text proxy error; a response already under way is cut off instead. */
export function sendProxyError (res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (res.destroyed) return
  const body = message === '' ? undefined : Buffer.from(message)
  res.writeHead(status, [
    'Content-Type', 'text/plain; charset=utf-8',
    'Content-Length', String(body?.length ?? 0),
    INTERNAL_HEADER, 'proxy'
  ])
  res.end(body)
}
