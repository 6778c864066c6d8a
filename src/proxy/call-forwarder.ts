/*
 * Invocations of `kind: 'call'` upstreams: drivers that run the call themselves (fork-per-request,
 * a cloud invoke API). Hands the driver an InvocationRequest whose body is the caller's request
 * stream and whose signal aborts when the caller goes away or the read timeout passes, then
 * writes the InvocationResponse back with the same header rules as the HTTP path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { HeaderMap, InvocationRequest, InvocationResponse, Upstream } from '../core/driver.ts'
import { isProviderError } from '../core/errors.ts'
import { responseHeadersFromMap } from './headers.ts'
import { CLIENT_CLOSED, messages, sendProxyError } from './replies.ts'

type CallUpstream = Extract<Upstream, { kind: 'call' }>

export interface CallForward {
  method: string
  path: string
  query: string
  /** flat header list as forwarded to an HTTP upstream */
  headers: string[]
  contentType: string | undefined
  name: string
  readTimeoutMs: number
}

function headerMap (flat: string[]): HeaderMap {
  const map: Record<string, string | string[]> = {}
  for (let i = 0; i < flat.length; i += 2) {
    const name = (flat[i] as string).toLowerCase()
    const value = flat[i + 1] as string
    const prev = map[name]
    if (prev === undefined) map[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else map[name] = [prev, value]
  }
  return map
}

/** Maps a failed call to the proxy's status and message (the status table in core/errors.ts). */
function failure (err: unknown, name: string): { status: number, message: string } {
  if (isProviderError(err)) {
    switch (err.code) {
      case 'NOT_FOUND':
      case 'UNAVAILABLE':
        return { status: 503, message: messages.noEndpoints(name) }
      case 'TIMEOUT':
        return { status: 504, message: messages.timeout(name) }
      case 'BACKEND':
      case 'BAD_GATEWAY':
        // the contract's text, and the backend's reason so the caller can act on it
        return { status: 500, message: `${messages.unreachable(name)} ${err.message}` }
      default:
        return { status: err.statusCode, message: err.message }
    }
  }
  return { status: 500, message: messages.unreachable(name) }
}

/** Runs the call and writes its response; resolves with the status the caller got. */
export async function forwardCall (
  upstream: CallUpstream, call: CallForward, req: IncomingMessage, res: ServerResponse
): Promise<number> {
  const controller = new AbortController()
  let timedOut = false
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort(new Error('the caller closed the connection'))
  }
  res.once('close', onClose)
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort(new Error(`no response within ${call.readTimeoutMs} ms`))
  }, call.readTimeoutMs)

  const invocation: InvocationRequest = {
    method: call.method,
    path: call.path,
    query: call.query,
    headers: headerMap(call.headers),
    body: req,
    signal: controller.signal
  }
  let response: InvocationResponse
  try {
    response = await Promise.race([
      upstream.call(invocation),
      new Promise<never>((_resolve, reject) => {
        controller.signal.addEventListener('abort', () => { reject(controller.signal.reason) }, { once: true })
      })
    ])
  } catch (err) {
    if (res.destroyed) return CLIENT_CLOSED
    const { status, message } = timedOut ? { status: 504, message: messages.timeout(call.name) } : failure(err, call.name)
    sendProxyError(res, status, message)
    return status
  } finally {
    clearTimeout(timer)
  }
  if (res.destroyed) {
    if (response.body instanceof Readable) response.body.destroy()
    return CLIENT_CLOSED
  }
  res.writeHead(response.status, responseHeadersFromMap(response.headers, call.contentType))
  const body = response.body
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    res.end(body)
    return response.status
  }
  // a body that stops flowing for read_timeout is cut off, as on the HTTP path: nothing hangs
  let idle: NodeJS.Timeout | undefined
  const armIdle = (): void => {
    clearTimeout(idle)
    idle = setTimeout(() => { body.destroy(new Error(`no data for ${call.readTimeoutMs} ms`)) }, call.readTimeoutMs)
  }
  body.on('data', armIdle)
  armIdle()
  try {
    await pipeline(body, res)
  } catch {
    // the body failed, stalled, or the caller went away mid-response: cut the response off
    controller.abort(new Error('the response was cut off'))
    res.destroy()
  } finally {
    clearTimeout(idle)
  }
  return response.status
}
