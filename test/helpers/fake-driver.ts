/*
 * A Driver for API tests: functions live in memory as name → Upstream (or an error to throw from
 * upstream(), e.g. unavailable() for "exists but not ready"). Everything else is unsupported.
 */
import type { Driver, LogQuery, Upstream } from '../../src/core/driver.ts'
import { Backends } from '../../src/core/backends.ts'
import { notFound, unsupported } from '../../src/core/errors.ts'
import type { FunctionStatus, LogMessage } from '../../src/core/types.ts'

export class FakeDriver implements Driver {
  readonly kind = 'fake'
  /** key: "namespace/name" */
  readonly functions = new Map<string, Upstream | Error>()

  /** Registers a function (an Error makes upstream() throw it). */
  set (namespace: string, name: string, upstream: Upstream | Error): this {
    this.functions.set(`${namespace}/${name}`, upstream)
    return this
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    const found = this.functions.get(`${namespace}/${name}`)
    if (found === undefined) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    if (found instanceof Error) throw found
    return found
  }

  async deploy (): Promise<void> { throw unsupported('fake driver: deploy') }
  async update (): Promise<void> { throw unsupported('fake driver: update') }
  async remove (): Promise<void> { throw unsupported('fake driver: remove') }
  async list (): Promise<FunctionStatus[]> { throw unsupported('fake driver: list') }
  async status (): Promise<FunctionStatus> { throw unsupported('fake driver: status') }
  async scale (): Promise<void> { throw unsupported('fake driver: scale') }
  async logs (_query: LogQuery, _signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    throw unsupported('fake driver: logs')
  }

  async close (): Promise<void> {}
}

/** Backends with one fake backend (named "fake") owning `namespaces`; the first is the default. */
export function fakeBackends (driver: Driver, namespaces: string[] = ['openfaas-fn']): Backends {
  return new Backends([{ backend: { name: 'fake', driver }, namespaces }], namespaces[0] as string)
}
