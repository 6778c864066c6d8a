/*
 * Streaming requests to the API server with the kube client's own credentials and TLS settings
 * (KubeConfig.applyToHTTPSOptions: bearer tokens, client certificates, exec/OIDC plugins, the
 * cluster CA, proxies). Used where the typed clients buffer whole bodies: pod logs with follow,
 * ?watch=true streams, and the service proxy that invokes functions from outside the cluster.
 * Sent on the config's pooled keep-alive connections (connections.ts): 'calls' for
 * request/response traffic such as proxy invocations, 'streams' for watches and logs.
 */
import http from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import type { Readable } from 'node:stream'
import type { KubeConfig } from '@kubernetes/client-node'
import { kubeConnection, type PoolKind } from './connections.ts'
import { KubeHttpError, kubeStatusOf } from './errors.ts'
import { DEFAULT_KUBE_REQUEST_TIMEOUT_MS, KubeTransportError } from './transport.ts'

export interface RawRequest {
  method: string
  /** path and query below the server URL, starting with '/' */
  path: string
  headers?: OutgoingHttpHeaders
  body?: Readable | null
  signal?: AbortSignal
}

/** Largest error body read to build a message. */
const MAX_ERROR_BODY = 64 * 1024

/** Resolves with the response once its headers arrive; the body is left to the caller. */
export async function kubeRawRequest (config: KubeConfig, req: RawRequest, pool: PoolKind = 'calls'): Promise<IncomingMessage> {
  const cluster = config.getCurrentCluster()
  if (cluster === null) throw new Error('kubernetes: no current cluster in the kubeconfig')
  const url = new URL(cluster.server.replace(/\/+$/, '') + req.path)
  const conn = await kubeConnection(config, pool)
  const options: https.RequestOptions = { method: req.method, headers: { ...req.headers, ...conn.headers }, agent: conn.agent }
  if (conn.auth !== undefined) options.auth = conn.auth
  if (req.signal !== undefined) options.signal = req.signal
  const transport = url.protocol === 'https:' ? https : http
  return await new Promise<IncomingMessage>((resolve, reject) => {
    const out = transport.request(url, options, resolve)
    out.once('error', reject)
    if (req.body !== undefined && req.body !== null) {
      req.body.once('error', (err) => { out.destroy(err) })
      req.body.pipe(out)
    } else {
      out.end()
    }
  })
}

/** Reads a failed response's Status body and throws it as a KubeHttpError. */
export async function throwForStatus (res: IncomingMessage): Promise<never> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of res) {
    size += (c as Buffer).length
    if (size > MAX_ERROR_BODY) break
    chunks.push(c as Buffer)
  }
  res.destroy()
  const text = Buffer.concat(chunks).toString('utf8')
  let body: unknown = { message: text }
  try {
    body = JSON.parse(text)
  } catch {}
  throw new KubeHttpError(res.statusCode ?? 500, body)
}

/**
 * A GET whose 2xx response body is returned as a stream; other codes throw. The answer's headers
 * must arrive within `headerTimeoutMs` (a never-answering API server fails with a 'timeout'
 * KubeTransportError → 504); the body then lasts as long as `signal` allows (follow streams).
 */
export async function kubeStream (config: KubeConfig, path: string, signal: AbortSignal, headerTimeoutMs = DEFAULT_KUBE_REQUEST_TIMEOUT_MS): Promise<IncomingMessage> {
  const ac = new AbortController()
  const onAbort = (): void => { ac.abort(signal.reason) }
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; ac.abort(new Error('no answer')) }, headerTimeoutMs)
  try {
    const res = await kubeRawRequest(config, { method: 'GET', path, signal: ac.signal }, 'streams')
    clearTimeout(timer)
    res.once('close', () => { signal.removeEventListener('abort', onAbort) })
    const code = res.statusCode ?? 500
    if (code < 200 || code > 299) return await throwForStatus(res)
    return res
  } catch (err) {
    clearTimeout(timer)
    if (timedOut) throw new KubeTransportError('timeout', 'GET', 1, `no answer within ${headerTimeoutMs} ms`, err)
    if (!signal.aborted && kubeStatusOf(err) === undefined) {
      const code = (err as { code?: string }).code
      const failure = code === 'ECONNREFUSED' || code === 'ENOTFOUND' ? 'unreachable' : 'reset'
      throw new KubeTransportError(failure, 'GET', 1, `${failure === 'reset' ? 'the connection was reset before an answer' : 'the API server could not be reached'} (${code ?? (err as Error).message})`, err)
    }
    throw err
  }
}
