/*
 * The driver table: built-in name → a lazy import of that provider's createDriver, so a provider
 * that runs only the local backend never loads a cloud SDK. A name that is not built in is imported
 * as an npm package exporting createDriver(options, context). Only the composition root reads this.
 */
import type { CreateDriver } from '../src/core/driver.ts'

type DriverModule = { createDriver: CreateDriver }

export const BUILT_IN_DRIVERS: Readonly<Record<string, () => Promise<DriverModule>>> = {
  local: async () => await import('./local/index.ts'),
  cloudrun: async () => await import('./cloudrun/index.ts'),
  kubernetes: async () => await import('./kubernetes/index.ts'),
  lambda: async () => await import('./lambda/index.ts'),
  openfaas: async () => await import('./openfaas/index.ts'),
  tekton: async () => await import('./tekton/index.ts')
}

/** The Lease coordination for several replicas in a cluster, loaded only when leader election is on. */
export async function loadLeaseCoordination (): Promise<typeof import('./kubernetes/common/lease-coordination.ts')> {
  return await import('./kubernetes/common/lease-coordination.ts')
}

export async function loadDriverFactory (name: string, importModule = async (id: string): Promise<unknown> => await import(id)): Promise<CreateDriver> {
  const builtIn = BUILT_IN_DRIVERS[name]
  let mod: unknown
  if (builtIn !== undefined) {
    mod = await builtIn()
  } else {
    try {
      mod = await importModule(name)
    } catch (err) {
      throw new Error(`driver "${name}" is not built in (${Object.keys(BUILT_IN_DRIVERS).join(', ')}) ` +
        `and could not be imported as a package: ${(err as Error).message}`)
    }
  }
  const createDriver = (mod as Partial<DriverModule> | undefined)?.createDriver
  if (typeof createDriver !== 'function') {
    throw new Error(`driver "${name}" does not export a createDriver(options, context) function`)
  }
  return createDriver
}
