/*
 * The reconciler: makes the backends hold what declarative sources declare. Each pass reads every
 * source, lists the namespaces concerned, and for each declared function deploys it (missing),
 * updates it (drifted from its declaration, e.g. changed through the API) or leaves it (in sync).
 * It calls the same Driver methods the API does, so a driver never knows who called. Rules:
 *  - only functions carrying this source's annotation are ever changed; a declared function that
 *    exists without it is a conflict, reported and left alone;
 *  - a function the source stops declaring is removed only when the source says prune, and only
 *    on a pass that read the whole source;
 *  - a bad entry or a failing function is reported (log, /metrics, report()) and never blocks others;
 *  - writes are rate-bounded (a token bucket over all sources) and a failing function is retried
 *    with exponential backoff;
 *  - with several provider replicas only the leader acts (isLeader).
 */
import { isProviderError } from '../core/errors.ts'
import type { Backends } from '../core/backends.ts'
import type { FunctionStatus } from '../core/types.ts'
import { drift, managedBy, managedSpec, SOURCE_ANNOTATION, type DeclarativeSource, type DesiredFunction, type SourceProblem } from './desired.ts'

export const DEFAULT_ACTIONS_PER_SECOND = 5
export const DEFAULT_BACKOFF_BASE_MS = 1_000
export const DEFAULT_BACKOFF_MAX_MS = 5 * 60_000

export type FunctionState = 'in-sync' | 'created' | 'updated' | 'removed' | 'failed' | 'conflict' | 'orphaned'
export type Action = 'create' | 'update' | 'remove'

export interface FunctionReport {
  namespace: string
  name: string
  state: FunctionState
  /** why, for failed / conflict / orphaned, and the drifted fields for updated */
  message?: string
  /** the declaring entry (DesiredFunction.where); absent for orphans */
  where?: string
  /** available replicas the backend reported, when the function was found in sync */
  replicas?: number
}

export interface SourceReport {
  source: string
  functions: FunctionReport[]
  problems: SourceProblem[]
  /** ms since the epoch of the last finished pass */
  lastPass?: number
}

interface Logger {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
}

export interface ReconcilerOptions {
  backends: Backends
  sources: DeclarativeSource[]
  logger: Logger
  resyncMs: number
  actionsPerSecond?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** only the leader reconciles; a single process always leads */
  isLeader?: () => boolean
  /** injectable clock and sleep (tests) */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** every action taken, for /metrics */
  onAction?: (labels: { source: string, action: Action, ok: boolean }) => void
}

interface Failure { attempts: number, retryAt: number, message: string }

/** stop() came: the pass ends before its next write */
class Stopped extends Error {}

/** A token bucket: `rate` writes a second, bursts up to `rate`. */
class RateBound {
  private readonly rate: number
  private readonly now: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private tokens: number
  private last: number
  constructor (rate: number, now: () => number, sleep: (ms: number) => Promise<void>) {
    this.rate = rate
    this.now = now
    this.sleep = sleep
    this.tokens = rate
    this.last = now()
  }

  async take (): Promise<void> {
    for (;;) {
      const t = this.now()
      this.tokens = Math.min(this.rate, this.tokens + ((t - this.last) / 1000) * this.rate)
      this.last = t
      if (this.tokens >= 1) { this.tokens -= 1; return }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.rate) * 1000))
    }
  }
}

export class Reconciler {
  private readonly opts: ReconcilerOptions
  private readonly now: () => number
  private readonly rate: RateBound
  private readonly failures = new Map<string, Failure>()
  private readonly reports = new Map<string, SourceReport>()
  /**
   * ns/name of the functions each source deployed or saw carrying its marker in this process's life:
   * a redeploy through the API (faas-cli sends its own annotations) drops the marker, and that is
   * drift to correct, not a foreign function
   */
  private readonly owned = new Map<string, Set<string>>()
  /** namespaces where a source's functions were seen, so prune finds them without listing everything */
  private readonly seenIn = new Map<string, Set<string>>()
  private timer: NodeJS.Timeout | undefined
  private unwatch: Array<() => void> = []
  private running: Promise<void> | undefined
  private again = false
  private stopped = false

  constructor (opts: ReconcilerOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    const sleep = opts.sleep ?? (async (ms: number) => { await new Promise((resolve) => setTimeout(resolve, ms)) })
    this.rate = new RateBound(opts.actionsPerSecond ?? DEFAULT_ACTIONS_PER_SECOND, this.now, sleep)
  }

  /** A pass now, then every resync period and whenever a source reports a change. */
  start (): void {
    this.stopped = false
    for (const s of this.opts.sources) {
      if (s.watch !== undefined) this.unwatch.push(s.watch(() => { this.trigger() }))
    }
    const tick = (): void => {
      this.trigger()
      this.timer = setTimeout(tick, this.opts.resyncMs)
      this.timer.unref()
    }
    tick()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    for (const u of this.unwatch) u()
    this.unwatch = []
    await this.running
  }

  /** Runs a pass unless one is under way, in which case one more follows it. */
  trigger (): void {
    if (this.stopped) return
    if (this.running !== undefined) { this.again = true; return }
    this.running = (async () => {
      try {
        do {
          this.again = false
          await this.pass()
        } while (this.again && !this.stopped)
      } finally {
        this.running = undefined
      }
    })()
  }

  /** What each source declared and what became of it on the last pass. */
  report (): SourceReport[] {
    return this.opts.sources.map((s) => this.reports.get(s.id) ?? { source: s.id, functions: [], problems: [] })
  }

  /** One pass over every source (exported for tests; start() runs it on its own). */
  async pass (): Promise<void> {
    if (this.opts.isLeader !== undefined && !this.opts.isLeader()) return
    for (const source of this.opts.sources) {
      try {
        const report = await this.reconcile(source)
        this.reports.set(source.id, report)
        await source.onReport?.(report)
      } catch (err) {
        if (err instanceof Stopped) return
        // a source that cannot be handled at all is reported; the other sources go on
        this.opts.logger.warn({ source: source.id, err: (err as Error).message }, 'reconcile: pass failed')
      }
    }
  }

  private async reconcile (source: DeclarativeSource): Promise<SourceReport> {
    const { backends, logger } = this.opts
    const desired = await source.read()
    const problems: SourceProblem[] = [...desired.problems]
    const functions: FunctionReport[] = []
    for (const p of desired.problems) logger.warn({ source: source.id, problem: p.message }, 'reconcile: entry skipped')

    // namespaces to list: those declared, those we saw our functions in, and on the first pass (or
    // when pruning after a restart) every served namespace
    const byNamespace = new Map<string, DesiredFunction[]>()
    for (const fn of desired.functions) {
      if (backends.lookup(fn.namespace) === undefined) {
        const message = `${fn.where}: namespace "${fn.namespace}" is not served by this provider (known: ${backends.namespaces().join(', ')})`
        problems.push({ where: fn.where, message })
        logger.warn({ source: source.id, problem: message }, 'reconcile: entry skipped')
        continue
      }
      byNamespace.set(fn.namespace, [...(byNamespace.get(fn.namespace) ?? []), fn])
    }
    let owned = this.owned.get(source.id)
    if (owned === undefined) {
      owned = new Set()
      this.owned.set(source.id, owned)
    }
    let seen = this.seenIn.get(source.id)
    if (seen === undefined) {
      seen = new Set(source.prune ? backends.namespaces() : [])
      this.seenIn.set(source.id, seen)
    }
    const namespaces = new Set([...byNamespace.keys(), ...seen])

    for (const ns of [...namespaces].sort()) {
      const { backend } = backends.resolve(ns)
      let existing: FunctionStatus[]
      try {
        existing = await backend.driver.list(ns)
      } catch (err) {
        const message = `namespace "${ns}": cannot list its functions: ${(err as Error).message}`
        problems.push({ where: ns, message })
        logger.warn({ source: source.id, namespace: ns, err: (err as Error).message }, 'reconcile: list failed; namespace skipped')
        continue
      }
      const current = new Map(existing.map((f) => [f.name, f]))
      for (const f of existing) if (managedBy(f) === source.id) owned.add(`${ns}/${f.name}`)
      for (const key of owned) if (key.startsWith(`${ns}/`) && !current.has(key.slice(ns.length + 1))) owned.delete(key)
      const wanted = byNamespace.get(ns) ?? []
      for (const fn of wanted) {
        if (fn.remove === true) {
          functions.push(await this.removeDeclared(source, fn, current.get(fn.spec.service), owned))
          continue
        }
        const r = await this.converge(source, fn, current.get(fn.spec.service), owned.has(`${ns}/${fn.spec.service}`))
        if (r.state === 'created') owned.add(`${ns}/${fn.spec.service}`)
        functions.push({ ...r, where: fn.where })
      }

      const ours = existing.filter((f) => owned.has(`${ns}/${f.name}`))
      // look here again on later passes, to notice what the source stops declaring
      if (ours.length > 0 || wanted.length > 0) seen.add(ns)
      const wantedNames = new Set(wanted.map((f) => f.spec.service))
      for (const f of ours) {
        if (wantedNames.has(f.name) || desired.declared.has(f.name)) continue
        if (!source.prune) {
          functions.push({ namespace: ns, name: f.name, state: 'orphaned', message: 'no longer declared; kept because prune is off' })
          continue
        }
        if (!desired.complete) {
          functions.push({ namespace: ns, name: f.name, state: 'orphaned', message: 'no longer declared, but part of the source could not be read: not pruned on this pass' })
          continue
        }
        const r = await this.act(source, 'remove', ns, f.name, async () => { await backend.driver.remove(ns, f.name) }, 'removed', 'no longer declared (prune)')
        if (r.state === 'removed') owned.delete(`${ns}/${f.name}`)
        functions.push(r)
      }
    }
    return { source: source.id, functions, problems, lastPass: this.now() }
  }

  /** A removal the source asks for: only a function carrying its marker (or deployed by it in this process) goes. */
  private async removeDeclared (source: DeclarativeSource, fn: DesiredFunction, cur: FunctionStatus | undefined, owned: Set<string>): Promise<FunctionReport> {
    const ns = fn.namespace
    const name = fn.spec.service
    if (cur === undefined) return { namespace: ns, name, state: 'removed', where: fn.where, message: 'already gone' }
    const owner = managedBy(cur)
    if (owner !== source.id && !(owned.has(`${ns}/${name}`) && owner === undefined)) {
      return { namespace: ns, name, state: 'conflict', where: fn.where, message: `function "${name}" in namespace "${ns}" was not deployed by ${source.id}: left in place` }
    }
    const { backend } = this.opts.backends.resolve(ns)
    const r = await this.act(source, 'remove', ns, name, async () => { await backend.driver.remove(ns, name) }, 'removed', 'removal declared')
    if (r.state === 'removed') owned.delete(`${ns}/${name}`)
    return { ...r, where: fn.where }
  }

  private async converge (source: DeclarativeSource, fn: DesiredFunction, cur: FunctionStatus | undefined, owned: boolean): Promise<FunctionReport> {
    const ns = fn.namespace
    const name = fn.spec.service
    const { backend } = this.opts.backends.resolve(ns)
    if (cur === undefined) {
      return await this.act(source, 'create', ns, name, async () => { await backend.driver.deploy(managedSpec(source.id, fn)) }, 'created')
    }
    const owner = managedBy(cur)
    if (owner !== source.id && !(owned && owner === undefined)) {
      const message = owner === undefined
        ? `function "${name}" in namespace "${ns}" exists and was not deployed by ${source.id} (it carries no ${SOURCE_ANNOTATION} annotation): left alone`
        : `function "${name}" in namespace "${ns}" is managed by ${owner}: left alone`
      return { namespace: ns, name, state: 'conflict', message }
    }
    const fields = drift(fn, cur)
    if (fields.length === 0) {
      this.failures.delete(`${source.id}|${ns}/${name}`)
      return { namespace: ns, name, state: 'in-sync', replicas: cur.availableReplicas }
    }
    return await this.act(source, 'update', ns, name, async () => { await backend.driver.update(managedSpec(source.id, fn)) }, 'updated', `drifted: ${fields.join(', ')}`)
  }

  private async act (source: DeclarativeSource, action: Action, ns: string, name: string, call: () => Promise<void>,
    done: FunctionState, why?: string): Promise<FunctionReport> {
    const key = `${source.id}|${ns}/${name}`
    const failure = this.failures.get(key)
    if (failure !== undefined && this.now() < failure.retryAt) {
      return { namespace: ns, name, state: 'failed', message: `${failure.message} (attempt ${failure.attempts}; next try in ${Math.ceil((failure.retryAt - this.now()) / 1000)} s)` }
    }
    await this.rate.take()
    if (this.stopped) throw new Stopped()
    const log = { source: source.id, namespace: ns, function: name, action, ...(why !== undefined ? { why } : {}) }
    try {
      await call()
    } catch (err) {
      const attempts = (failure?.attempts ?? 0) + 1
      const delay = Math.min(this.opts.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS, (this.opts.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS) * 2 ** (attempts - 1))
      const message = `${action} failed: ${isProviderError(err) ? err.message : (err as Error).message}`
      this.failures.set(key, { attempts, retryAt: this.now() + delay, message })
      this.opts.onAction?.({ source: source.id, action, ok: false })
      this.opts.logger.warn({ ...log, err: message, attempts, retryInMs: delay }, 'reconcile: action failed')
      return { namespace: ns, name, state: 'failed', message: `${message} (attempt ${attempts}; next try in ${Math.ceil(delay / 1000)} s)` }
    }
    this.failures.delete(key)
    this.opts.onAction?.({ source: source.id, action, ok: true })
    this.opts.logger.info(log, action === 'update' ? 'reconcile: drift corrected' : `reconcile: function ${done}`)
    return { namespace: ns, name, state: done, ...(why !== undefined ? { message: why } : {}) }
  }
}
