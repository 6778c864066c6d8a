/*
 * Fast wake from zero in the `endpoints` invoke mode: while a function this driver scaled up from
 * 0 has no ready endpoint yet, the driver probes the new pods itself and the waiting requests go
 * to the first pod that answers, instead of waiting for the kubelet's next readiness probe (its
 * period is at least 1 s) and the EndpointSlice update after it.
 *
 * Bounded and narrow on purpose:
 *  - only during a wake: from a scale 0 → n by this driver until the EndpointSlice shows a ready
 *    endpoint, the function is scaled to 0 again, or WAKE_PROBE_WINDOW_MS passed;
 *  - only pods of the function's current pod template (labels, annotations and image of the
 *    Deployment's template; every update by this provider changes an annotation), Running, with
 *    an IP, not terminating, read from the Pods informer cache;
 *  - the same check the kubelet makes: the container's httpGet readiness probe (path, port,
 *    headers), 200–399 within its timeout (at most PROBE_TIMEOUT_MAX_MS), every
 *    WAKE_PROBE_INTERVAL_MS, one probe per pod in flight. Functions with an exec probe or none,
 *    HTTPS probes or probes naming another host are not probed: they wait for the cluster;
 *  - invocations only: status and the list stay the cluster's truth (availableReplicas stays 0
 *    until the Deployment says otherwise).
 * The trade-off (docs/backends/kubernetes.md#probes): a pod can get a request up to one kubelet
 * period before Kubernetes calls it Ready, judged by the same probe.
 */
import http from 'node:http'
import type { V1Container, V1Deployment, V1Pod } from '@kubernetes/client-node'
import { FUNCTION_LABEL } from './mapping.ts'

export const WAKE_PROBE_INTERVAL_MS = 25
export const WAKE_PROBE_WINDOW_MS = 30_000
export const PROBE_TIMEOUT_MAX_MS = 1_000

export interface HttpCheck {
  port: number
  path: string
  headers: Record<string, string>
  timeoutMs: number
}

/** The template's readiness check, when it is one the provider can make the kubelet's way. */
export function readinessCheck (dep: V1Deployment, name: string): HttpCheck | undefined {
  const containers = dep.spec?.template?.spec?.containers ?? []
  const c: V1Container | undefined = containers.find((x) => x.name === name) ?? containers[0]
  const get = c?.readinessProbe?.httpGet
  if (get === undefined || (get.scheme !== undefined && get.scheme.toUpperCase() !== 'HTTP')) return undefined
  if (get.host !== undefined && get.host !== '') return undefined
  let port: number | undefined
  if (typeof get.port === 'number') port = get.port
  else if (/^\d+$/.test(String(get.port))) port = Number(get.port)
  else port = c?.ports?.find((p) => p.name === get.port)?.containerPort
  if (port === undefined || port < 1 || port > 65535) return undefined
  const headers: Record<string, string> = {}
  for (const h of get.httpHeaders ?? []) headers[h.name] = h.value
  const timeoutMs = Math.min(PROBE_TIMEOUT_MAX_MS, (c?.readinessProbe?.timeoutSeconds ?? 1) * 1000)
  return { port, path: get.path ?? '/', headers, timeoutMs }
}

/** A pod made from the Deployment's current template, running and reachable. */
export function fromCurrentTemplate (pod: V1Pod, dep: V1Deployment, name: string): boolean {
  if (pod.metadata?.labels?.[FUNCTION_LABEL] !== name || pod.metadata.deletionTimestamp !== undefined) return false
  if (pod.status?.phase !== 'Running' || pod.status.podIP === undefined || pod.status.podIP === '') return false
  const template = dep.spec?.template
  for (const [k, v] of Object.entries(template?.metadata?.labels ?? {})) if (pod.metadata.labels[k] !== v) return false
  for (const [k, v] of Object.entries(template?.metadata?.annotations ?? {})) if (pod.metadata.annotations?.[k] !== v) return false
  const want = template?.spec?.containers ?? []
  const have = pod.spec?.containers ?? []
  return want.length === have.length && want.every((c, i) => have[i]?.name === c.name && have[i]?.image === c.image)
}

function address (pod: V1Pod): string {
  const ip = pod.status?.podIP ?? ''
  return ip.includes(':') ? `[${ip}]` : ip
}

/** GET the check on `ip`: true for 200–399 within the timeout (a new connection, as the kubelet). */
export async function probeOnce (ip: string, check: HttpCheck): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const host = ip.startsWith('[') ? ip.slice(1, -1) : ip
    const req = http.get({ host, port: check.port, path: check.path, headers: check.headers, agent: false, timeout: check.timeoutMs }, (res) => {
      res.resume()
      const code = res.statusCode ?? 0
      resolve(code >= 200 && code < 400)
    })
    req.once('timeout', () => { req.destroy() })
    req.once('error', () => { resolve(false) })
  })
}

export interface WakeProberOptions {
  /** the function's Deployment and its namespace's pods, from the caches (undefined: not trusted) */
  deployment: (namespace: string, name: string) => V1Deployment | undefined
  pods: (namespace: string) => readonly V1Pod[] | undefined
  /** the EndpointSlice shows a ready endpoint: the wake is the cluster's again */
  settled: (namespace: string, name: string) => boolean
  intervalMs?: number
  windowMs?: number
  now?: () => number
  probe?: (ip: string, check: HttpCheck) => Promise<boolean>
}

interface Wake {
  until: number
  timer: NodeJS.Timeout | undefined
  inFlight: Set<string>
  /** pod name → its address, for pods that answered */
  answered: Map<string, string>
}

export class WakeProber {
  private readonly opts: WakeProberOptions
  private readonly wakes = new Map<string, Wake>()
  private readonly now: () => number
  private closed = false

  constructor (opts: WakeProberOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
  }

  private key (namespace: string, name: string): string {
    return `${namespace}/${name}`
  }

  /** This driver scaled the function up from 0: probe its new pods until the cluster has one ready. */
  begin (namespace: string, name: string): void {
    if (this.closed) return
    const key = this.key(namespace, name)
    this.end(namespace, name)
    const wake: Wake = { until: this.now() + (this.opts.windowMs ?? WAKE_PROBE_WINDOW_MS), timer: undefined, inFlight: new Set(), answered: new Map() }
    this.wakes.set(key, wake)
    this.tick(namespace, name, wake)
  }

  end (namespace: string, name: string): void {
    const key = this.key(namespace, name)
    const wake = this.wakes.get(key)
    if (wake === undefined) return
    clearTimeout(wake.timer)
    this.wakes.delete(key)
  }

  /** Addresses of the function's pods that answered during its wake (still current); undefined when none. */
  answered (namespace: string, name: string): string[] | undefined {
    const wake = this.wakes.get(this.key(namespace, name))
    if (wake === undefined || wake.answered.size === 0) return undefined
    const current = this.candidates(namespace, name)
    const ips = (current ?? []).filter((p) => wake.answered.get(p.metadata?.name ?? '') === address(p)).map(address).sort()
    return ips.length > 0 ? ips : undefined
  }

  close (): void {
    this.closed = true
    for (const w of this.wakes.values()) clearTimeout(w.timer)
    this.wakes.clear()
  }

  private candidates (namespace: string, name: string): V1Pod[] | undefined {
    const dep = this.opts.deployment(namespace, name)
    const pods = this.opts.pods(namespace)
    if (dep === undefined || pods === undefined) return undefined
    return pods.filter((p) => fromCurrentTemplate(p, dep, name))
  }

  private tick (namespace: string, name: string, wake: Wake): void {
    if (this.wakes.get(this.key(namespace, name)) !== wake) return
    if (this.now() > wake.until || this.opts.settled(namespace, name)) {
      this.end(namespace, name)
      return
    }
    const dep = this.opts.deployment(namespace, name)
    const check = dep !== undefined ? readinessCheck(dep, name) : undefined
    if (dep !== undefined && check === undefined) {
      this.end(namespace, name) // nothing the provider can probe: the cluster decides
      return
    }
    if (check !== undefined) {
      for (const pod of this.candidates(namespace, name) ?? []) {
        const podName = pod.metadata?.name ?? ''
        const ip = address(pod)
        if (wake.answered.get(podName) === ip || wake.inFlight.has(podName)) continue
        wake.inFlight.add(podName)
        void (this.opts.probe ?? probeOnce)(ip, check).then((ok) => {
          wake.inFlight.delete(podName)
          if (ok && this.wakes.get(this.key(namespace, name)) === wake) wake.answered.set(podName, ip)
        })
      }
    }
    wake.timer = setTimeout(() => { this.tick(namespace, name, wake) }, this.opts.intervalMs ?? WAKE_PROBE_INTERVAL_MS)
    wake.timer.unref()
  }
}
