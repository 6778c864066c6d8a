/*
 * Shared state and plumbing of the fake AWS: functions, log groups, secrets, the "function
 * runtime" (JS handlers registered by tests, keyed by ECR repository name), injected faults and a
 * call log. Used by the per-service handlers (lambda-api.ts, logs-api.ts, secrets-api.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export const ACCOUNT = '123456789012'

export interface HandlerContext {
  functionName: string
  env: Record<string, string>
  /** a line in the function's CloudWatch log stream */
  log (line: string): void
}

/** A buffered function: returns the payload (JSON-serialised like a Node.js runtime does) or throws. */
export type FunctionHandler = (event: unknown, ctx: HandlerContext) => unknown

/** A response-streaming function: what to stream. */
export interface StreamReply {
  contentType?: string
  /** awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies}) */
  http?: { statusCode: number, headers?: Record<string, string>, cookies?: string[] }
  chunks: Iterable<string | Buffer> | AsyncIterable<string | Buffer>
}
export type StreamHandler = (event: unknown, ctx: HandlerContext) => StreamReply | Promise<StreamReply>

/** A published version: the code and configuration of $LATEST when PublishVersion ran. */
export interface FakeVersion {
  version: string
  imageUri: string
  env: Record<string, string>
  memorySize: number
  timeout: number
  lastModified: string
}

export interface FakeAlias {
  version: string
  revisionId: string
  description: string
}

/** A provisioned concurrency configuration of one qualifier (alias). */
export interface FakeProvisioned {
  requested: number
  /** environments ready now (until readyAt: those of the previous request) */
  available: number
  /** IN_PROGRESS until this time (ms), then READY (or FAILED when the function's provisionFailure is set) */
  readyAt: number
  lastModified: string
}

export interface FakeFunction {
  name: string
  arn: string
  role: string
  imageUri: string
  memorySize: number
  timeout: number
  architectures: string[]
  env: Record<string, string>
  description: string
  tags: Record<string, string>
  reserved: number | undefined
  lastModified: string
  /** State Pending until this time (ms), then Active */
  pendingUntil: number
  /** LastUpdateStatus InProgress until this time (ms), then Successful */
  updatingUntil: number
  /** log stream name of the current "instance" (a new one after each code update) */
  logStream: string
  /** published versions, oldest first ("1", "2", ...) */
  versions: FakeVersion[]
  aliases: Map<string, FakeAlias>
  /** provisioned concurrency configurations by qualifier */
  provisioned: Map<string, FakeProvisioned>
  /** tests: provisioning fails with this StatusReason */
  provisionFailure?: string
}

export interface LogEvent {
  logStreamName: string
  timestamp: number
  ingestionTime: number
  message: string
  eventId: string
  seq: number
}

export interface FakeSecret {
  name: string
  arn: string
  tags: Array<{ Key: string, Value: string }>
  string?: string
  binary?: string
  created: number
  /** when DeleteSecret without ForceDeleteWithoutRecovery scheduled it for deletion (epoch seconds) */
  deletedDate?: number
}

export interface Fault {
  status: number
  type: string
  message: string
  times: number
  /** extra body fields (e.g. Reason of TooManyRequestsException) */
  extra?: Record<string, unknown>
}

export interface FakeSettings {
  region: string
  /** how long a new function stays Pending */
  pendingMs: number
  /** how long an update stays InProgress */
  updateMs: number
  /** ListFunctions page size cap (to exercise Marker/NextMarker) */
  listPageSize: number
  /** how long a provisioned concurrency configuration stays IN_PROGRESS */
  provisionMs: number
  /** FilterLogEvents / ListSecrets page size cap (to exercise nextToken) */
  logPageSize: number
  secretPageSize: number
}

export class FakeState {
  readonly settings: FakeSettings
  readonly functions = new Map<string, FakeFunction>()
  readonly logGroups = new Map<string, LogEvent[]>()
  readonly secrets = new Map<string, FakeSecret>()
  readonly handlers = new Map<string, FunctionHandler>()
  readonly streamHandlers = new Map<string, StreamHandler>()
  readonly faults = new Map<string, Fault[]>()
  /** every operation served, in order (e.g. "Lambda.GetFunction", "Logs.FilterLogEvents") */
  readonly calls: string[] = []
  /** the last Invoke payloads, by function name */
  readonly invocations: Array<{ functionName: string, event: unknown, qualifier?: string, version?: string }> = []
  private seq = 0

  constructor (settings: FakeSettings) {
    this.settings = settings
  }

  nextSeq (): number {
    return ++this.seq
  }

  /** the operation's next injected fault, if any */
  takeFault (op: string): Fault | undefined {
    const list = this.faults.get(op)
    const f = list?.[0]
    if (f === undefined) return undefined
    f.times--
    if (f.times <= 0) list?.shift()
    return f
  }

  appendLog (group: string, stream: string, message: string): void {
    let events = this.logGroups.get(group)
    if (events === undefined) {
      events = []
      this.logGroups.set(group, events)
    }
    const seq = this.nextSeq()
    const now = Date.now()
    events.push({ logStreamName: stream, timestamp: now, ingestionTime: now, message, eventId: String(seq).padStart(20, '0'), seq })
  }
}

export async function readBody (req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** restJson (Lambda) error: status, x-amzn-errortype, {Type, message, ...} */
export function restError (res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ Type: status >= 500 ? 'Service' : 'User', message, ...extra })
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': crypto.randomUUID(),
    'content-length': Buffer.byteLength(body)
  })
  res.end(body)
}

/** awsJson1_1 (CloudWatch Logs, Secrets Manager) error: {"__type", "message"} */
export function jsonRpcError (res: ServerResponse, status: number, type: string, message: string, extra: Record<string, unknown> = {}): void {
  const body = JSON.stringify({ __type: type, message, ...extra })
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': crypto.randomUUID(),
    'content-length': Buffer.byteLength(body)
  })
  res.end(body)
}

export function sendJson (res: ServerResponse, status: number, value: unknown, type = 'application/json', headers: Record<string, string> = {}): void {
  if (status === 204) {
    res.writeHead(204, { 'x-amzn-requestid': crypto.randomUUID(), ...headers })
    res.end()
    return
  }
  const body = JSON.stringify(value)
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'x-amzn-requestid': crypto.randomUUID(), ...headers })
  res.end(body)
}
