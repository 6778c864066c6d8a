/*
 * A wire-level fake of the three AWS services the Lambda backend talks to, on one 127.0.0.1:0
 * server: Lambda's REST paths (/2015-03-31/functions... with versions and aliases,
 * /2017-10-31/.../concurrency, /2019-09-30/.../provisioned-concurrency,
 * /2017-03-31/tags/{ARN}, invocations) and the JSON-RPC APIs of CloudWatch Logs and Secrets
 * Manager (POST / with X-Amz-Target). Tests register functions as JS handlers, inject faults
 * per operation ("Lambda.GetFunction", "Logs.FilterLogEvents", "SecretsManager.CreateSecret")
 * and read the call log. `faults` adds the wire-level fault modes of ../wire-faults.ts (latency,
 * 5xx, 429 with Retry-After, connection reset, truncated body, never answering) keyed by the same
 * operation names ("Lambda.Invoke", "Logs.FilterLogEvents"…); errors use AWS's own shapes.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createLambdaApi, lambdaRoute } from './lambda-api.ts'
import { handleLogs } from './logs-api.ts'
import { handleSecrets } from './secrets-api.ts'
import { WireFaults, type WireFault } from '../wire-faults.ts'
import {
  FakeState, jsonRpcError, readBody, restError, type FakeSettings, type FunctionHandler, type StreamHandler
} from './state.ts'

export type { FunctionHandler, HandlerContext, StreamHandler, StreamReply } from './state.ts'
export type { WireFault } from '../wire-faults.ts'
export { ACCOUNT } from './state.ts'

export interface FakeAws {
  url: string
  state: FakeState
  /** a buffered function for images whose ECR repository is `repository` */
  handle (repository: string, handler: FunctionHandler): void
  /** a response-streaming function for images whose ECR repository is `repository` */
  handleStream (repository: string, handler: StreamHandler): void
  /** the next `times` calls of `op` fail with this AWS error */
  fail (op: string, error: { status: number, type: string, message: string, times?: number, extra?: Record<string, unknown> }): void
  /** wire-level faults by operation name (see ../wire-faults.ts) */
  faults: WireFaults
  /** shorthand for faults.add */
  inject (fault: WireFault): void
  /** how many times `op` was served (faults included) */
  count (op: string): number
  close (): Promise<void>
}

export const DEFAULT_FAKE_SETTINGS: FakeSettings = {
  region: 'us-east-1',
  pendingMs: 60,
  updateMs: 60,
  provisionMs: 60,
  listPageSize: 2,
  logPageSize: 3,
  secretPageSize: 2
}

export async function startFakeAws (settings: Partial<FakeSettings> = {}): Promise<FakeAws> {
  const state = new FakeState({ ...DEFAULT_FAKE_SETTINGS, ...settings })
  const lambda = createLambdaApi(state)
  const faults = new WireFaults((res, status, message, kind) => {
    const rpc = typeof res.req.headers['x-amz-target'] === 'string'
    if (kind === 'throttle') {
      const retryAfterSeconds = res.getHeader('retry-after')
      if (rpc) jsonRpcError(res, 429, 'ThrottlingException', message)
      else restError(res, 429, 'TooManyRequestsException', message, { Reason: 'CallerRateLimitExceeded', retryAfterSeconds: String(retryAfterSeconds ?? '') })
      return
    }
    const type = status === 503 ? 'ServiceUnavailableException' : rpc ? 'InternalFailure' : 'ServiceException'
    if (rpc) jsonRpcError(res, status, type, message)
    else restError(res, status, type, message)
  })

  const server = http.createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      if (!res.headersSent) restError(res, 500, 'ServiceException', `fake failure: ${(err as Error).message}`)
      else res.destroy()
    })
  })

  async function serve (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (typeof req.headers.authorization !== 'string' || !req.headers.authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      await readBody(req)
      restError(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
      return
    }
    const target = req.headers['x-amz-target']
    if (typeof target === 'string') {
      const dot = target.indexOf('.')
      const service = target.slice(0, dot)
      const op = target.slice(dot + 1)
      const name = service === 'secretsmanager' ? `SecretsManager.${op}` : `Logs.${op}`
      state.calls.push(name)
      if (await faults.intercept(name, req, res)) return
      const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>
      const fault = state.takeFault(name)
      if (fault !== undefined) return jsonRpcError(res, fault.status, fault.type, fault.message, fault.extra)
      if (service === 'secretsmanager') return handleSecrets(state, op, body, res)
      if (service === 'Logs_20140328') return handleLogs(state, op, body, res)
      return jsonRpcError(res, 400, 'UnknownOperationException', `unknown target ${target}`)
    }
    const url = new URL(req.url as string, 'http://fake')
    const route = lambdaRoute(req.method as string, url.pathname)
    if (route === undefined) {
      await readBody(req)
      restError(res, 404, 'UnknownOperationException', `${req.method as string} ${url.pathname} is not a Lambda path`)
      return
    }
    state.calls.push(`Lambda.${route.op}`)
    if (await faults.intercept(`Lambda.${route.op}`, req, res)) return
    const fault = state.takeFault(`Lambda.${route.op}`)
    if (fault !== undefined) {
      await readBody(req)
      restError(res, fault.status, fault.type, fault.message, fault.extra)
      return
    }
    await lambda(req, res, route)
  }

  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    handle (repository, handler) { state.handlers.set(repository, handler) },
    handleStream (repository, handler) { state.streamHandlers.set(repository, handler) },
    fail (op, error) {
      const list = state.faults.get(op) ?? []
      list.push({ status: error.status, type: error.type, message: error.message, times: error.times ?? 1, ...(error.extra !== undefined ? { extra: error.extra } : {}) })
      state.faults.set(op, list)
    },
    faults,
    inject (fault) { faults.add(fault) },
    count (op) { return state.calls.filter((c) => c === op).length },
    async close () {
      faults.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
