/*
 * faas-bridge's invoke path for benchmarks: a Fastify app (pino logger on, at info, to /dev/null,
 * as in production) with the invoke plugin over a tiny in-bench Driver whose one function
 * `echo` is the bench upstream (argv[2]). This measures the proxy alone, not a backend: benchmark
 * (a)'s informational leg (its main faas-bridge leg runs the real provider). Prints `READY <port>`.
 */
import { openSync } from 'node:fs'
import Fastify from 'fastify'
import pino from 'pino'
import { invokeRoutes } from '../../src/api/invoke.ts'
import { Backends } from '../../src/core/backends.ts'
import type { Driver, Upstream } from '../../src/core/driver.ts'
import { notFound, unsupported } from '../../src/core/errors.ts'

const upstream: Upstream = { kind: 'http', url: new URL(process.argv[2] as string) }
const nope = async (): Promise<never> => { throw unsupported('bench driver') }
const driver: Driver = {
  kind: 'bench',
  deploy: nope,
  update: nope,
  remove: nope,
  list: nope,
  status: nope,
  scale: nope,
  logs: () => { throw unsupported('bench driver') },
  async upstream (_ns: string, name: string): Promise<Upstream> {
    if (name !== 'echo') throw notFound(name)
    return upstream
  },
  async close (): Promise<void> {}
}
const backends = new Backends([{ backend: { name: 'bench', driver }, namespaces: ['openfaas-fn'] }], 'openfaas-fn')
let invocations = 0
// BENCH_FAST_PATH=0 measures the Fastify-routed variant (hooks and child logger per request)
const app = Fastify({ loggerInstance: pino({ level: 'info' }, pino.destination(openSync('/dev/null', 'w'))) })
await app.register(invokeRoutes, {
  backends,
  readTimeoutMs: 10_000,
  maxIdleConnsPerHost: 1024,
  onInvocation: () => { invocations++ },
  fastPath: process.env.BENCH_FAST_PATH !== '0'
})
await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`READY ${(app.server.address() as { port: number }).port}`)
process.on('SIGTERM', () => {
  void app.close().then(() => {
    if (invocations === 0) console.error('faas-bridge-invoke: no invocation was recorded')
    process.exit(0)
  })
})
