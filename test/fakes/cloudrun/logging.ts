/*
 * Fake Cloud Logging v2 entries:list (REST): POST /v2/entries:list with {resourceNames, filter,
 * orderBy, pageSize, pageToken}. The filter understands terms joined by AND of the form
 * `field="value"`, `field>="time"`, `field>"time"` over resource.type, resource.labels.*, labels.*,
 * logName and timestamp — the subset the backend sends.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GoogleHttpError, readJson, rfc3339, sendJson } from './http.ts'
import type { Json } from './run.ts'

export interface FakeEntry {
  project: string
  serviceId: string
  region: string
  text?: string
  json?: Json
  instanceId?: string
  time?: Date
}

interface Stored { project: string, timeMs: number, entry: Json }

export class FakeLogging {
  readonly entries: Stored[] = []
  readonly requests: Json[] = []
  maxPageSize = 1000
  private seq = 0

  handles (path: string): boolean {
    return path === '/v2/entries:list'
  }

  add (e: FakeEntry): void {
    const time = e.time ?? new Date()
    const entry: Json = {
      logName: `projects/${e.project}/logs/run.googleapis.com%2Fstdout`,
      resource: { type: 'cloud_run_revision', labels: { project_id: e.project, service_name: e.serviceId, location: e.region, revision_name: `${e.serviceId}-00001-abc` } },
      timestamp: rfc3339(time, 456),
      receiveTimestamp: rfc3339(time, 789),
      insertId: `id${String(++this.seq).padStart(6, '0')}`,
      labels: e.instanceId !== undefined ? { instanceId: e.instanceId } : {}
    }
    if (e.json !== undefined) entry.jsonPayload = e.json
    else entry.textPayload = e.text ?? ''
    this.entries.push({ project: e.project, timeMs: time.getTime(), entry })
  }

  async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') throw new GoogleHttpError('NOT_FOUND', 'entries:list is POST only')
    const body = await readJson(req)
    this.requests.push(body)
    const projects = ((body.resourceNames ?? []) as string[]).map((r) => r.replace(/^projects\//, ''))
    const terms = parseFilter(String(body.filter ?? ''))
    const desc = /desc/i.test(String(body.orderBy ?? ''))
    const all = this.entries.filter((s) => projects.includes(s.project) && terms.every((t) => t(s)))
      .sort((a, b) => desc ? b.timeMs - a.timeMs : a.timeMs - b.timeMs)
    const size = Math.min(Number(body.pageSize ?? 50) || 50, this.maxPageSize)
    const start = Number(body.pageToken ?? '0') || 0
    const out: Json = { entries: all.slice(start, start + size).map((s) => s.entry) }
    if (start + size < all.length) out.nextPageToken = String(start + size)
    sendJson(res, 200, out)
  }
}

function field (entry: Json, path: string): unknown {
  let v: unknown = entry
  for (const k of path.split('.')) v = (v as Json | undefined)?.[k]
  return v
}

function parseFilter (filter: string): Array<(s: Stored) => boolean> {
  return filter.split(/\s+AND\s+/).filter((t) => t.trim() !== '').map((term) => {
    const m = /^\s*([A-Za-z_.]+)\s*(>=|>|=)\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(term)
    if (m === null) throw new GoogleHttpError('INVALID_ARGUMENT', `Unparseable filter: ${term}`)
    const [, key, op, raw] = m as unknown as [string, string, string, string]
    const value = raw.replace(/\\(.)/g, '$1')
    if (key === 'timestamp') {
      const t = Date.parse(value)
      if (Number.isNaN(t)) throw new GoogleHttpError('INVALID_ARGUMENT', `Invalid timestamp: ${value}`)
      // compared at ms precision: the client's Entry objects carry ms, so ">=" a seen entry's time includes it
      return (s: Stored) => op === '>' ? s.timeMs > t : op === '>=' ? s.timeMs >= t : s.timeMs === t
    }
    if (op !== '=') throw new GoogleHttpError('INVALID_ARGUMENT', `Unsupported operator in ${term}`)
    return (s: Stored) => field(s.entry, key) === value
  })
}
