/*
 * The fake CloudWatch Logs JSON-RPC API (awsJson1_1, X-Amz-Target Logs_20140328.*):
 * FilterLogEvents with logStreamNames, startTime/endTime, limit and nextToken paging (page size
 * capped to exercise paging), ResourceNotFoundException for a log group that does not exist.
 */
import type { ServerResponse } from 'node:http'
import { jsonRpcError, sendJson, type FakeState } from './state.ts'

const TYPE = 'application/x-amz-json-1.1'

export function handleLogs (s: FakeState, op: string, body: Record<string, unknown>, res: ServerResponse): void {
  if (op !== 'FilterLogEvents') {
    jsonRpcError(res, 400, 'UnknownOperationException', `${op} is not implemented by the fake`)
    return
  }
  const group = body.logGroupName
  const events = typeof group === 'string' ? s.logGroups.get(group) : undefined
  if (events === undefined) {
    jsonRpcError(res, 400, 'ResourceNotFoundException', 'The specified log group does not exist.')
    return
  }
  const streams = Array.isArray(body.logStreamNames) ? new Set(body.logStreamNames as string[]) : undefined
  const start = typeof body.startTime === 'number' ? body.startTime : undefined
  const endT = typeof body.endTime === 'number' ? body.endTime : undefined
  const after = typeof body.nextToken === 'string' ? Number(Buffer.from(body.nextToken, 'base64').toString('utf8')) : 0
  if (Number.isNaN(after)) {
    jsonRpcError(res, 400, 'InvalidParameterException', 'The specified nextToken is invalid.')
    return
  }
  const limit = Math.min(typeof body.limit === 'number' ? body.limit : 10_000, s.settings.logPageSize)
  const matching = events
    .filter((e) => (streams === undefined || streams.has(e.logStreamName)) &&
      (start === undefined || e.timestamp >= start) && (endT === undefined || e.timestamp <= endT) && e.seq > after)
    .sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq)
  const page = matching.slice(0, limit)
  const more = matching.length > limit
  const last = page[page.length - 1]
  sendJson(res, 200, {
    events: page.map((e) => ({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: e.eventId })),
    searchedLogStreams: [],
    ...(more && last !== undefined ? { nextToken: Buffer.from(String(last.seq)).toString('base64') } : {})
  }, TYPE)
}
