/*
 * Waiting for calls' TaskRuns to end through the namespace's TaskRun informer (cache.ts) instead
 * of one ?watch stream and one GET per run (runs.ts waitForTaskRun): with 100 calls under way
 * that is one watch per namespace instead of 100. The informer's events settle the waiters:
 *
 *  - the run is in the cache and its Succeeded condition is True or False: resolved with it;
 *  - the run left the cache (a DELETED event, or a re-list without it after it was seen, or a
 *    re-list or event at or past the run's own resourceVersion that lacks it): rejected, as the
 *    per-run watch rejects a deleted run.
 *
 * While the namespace's cache cannot be trusted (not synced yet, or its watch down longer than
 * the staleness bound) a new wait goes to the per-run watch at once, and waits already under way
 * are handed over to it (checked every CHECK_MS); each such hand-over is counted as a fallback.
 */
import type { Informer } from '../kubernetes/common/informer.ts'
import { resourceVersionAtLeast } from '../kubernetes/common/informer.ts'
import { deleted } from './runs.ts'
import { isDone, type TaskRun } from './tekton-types.ts'

/** how often waits under way check that their cache may still answer */
export const CHECK_MS = 250

interface Waiter {
  namespace: string
  name: string
  /** the resourceVersion the run was created with */
  createdRv: string | undefined
  seen: boolean
  resolve: (run: TaskRun) => void
  reject: (err: unknown) => void
  /** the per-run watch, when the cache stopped being trusted */
  handOver: () => void
}

export class TaskRunWaiter {
  private readonly informer: (namespace: string) => Informer<TaskRun> | undefined
  private readonly onFallback: (namespace: string) => void
  private readonly waiters = new Map<string, Set<Waiter>>()
  private readonly listening = new Set<Informer<TaskRun>>()
  private timer: NodeJS.Timeout | undefined

  constructor (informer: (namespace: string) => Informer<TaskRun> | undefined, onFallback: (namespace: string) => void) {
    this.informer = informer
    this.onFallback = onFallback
  }

  /** Waits for the end of run `name` from the cache; through `perRun` (one watch of that run) when the cache may not answer. */
  async wait (namespace: string, name: string, createdRv: string | undefined, signal: AbortSignal, perRun: () => Promise<TaskRun>): Promise<TaskRun> {
    const inf = this.informer(namespace)
    if (inf === undefined) return await perRun()
    if (!inf.fresh()) {
      this.onFallback(namespace)
      return await perRun()
    }
    this.listen(inf, namespace)
    signal.throwIfAborted()
    return await new Promise<TaskRun>((resolve, reject) => {
      const key = `${namespace}/${name}`
      const settle = (): void => {
        signal.removeEventListener('abort', onAbort)
        const set = this.waiters.get(key)
        set?.delete(w)
        if (set?.size === 0) this.waiters.delete(key)
        if (this.waiters.size === 0 && this.timer !== undefined) {
          clearInterval(this.timer)
          this.timer = undefined
        }
      }
      const onAbort = (): void => { settle(); reject(signal.reason) }
      const w: Waiter = {
        namespace,
        name,
        createdRv,
        seen: false,
        resolve: (run) => { settle(); resolve(run) },
        reject: (err) => { settle(); reject(err) },
        handOver: () => {
          settle()
          this.onFallback(namespace)
          perRun().then(resolve, reject)
        }
      }
      signal.addEventListener('abort', onAbort, { once: true })
      let set = this.waiters.get(key)
      if (set === undefined) this.waiters.set(key, set = new Set())
      set.add(w)
      if (this.timer === undefined) {
        this.timer = setInterval(() => { this.checkFresh() }, CHECK_MS)
        this.timer.unref()
      }
      this.evaluate(inf, w)
    })
  }

  private listen (inf: Informer<TaskRun>, namespace: string): void {
    if (this.listening.has(inf)) return
    this.listening.add(inf)
    inf.on((type, obj) => {
      if (type === 'RESYNC') {
        for (const [key, set] of [...this.waiters]) if (key.startsWith(`${namespace}/`)) for (const w of [...set]) this.evaluate(inf, w)
        return
      }
      const set = this.waiters.get(`${namespace}/${obj?.metadata?.name ?? ''}`)
      if (set !== undefined) for (const w of [...set]) this.evaluate(inf, w)
    })
  }

  private evaluate (inf: Informer<TaskRun>, w: Waiter): void {
    const run = inf.get(w.name)
    if (run !== undefined) {
      w.seen = true
      if (isDone(run)) w.resolve(run)
      return
    }
    // events come in resourceVersion order: a cache at or past the run's creation has seen it
    const past = w.createdRv !== undefined && resourceVersionAtLeast(inf.resourceVersion, w.createdRv) === true
    if (w.seen || past) w.reject(deleted(w.name))
  }

  private checkFresh (): void {
    for (const set of [...this.waiters.values()]) {
      for (const w of [...set]) {
        if (this.informer(w.namespace)?.fresh() !== true) w.handOver()
      }
    }
  }
}
