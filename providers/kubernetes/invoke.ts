/*
 * How invocations reach a function (option `invoke`):
 *  - 'service'   http://NAME.NAMESPACE.svc.CLUSTER_DOMAIN:8080 — kube-proxy balances (in cluster)
 *  - 'endpoints' http://POD_IP:8080 of a ready endpoint in the Service's EndpointSlices (from the
 *                informer cache when it is fresh, else listed), round robin over the ready ones;
 *                while none is ready during a wake, the pods that answered the wake probe
 *                (wake-probe.ts). In cluster; skips kube-proxy, as faas-netes does. A pod that stops being ready
 *                leaves the rotation with the watch event that says so. After a connection
 *                failure the API layer may ask `alternate` for the next ready endpoint (it does
 *                so only for idempotent requests, see src/proxy/http-forwarder.ts).
 *  - 'proxy'     the API server's service proxy, /api/v1/namespaces/NS/services/NAME:8080/proxy/,
 *                run as a `call` upstream with the kube client's credentials and TLS (out of
 *                cluster: a laptop with a kubeconfig). The caller's Authorization header is
 *                replaced by the provider's credentials; WebSocket upgrades are not supported.
 * Not ready (no available replica / no ready endpoint) → UNAVAILABLE (503).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { KubeConfig, DiscoveryV1Api, V1EndpointSlice } from '@kubernetes/client-node'
import type { InvocationRequest, InvocationResponse, Upstream } from '../../src/core/driver.ts'
import { unavailable } from '../../src/core/errors.ts'
import { kubeCall } from './common/errors.ts'
import { kubeRawRequest } from './common/raw-request.ts'
import { FUNCTION_PORT } from './mapping.ts'

export type ResolvedMode = 'service' | 'endpoints' | 'proxy'

/** The ready endpoints of a Service from a cache, sorted; undefined when the cache cannot answer. */
export type EndpointSource = (namespace: string, name: string) => readonly string[] | undefined

/** Ready endpoint addresses (IPv6 in brackets) of EndpointSlices, sorted and without duplicates. */
export function readyAddresses (slices: Iterable<V1EndpointSlice>): string[] {
  const ips = new Set<string>()
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready !== true) continue
      const ip = ep.addresses[0]
      if (ip !== undefined) ips.add(slice.addressType === 'IPv6' ? `[${ip}]` : ip)
    }
  }
  return [...ips].sort()
}

/** endpoint URL objects kept (one per pod IP seen) */
const MAX_ENDPOINT_URLS = 4096

/** request headers never sent through the API server's proxy (ours replace authorization) */
const PROXY_DROPPED = new Set(['host', 'authorization', 'connection', 'keep-alive', 'proxy-authorization', 'te', 'trailer', 'upgrade'])

export class UpstreamResolver {
  private readonly mode: ResolvedMode
  private readonly clusterDomain: string
  private readonly config: KubeConfig
  private readonly discovery: DiscoveryV1Api
  /** one URL object per function: the proxy caches per URL object */
  private readonly serviceUrls = new Map<string, URL>()
  private readonly endpointUrls = new Map<string, URL>()
  private readonly turn = new Map<string, number>()
  private readonly cached: EndpointSource | undefined
  private readonly woken: EndpointSource | undefined

  /** `woken`: during a wake, pods that answered the readiness check before the cluster calls them ready (wake-probe.ts) */
  constructor (mode: ResolvedMode, clusterDomain: string, config: KubeConfig, discovery: DiscoveryV1Api, cached?: EndpointSource, woken?: EndpointSource) {
    this.mode = mode
    this.clusterDomain = clusterDomain
    this.config = config
    this.discovery = discovery
    this.cached = cached
    this.woken = woken
  }

  get resolvedMode (): ResolvedMode {
    return this.mode
  }

  /** `available` = the Deployment's available replicas, read by the caller (which also 404s). */
  async resolve (namespace: string, name: string, available: number): Promise<Upstream> {
    if (this.mode === 'endpoints') return await this.endpoint(namespace, name)
    if (available < 1) throw unavailable(`No endpoints available for: ${name}.`)
    if (this.mode === 'service') {
      const key = `${namespace}/${name}`
      let url = this.serviceUrls.get(key)
      if (url === undefined) {
        url = new URL(`http://${name}.${namespace}.svc.${this.clusterDomain}:${FUNCTION_PORT}`)
        this.serviceUrls.set(key, url)
      }
      return { kind: 'http', url }
    }
    return { kind: 'call', call: async (req) => await this.viaApiServer(namespace, name, req) }
  }

  private async endpoint (namespace: string, name: string): Promise<Upstream> {
    let ips = this.cached?.(namespace, name) ?? readyAddresses((await kubeCall({ verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace },
      async () => await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` }))).items)
    if (ips.length === 0) ips = this.woken?.(namespace, name) ?? ips
    if (ips.length === 0) throw unavailable(`No endpoints available for: ${name}.`)
    const key = `${namespace}/${name}`
    const first = (this.turn.get(key) ?? 0) % ips.length
    this.turn.set(key, first + 1)
    let tried = 1
    const alternate = (): URL | undefined => {
      if (tried >= ips.length) return undefined
      const n = (first + tried++) % ips.length
      return this.endpointUrl(ips[n] as string)
    }
    return { kind: 'http', url: this.endpointUrl(ips[first] as string), alternate }
  }

  private endpointUrl (ip: string): URL {
    let url = this.endpointUrls.get(ip)
    if (url === undefined) {
      if (this.endpointUrls.size >= MAX_ENDPOINT_URLS) this.endpointUrls.clear() // pods come and go
      url = new URL(`http://${ip}:${FUNCTION_PORT}`)
      this.endpointUrls.set(ip, url)
    }
    return url
  }

  private async viaApiServer (namespace: string, name: string, req: InvocationRequest): Promise<InvocationResponse> {
    const headers: OutgoingHttpHeaders = {}
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !PROXY_DROPPED.has(k.toLowerCase())) headers[k] = v
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/services/${encodeURIComponent(name)}:${FUNCTION_PORT}/proxy${req.path}${req.query !== '' ? `?${req.query}` : ''}`
    if (!hasBody) req.body.resume()
    const res = await kubeRawRequest(this.config, { method: req.method, path, headers, body: hasBody ? req.body : null, signal: req.signal })
    res.on('error', () => {}) // an abort destroys it; the forwarder sees the stream end
    return { status: res.statusCode ?? 502, headers: res.headers as IncomingHttpHeaders, body: res }
  }
}
