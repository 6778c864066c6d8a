/*
 * Invocations: the caller's HTTP request becomes an API Gateway HTTP API (payload format 2.0)
 * event — what the AWS Lambda Web Adapter and the usual Lambda HTTP frameworks understand — and
 * the function's reply becomes the HTTP response:
 *   {statusCode, headers, cookies, body, isBase64Encoded}  → that status, headers and body
 *   any other payload                                        → 200 with the payload as-is
 *   FunctionError                                            → 500 with the error payload
 * A request whose event would pass Lambda's 6 MB synchronous limit is 413 before calling.
 * `Accept: text/event-stream` or `application/x-ndjson` → InvokeWithResponseStream, streamed.
 */
import { randomUUID } from 'node:crypto'
import { Readable } from 'node:stream'
import { InvokeCommand, InvokeWithResponseStreamCommand, type LambdaClient } from '@aws-sdk/client-lambda'
import type { InvokeWithResponseStreamResponseEvent } from '@aws-sdk/client-lambda'
import type { HeaderMap, InvocationRequest, InvocationResponse } from '../../src/core/driver.ts'
import { backendError, ProviderError } from '../../src/core/errors.ts'
import { withRetry } from './aws-errors.ts'

export interface InvokeSettings {
  client: LambdaClient
  functionName: string
  /** the alias (or version) to invoke; undefined = $LATEST */
  qualifier?: string
  maxPayloadBytes: number
  timeoutMs: number
  retryBaseMs: number
}

/** what Lambda streams when the function uses awslambda.HttpResponseStream (status + headers prelude) */
export const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response'
const PRELUDE_MAX = 64 * 1024
const PRELUDE_END = Buffer.alloc(8)

const tooLarge = (n: number, limit: number): ProviderError =>
  new ProviderError('PAYLOAD_TOO_LARGE', `the request is ${n} bytes as a Lambda event; Lambda takes at most ${limit} bytes per synchronous invocation`)

function first (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

export function wantsStream (headers: HeaderMap): boolean {
  const accept = headers.accept
  const text = (Array.isArray(accept) ? accept.join(',') : accept ?? '').toLowerCase()
  return text.includes('text/event-stream') || text.includes('application/x-ndjson')
}

/** Reads the request body, refusing (413) as soon as it passes `limit` bytes. */
export async function readBody (req: InvocationRequest, limit: number): Promise<Buffer> {
  const declared = Number(first(req.headers['content-length']) ?? NaN)
  if (declared > limit) throw tooLarge(declared, limit)
  const body = req.body
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
      req.signal.removeEventListener('abort', onAbort)
    }
    const onData = (chunk: Buffer | string): void => {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)
      size += b.length
      if (size > limit) {
        cleanup()
        // discard the rest rather than cut the connection, so the caller reads the 413
        body.resume()
        reject(tooLarge(size, limit))
        return
      }
      chunks.push(b)
    }
    const onEnd = (): void => { cleanup(); resolve(Buffer.concat(chunks)) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const onAbort = (): void => { cleanup(); reject(req.signal.reason) }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
    req.signal.addEventListener('abort', onAbort, { once: true })
  })
}

const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)|[^;]*\+(json|xml))/i

function isText (contentType: string | undefined, body: Buffer): boolean {
  if (contentType !== undefined && contentType !== '' && !TEXT_TYPE.test(contentType.trim())) return false
  return Buffer.from(body.toString('utf8'), 'utf8').equals(body)
}

/** The HTTP API (payload format 2.0) event for one request. */
export function httpEvent (req: InvocationRequest, body: Buffer, now = new Date()): Record<string, unknown> {
  const headers: Record<string, string> = {}
  let cookies: string[] | undefined
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue
    const lower = name.toLowerCase()
    const joined = Array.isArray(value) ? value.join(',') : value
    if (lower === 'cookie') {
      cookies = joined.split(';').map((c) => c.trim()).filter((c) => c !== '')
      continue
    }
    headers[lower] = joined
  }
  const query: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(req.query)) query[k] = k in query ? `${query[k] as string},${v}` : v
  const sourceIp = (headers['x-forwarded-for'] ?? '').split(',')[0]?.trim().replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1') ?? ''
  const requestId = randomUUID()
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    rawPath: req.path,
    rawQueryString: req.query,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'faas-bridge',
      domainName: headers['x-forwarded-host'] ?? headers.host ?? 'localhost',
      domainPrefix: 'faas-bridge',
      http: {
        method: req.method,
        path: req.path,
        protocol: 'HTTP/1.1',
        sourceIp,
        userAgent: headers['user-agent'] ?? ''
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime()
    },
    isBase64Encoded: false
  }
  if (cookies !== undefined && cookies.length > 0) event.cookies = cookies
  if (req.query !== '') event.queryStringParameters = query
  if (body.length > 0) {
    if (isText(headers['content-type'], body)) {
      event.body = body.toString('utf8')
    } else {
      event.body = body.toString('base64')
      event.isBase64Encoded = true
    }
  }
  return event
}

function isHttpShaped (v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  const status = (v as Record<string, unknown>).statusCode
  return typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599
}

function headerValue (v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/** The function's payload → HTTP response (see the file comment). */
export function replyToResponse (payload: Uint8Array | undefined, functionError: string | undefined): InvocationResponse {
  const bytes = Buffer.from(payload ?? new Uint8Array())
  if (functionError !== undefined) {
    return {
      status: 500,
      headers: { 'content-type': 'application/json', 'x-amz-function-error': functionError },
      body: bytes
    }
  }
  let parsed: unknown
  let json = false
  try {
    parsed = JSON.parse(bytes.toString('utf8'))
    json = true
  } catch {}
  if (!isHttpShaped(parsed)) {
    return { status: 200, headers: json ? { 'content-type': 'application/json' } : {}, body: bytes }
  }
  const headers: Record<string, string | string[]> = {}
  const rawHeaders = parsed.headers
  if (typeof rawHeaders === 'object' && rawHeaders !== null) {
    for (const [k, v] of Object.entries(rawHeaders)) if (v !== undefined && v !== null) headers[k.toLowerCase()] = headerValue(v)
  }
  const multi = parsed.multiValueHeaders
  if (typeof multi === 'object' && multi !== null) {
    for (const [k, v] of Object.entries(multi)) if (Array.isArray(v)) headers[k.toLowerCase()] = v.map(headerValue)
  }
  if (Array.isArray(parsed.cookies) && parsed.cookies.length > 0) {
    const prev = headers['set-cookie']
    headers['set-cookie'] = [...(prev === undefined ? [] : Array.isArray(prev) ? prev : [prev]), ...parsed.cookies.map(headerValue)]
  }
  const b = parsed.body
  let body: Buffer
  if (b === undefined || b === null) body = Buffer.alloc(0)
  else if (typeof b === 'string') body = parsed.isBase64Encoded === true ? Buffer.from(b, 'base64') : Buffer.from(b, 'utf8')
  else body = Buffer.from(JSON.stringify(b))
  return { status: parsed.statusCode as number, headers, body }
}

/** Builds the event; 413 when it passes the payload limit. */
async function eventPayload (req: InvocationRequest, limit: number): Promise<Buffer> {
  const body = await readBody(req, limit)
  const payload = Buffer.from(JSON.stringify(httpEvent(req, body)))
  if (payload.length > limit) throw tooLarge(payload.length, limit)
  return payload
}

export async function invokeFunction (s: InvokeSettings, req: InvocationRequest): Promise<InvocationResponse> {
  const payload = await eventPayload(req, s.maxPayloadBytes)
  if (wantsStream(req.headers)) return await invokeStreaming(s, req, payload)
  const out = await withRetry((signal) => s.client.send(new InvokeCommand({
    FunctionName: s.functionName,
    ...(s.qualifier !== undefined ? { Qualifier: s.qualifier } : {}),
    InvocationType: 'RequestResponse',
    Payload: payload
  }), { abortSignal: signal }), {
    timeoutMs: s.timeoutMs, baseMs: s.retryBaseMs, signal: req.signal, what: `invoke ${s.functionName}`
  })
  return replyToResponse(out.Payload, out.FunctionError)
}

type StreamEvents = AsyncIterable<InvokeWithResponseStreamResponseEvent>

async function invokeStreaming (s: InvokeSettings, req: InvocationRequest, payload: Buffer): Promise<InvocationResponse> {
  const out = await withRetry((signal) => s.client.send(new InvokeWithResponseStreamCommand({
    FunctionName: s.functionName,
    ...(s.qualifier !== undefined ? { Qualifier: s.qualifier } : {}),
    InvocationType: 'RequestResponse',
    Payload: payload
  }), { abortSignal: signal }), {
    timeoutMs: s.timeoutMs, baseMs: s.retryBaseMs, signal: req.signal, what: `invoke ${s.functionName}`
  })
  if (out.EventStream === undefined) throw backendError(`invoke ${s.functionName}: Lambda returned no event stream`)
  const iterator = (out.EventStream as StreamEvents)[Symbol.asyncIterator]()
  const contentType = out.ResponseStreamContentType
  const pending: Buffer[] = []
  let status = 200
  const headers: Record<string, string | string[]> = {}

  // read up to the first byte of body (or the prelude) so that status and headers are known
  let done = false
  let prelude = contentType === HTTP_INTEGRATION_CONTENT_TYPE
  let preludeBuf = Buffer.alloc(0)
  while (!done) {
    const next = await iterator.next()
    if (next.done === true) { done = true; break }
    const ev = next.value
    if (ev.InvokeComplete !== undefined) {
      done = true
      if (ev.InvokeComplete.ErrorCode !== undefined) {
        const err = { errorType: ev.InvokeComplete.ErrorCode, errorMessage: ev.InvokeComplete.ErrorDetails ?? '' }
        return replyToResponse(Buffer.from(JSON.stringify(err)), 'Unhandled')
      }
      break
    }
    const chunk = ev.PayloadChunk?.Payload
    if (chunk === undefined || chunk.length === 0) continue
    if (!prelude) {
      pending.push(Buffer.from(chunk))
      break
    }
    preludeBuf = Buffer.concat([preludeBuf, Buffer.from(chunk)])
    const end = preludeBuf.indexOf(PRELUDE_END)
    if (end === -1) {
      if (preludeBuf.length > PRELUDE_MAX) throw backendError(`invoke ${s.functionName}: the HTTP response prelude is larger than ${PRELUDE_MAX} bytes`)
      continue
    }
    const meta = JSON.parse(preludeBuf.subarray(0, end).toString('utf8')) as { statusCode?: number, headers?: Record<string, unknown>, cookies?: unknown[] }
    if (typeof meta.statusCode === 'number') status = meta.statusCode
    for (const [k, v] of Object.entries(meta.headers ?? {})) headers[k.toLowerCase()] = headerValue(v)
    if (Array.isArray(meta.cookies) && meta.cookies.length > 0) headers['set-cookie'] = meta.cookies.map(headerValue)
    const rest = preludeBuf.subarray(end + PRELUDE_END.length)
    if (rest.length > 0) pending.push(rest)
    prelude = false
    if (rest.length > 0) break
  }
  if (prelude) throw backendError(`invoke ${s.functionName}: the stream ended inside its HTTP response prelude`)
  if (headers['content-type'] === undefined) {
    if (contentType !== undefined && contentType !== HTTP_INTEGRATION_CONTENT_TYPE) headers['content-type'] = contentType
    else {
      const accept = first(req.headers.accept) ?? ''
      headers['content-type'] = accept.toLowerCase().includes('text/event-stream') ? 'text/event-stream' : 'application/x-ndjson'
    }
  }
  const name = s.functionName
  async function * body (): AsyncGenerator<Buffer> {
    for (const b of pending) yield b
    if (done) return
    for (;;) {
      const next = await iterator.next()
      if (next.done === true) return
      const ev = next.value
      if (ev.PayloadChunk?.Payload !== undefined && ev.PayloadChunk.Payload.length > 0) yield Buffer.from(ev.PayloadChunk.Payload)
      if (ev.InvokeComplete !== undefined) {
        if (ev.InvokeComplete.ErrorCode !== undefined) {
          throw backendError(`invoke ${name}: ${ev.InvokeComplete.ErrorCode}: ${ev.InvokeComplete.ErrorDetails ?? ''}`)
        }
        return
      }
    }
  }
  const stream = Readable.from(body())
  stream.once('close', () => { void iterator.return?.() })
  return { status, headers, body: stream }
}
