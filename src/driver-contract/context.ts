/*
 * A DriverContext for tests: a logger that drops everything, the namespaces the driver serves and
 * a short invocation timeout, as faas-bridge's start-up would hand them to createDriver().
 */
import type { DriverContext } from '../core/driver.ts'

const silent: DriverContext['logger'] = {
  info () {}, warn () {}, error () {}, debug () {}, child () { return silent }
}

export function testDriverContext (over: Partial<DriverContext> = {}): DriverContext {
  return { logger: silent, namespaces: ['openfaas-fn'], execTimeoutMs: 5000, ...over }
}
