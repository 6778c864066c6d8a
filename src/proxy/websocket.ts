/*
 * WebSocket passthrough for /function/... : the upgrade request is replayed to the function's
 * HTTP upstream with node:http (rare path, so no pool), and once the function answers 101 the two
 * sockets are tunnelled byte for byte. A non-101 answer is relayed as an ordinary response and
 * the connection closed. Proxy failures are written as raw HTTP responses on the socket.
 */
import http from 'node:http'
import https from 'node:https'
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { INTERNAL_HEADER, messages } from './replies.ts'

export interface TunnelTarget {
  /** the upstream base URL (origin; its path is prefixed to `path`) */
  url: URL
  /** path and raw query the function sees */
  path: string
  /** flat request headers (hop-by-hop already removed) */
  headers: string[]
  /** name segment for error messages */
  name: string
  readTimeoutMs: number
}

const CRLF = '\r\n'

function head (status: number, statusText: string | undefined, rawHeaders: string[]): string {
  let text = `HTTP/1.1 ${status} ${statusText ?? http.STATUS_CODES[status] ?? ''}${CRLF}`
  for (let i = 0; i < rawHeaders.length; i += 2) text += `${rawHeaders[i]}: ${rawHeaders[i + 1]}${CRLF}`
  return text + CRLF
}

/** Writes a proxy error as a raw HTTP/1.1 response on an upgrade socket, then closes it. */
export function rejectUpgrade (socket: Duplex, status: number, message: string): void {
  if (socket.destroyed) return
  const body = Buffer.from(message)
  socket.end(head(status, undefined, [
    'Content-Type', 'text/plain; charset=utf-8',
    'Content-Length', String(body.length),
    INTERNAL_HEADER, 'proxy',
    'Connection', 'close'
  ]) + message)
}

function withoutNames (raw: string[], drop: (lower: string) => boolean): string[] {
  const out: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if (!drop((raw[i] as string).toLowerCase())) out.push(raw[i] as string, raw[i + 1] as string)
  }
  return out
}

/**
 * Tunnels one upgrade request. `done` gets the status the caller saw (101 on success), once,
 * when the exchange is settled (for 101: when the tunnel is established).
 */
export function tunnelWebSocket (
  req: IncomingMessage, socket: Duplex, firstBytes: Buffer, target: TunnelTarget, done: (status: number) => void
): void {
  let settled = false
  const settle = (status: number): void => {
    if (settled) return
    settled = true
    done(status)
  }
  const base = target.url
  const prefix = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '')
  const client = base.protocol === 'https:' ? https : http
  // node:http adds no Host to a raw header list
  const headers = ['Host', base.host, ...target.headers, 'Connection', 'Upgrade', 'Upgrade', req.headers.upgrade ?? 'websocket']
  const upstreamReq = client.request({
    protocol: base.protocol,
    hostname: base.hostname.startsWith('[') ? base.hostname.slice(1, -1) : base.hostname,
    port: base.port,
    method: req.method,
    path: prefix + target.path,
    headers,
    agent: false,
    timeout: target.readTimeoutMs
  })

  socket.on('error', () => { upstreamReq.destroy() })

  upstreamReq.on('timeout', () => {
    upstreamReq.destroy()
    rejectUpgrade(socket, 504, messages.timeout(target.name))
    settle(504)
  })
  upstreamReq.on('error', () => {
    rejectUpgrade(socket, 500, messages.unreachable(target.name))
    settle(500)
  })

  upstreamReq.on('upgrade', (res, upstreamSocket, upstreamHead) => {
    upstreamReq.setTimeout(0)
    if (socket.destroyed) {
      upstreamSocket.destroy()
      settle(499)
      return
    }
    socket.write(head(res.statusCode ?? 101, res.statusMessage, res.rawHeaders))
    if (upstreamHead.length > 0) socket.write(upstreamHead)
    if (firstBytes.length > 0) upstreamSocket.write(firstBytes)
    upstreamSocket.on('error', () => { socket.destroy() })
    socket.on('close', () => { upstreamSocket.destroy() })
    upstreamSocket.on('close', () => { socket.destroy() })
    upstreamSocket.pipe(socket)
    socket.pipe(upstreamSocket)
    settle(res.statusCode ?? 101)
  })

  // the function declined the upgrade: relay its answer, close-delimited
  upstreamReq.on('response', (res) => {
    upstreamReq.setTimeout(0)
    const status = res.statusCode ?? 502
    const relayed = withoutNames(res.rawHeaders, (l) =>
      l === 'connection' || l === 'keep-alive' || l === 'transfer-encoding' || l === 'upgrade')
    relayed.push('Connection', 'close')
    socket.write(head(status, res.statusMessage, relayed))
    res.on('error', () => { socket.destroy() })
    res.pipe(socket)
    settle(status)
  })

  req.on('error', () => { upstreamReq.destroy() })
  upstreamReq.end()
}
