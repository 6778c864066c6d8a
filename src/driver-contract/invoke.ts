/*
 * Invokes an Upstream the way the API layer would, so driver tests can check a function answers
 * without the HTTP server: 'http' upstreams are fetched (loopback only), 'call' upstreams called.
 */
import { Readable } from 'node:stream'
import type { HeaderMap, Upstream } from '../core/driver.ts'

export interface InvokeResult {
  status: number
  headers: HeaderMap
  body: string
}

export interface InvokeRequest {
  method?: string
  path?: string
  query?: string
  headers?: Record<string, string>
  body?: string | Buffer
  signal?: AbortSignal
}

async function readAll (body: Readable | Buffer | string): Promise<string> {
  if (typeof body === 'string') return body
  if (Buffer.isBuffer(body)) return body.toString('utf8')
  const chunks: Buffer[] = []
  for await (const c of body) chunks.push(Buffer.from(c as Buffer))
  return Buffer.concat(chunks).toString('utf8')
}

export async function invokeUpstream (up: Upstream, req: InvokeRequest = {}): Promise<InvokeResult> {
  const method = req.method ?? 'POST'
  const path = req.path ?? '/'
  const query = req.query ?? ''
  const headers: Record<string, string> = { ...(req.headers ?? {}) }
  const body = req.body ?? ''
  const signal = req.signal ?? AbortSignal.timeout(10_000)
  if (up.kind === 'http') {
    // as the core proxy does: the upstream URL's own path is a prefix (a remote /function/NAME.NS)
    const base = up.url.href.replace(/\/+$/, '')
    const url = new URL(base + path + (query !== '' ? `?${query}` : ''))
    const res = await fetch(url, {
      method,
      headers: { ...headers, ...(up.headers ?? {}) },
      body: method === 'GET' || method === 'HEAD' ? undefined : body,
      signal
    })
    const out: HeaderMap = {}
    res.headers.forEach((v, k) => { out[k] = v })
    return { status: res.status, headers: out, body: await res.text() }
  }
  const lower: HeaderMap = {}
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v
  if (lower['content-length'] === undefined && method !== 'GET') lower['content-length'] = String(Buffer.byteLength(body))
  const res = await up.call({ method, path, query, headers: lower, body: Readable.from([Buffer.from(body)]), signal })
  return { status: res.status, headers: res.headers, body: await readAll(res.body) }
}
