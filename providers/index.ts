/*
 * The driver table: built-in name → a lazy import of that provider's createDriver, so a provider
 * that runs only the local backend never loads a cloud SDK. A name that is not built in is imported
 * as an npm package exporting createDriver(options, context), resolved from faas-bridge's own
 * installation (its node_modules or one above it). A package is checked before it is used: its
 * driverApiVersion, then the Driver its createDriver returns, so a broken driver stops the start-up
 * with a message naming the package and what is wrong instead of failing a request later.
 * Only the composition root reads this.
 */
import { DRIVER_API_VERSION, type CreateDriver, type Driver, type DriverModule } from '../src/core/driver.ts'
import { provideKitToDrivers } from './kit-resolution.ts'

export const BUILT_IN_DRIVERS: Readonly<Record<string, () => Promise<DriverModule>>> = {
  local: async () => await import('./local/index.ts'),
  cloudrun: async () => await import('./cloudrun/index.ts'),
  kubernetes: async () => await import('./kubernetes/index.ts'),
  lambda: async () => await import('./lambda/index.ts'),
  openfaas: async () => await import('./openfaas/index.ts'),
  tekton: async () => await import('./tekton/index.ts')
}

/** Members every Driver has; the optional ones (park, secrets, namespaces, check) are checked when present. */
const REQUIRED_METHODS = ['deploy', 'update', 'remove', 'list', 'status', 'scale', 'logs', 'upstream', 'close'] as const
const STORE_METHODS = {
  secrets: ['list', 'create', 'update', 'remove'],
  namespaces: ['list', 'get', 'create', 'update', 'remove']
} as const

/** What is wrong with the object a createDriver returned, one phrase per problem. */
export function driverProblems (value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [`it returned ${value === null ? 'null' : typeof value}, not a Driver object`]
  const d = value as Record<string, unknown>
  const problems: string[] = []
  if (typeof d.kind !== 'string' || d.kind === '') problems.push('kind is missing (a non-empty string)')
  for (const m of REQUIRED_METHODS) if (typeof d[m] !== 'function') problems.push(`${m}() is missing`)
  for (const m of ['park', 'check']) if (d[m] !== undefined && typeof d[m] !== 'function') problems.push(`${m} is not a function`)
  for (const [store, methods] of Object.entries(STORE_METHODS)) {
    const s = d[store]
    if (s === undefined) continue
    if (typeof s !== 'object' || s === null) {
      problems.push(`${store} is not an object`)
      continue
    }
    for (const m of methods) if (typeof (s as Record<string, unknown>)[m] !== 'function') problems.push(`${store}.${m}() is missing`)
  }
  return problems
}

function checkedFactory (name: string, mod: unknown): CreateDriver {
  const exported = mod as Partial<Record<keyof DriverModule, unknown>> | undefined
  const declared = exported?.driverApiVersion
  if (declared !== undefined && declared !== DRIVER_API_VERSION) {
    throw new Error(`driver package "${name}" declares driverApiVersion ${JSON.stringify(declared)}, but this faas-bridge ` +
      `implements driver API version ${DRIVER_API_VERSION}: use a release of "${name}" written for version ${DRIVER_API_VERSION}`)
  }
  const createDriver = exported?.createDriver
  if (typeof createDriver !== 'function') {
    throw new Error(`driver package "${name}" does not export a createDriver(options, context) function`)
  }
  return async (options, context) => {
    let driver: Driver
    try {
      driver = await (createDriver as CreateDriver)(options, context)
    } catch (err) {
      throw new Error(`driver package "${name}": createDriver failed: ${(err as Error).message}`, { cause: err })
    }
    const problems = driverProblems(driver)
    if (problems.length > 0) {
      // whatever it started, it may still be able to stop
      const close = (driver as { close?: unknown } | undefined)?.close
      if (typeof close === 'function') await Promise.resolve().then(() => close.call(driver)).catch(() => {})
      throw new Error(`driver package "${name}" is not a faas-bridge driver: ${problems.join('; ')}`)
    }
    return driver
  }
}

/** The Lease coordination for several replicas in a cluster, loaded only when leader election is on. */
export async function loadLeaseCoordination (): Promise<typeof import('./kubernetes/common/lease-coordination.ts')> {
  return await import('./kubernetes/common/lease-coordination.ts')
}

export async function loadDriverFactory (name: string, importModule = async (id: string): Promise<unknown> => await import(id)): Promise<CreateDriver> {
  const builtIn = BUILT_IN_DRIVERS[name]
  if (builtIn !== undefined) return (await builtIn()).createDriver
  provideKitToDrivers()
  let mod: unknown
  try {
    mod = await importModule(name)
  } catch (err) {
    throw new Error(`driver "${name}" is not built in (${Object.keys(BUILT_IN_DRIVERS).join(', ')}) ` +
      `and could not be imported as a package: ${(err as Error).message}`)
  }
  return checkedFactory(name, mod)
}
