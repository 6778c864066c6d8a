/*
 * Load per function, measured by the provider's own invoke proxy. The proxy bumps plain counters
 * (src/proxy/invoker.ts LoadCounter: no allocation, no timer per request); the autoscaler samples
 * them once per tick and turns the samples into a rate and a mean concurrency over its window.
 */
import type { LoadCounter, LoadSource } from '../proxy/invoker.ts'
import type { Load } from './policy.ts'

/** namespace → name → counters. Only functions the autoscaler has seen get counters (bounded). */
export class LoadMeter implements LoadSource {
  private readonly byNamespace = new Map<string, Map<string, LoadCounter>>()

  /** the hot path: two map lookups, nothing allocated */
  counter (namespace: string, name: string): LoadCounter | undefined {
    return this.byNamespace.get(namespace)?.get(name)
  }

  track (namespace: string, name: string): LoadCounter {
    let names = this.byNamespace.get(namespace)
    if (names === undefined) {
      names = new Map()
      this.byNamespace.set(namespace, names)
    }
    let c = names.get(name)
    if (c === undefined) {
      c = { inflight: 0, completed: 0, ok: 0, busySeconds: 0 }
      names.set(name, c)
    }
    return c
  }

  untrack (namespace: string, name: string): void {
    const names = this.byNamespace.get(namespace)
    if (names === undefined) return
    names.delete(name)
    if (names.size === 0) this.byNamespace.delete(namespace)
  }
}

interface Sample { at: number, ok: number, completed: number, busy: number }

/** A function's samples over the rate window (one per tick, so at most window/interval + 2). */
export class LoadWindow {
  private samples: Sample[] = []
  private readonly windowMs: number

  constructor (windowMs: number) {
    this.windowMs = windowMs
  }

  /** Takes a sample of `c` at `now`; the load over the window, and whether anything happened since the last sample. */
  sample (now: number, c: LoadCounter): { load: Load, active: boolean } {
    const last = this.samples[this.samples.length - 1]
    const active = c.inflight > 0 || (last !== undefined && c.completed !== last.completed)
    this.samples.push({ at: now, ok: c.ok, completed: c.completed, busy: c.busySeconds })
    // keep one sample at or before the window's start as the base
    while (this.samples.length > 2 && (this.samples[1] as Sample).at <= now - this.windowMs) this.samples.shift()
    const base = this.samples[0] as Sample
    const span = (now - base.at) / 1000
    const rps = span > 0 ? Math.max(0, c.ok - base.ok) / span : 0
    const mean = span > 0 ? Math.max(0, c.busySeconds - base.busy) / span : 0
    return { load: { rps, concurrency: Math.max(mean, c.inflight), inflight: c.inflight }, active }
  }

  /** forget the history (the function was woken or replaced) */
  reset (): void {
    this.samples = []
  }
}
