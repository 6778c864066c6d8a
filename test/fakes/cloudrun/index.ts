/*
 * One loopback server speaking the three Google REST APIs the Cloud Run backend uses (Cloud Run
 * Admin v2, Secret Manager v1, Cloud Logging v2), as the real clients send them in REST/fallback
 * mode. Errors use Google's body shape; `faults` fails or hangs chosen requests; `wire` adds the
 * wire-level fault modes of ../wire-faults.ts keyed by "METHOD /path" (latency, 5xx, 429 with
 * Retry-After, connection reset, truncated body, never answering). When a revision
 * becomes ready the fake writes Cloud Run's startup probe line to its logs, as Cloud Run does.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { FakeLogging } from './logging.ts'
import { Faults, GoogleHttpError, sendGoogleError, sendJson } from './http.ts'
import { WireFaults } from '../wire-faults.ts'
import { FakeRun, type Json } from './run.ts'
import { FakeSecretManager } from './secret-manager.ts'

export { FakeRun } from './run.ts'
export { FakeLogging } from './logging.ts'
export { FakeSecretManager } from './secret-manager.ts'
export type { Fault } from './http.ts'
export type { WireFault } from '../wire-faults.ts'

export const STARTUP_LINE = 'Default STARTUP TCP probe succeeded after 1 attempt for container "function" on port 8080.'

export interface FakeGoogle {
  /** http://127.0.0.1:PORT — the endpoint for all three APIs */
  url: string
  run: FakeRun
  secrets: FakeSecretManager
  logging: FakeLogging
  faults: Faults
  /** wire-level faults keyed by "METHOD /path" (decoded path, no query) */
  wire: WireFaults
  /** every request line seen, "METHOD /path?query" */
  seen: string[]
  close (): Promise<void>
}

export async function startFakeGoogle (opts: { functionUrl: string, pollsToFinish?: number, maxPageSize?: number }): Promise<FakeGoogle> {
  const logging = new FakeLogging()
  const run = new FakeRun({
    functionUrl: opts.functionUrl,
    ...(opts.pollsToFinish !== undefined ? { pollsToFinish: opts.pollsToFinish } : {}),
    ...(opts.maxPageSize !== undefined ? { maxPageSize: opts.maxPageSize } : {}),
    onRevisionReady: (svc: Json) => {
      const [, project, , region, , id] = (svc.name as string).split('/') as [string, string, string, string, string, string]
      logging.add({ project, region, serviceId: id, text: STARTUP_LINE, instanceId: `00f${Math.random().toString(16).slice(2, 12)}` })
    }
  })
  const secrets = new FakeSecretManager()
  const faults = new Faults()
  const wire = new WireFaults((res, status, message, kind) => {
    const name = kind === 'throttle' ? 'RESOURCE_EXHAUSTED' : status === 503 ? 'UNAVAILABLE' : status === 504 ? 'DEADLINE_EXCEEDED' : 'INTERNAL'
    sendJson(res, status, { error: { code: status, message, status: name } })
  })
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    serve(req, res).catch(() => { res.destroy() })
  })
  async function serve (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    seen.push(`${req.method ?? ''} ${url.pathname}${url.search}`)
    const path = decodeURIComponent(url.pathname)
    if (faults.apply(req.method ?? 'GET', path, res)) {
      req.resume()
      return
    }
    if (await wire.intercept(`${req.method ?? 'GET'} ${path}`, req, res)) return
    let handling: Promise<void>
    if (run.handles(path)) handling = run.handle(req, res, url)
    else if (secrets.handles(path)) handling = secrets.handle(req, res, url)
    else if (logging.handles(path)) handling = logging.handle(req, res)
    else handling = Promise.reject(new GoogleHttpError('NOT_FOUND', `The requested URL ${path} was not found on this server.`))
    handling.catch((err: unknown) => {
      if (err instanceof GoogleHttpError) sendGoogleError(res, err.status, err.message)
      else sendGoogleError(res, 'INTERNAL', (err as Error).message)
    })
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    run,
    secrets,
    logging,
    faults,
    wire,
    seen,
    async close (): Promise<void> {
      faults.releaseHung()
      wire.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => { resolve() }))
    }
  }
}
