/*
 * The whole deployment's load per function: this replica's counters plus what every peer reported.
 * Peers' counters are cumulative since each peer started, so they are turned into deltas here
 * (a peer's first report is its baseline; a counter that went down means the peer restarted and
 * counts from 0) and added up into monotonic totals: the rate window (load.ts) then works on the
 * sum exactly as on one process. In flight is the sum of what each peer has in flight now.
 */
import type { FunctionLoad, PeerReport } from '../core/coordination.ts'
import type { LoadCounter } from '../proxy/invoker.ts'

interface Totals { completed: number, ok: number, busySeconds: number }

function key (namespace: string, name: string): string {
  return `${namespace}/${name}`
}

export class ClusterLoad {
  /** peer → function → its last report */
  private readonly last = new Map<string, Map<string, FunctionLoad>>()
  /** function → what the peers added since they were first seen */
  private readonly added = new Map<string, Totals>()
  /** function → the peers' in flight now */
  private readonly inflight = new Map<string, number>()

  /** Takes this tick's reports. A peer absent from `reports` but listed in `keep` keeps its baseline (it did not answer this time). */
  absorb (reports: readonly PeerReport[], keep: readonly string[] = []): void {
    this.inflight.clear()
    const seen = new Set<string>(keep)
    for (const report of reports) {
      seen.add(report.identity)
      let prev = this.last.get(report.identity)
      const first = prev === undefined
      if (prev === undefined) this.last.set(report.identity, prev = new Map())
      const next = new Map<string, FunctionLoad>()
      for (const f of report.functions) {
        const k = key(f.namespace, f.name)
        next.set(k, f)
        this.inflight.set(k, (this.inflight.get(k) ?? 0) + Math.max(0, f.inflight))
        const before = prev.get(k)
        // a function the peer has just begun to count, on a peer already known, counted from 0
        const base = before ?? (first ? f : { completed: 0, ok: 0, busySeconds: 0 })
        const delta = (now: number, then: number): number => now >= then ? now - then : now
        const t = this.added.get(k) ?? { completed: 0, ok: 0, busySeconds: 0 }
        t.completed += delta(f.completed, base.completed)
        t.ok += delta(f.ok, base.ok)
        t.busySeconds += delta(f.busySeconds, base.busySeconds)
        this.added.set(k, t)
      }
      this.last.set(report.identity, next)
    }
    for (const peer of [...this.last.keys()]) if (!seen.has(peer)) this.last.delete(peer)
  }

  /** This replica's counter plus the peers': a fresh object for the rate window to sample. */
  combined (namespace: string, name: string, own: LoadCounter): LoadCounter {
    const k = key(namespace, name)
    const t = this.added.get(k)
    return {
      inflight: own.inflight + (this.inflight.get(k) ?? 0),
      completed: own.completed + (t?.completed ?? 0),
      ok: own.ok + (t?.ok ?? 0),
      busySeconds: own.busySeconds + (t?.busySeconds ?? 0)
    }
  }

  /** Forgets everything (leadership was just taken: start again from the cluster's state). */
  reset (): void {
    this.last.clear()
    this.added.clear()
    this.inflight.clear()
  }

  forget (namespace: string, name: string): void {
    this.added.delete(key(namespace, name))
  }
}
