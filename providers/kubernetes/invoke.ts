/*
 * How invocations reach a function (option `invoke`):
 *  - 'service'   http://NAME.NAMESPACE.svc.CLUSTER_DOMAIN:8080 — kube-proxy balances (in cluster)
 *  - 'endpoints' http://POD_IP:8080 of a ready endpoint in the Service's EndpointSlices, round
 *                robin (in cluster; skips kube-proxy, as faas-netes does)
 *  - 'proxy'     the API server's service proxy, /api/v1/namespaces/NS/services/NAME:8080/proxy/,
 *                run as a `call` upstream with the kube client's credentials and TLS (out of
 *                cluster: a laptop with a kubeconfig). The caller's Authorization header is
 *                replaced by the provider's credentials; WebSocket upgrades are not supported.
 * Not ready (no available replica / no ready endpoint) → UNAVAILABLE (503).
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http'
import type { KubeConfig, DiscoveryV1Api } from '@kubernetes/client-node'
import type { InvocationRequest, InvocationResponse, Upstream } from '../../src/core/driver.ts'
import { unavailable } from '../../src/core/errors.ts'
import { kubeCall } from './common/errors.ts'
import { kubeRawRequest } from './common/raw-request.ts'
import { FUNCTION_PORT } from './mapping.ts'

export type ResolvedMode = 'service' | 'endpoints' | 'proxy'

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

  constructor (mode: ResolvedMode, clusterDomain: string, config: KubeConfig, discovery: DiscoveryV1Api) {
    this.mode = mode
    this.clusterDomain = clusterDomain
    this.config = config
    this.discovery = discovery
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
    const slices = await kubeCall({ verb: 'list', resource: 'endpointslices.discovery.k8s.io', namespace },
      async () => await this.discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${name}` }))
    const ips: string[] = []
    for (const slice of slices.items) {
      if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready !== true) continue
        const ip = ep.addresses[0]
        if (ip !== undefined) ips.push(slice.addressType === 'IPv6' ? `[${ip}]` : ip)
      }
    }
    if (ips.length === 0) throw unavailable(`No endpoints available for: ${name}.`)
    ips.sort()
    const key = `${namespace}/${name}`
    const n = (this.turn.get(key) ?? 0) % ips.length
    this.turn.set(key, n + 1)
    const ip = ips[n] as string
    let url = this.endpointUrls.get(ip)
    if (url === undefined) {
      url = new URL(`http://${ip}:${FUNCTION_PORT}`)
      this.endpointUrls.set(ip, url)
    }
    return { kind: 'http', url }
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
