/*
 * The fake's controllers: what the Deployment and ReplicaSet controllers and the kubelet would do,
 * small enough to follow. Every change to a Deployment schedules reconcile steps `readyDelayMs`
 * apart until it converges: step 1 creates the missing Pods (Pending), step 2 makes them Running
 * and ready, and once the new template has enough ready Pods the old ones are deleted (a rolling
 * update with maxUnavailable 0). status.{replicas,readyReplicas,availableReplicas} follow the Pods.
 * Pods keep their log lines here; tests append lines, followers see them at once.
 *
 * With a `prober` (opt-in), a Running pod with an httpGet readinessProbe is not ready until the
 * probe answers 2xx, probed as the kubelet does
 * (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/): first
 * initialDelaySeconds after the container started, then every periodSeconds. `probeTimeScale`
 * shrinks those seconds for tests (0.1: a 1 s period is probed every 100 ms).
 */
import { createHash, randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { KubeObject, ObjectStore, StoreEvent } from './store.ts'
import { kubeNow } from './store.ts'

export const DEPLOYMENTS = 'apps/deployments'
export const PODS = 'pods'

/** Where a container's log lines are kept: the pod's first container under ns/pod, others under ns/pod/container. */
export function logKey (namespace: string, pod: string, container?: string): string {
  return container === undefined ? `${namespace}/${pod}` : `${namespace}/${pod}/${container}`
}

export interface LogLine {
  time: Date
  text: string
}

export interface CrashReport {
  reason: string
  exitCode: number
}

/** lower-case letters and digits, as Kubernetes' random name suffixes */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'
function suffix (n: number): string {
  let s = ''
  for (const b of randomBytes(n)) s += ALPHABET[b % ALPHABET.length]
  return s
}

export function templateHash (template: unknown): string {
  return createHash('sha256').update(JSON.stringify(template ?? {})).digest('hex').slice(0, 10)
}

/** GETs a pod's readiness path; true on 2xx. */
export type ReadinessProber = (pod: KubeObject, path: string) => Promise<boolean>

export class FakeController {
  /** set by the server when probes are honoured */
  prober: ReadinessProber | undefined
  probeTimeScale = 1
  private readonly probing = new Map<string, NodeJS.Timeout>()
  readonly logs = new Map<string, LogLine[]>()
  /** 'append' (key, line) and 'end' (key) for followers of pod logs */
  readonly logEvents = new EventEmitter()
  private readonly store: ObjectStore
  private readonly readyDelayMs: number
  private readonly timers = new Map<string, NodeJS.Timeout>()
  /** functions whose new pods stay Pending (tests of not-ready) */
  private readonly held = new Set<string>()
  private nextIp = 0
  private readonly podIp: (n: number) => string
  /** set while the controller writes a status, so its own writes do not schedule more steps */
  private writing = false
  private closed = false

  constructor (store: ObjectStore, readyDelayMs: number, podIp: (n: number) => string = (n) => `10.244.0.${n % 250 + 2}`) {
    this.podIp = podIp
    this.store = store
    this.readyDelayMs = readyDelayMs
    this.logEvents.setMaxListeners(0)
    store.events.on('change', this.onChange)
  }

  private readonly onChange = (ev: StoreEvent): void => {
    const ns = ev.object.metadata.namespace as string
    if (ev.resource === DEPLOYMENTS) {
      if (ev.type === 'DELETED') this.deleteOwnedPods(ns, ev.object.metadata.name)
      else if (!this.writing) this.schedule(ns, ev.object.metadata.name)
    }
    if (ev.resource === PODS && ev.type === 'DELETED') {
      const key = `${ns}/${ev.object.metadata.name}`
      for (const k of [...this.logs.keys()].filter((k) => k === key || k.startsWith(`${key}/`))) {
        this.logEvents.emit('end', k)
        this.logs.delete(k)
      }
    }
  }

  hold (namespace: string, deployment: string, on: boolean): void {
    const key = `${namespace}/${deployment}`
    if (on) this.held.add(key)
    else {
      this.held.delete(key)
      this.schedule(namespace, deployment)
    }
  }

  private schedule (namespace: string, name: string): void {
    if (this.closed) return
    const key = `${namespace}/${name}`
    if (this.timers.has(key)) return
    const timer = setTimeout(() => {
      this.timers.delete(key)
      if (this.step(namespace, name)) this.schedule(namespace, name)
    }, this.readyDelayMs)
    timer.unref()
    this.timers.set(key, timer)
  }

  ownedPods (namespace: string, deployment: string): KubeObject[] {
    return this.store.list(PODS, namespace).filter((p) => {
      const rs = `${deployment}-${p.metadata.labels?.['pod-template-hash'] ?? ''}`
      return p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === rs) === true
    })
  }

  private deleteOwnedPods (namespace: string, deployment: string): void {
    for (const p of this.ownedPods(namespace, deployment)) this.store.delete(PODS, 'pods', namespace, p.metadata.name)
  }

  private isReady (pod: KubeObject): boolean {
    return pod.status?.phase === 'Running' && pod.status?.containerStatuses?.[0]?.ready === true
  }

  /** One reconcile step; true when another step is needed. */
  private step (namespace: string, name: string): boolean {
    const dep = this.store.get(DEPLOYMENTS, namespace, name)
    if (dep === undefined) return false
    const desired: number = dep.spec?.replicas ?? 1
    const hash = templateHash(dep.spec?.template)
    const pods = this.ownedPods(namespace, name)
    const current = pods.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash)
    const old = pods.filter((p) => p.metadata.labels?.['pod-template-hash'] !== hash)
    let pending = false
    const held = this.held.has(`${namespace}/${name}`)
    for (const p of current) {
      if (p.status?.phase === 'Pending' && !held) {
        const probe = this.prober !== undefined ? p.spec?.containers?.[0]?.readinessProbe : undefined
        const status = this.runningStatus(p, probe?.httpGet === undefined)
        this.store.update(PODS, 'pods', { ...p, status }, true)
        if (probe?.httpGet !== undefined) this.startProbing(namespace, name, p.metadata.name, probe)
      } else if (p.status?.phase === 'Pending') {
        pending = true
      }
    }
    if (current.length < desired) {
      for (let i = current.length; i < desired; i++) this.createPod(dep, hash)
      pending = true
    } else if (current.length > desired) {
      const extra = current.sort((a, b) => Number(this.isReady(a)) - Number(this.isReady(b))).slice(0, current.length - desired)
      for (const p of extra) this.store.delete(PODS, 'pods', namespace, p.metadata.name)
    }
    const fresh = this.ownedPods(namespace, name).filter((p) => p.metadata.labels?.['pod-template-hash'] === hash)
    const readyNew = fresh.filter((p) => this.isReady(p)).length
    if (old.length > 0 && (readyNew >= desired || desired === 0)) {
      for (const p of old) this.store.delete(PODS, 'pods', namespace, p.metadata.name)
    } else if (old.length > 0) {
      pending = true
    }
    this.writeStatus(namespace, name, hash)
    return pending || readyNew < Math.min(desired, fresh.length)
  }

  private writeStatus (namespace: string, name: string, hash: string): void {
    const dep = this.store.get(DEPLOYMENTS, namespace, name)
    if (dep === undefined) return
    const pods = this.ownedPods(namespace, name)
    const ready = pods.filter((p) => this.isReady(p)).length
    const status = {
      observedGeneration: dep.metadata.generation,
      replicas: pods.length,
      updatedReplicas: pods.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash).length,
      readyReplicas: ready,
      availableReplicas: ready,
      unavailableReplicas: Math.max(0, (dep.spec?.replicas ?? 1) - ready)
    }
    if (JSON.stringify(status) === JSON.stringify(dep.status)) return
    this.writing = true
    try {
      this.store.update(DEPLOYMENTS, 'deployments.apps', { ...dep, status }, true)
    } finally {
      this.writing = false
    }
  }

  private createPod (dep: KubeObject, hash: string): void {
    const ns = dep.metadata.namespace as string
    const rs = `${dep.metadata.name}-${hash}`
    const name = `${rs}-${suffix(5)}`
    const template = dep.spec?.template ?? {}
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        labels: { ...(template.metadata?.labels ?? {}), 'pod-template-hash': hash },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, controller: true }]
      },
      spec: { ...structuredClone(template.spec ?? {}), nodeName: 'fake-node-1' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'Ready', status: 'False' }],
        containerStatuses: (template.spec?.containers ?? []).map((c: { name: string, image: string }) => ({
          name: c.name, image: c.image, ready: false, restartCount: 0, started: false, state: { waiting: { reason: 'ContainerCreating' } }
        }))
      }
    }
    this.store.create(PODS, 'pods', pod)
    this.logs.set(`${ns}/${name}`, [])
  }

  private runningStatus (pod: KubeObject, ready = true): Record<string, unknown> {
    const ip = this.podIp(this.nextIp++)
    const now = kubeNow()
    return {
      phase: 'Running',
      podIP: ip,
      podIPs: [{ ip }],
      hostIP: '192.168.0.10',
      startTime: now,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
      containerStatuses: (pod.spec?.containers ?? []).map((c: { name: string, image: string }) => ({
        name: c.name, image: c.image, ready, restartCount: 0, started: true, state: { running: { startedAt: now } }
      }))
    }
  }

  /** The kubelet's readiness loop for one pod: initial delay, then every period, until 2xx. */
  private startProbing (namespace: string, deployment: string, podName: string, probe: { httpGet: { path?: string }, initialDelaySeconds?: number, periodSeconds?: number }): void {
    const key = `${namespace}/${podName}`
    const periodMs = Math.max(1, (probe.periodSeconds ?? 10) * 1000 * this.probeTimeScale)
    const tick = (delayMs: number): void => {
      if (this.closed) return
      const timer = setTimeout(() => {
        this.probing.delete(key)
        const pod = this.store.get(PODS, namespace, podName)
        if (pod === undefined || this.prober === undefined) return
        this.prober(pod, probe.httpGet.path ?? '/').then((ok) => {
          const cur = this.store.get(PODS, namespace, podName)
          if (cur === undefined || this.closed) return
          if (!ok) {
            tick(periodMs)
            return
          }
          const now = kubeNow()
          const statuses = (cur.status?.containerStatuses ?? []).map((c: Record<string, unknown>) => ({ ...c, ready: true }))
          this.store.update(PODS, 'pods', { ...cur, status: { ...cur.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }], containerStatuses: statuses } }, true)
          this.schedule(namespace, deployment)
        }, () => { tick(periodMs) })
      }, delayMs)
      timer.unref()
      this.probing.set(key, timer)
    }
    tick((probe.initialDelaySeconds ?? 0) * 1000 * this.probeTimeScale)
  }

  /** A container restart, as the kubelet reports it: restartCount + lastState.terminated. */
  crash (namespace: string, podName: string, report: CrashReport): void {
    const pod = this.store.get(PODS, namespace, podName)
    if (pod === undefined) throw new Error(`no pod ${namespace}/${podName}`)
    const now = kubeNow()
    const statuses = (pod.status?.containerStatuses ?? []).map((c: Record<string, any>) => ({
      ...c,
      restartCount: (c.restartCount ?? 0) + 1,
      lastState: { terminated: { reason: report.reason, exitCode: report.exitCode, finishedAt: now, startedAt: now } },
      state: { running: { startedAt: now } }
    }))
    this.store.update(PODS, 'pods', { ...pod, status: { ...pod.status, containerStatuses: statuses } }, true)
  }

  /** A line in a pod's log; `container` names a container other than the pod's first. */
  appendLog (namespace: string, podName: string, text: string, time = new Date(), container?: string): void {
    const key = logKey(namespace, podName, container)
    let lines = this.logs.get(key)
    if (lines === undefined && container !== undefined && this.logs.has(logKey(namespace, podName))) {
      lines = []
      this.logs.set(key, lines)
    }
    if (lines === undefined) throw new Error(`no pod ${key}`)
    const line = { time, text }
    lines.push(line)
    this.logEvents.emit('append', key, line)
  }

  /** A pod made by another fake controller (tekton.ts): its log starts empty. */
  trackPodLog (namespace: string, podName: string): void {
    this.logs.set(logKey(namespace, podName), [])
  }

  /** The pod's containers have exited: followers of its logs see the end (the lines stay readable). */
  endPodLogs (namespace: string, podName: string): void {
    const key = logKey(namespace, podName)
    for (const k of [...this.logs.keys()].filter((k) => k === key || k.startsWith(`${key}/`))) this.logEvents.emit('end', k)
  }

  close (): void {
    this.closed = true
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    for (const t of this.probing.values()) clearTimeout(t)
    this.probing.clear()
    this.store.events.off('change', this.onChange)
  }
}
