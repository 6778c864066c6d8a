/*
 * Loads a package the first time it is needed instead of at start-up: what a provider that never
 * needs it (no config file, no invocation yet) does not load costs it no memory (issue: idle RSS).
 * Synchronous, through Node's require (ESM packages load too, Node ≥ 22.12), so callers stay sync.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** A getter that requires `id` on its first call and returns the same module afterwards. */
export function lazyRequire<T> (id: string): () => T {
  let mod: T | undefined
  return () => (mod ??= require(id) as T)
}
