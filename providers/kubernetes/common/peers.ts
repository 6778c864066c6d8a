/*
 * The provider's peers and their load. Peers are the ready endpoints of the provider's own Service
 * (its EndpointSlices, label kubernetes.io/service-name), except this replica (targetRef.name or
 * hostname equal to its identity): membership follows readiness, as the kubelet and the EndpointSlice
 * controller see it, so a replica that died leaves the set when its pod stops being ready. Each peer
 * is asked GET /system/replica-load (basic auth when it is on) with a short timeout; a peer that does
 * not answer with a valid report is `missing`, and the autoscaler holds.
 */
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node'
import type { FunctionLoad, PeerLoad, PeerReport } from '../../../src/core/coordination.ts'
import { makeKubeApi } from './transport.ts'

export const REPLICA_LOAD_PATH = '/system/replica-load'

export interface PeerOptions {
  /** the provider's own Service */
  service: string
  namespace: string
  /** the EndpointSlice port to use (the chart's Service names it "http"); the first port when no port has this name */
  portName: string
  identity: string
  timeoutMs: number
  /** "Basic …" when basic_auth is on */
  authorization?: string
}

export interface PeerEndpoint {
  /** the pod name (targetRef) or address:port */
  key: string
  url: string
}

function isNumber (v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

function parseReport (key: string, body: unknown): PeerReport | undefined {
  const fns = (body as { functions?: unknown } | undefined)?.functions
  if (!Array.isArray(fns)) return undefined
  const functions: FunctionLoad[] = []
  for (const f of fns as Array<Record<string, unknown>>) {
    if (typeof f?.namespace !== 'string' || typeof f.name !== 'string' || !isNumber(f.inflight) || !isNumber(f.completed) || !isNumber(f.ok) || !isNumber(f.busySeconds)) return undefined
    functions.push({ namespace: f.namespace, name: f.name, inflight: f.inflight, completed: f.completed, ok: f.ok, busySeconds: f.busySeconds })
  }
  return { identity: key, functions }
}

/** The ready endpoints of the Service's slices other than this replica. */
export function peerEndpoints (slices: readonly V1EndpointSlice[], opts: Pick<PeerOptions, 'portName' | 'identity'>): PeerEndpoint[] {
  const out = new Map<string, PeerEndpoint>()
  for (const slice of slices) {
    const ports = slice.ports ?? []
    const port = (ports.find((p) => p.name === opts.portName) ?? ports[0])?.port
    if (port === undefined) continue
    for (const ep of slice.endpoints ?? []) {
      // ready unset means ready (discovery.k8s.io/v1 EndpointConditions); terminating ones are leaving
      if (ep.conditions?.ready === false || ep.conditions?.terminating === true) continue
      if (ep.targetRef?.name === opts.identity || ep.hostname === opts.identity) continue
      const address = ep.addresses[0]
      if (address === undefined) continue
      const host = address.includes(':') ? `[${address}]` : address
      const key = ep.targetRef?.name ?? `${host}:${port}`
      out.set(key, { key, url: `http://${host}:${port}${REPLICA_LOAD_PATH}` })
    }
  }
  return [...out.values()]
}

export class ServicePeers {
  private readonly discovery: DiscoveryV1Api
  private readonly opts: PeerOptions

  constructor (config: KubeConfig, opts: PeerOptions) {
    this.opts = opts
    this.discovery = makeKubeApi(config, DiscoveryV1Api, { timeoutMs: Math.max(100, opts.timeoutMs) })
  }

  async endpoints (): Promise<PeerEndpoint[]> {
    const res = await this.discovery.listNamespacedEndpointSlice({ namespace: this.opts.namespace, labelSelector: `kubernetes.io/service-name=${this.opts.service}` })
    return peerEndpoints(res.items, this.opts)
  }

  /** Every peer's report, read in parallel; a discovery failure throws (the caller holds). */
  async load (): Promise<PeerLoad> {
    const eps = await this.endpoints()
    const results = await Promise.all(eps.map(async (ep) => ({ ep, report: await this.fetch(ep) })))
    const peers: PeerReport[] = []
    const missing: string[] = []
    for (const { ep, report } of results) {
      if (report === undefined) missing.push(ep.key)
      else peers.push(report)
    }
    return { peers, missing }
  }

  private async fetch (ep: PeerEndpoint): Promise<PeerReport | undefined> {
    try {
      const res = await fetch(ep.url, {
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        headers: { accept: 'application/json', ...(this.opts.authorization !== undefined ? { authorization: this.opts.authorization } : {}) }
      })
      if (res.status !== 200) {
        await res.body?.cancel()
        return undefined
      }
      return parseReport(ep.key, await res.json())
    } catch {
      return undefined
    }
  }
}
