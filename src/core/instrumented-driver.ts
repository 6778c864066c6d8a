/*
 * A Driver wrapper that times every backend call and reports its outcome (for /metrics: backend
 * call latency and errors per backend). It knows nothing of Prometheus: the caller passes
 * `observe`. upstream() is left untimed: it runs once per invocation, which the invoke metrics
 * already time end to end.
 */
import { performance } from 'node:perf_hooks'
import type { Driver, NamespaceStore, SecretStore } from './driver.ts'
import { isProviderError } from './errors.ts'

/** `outcome` is 'ok' or the ProviderError code ('UNKNOWN' for anything else) */
export type ObserveCall = (operation: string, seconds: number, outcome: string) => void

function timer (observe: ObserveCall) {
  return <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now()
      try {
        const result = await call(...args)
        observe(operation, (performance.now() - started) / 1000, 'ok')
        return result
      } catch (err) {
        observe(operation, (performance.now() - started) / 1000, isProviderError(err) ? err.code : 'UNKNOWN')
        throw err
      }
    }
}

export function instrumentDriver (driver: Driver, observe: ObserveCall): Driver {
  const timed = timer(observe)
  const wrapped: Driver = {
    kind: driver.kind,
    deploy: timed('deploy', async (fn) => { await driver.deploy(fn) }),
    update: timed('update', async (fn) => { await driver.update(fn) }),
    remove: timed('remove', async (ns: string, name: string) => { await driver.remove(ns, name) }),
    list: timed('list', async (ns: string) => await driver.list(ns)),
    status: timed('status', async (ns: string, name: string) => await driver.status(ns, name)),
    scale: timed('scale', async (ns: string, name: string, n: number) => { await driver.scale(ns, name, n) }),
    logs: timed('logs', async (q, signal) => await driver.logs(q, signal)),
    upstream: async (ns, name) => await driver.upstream(ns, name),
    close: async () => { await driver.close() }
  }
  const { park, check, caches, secrets, namespaces } = driver
  if (caches !== undefined) wrapped.caches = () => caches.call(driver)
  if (park !== undefined) wrapped.park = timed('park', async (ns: string, name: string) => { await park.call(driver, ns, name) })
  if (check !== undefined) wrapped.check = async () => { await check.call(driver) }
  if (secrets !== undefined) {
    const store: SecretStore = {
      list: timed('secrets.list', async (ns: string) => await secrets.list(ns)),
      create: timed('secrets.create', async (s) => { await secrets.create(s) }),
      update: timed('secrets.update', async (s) => { await secrets.update(s) }),
      remove: timed('secrets.remove', async (ns: string, name: string) => { await secrets.remove(ns, name) })
    }
    wrapped.secrets = store
  }
  if (namespaces !== undefined) {
    const store: NamespaceStore = {
      list: timed('namespaces.list', async () => await namespaces.list()),
      get: timed('namespaces.get', async (name: string) => await namespaces.get(name)),
      create: timed('namespaces.create', async (ns) => { await namespaces.create(ns) }),
      update: timed('namespaces.update', async (ns) => { await namespaces.update(ns) }),
      remove: timed('namespaces.remove', async (name: string) => { await namespaces.remove(name) })
    }
    wrapped.namespaces = store
  }
  return wrapped
}
