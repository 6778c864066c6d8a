/*
 * A driver package imports `faas-bridge/driver` at run time (the error constructors) but is
 * installed next to faas-bridge, not inside it, so Node would not find faas-bridge from there.
 * This resolve hook hands every such import the kit of the faas-bridge that is running: one copy
 * of ProviderError, so a driver's errors map to their status codes, and the contract version the
 * loader checks is the one in use. Registered once, before the first driver package is imported.
 */
import { registerHooks } from 'node:module'

// this file is providers/kit-resolution.ts beside src/ (sources) or dist/providers/*.js beside dist/src/
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
const KIT: Readonly<Record<string, string>> = {
  'faas-bridge/driver': new URL(`../src/driver/index${EXT}`, import.meta.url).href,
  'faas-bridge/driver-contract': new URL(`../src/driver-contract/index${EXT}`, import.meta.url).href
}

let registered = false

export function provideKitToDrivers (): void {
  if (registered) return
  registered = true
  registerHooks({
    resolve (specifier, context, nextResolve) {
      const url = KIT[specifier]
      return url !== undefined ? { url, shortCircuit: true } : nextResolve(specifier, context)
    }
  })
}
