/*
 * An informer: a local cache of one resource in one namespace (optionally label-selected), kept
 * current by LIST then WATCH from the list's resourceVersion, as "API Concepts" describes
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
 *
 *  - every event (and every BOOKMARK, asked for with allowWatchBookmarks=true, "Watch bookmarks")
 *    advances the resourceVersion a reconnect resumes from, so a dropped or timed-out watch
 *    resumes without a LIST;
 *  - 410 Gone (an HTTP 410 answer, or the ERROR event with a 410 Status the API server sends
 *    from its watch cache, "410 Gone responses") means the version is compacted away: LIST again
 *    and replace the cache, deleting what the new list lacks;
 *  - a failed LIST or WATCH (refused, reset, 5xx, 429) is retried with capped exponential backoff.
 *
 * Written on watch-stream.ts (the pooled keep-alive 'streams' connections) rather than
 * @kubernetes/client-node's ListWatch (cache.ts, 2.0.1), which stops for good on any watch error
 * other than 410 (a reset connection or an unreachable API server ends it), does not ask for
 * bookmarks, exposes neither whether the cache is synced nor when it last heard from the server
 * (which the staleness bound needs), and opens a new connection for every watch.
 *
 * Reads trust the cache only while it is fresh: synced once, and its watch connected or broken
 * for at most `staleAfterMs`. Writers call expect() after a write so that their own write is
 * read back (read-your-writes): until the cache has seen the write's resourceVersion (or the
 * object's absence after a delete) the object is not trusted and callers read the API.
 * resourceVersions are documented as opaque; they are compared as integers only when both are
 * decimal integers (as every etcd-backed API server issues them), otherwise never trusted early.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { KubeConfig } from '@kubernetes/client-node'
import { watchStream } from './watch-stream.ts'

export interface KubeListed<T> {
  metadata?: { resourceVersion?: string }
  items: T[]
}

export interface NamedObject {
  metadata?: { name?: string, namespace?: string, resourceVersion?: string }
}

export type InformerState = 'syncing' | 'synced' | 'stale' | 'stopped'

export interface InformerStats {
  /** "deployments.apps", "pods", "endpointslices.discovery.k8s.io" */
  resource: string
  namespace: string
  state: InformerState
  /** the watch is open now */
  connected: boolean
  /** ms since the epoch when the cache was last known current (a LIST, an event, a bookmark, a watch opening) */
  lastSyncAt: number | undefined
  events: number
  bookmarks: number
  relists: number
  /** watches opened after the first */
  reconnects: number
  /** failed LISTs or WATCHes */
  errors: number
  objects: number
  resourceVersion: string
}

/** The bound on how long a disconnected cache is still trusted (status must stay the cluster's truth). */
export const DEFAULT_CACHE_STALE_AFTER_MS = 10_000
/** Reconnect backoff: base · 2^(n-1) up to the cap, with jitter in its upper half. */
export const DEFAULT_WATCH_BACKOFF_BASE_MS = 200
export const DEFAULT_WATCH_BACKOFF_MAX_MS = 10_000
/** After this long an unseen expected write stops holding reads back (a fresh cache is the truth). */
export const DEFAULT_EXPECT_MAX_MS = 30_000

export interface InformerOptions<T> {
  resource: string
  namespace: string
  /** the collection's path, e.g. /apis/apps/v1/namespaces/NS/deployments */
  path: string
  labelSelector?: string
  list: () => Promise<KubeListed<T>>
  config: KubeConfig
  staleAfterMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  expectMaxMs?: number
  now?: () => number
  onError?: (err: unknown, what: 'list' | 'watch') => void
}

interface Expectation {
  /** the write's resourceVersion, or 'gone' after a delete */
  rv: string
  until: number
}

type Listener<T> = (type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'RESYNC', obj: T | undefined) => void

function isStatus410 (obj: unknown): boolean {
  return typeof obj === 'object' && obj !== null && (obj as { code?: unknown }).code === 410
}

function nameOf (obj: NamedObject): string {
  return obj.metadata?.name ?? ''
}

/** a ≥ b as resourceVersions, when both are integers; undefined when they cannot be compared. */
export function resourceVersionAtLeast (a: string, b: string): boolean | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined
  return BigInt(a) >= BigInt(b)
}

export class Informer<T extends NamedObject> {
  readonly resource: string
  readonly namespace: string
  private readonly opts: InformerOptions<T>
  private readonly now: () => number
  private readonly staleAfterMs: number
  private objects = new Map<string, T>()
  private readonly expected = new Map<string, Expectation>()
  private readonly listeners: Array<Listener<T>> = []
  private rv = ''
  /** bumped on every change of the cached objects (an event or a re-list) */
  private changes = 0
  private synced = false
  private connected = false
  /** when the watch broke (undefined while connected or before the first sync) */
  private brokenAt: number | undefined
  private lastSyncAt: number | undefined
  private stopped = false
  private current: AbortController | undefined
  private wake: (() => void) | undefined
  private readonly counts = { events: 0, bookmarks: 0, relists: 0, reconnects: 0, errors: 0 }
  private loop: Promise<void> | undefined
  private readonly syncWaiters: Array<() => void> = []

  constructor (opts: InformerOptions<T>) {
    this.opts = opts
    this.resource = opts.resource
    this.namespace = opts.namespace
    this.now = opts.now ?? Date.now
    this.staleAfterMs = opts.staleAfterMs ?? DEFAULT_CACHE_STALE_AFTER_MS
  }

  start (): void {
    if (this.loop !== undefined) return
    this.loop = this.run()
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.current?.abort()
    this.wake?.()
    await this.loop
    for (const w of this.syncWaiters.splice(0)) w()
  }

  /** Resolves once the first LIST is in (or the informer stopped), or after timeoutMs. */
  async waitForSync (timeoutMs: number): Promise<boolean> {
    if (this.synced) return true
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs)
      timer.unref()
      this.syncWaiters.push(() => { clearTimeout(timer); resolve() })
    })
    return this.synced
  }

  on (listener: Listener<T>): void {
    this.listeners.push(listener)
  }

  /** Synced, and connected or disconnected for at most the bound. */
  fresh (): boolean {
    if (!this.synced || this.stopped) return false
    return this.brokenAt === undefined || this.now() - this.brokenAt <= this.staleAfterMs
  }

  get state (): InformerState {
    if (this.stopped) return 'stopped'
    if (!this.synced) return 'syncing'
    return this.fresh() ? 'synced' : 'stale'
  }

  get resourceVersion (): string {
    return this.rv
  }

  /** Changes whenever the cached objects do: what is derived from them can be kept until then. */
  get version (): number {
    return this.changes
  }

  get (name: string): T | undefined {
    return this.objects.get(name)
  }

  get size (): number {
    return this.objects.size
  }

  list (): T[] {
    return [...this.objects.values()]
  }

  /** After a write of `name`: not trusted until the cache has seen `rv` ('gone' after a delete). */
  expect (name: string, rv: string | undefined): void {
    this.expected.set(name, { rv: rv ?? '', until: this.now() + (this.opts.expectMaxMs ?? DEFAULT_EXPECT_MAX_MS) })
  }

  private satisfied (name: string, e: Expectation): boolean {
    if (this.now() > e.until) return true
    if (e.rv === 'gone') return !this.objects.has(name)
    if (e.rv === '') return false
    const cached = this.objects.get(name)?.metadata?.resourceVersion
    if (cached === e.rv) return true
    return resourceVersionAtLeast(this.rv, e.rv) === true
  }

  /** The cache may answer for `name`: fresh, and no write of it the cache has not seen yet. */
  trusted (name: string): boolean {
    if (!this.fresh()) return false
    const e = this.expected.get(name)
    if (e === undefined) return true
    if (!this.satisfied(name, e)) return false
    this.expected.delete(name)
    return true
  }

  /** The cache may answer for the whole collection. */
  trustedAll (): boolean {
    if (!this.fresh()) return false
    for (const [name, e] of this.expected) {
      if (!this.satisfied(name, e)) return false
      this.expected.delete(name)
    }
    return true
  }

  stats (): InformerStats {
    return {
      resource: this.resource,
      namespace: this.namespace,
      state: this.state,
      connected: this.connected,
      lastSyncAt: this.lastSyncAt,
      ...this.counts,
      objects: this.objects.size,
      resourceVersion: this.rv
    }
  }

  private emit (type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'RESYNC', obj: T | undefined): void {
    for (const l of this.listeners) l(type, obj)
  }

  private markSynced (): void {
    this.lastSyncAt = this.now()
  }

  private async relist (): Promise<void> {
    const listed = await this.opts.list()
    const next = new Map<string, T>()
    for (const o of listed.items) next.set(nameOf(o), o)
    this.objects = next
    this.changes++
    this.rv = listed.metadata?.resourceVersion ?? ''
    this.counts.relists++
    this.synced = true
    this.markSynced()
    for (const w of this.syncWaiters.splice(0)) w()
    this.emit('RESYNC', undefined)
  }

  private onEvent (type: string, obj: unknown): 'gone' | 'error' | undefined {
    if (type === 'ERROR') return isStatus410(obj) ? 'gone' : 'error'
    const o = obj as T
    const rv = o?.metadata?.resourceVersion
    if (type === 'BOOKMARK') {
      this.counts.bookmarks++
    } else if (type === 'ADDED' || type === 'MODIFIED') {
      this.counts.events++
      this.objects.set(nameOf(o), o)
      this.changes++
      this.emit(type, o)
    } else if (type === 'DELETED') {
      this.counts.events++
      this.objects.delete(nameOf(o))
      this.changes++
      this.emit(type, o)
    } else {
      return undefined
    }
    if (rv !== undefined && rv !== '') this.rv = rv
    this.markSynced()
    return undefined
  }

  /** One watch from this.rv until it ends. Resolves 'gone' (re-list), 'ok' (clean end) or 'error'. */
  private async watchOnce (): Promise<{ outcome: 'gone' | 'ok' | 'error', events: number }> {
    let events = 0
    let outcome: 'gone' | 'ok' | 'error' | undefined
    let finish: (() => void) | undefined
    const ended = new Promise<void>((resolve) => { finish = resolve })
    const query: Record<string, string> = { resourceVersion: this.rv, allowWatchBookmarks: 'true' }
    if (this.opts.labelSelector !== undefined) query.labelSelector = this.opts.labelSelector
    const done = (err: unknown): void => {
      if (outcome === undefined) {
        const code = (err as { statusCode?: number, code?: number } | null)?.statusCode ?? (err as { code?: unknown } | null)?.code
        if (code === 410) outcome = 'gone'
        else if (err !== null && err !== undefined && (err as { name?: string }).name !== 'TimeoutError' && (err as { name?: string }).name !== 'AbortError') {
          outcome = 'error'
          this.counts.errors++
          this.opts.onError?.(err, 'watch')
        } else outcome = 'ok'
      }
      finish?.()
    }
    const controller = await watchStream(this.opts.config, this.opts.path, query, (type, obj) => {
      if (outcome !== undefined) return
      const r = this.onEvent(type, obj)
      if (r === undefined) { events++; return }
      outcome = r
      if (r === 'error') this.counts.errors++
      this.current?.abort()
    }, done)
    this.current = controller
    if (outcome === undefined && !controller.signal.aborted) {
      this.connected = true
      this.brokenAt = undefined
      this.markSynced()
    }
    if (this.stopped) controller.abort()
    await ended
    this.connected = false
    this.current = undefined
    return { outcome: outcome ?? 'ok', events }
  }

  private async pause (attempt: number): Promise<void> {
    const base = this.opts.backoffBaseMs ?? DEFAULT_WATCH_BACKOFF_BASE_MS
    const max = this.opts.backoffMaxMs ?? DEFAULT_WATCH_BACKOFF_MAX_MS
    const full = Math.min(max, base * 2 ** Math.max(0, attempt - 1))
    const ms = Math.round(full / 2 + Math.random() * full / 2)
    const ac = new AbortController()
    this.wake = () => { ac.abort() }
    await sleep(ms, undefined, { signal: ac.signal }).catch(() => {})
    this.wake = undefined
  }

  private async run (): Promise<void> {
    let failures = 0
    let watches = 0
    while (!this.stopped) {
      if (this.rv === '') {
        try {
          await this.relist()
        } catch (err) {
          if (this.stopped) break
          this.counts.errors++
          this.opts.onError?.(err, 'list')
          if (this.brokenAt === undefined && this.synced) this.brokenAt = this.now()
          await this.pause(++failures)
          continue
        }
      }
      if (watches++ > 0) this.counts.reconnects++
      const { outcome, events } = await this.watchOnce()
      if (this.stopped) break
      if (this.brokenAt === undefined) this.brokenAt = this.now()
      if (outcome === 'gone') {
        this.rv = ''
        failures = 0
        continue
      }
      if (events > 0) failures = 0
      // a clean end with events (server timeout, rolling API server) reconnects at once; else back off
      if (outcome === 'error' || events === 0) await this.pause(++failures)
    }
    this.connected = false
  }
}
