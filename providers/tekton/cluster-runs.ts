/*
 * The maximum of concurrent runs across provider replicas: before a call creates its TaskRun (and
 * while it holds its slot in this process's limiter, concurrency.ts, whose bounded queue and 429
 * stay as they are) it waits until fewer than the maximum of the function's TaskRuns are under way
 * in the cluster — every replica's, counted from the API. `activeRuns` is the one place that counts,
 * so it can read an informer's cache instead of a LIST once one exists.
 *
 * Limit of this scheme (honest): two replicas that count within the same API round trip can both
 * see room and start one run each, so the maximum can be passed by at most (replicas − 1) for the
 * length of those runs; calls through one replica never pass it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { listRuns } from './cleanup.ts'
import type { RunClients } from './runs.ts'
import { CANCELLED, isDone } from './tekton-types.ts'

/** first and largest pause between two counts while the cluster is full */
const ROOM_POLL_MIN_MS = 25
const ROOM_POLL_MAX_MS = 500

/** TaskRuns matching `selector` (one function's) that have neither finished nor been cancelled. */
export async function activeRuns (clients: RunClients, namespace: string, selector: string): Promise<number> {
  return (await listRuns(clients, namespace, selector)).filter((r) => !isDone(r) && r.spec?.status !== CANCELLED).length
}

/** Resolves once `count()` is below `limit`; rejects when `signal` aborts (the call's timeout or its caller leaving). */
export async function waitForClusterRoom (count: () => Promise<number>, limit: number, signal: AbortSignal): Promise<void> {
  let delay = ROOM_POLL_MIN_MS
  for (;;) {
    signal.throwIfAborted()
    if (await count() < limit) return
    await sleep(delay, undefined, { signal })
    delay = Math.min(ROOM_POLL_MAX_MS, delay * 2)
  }
}
