/*
 * TaskRun cleanup: after a call ends, the function's finished TaskRuns beyond the newest
 * `keepTaskRuns` (by when their calls started them) are deleted (Tekton's pods go with them through their owner references). Runs
 * still under way are never touched. Request ConfigMaps whose run has finished, or that are
 * older than read_timeout plus a margin and have no run (a provider that stopped between the two
 * creates), are deleted too. One pass per function at a time; a pass asked for meanwhile runs
 * once after it. Failures are logged, never thrown: cleanup must not fail a call.
 */
import type { V1ConfigMap } from '@kubernetes/client-node'
import type { DriverContext } from '../../src/core/driver.ts'
import { isKubeCode, kubeCall, toProviderError } from '../kubernetes/common/errors.ts'
import { FUNCTION_LABEL } from '../kubernetes/common/function-spec.ts'
import type { Label } from '../kubernetes/common/secrets.ts'
import { ANNOTATIONS, ROLE_LABEL, ROLE_REQUEST } from './mapping.ts'
import { TASKRUNS_RESOURCE, type RunClients } from './runs.ts'
import { isDone, TASKRUNS, TEKTON_GROUP, TEKTON_VERSION, type TaskRun, type TaskRunList } from './tekton-types.ts'

export interface CleanupSettings {
  keepTaskRuns: number
  managedBy: Label
  /** a request ConfigMap without a TaskRun older than this is an orphan */
  orphanAfterMs: number
}

/** ms since the epoch; custom objects carry strings where the typed clients give Dates */
function timeOf (t: Date | string | undefined): number {
  const ms = t instanceof Date ? t.getTime() : Date.parse(t ?? '')
  return Number.isNaN(ms) ? 0 : ms
}

/** newest first: by when the call started the run (ms), then creationTimestamp, then name */
function newestFirst (a: TaskRun, b: TaskRun): number {
  const started = (r: TaskRun): number => timeOf(r.metadata?.annotations?.[ANNOTATIONS.startedAt] ?? r.metadata?.creationTimestamp)
  return started(b) - started(a) || timeOf(b.metadata?.creationTimestamp) - timeOf(a.metadata?.creationTimestamp) ||
    (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '')
}

export async function listRuns (clients: RunClients, namespace: string, selector: string): Promise<TaskRun[]> {
  const res = await kubeCall({ verb: 'list', resource: TASKRUNS_RESOURCE, namespace },
    async () => await clients.custom.listNamespacedCustomObject({ group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKRUNS, labelSelector: selector }) as TaskRunList)
  return res.items ?? []
}

export async function deleteRun (clients: RunClients, namespace: string, name: string): Promise<void> {
  try {
    await clients.custom.deleteNamespacedCustomObject({ group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural: TASKRUNS, name, propagationPolicy: 'Background' })
  } catch (err) {
    if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'delete', resource: TASKRUNS_RESOURCE, namespace, name })
  }
}

export async function listRequestConfigMaps (clients: RunClients, namespace: string, fnSelector: string): Promise<V1ConfigMap[]> {
  const res = await kubeCall({ verb: 'list', resource: 'configmaps', namespace },
    async () => await clients.core.listNamespacedConfigMap({ namespace, labelSelector: `${fnSelector},${ROLE_LABEL}=${ROLE_REQUEST}` }))
  return res.items
}

export async function deleteConfigMap (clients: RunClients, namespace: string, name: string): Promise<void> {
  try {
    await clients.core.deleteNamespacedConfigMap({ name, namespace })
  } catch (err) {
    if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'delete', resource: 'configmaps', namespace, name })
  }
}

export class TaskRunJanitor {
  private readonly clients: RunClients
  private readonly settings: CleanupSettings
  private readonly logger: DriverContext['logger']
  /** function key → a pass is running; true = another pass was asked for meanwhile */
  private readonly running = new Map<string, boolean>()
  private readonly passes = new Set<Promise<void>>()

  constructor (clients: RunClients, settings: CleanupSettings, logger: DriverContext['logger']) {
    this.clients = clients
    this.settings = settings
    this.logger = logger
  }

  selector (fn: string): string {
    return `${FUNCTION_LABEL}=${fn},${this.settings.managedBy.key}=${this.settings.managedBy.value}`
  }

  /** Asks for a pass over `fn`'s TaskRuns (returns at once). */
  schedule (namespace: string, fn: string): void {
    const key = `${namespace}/${fn}`
    if (this.running.has(key)) {
      this.running.set(key, true)
      return
    }
    this.running.set(key, false)
    const pass = (async () => {
      // at most two passes back to back: one asked for during a pass runs after it, later asks start anew
      for (let i = 0; i < 2; i++) {
        try {
          await this.prune(namespace, fn)
        } catch (err) {
          this.logger.warn({ err: (err as Error).message, function: fn, namespace }, 'TaskRun cleanup failed')
        }
        if (this.running.get(key) !== true) break
        this.running.set(key, false)
      }
      this.running.delete(key)
    })()
    this.passes.add(pass)
    void pass.finally(() => { this.passes.delete(pass) })
  }

  /** Deletes finished TaskRuns beyond the newest keepTaskRuns, and request ConfigMaps no run needs. */
  async prune (namespace: string, fn: string): Promise<void> {
    const selector = this.selector(fn)
    const runs = await listRuns(this.clients, namespace, selector)
    const finished = runs.filter(isDone).sort(newestFirst)
    for (const run of finished.slice(this.settings.keepTaskRuns)) await deleteRun(this.clients, namespace, run.metadata?.name ?? '')
    const byName = new Map(runs.map((r) => [r.metadata?.name ?? '', r]))
    const now = Date.now()
    for (const cm of await listRequestConfigMaps(this.clients, namespace, selector)) {
      const name = cm.metadata?.name ?? ''
      const run = byName.get(name)
      const age = now - timeOf(cm.metadata?.creationTimestamp)
      if ((run !== undefined && isDone(run)) || (run === undefined && age > this.settings.orphanAfterMs)) await deleteConfigMap(this.clients, namespace, name)
    }
  }

  /** Waits for passes under way (close, tests). */
  async idle (): Promise<void> {
    for (let i = 0; i < 10 && this.passes.size > 0; i++) await Promise.allSettled([...this.passes])
  }
}
