/*
 * Invocations: /function/NAME.REMOTE_NS/ on the remote (the qualified name, so the remote never
 * guesses the namespace; the trailing slash, as the gateway wants). By default the core's proxy
 * streams there ('http' upstream). With a custom CA or `insecure`, the driver's own undici Agent
 * runs the call ('call' upstream), streaming both ways just the same. The system credentials are
 * sent only when invokeAuth is set: the gateway never injects them on /function either, and the
 * caller's own Authorization header (for the function) passes through untouched otherwise.
 */
import { request } from 'undici'
import type { HeaderMap, InvocationRequest, InvocationResponse, Upstream } from '../../src/core/driver.ts'
import type { RemoteClient } from './client.ts'

/** The base URL the proxy appends "/" or "/sub/path?query" to. */
export function functionUrl (base: URL, name: string, remoteNamespace: string): URL {
  return new URL(`function/${encodeURIComponent(name)}.${encodeURIComponent(remoteNamespace)}`, base)
}

function flatHeaders (map: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(map)) if (v !== undefined) out[k] = v
  return out
}

/** A 'call' upstream over the driver's own Agent (custom TLS settings). */
export function callUpstream (client: RemoteClient, url: URL, extra: Record<string, string> | undefined, bodyTimeoutMs: number): Upstream {
  return {
    kind: 'call',
    async call (req: InvocationRequest): Promise<InvocationResponse> {
      const target = new URL(url.href)
      target.pathname = url.pathname + req.path
      target.search = req.query === '' ? '' : `?${req.query}`
      const headers = flatHeaders(req.headers)
      for (const [k, v] of Object.entries(extra ?? {})) {
        for (const existing of Object.keys(headers)) if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing]
        headers[k] = v
      }
      const length = headers['content-length']
      // GET/HEAD carry a body only when they say so; other methods stream whatever comes (maybe nothing)
      const hasBody = (req.method !== 'GET' && req.method !== 'HEAD') || (length !== undefined && length !== '0')
      if (!hasBody) req.body.resume()
      const res = await request(target, {
        dispatcher: client.dispatcher,
        method: req.method as 'GET',
        headers,
        body: hasBody ? req.body : null,
        // the core bounds the wait for headers through req.signal (read_timeout)
        headersTimeout: 0,
        bodyTimeout: bodyTimeoutMs,
        signal: req.signal
      })
      const out: HeaderMap = {}
      for (const [k, v] of Object.entries(res.headers)) out[k] = v
      return { status: res.statusCode, headers: out, body: res.body }
    }
  }
}
