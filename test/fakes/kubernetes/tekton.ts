/*
 * A small fake Tekton controller (and the function image it runs) on the fake API server's
 * store: a new TaskRun gets a pod (TaskRun labels + tekton.dev/taskRun, containers step-NAME),
 * turns Running, then the test's handler plays the function step: it gets the request the
 * wrapper script would see (Http_* variables from the request ConfigMap's headers.env, the body,
 * the step's env, the mounted secrets) and returns stdout, stderr lines and an exit code, or
 * never settles (a function that hangs). The controller then does what the wrapper script and
 * Tekton do: stderr lines go to step-function's log; exit 0 → results size/delivery and body
 * (inline up to FAAS_BRIDGE_RESULT_LIMIT bytes, else stdout lines in step-response's log),
 * condition Succeeded=True; otherwise Succeeded=False, reason Failed, the step's exit code.
 * spec.status TaskRunCancelled ends a run (reason TaskRunCancelled), spec.timeout too (reason
 * TaskRunTimeout); deleting a TaskRun deletes its pod. Pods end Succeeded or Failed and keep
 * their logs. history records the number of each function's TaskRuns under way at every change.
 *
 * Simplifications: a missing Task or request ConfigMap fails the run at once (no resolution
 * retries); step `response` is not run unless delivery is "log"; pods are not deleted on cancel.
 */
import type { FakeController } from './controller.ts'
import { PODS } from './controller.ts'
import { TASKRUNS, TASKS, type FakeKubernetes } from './server.ts'
import type { KubeObject, ObjectStore, StoreEvent } from './store.ts'
import { kubeNow } from './store.ts'

export interface FunctionRun {
  namespace: string
  taskRun: KubeObject
  task: KubeObject
  /** the step's environment: its env plus the Http_* variables of the call */
  env: Record<string, string>
  body: Buffer
  /** secret name → value, as mounted at /var/openfaas/secrets/NAME */
  secrets: Record<string, string>
  /** the pod's name, for tests that append log lines while the run is under way */
  pod: string
}

export interface FunctionResult {
  stdout?: string | Buffer
  stderr?: string[]
  exitCode?: number
}

/** The function image: returns what the step did; a promise that never settles is a hang. */
export type FunctionHandler = (run: FunctionRun) => FunctionResult | Promise<FunctionResult>

export const echoHandler: FunctionHandler = (run) => ({ stdout: run.body, stderr: [`handled ${run.env.Http_Method ?? ''} ${run.env.Http_Path ?? ''} ${run.body.toString('utf8')}`] })

export interface FakeTektonOptions {
  /** Pending → Running, and Running → the handler's start */
  stepDelayMs?: number
  handler?: FunctionHandler
}

const CONDITION_RUNNING = { type: 'Succeeded', status: 'Unknown', reason: 'Running', message: 'Not all Steps in the Task have finished executing' }

function parseDuration (text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = /^(\d+)s$/.exec(text)
  return m === null ? undefined : Number(m[1]) * 1000
}

export class FakeTekton {
  handler: FunctionHandler
  /** TaskRuns that were cancelled (namespace/name) */
  readonly cancelled: string[] = []
  /** every change of the number of a function's TaskRuns under way (created, not yet finished or deleted) */
  readonly history: Array<{ at: number, namespace: string, fn: string, running: number }> = []
  /** namespace/function → its TaskRuns under way */
  private readonly active = new Map<string, Set<string>>()
  private readonly fake: FakeKubernetes
  private readonly store: ObjectStore
  private readonly controller: FakeController
  private readonly stepDelayMs: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly finished = new Set<string>()
  private closed = false

  constructor (fake: FakeKubernetes, opts: FakeTektonOptions = {}) {
    this.fake = fake
    this.store = fake.store
    this.controller = fake.controller
    this.stepDelayMs = opts.stepDelayMs ?? 10
    this.handler = opts.handler ?? echoHandler
    this.store.events.on('change', this.onChange)
  }

  close (): void {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.store.events.off('change', this.onChange)
  }

  /** TaskRuns of a function, oldest first. */
  taskRuns (namespace: string, fn?: string): KubeObject[] {
    return this.store.list(TASKRUNS, namespace)
      .filter((r) => fn === undefined || r.metadata.labels?.faas_function === fn)
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion))
  }

  /** The most TaskRuns of the function under way at once, by the history. */
  peakRunning (namespace: string, fn: string): number {
    return this.history.filter((h) => h.namespace === namespace && h.fn === fn).reduce((m, h) => Math.max(m, h.running), 0)
  }

  private track (run: KubeObject, under: boolean): void {
    const ns = run.metadata.namespace as string
    const fn = String(run.metadata.labels?.faas_function ?? '')
    const key = `${ns}/${fn}`
    const set = this.active.get(key) ?? new Set<string>()
    const had = set.has(run.metadata.name)
    if (had === under) return
    if (under) set.add(run.metadata.name)
    else set.delete(run.metadata.name)
    this.active.set(key, set)
    this.history.push({ at: Date.now(), namespace: ns, fn, running: set.size })
  }

  private later (ms: number, fn: () => void): void {
    if (this.closed) return
    const t = setTimeout(() => { this.timers.delete(t); if (!this.closed) fn() }, ms)
    t.unref()
    this.timers.add(t)
  }

  private readonly onChange = (ev: StoreEvent): void => {
    if (ev.resource !== TASKRUNS) return
    const ns = ev.object.metadata.namespace as string
    const name = ev.object.metadata.name
    const key = `${ns}/${name}`
    if (ev.type === 'ADDED') {
      this.track(ev.object, true)
      this.later(this.stepDelayMs, () => { this.start(ns, name) })
      const limit = parseDuration(ev.object.spec?.timeout)
      if (limit !== undefined) this.later(limit, () => { this.finish(ns, name, { status: 'False', reason: 'TaskRunTimeout', message: `TaskRun "${name}" failed to finish within "${String(ev.object.spec?.timeout)}"` }) })
    } else if (ev.type === 'MODIFIED' && ev.object.spec?.status === 'TaskRunCancelled' && !this.finished.has(key)) {
      this.cancelled.push(key)
      this.finish(ns, name, { status: 'False', reason: 'TaskRunCancelled', message: `TaskRun "${name}" was cancelled. ${String(ev.object.spec?.statusMessage ?? '')}`.trim() })
    } else if (ev.type === 'DELETED') {
      this.track(ev.object, false)
      this.finished.add(key)
      const pod = `${name}-pod`
      if (this.store.get(PODS, ns, pod) !== undefined) this.store.delete(PODS, 'pods', ns, pod)
    }
  }

  private writeStatus (ns: string, name: string, status: Record<string, unknown>): void {
    const run = this.store.get(TASKRUNS, ns, name)
    if (run === undefined) return
    this.store.update(TASKRUNS, 'taskruns.tekton.dev', { ...run, status: { ...(run.status ?? {}), ...status } }, true)
  }

  private setPodPhase (ns: string, pod: string, phase: string, exitCode?: number): void {
    const p = this.store.get(PODS, ns, pod)
    if (p === undefined) return
    const statuses = (p.spec?.containers ?? []).map((c: { name: string, image: string }) => ({
      name: c.name,
      image: c.image,
      ready: phase === 'Running',
      restartCount: 0,
      state: phase === 'Running' ? { running: { startedAt: kubeNow() } } : { terminated: { exitCode: exitCode ?? 0, reason: (exitCode ?? 0) === 0 ? 'Completed' : 'Error', finishedAt: kubeNow() } }
    }))
    this.store.update(PODS, 'pods', { ...p, status: { ...p.status, phase, containerStatuses: statuses } }, true)
    if (phase !== 'Running') this.controller.endPodLogs(ns, pod)
  }

  private finish (ns: string, name: string, cond: { status: string, reason: string, message: string }, extra: Record<string, unknown> = {}, exitCode?: number): void {
    const key = `${ns}/${name}`
    if (this.finished.has(key)) return
    this.finished.add(key)
    const run = this.store.get(TASKRUNS, ns, name)
    if (run !== undefined) this.track(run, false)
    const pod = `${name}-pod`
    this.setPodPhase(ns, pod, cond.status === 'True' ? 'Succeeded' : 'Failed', exitCode ?? (cond.status === 'True' ? 0 : 1))
    this.writeStatus(ns, name, { completionTime: kubeNow(), conditions: [{ type: 'Succeeded', ...cond, lastTransitionTime: kubeNow() }], ...extra })
  }

  private start (ns: string, name: string): void {
    const key = `${ns}/${name}`
    const run = this.store.get(TASKRUNS, ns, name)
    if (run === undefined || this.finished.has(key)) return
    const task = this.store.get(TASKS, ns, run.spec?.taskRef?.name ?? '')
    if (task === undefined) {
      this.finish(ns, name, { status: 'False', reason: 'TaskRunResolutionFailed', message: `tasks.tekton.dev "${String(run.spec?.taskRef?.name)}" not found` })
      return
    }
    const binding = (run.spec?.workspaces ?? []).find((w: { name: string }) => w.name === 'request')
    const cm = this.store.get('configmaps', ns, binding?.configMap?.name ?? '')
    if (cm === undefined) {
      this.finish(ns, name, { status: 'False', reason: 'CreateContainerConfigError', message: `configmap "${String(binding?.configMap?.name)}" not found` })
      return
    }
    const steps: Array<{ name: string, image: string, env?: Array<{ name: string, value?: string }> }> = task.spec?.steps ?? []
    const pod = `${name}-pod`
    this.store.create(PODS, 'pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod,
        namespace: ns,
        labels: { ...(task.metadata.labels ?? {}), ...(run.metadata.labels ?? {}), 'tekton.dev/taskRun': name, 'tekton.dev/task': task.metadata.name, 'app.kubernetes.io/managed-by': 'tekton-pipelines' },
        annotations: { ...(task.metadata.annotations ?? {}), ...(run.metadata.annotations ?? {}) },
        ownerReferences: [{ apiVersion: 'tekton.dev/v1', kind: 'TaskRun', name, uid: run.metadata.uid, controller: true }]
      },
      spec: { containers: steps.map((s) => ({ name: `step-${s.name}`, image: s.image, env: s.env })), nodeName: 'fake-node-1', ...(run.spec?.podTemplate ?? {}) },
      status: { phase: 'Pending' }
    })
    this.controller.trackPodLog(ns, pod)
    this.writeStatus(ns, name, { podName: pod, startTime: kubeNow(), conditions: [{ ...CONDITION_RUNNING, lastTransitionTime: kubeNow() }] })
    this.later(this.stepDelayMs, () => { this.runStep(ns, name, task, run, cm, pod) })
  }

  private runStep (ns: string, name: string, task: KubeObject, run: KubeObject, cm: KubeObject, pod: string): void {
    if (this.finished.has(`${ns}/${name}`)) return
    this.setPodPhase(ns, pod, 'Running')
    const step = (task.spec?.steps ?? [])[0] as { env?: Array<{ name: string, value?: string }> }
    const env: Record<string, string> = {}
    for (const e of step.env ?? []) env[e.name] = e.value ?? ''
    for (const line of String(cm.data?.['headers.env'] ?? '').split('\n')) {
      const i = line.indexOf('=')
      if (i > 0) env[line.slice(0, i)] = line.slice(i + 1)
    }
    const secrets: Record<string, string> = {}
    for (const v of task.spec?.volumes ?? []) {
      for (const src of v.projected?.sources ?? []) {
        const s = this.store.get('secrets', ns, src.secret?.name ?? '')
        for (const [k, val] of Object.entries(s?.data ?? {})) secrets[k] = Buffer.from(val, 'base64').toString('utf8')
      }
    }
    const body = Buffer.from(String((cm.binaryData as Record<string, string> | undefined)?.body ?? ''), 'base64')
    void (async () => {
      let result: FunctionResult
      try {
        result = await this.handler({ namespace: ns, taskRun: run, task, env, body, secrets, pod })
      } catch (err) {
        result = { stderr: [`handler threw: ${(err as Error).message}`], exitCode: 1 }
      }
      if (this.closed || this.finished.has(`${ns}/${name}`)) return
      this.complete(ns, name, pod, env, result)
    })()
  }

  private complete (ns: string, name: string, pod: string, env: Record<string, string>, result: FunctionResult): void {
    const log = (text: string, container?: string): void => { this.fake.appendLog(ns, pod, text, undefined, container) }
    for (const line of result.stderr ?? []) log(line)
    const stdout = Buffer.isBuffer(result.stdout) ? result.stdout : Buffer.from(result.stdout ?? '', 'utf8')
    const code = result.exitCode ?? 0
    const size = { name: 'size', type: 'string', value: String(stdout.length) }
    if (code !== 0) {
      log(`faas-bridge: fprocess exited with code ${code}`)
      this.finish(ns, name, { status: 'False', reason: 'Failed', message: `"step-function" exited with code ${code}` }, {
        results: [size],
        steps: [{ name: 'function', container: 'step-function', terminated: { exitCode: code, reason: 'Error' } }, { name: 'response', container: 'step-response', terminated: { exitCode: 1, reason: 'Skipped' } }]
      }, code)
      return
    }
    const limit = Number(env.FAAS_BRIDGE_RESULT_LIMIT ?? '3072')
    const results = [size]
    if (stdout.length <= limit) {
      results.push({ name: 'body', type: 'string', value: stdout.toString('utf8') }, { name: 'delivery', type: 'string', value: 'inline' })
    } else {
      results.push({ name: 'delivery', type: 'string', value: 'log' })
      const text = stdout.toString('utf8')
      for (const line of (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n')) log(line, 'step-response')
    }
    this.finish(ns, name, { status: 'True', reason: 'Succeeded', message: 'All Steps have completed executing' }, {
      results,
      steps: [{ name: 'function', container: 'step-function', terminated: { exitCode: 0, reason: 'Completed' } }, { name: 'response', container: 'step-response', terminated: { exitCode: 0, reason: 'Completed' } }]
    })
  }
}

export function startFakeTekton (fake: FakeKubernetes, opts: FakeTektonOptions = {}): FakeTekton {
  return new FakeTekton(fake, opts)
}
