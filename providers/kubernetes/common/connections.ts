/*
 * Keep-alive connection pools to the API server, one set per KubeConfig, shared by every call of
 * the Kubernetes-based backends (kubernetes, tekton): the typed clients (PooledKubeHttp below,
 * used by transport.ts), the service proxy that invokes functions, and raw requests
 * (raw-request.ts). @kubernetes/client-node 2.x makes a new undici Agent for every typed call
 * when the cluster has any TLS setting (KubeConfig.createDispatcher), so each call paid a new TCP
 * connection and TLS handshake; here connections are kept alive and reused.
 *
 *  - 'calls': request/response traffic (typed calls, proxy invocations), at most
 *    MAX_CALL_CONNECTIONS sockets; more concurrent calls queue for a free one;
 *  - 'streams': long-lived answers (?watch=true, pod logs), at most MAX_STREAM_CONNECTIONS, so
 *    open watches and follows never take the sockets short calls need.
 *
 * TLS material (CA, client certificate and key, server name, skip-verify) comes from
 * KubeConfig.applyToHTTPSOptions, as the client's own agents; when it changes (an exec plugin's
 * rotated client certificate) new pools are made. Credentials in headers are set per request.
 * HTTP/1.1 only: node:https has no HTTP/2 client agent (see docs/backends/kubernetes.md).
 * A cluster with a proxy-url keeps the client's proxy agent (not pooled here).
 */
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { OutgoingHttpHeaders } from 'node:http'
import https from 'node:https'
import { Readable } from 'node:stream'
import { ResponseContext } from '@kubernetes/client-node'
import type { KubeConfig, RequestContext, ResponseBody } from '@kubernetes/client-node'

export const MAX_CALL_CONNECTIONS = 32
export const MAX_STREAM_CONNECTIONS = 128
/** idle keep-alive sockets kept per pool */
export const MAX_IDLE_CONNECTIONS = 8

export type PoolKind = 'calls' | 'streams'

interface Pools {
  key: string
  calls: http.Agent
  streams: http.Agent
}

const pools = new WeakMap<KubeConfig, Pools>()

/** What one request needs: the agent to send it on and the credentials' headers. */
export interface KubeConnection {
  agent: http.Agent
  /** Authorization and any other headers the kubeconfig's user adds */
  headers: OutgoingHttpHeaders
  /** basic auth "user:password", when the kubeconfig has one */
  auth?: string
}

function material (opts: https.RequestOptions): string {
  const text = (v: unknown): string => v === undefined ? '' : Buffer.isBuffer(v) ? v.toString('base64') : Array.isArray(v) ? v.map(text).join(',') : String(v)
  return createHash('sha256').update(JSON.stringify([text(opts.ca), text(opts.cert), text(opts.key), text(opts.pfx), text(opts.passphrase), text(opts.servername), String(opts.rejectUnauthorized)])).digest('hex')
}

function makeAgent (secure: boolean, tls: https.AgentOptions, maxSockets: number): http.Agent {
  const common = { keepAlive: true, maxSockets, maxFreeSockets: MAX_IDLE_CONNECTIONS, scheduling: 'lifo' as const }
  return secure ? new https.Agent({ ...tls, ...common }) : new http.Agent(common)
}

/** The pooled agent and credentials for one request to the current cluster. */
export async function kubeConnection (config: KubeConfig, kind: PoolKind): Promise<KubeConnection> {
  const cluster = config.getCurrentCluster()
  if (cluster === null) throw new Error('kubernetes: no current cluster in the kubeconfig')
  const opts: https.RequestOptions = { headers: {} }
  await config.applyToHTTPSOptions(opts)
  const headers = (opts.headers ?? {}) as OutgoingHttpHeaders
  const auth = typeof opts.auth === 'string' ? opts.auth : undefined
  if (cluster.proxyUrl !== undefined && cluster.proxyUrl !== '' && opts.agent instanceof http.Agent) {
    return { agent: opts.agent, headers, ...(auth !== undefined ? { auth } : {}) }
  }
  const key = `${cluster.server}\u0000${material(opts)}`
  let set = pools.get(config)
  if (set === undefined || set.key !== key) {
    const secure = cluster.server.startsWith('https:')
    const tls: https.AgentOptions = {
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.cert !== undefined ? { cert: opts.cert } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
      ...(opts.pfx !== undefined ? { pfx: opts.pfx } : {}),
      ...(opts.passphrase !== undefined ? { passphrase: opts.passphrase } : {}),
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {})
    }
    // an earlier set (older TLS material) is left to finish its requests; its idle sockets go
    // when the API server closes them
    set = { key, calls: makeAgent(secure, tls, MAX_CALL_CONNECTIONS), streams: makeAgent(secure, tls, MAX_STREAM_CONNECTIONS) }
    pools.set(config, set)
  }
  return { agent: set[kind], headers, ...(auth !== undefined ? { auth } : {}) }
}

/** Closes the config's pooled connections (the backend is closing). */
export function closeKubeConnections (config: KubeConfig): void {
  const set = pools.get(config)
  if (set === undefined) return
  pools.delete(config)
  set.calls.destroy()
  set.streams.destroy()
}

function bodyOf (res: http.IncomingMessage): ResponseBody {
  const read = async (): Promise<Buffer> => {
    const chunks: Buffer[] = []
    for await (const c of res) chunks.push(c as Buffer)
    // a connection closed before the announced length is a cut-off answer, not a short body
    if (!res.complete) throw Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' })
    return Buffer.concat(chunks)
  }
  return {
    text: async () => (await read()).toString('utf8'),
    binary: read,
    stream: () => Readable.toWeb(res) as ReadableStream<Uint8Array>
  }
}

/**
 * The typed clients' HTTP library: the request the generated client built (URL, method, headers
 * with the credentials applySecurityAuthentication set, JSON body, abort signal) sent on the
 * config's 'calls' pool instead of the client's per-call dispatcher.
 */
export class PooledKubeHttp {
  private readonly config: KubeConfig

  constructor (config: KubeConfig) {
    this.config = config
  }

  async send (request: RequestContext): Promise<ResponseContext> {
    const { agent } = await kubeConnection(this.config, 'calls')
    const body = request.getBody()
    if (body !== undefined && typeof body !== 'string' && !(body instanceof URLSearchParams)) throw new Error('kubernetes: form-data request bodies are not supported')
    const payload = body === undefined ? undefined : String(body)
    const headers: OutgoingHttpHeaders = { ...request.getHeaders() }
    if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload)
    const url = new URL(request.getUrl())
    const transport = url.protocol === 'https:' ? https : http
    const signal = request.getSignal()
    return await new Promise<ResponseContext>((resolve, reject) => {
      const req = transport.request(url, { method: request.getHttpMethod().toString(), headers, agent, ...(signal !== undefined ? { signal } : {}) }, (res) => {
        const h: Record<string, string> = {}
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v
        resolve(new ResponseContext(res.statusCode ?? 500, h, bodyOf(res)))
      })
      req.once('error', reject)
      req.end(payload)
    })
  }
}
