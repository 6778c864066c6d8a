/*
 * Header rules of the invoke proxy: which request headers reach the function, which response
 * headers reach the caller. Hop-by-hop headers (RFC 9110 §7.6.1, the list Go's ReverseProxy and
 * the OpenFaaS gateway strip) never cross the proxy; everything else is copied verbatim, in order,
 * with its original case. Works on Node's flat `rawHeaders` arrays: no per-header objects.
 */
import type { IncomingMessage } from 'node:http'

/** What the request scan found besides the headers to forward. */
export interface RequestHeaderScan {
  /** flat [name, value, name, value, ...] for undici */
  headers: string[]
  /** the request carries a body (Content-Length > 0 or Transfer-Encoding) */
  hasBody: boolean
  /** the request's Content-Type, the fallback for responses without one */
  contentType: string | undefined
}

// request header classes (plain numbers: native type stripping has no enums)
const H_HOP = 1
const H_HOST = 2
const H_XFF = 3
const H_XFH = 4
const H_CONTENT_LENGTH = 5
const H_TRANSFER_ENCODING = 6
const H_CONTENT_TYPE = 7
const H_CONNECTION = 8

/**
 * Classifies a request header name. Lower-cases only names whose length can match one of the
 * interesting headers, so ordinary headers cost a length check.
 */
function classify (name: string): number {
  if (name.length > 6 && (name.charCodeAt(0) | 0x20) === 0x70 && name.slice(0, 6).toLowerCase() === 'proxy-') return H_HOP
  switch (name.length) {
    case 2: return name.toLowerCase() === 'te' ? H_HOP : 0
    case 4: return name.toLowerCase() === 'host' ? H_HOST : 0
    case 6: return name.toLowerCase() === 'expect' ? H_HOP : 0 // Node answered 100-continue already
    case 7: {
      const l = name.toLowerCase()
      return l === 'upgrade' || l === 'trailer' ? H_HOP : 0
    }
    case 10: {
      const l = name.toLowerCase()
      if (l === 'connection') return H_CONNECTION
      return l === 'keep-alive' ? H_HOP : 0
    }
    case 12: return name.toLowerCase() === 'content-type' ? H_CONTENT_TYPE : 0
    case 14: return name.toLowerCase() === 'content-length' ? H_CONTENT_LENGTH : 0
    case 15: return name.toLowerCase() === 'x-forwarded-for' ? H_XFF : 0
    case 16: return name.toLowerCase() === 'x-forwarded-host' ? H_XFH : 0
    case 17: return name.toLowerCase() === 'transfer-encoding' ? H_TRANSFER_ENCODING : 0
  }
  return 0
}

/** `Connection: close, X-Foo` also makes X-Foo hop-by-hop; keep-alive/close are the usual values. */
function connectionTokens (value: string): string[] | undefined {
  let extra: string[] | undefined
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase()
    if (t === '' || t === 'keep-alive' || t === 'close') continue
    ;(extra ??= []).push(t)
  }
  return extra
}

/** `ip:port` as Go's RemoteAddr writes it (IPv6 in brackets). */
export function remoteAddr (req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? ''
  const port = req.socket.remotePort ?? 0
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/**
 * The headers to send upstream: the request's own minus hop-by-hop and Host, plus
 * X-Forwarded-For / X-Forwarded-Host when absent, plus the driver's `extra` (which replace
 * same-named request headers). With `relay` (an invoke thread passing a request on to the main
 * thread's own server) Host stays and no X-Forwarded-Host is added: the main thread serves the
 * request as if it had accepted it, X-Forwarded-For carrying the caller it cannot see.
 */
export function scanRequestHeaders (req: IncomingMessage, extra: Record<string, string> | undefined, relay = false): RequestHeaderScan {
  const raw = req.rawHeaders
  const headers: string[] = []
  let hasBody = false
  let contentType: string | undefined
  let host: string | undefined
  let hasXff = false
  let hasXfh = false
  let connection: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    switch (classify(name)) {
      case 0: headers.push(name, value); break
      case H_HOP: break
      case H_HOST: host ??= value; if (relay) headers.push(name, value); break
      case H_CONNECTION: connection = connection === undefined ? value : `${connection}, ${value}`; break
      case H_XFF: hasXff = true; headers.push(name, value); break
      case H_XFH: hasXfh = true; headers.push(name, value); break
      case H_CONTENT_TYPE: contentType ??= value; headers.push(name, value); break
      case H_CONTENT_LENGTH: if (value !== '0') hasBody = true; headers.push(name, value); break
      case H_TRANSFER_ENCODING: hasBody = true; break // undici re-chunks the stream
    }
  }
  if (!hasXff) headers.push('X-Forwarded-For', remoteAddr(req))
  if (!hasXfh && host !== undefined && !relay) headers.push('X-Forwarded-Host', host)
  if (connection !== undefined) {
    const tokens = connectionTokens(connection)
    if (tokens !== undefined) removeNames(headers, tokens)
  }
  if (extra !== undefined) {
    const names = Object.keys(extra)
    if (names.length > 0) {
      removeNames(headers, names.map((n) => n.toLowerCase()))
      for (const n of names) headers.push(n, extra[n] as string)
    }
  }
  return { headers, hasBody, contentType }
}

function removeNames (flat: string[], lowerNames: string[]): void {
  let w = 0
  for (let r = 0; r < flat.length; r += 2) {
    if (lowerNames.includes((flat[r] as string).toLowerCase())) continue
    flat[w++] = flat[r] as string
    flat[w++] = flat[r + 1] as string
  }
  flat.length = w
}

/** Is this lower-case response header name hop-by-hop? */
function isHopResponseHeader (lower: string): boolean {
  switch (lower) {
    case 'connection':
    case 'keep-alive':
    case 'te':
    case 'trailer':
    case 'transfer-encoding':
    case 'upgrade':
      return true
  }
  return lower.startsWith('proxy-')
}

/**
 * Converts undici's raw response headers into a flat array for `res.writeHead`, dropping
 * hop-by-hop headers and adding the Content-Type fallback (request's, else text/plain).
 */
export function responseHeaders (raw: Buffer[], requestContentType: string | undefined, fallback = true): string[] {
  const out: string[] = []
  let hasContentType = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const lower = name.toLowerCase()
    if (lower === 'content-type') hasContentType = true
    else if (isHopResponseHeader(lower)) continue
    out.push(name, (raw[i + 1] as Buffer).toString('latin1'))
  }
  if (!hasContentType && fallback) out.push('Content-Type', requestContentType ?? 'text/plain')
  return out
}

/** Same rules for a HeaderMap (the `call` upstream's InvocationResponse). */
export function responseHeadersFromMap (
  map: Record<string, string | string[] | undefined>,
  requestContentType: string | undefined
): string[] {
  const out: string[] = []
  let hasContentType = false
  for (const name of Object.keys(map)) {
    const value = map[name]
    if (value === undefined) continue
    const lower = name.toLowerCase()
    if (lower === 'content-type') hasContentType = true
    else if (isHopResponseHeader(lower)) continue
    if (Array.isArray(value)) for (const v of value) out.push(name, v)
    else out.push(name, String(value))
  }
  if (!hasContentType) out.push('Content-Type', requestContentType ?? 'text/plain')
  return out
}
