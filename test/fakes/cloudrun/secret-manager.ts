/*
 * Fake Secret Manager v1 (REST):
 *   POST   /v1/projects/P/secrets?secretId=ID       → Secret (409 ALREADY_EXISTS)
 *   GET    /v1/projects/P/secrets?filter&pageSize&pageToken → {secrets, nextPageToken, totalSize}
 *   GET    /v1/projects/P/secrets/ID                → Secret
 *   DELETE /v1/projects/P/secrets/ID                → {}
 *   POST   /v1/projects/P/secrets/ID:addVersion     → SecretVersion {payload: {data: base64}}
 *   GET    /v1/projects/P/secrets/ID/versions/V:access → {name, payload: {data}}
 * filter supports `labels.KEY=VALUE` terms joined by AND (what the backend sends).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GoogleHttpError, readJson, rfc3339, sendJson } from './http.ts'
import type { Json } from './run.ts'

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/

interface FakeSecret {
  name: string
  labels: Record<string, string>
  createTime: string
  versions: Buffer[]
}

export class FakeSecretManager {
  readonly secrets = new Map<string, FakeSecret>()
  maxPageSize = 100

  handles (path: string): boolean {
    return /^\/v1\/projects\/[^/]+\/secrets(\/|$)/.test(path)
  }

  /** the newest value of a secret by id (any project), for assertions */
  value (id: string): string | undefined {
    for (const s of this.secrets.values()) if (s.name.endsWith(`/secrets/${id}`)) return s.versions.at(-1)?.toString('utf8')
    return undefined
  }

  versions (id: string): number {
    for (const s of this.secrets.values()) if (s.name.endsWith(`/secrets/${id}`)) return s.versions.length
    return 0
  }

  private json (s: FakeSecret): Json {
    return { name: s.name, labels: { ...s.labels }, createTime: s.createTime, replication: { automatic: {} }, etag: `"${s.versions.length}"` }
  }

  private find (name: string): FakeSecret {
    const s = this.secrets.get(name)
    if (s === undefined) throw new GoogleHttpError('NOT_FOUND', `Secret [${name}] not found or has no versions.`)
    return s
  }

  async handle (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = decodeURIComponent(url.pathname)
    const method = req.method ?? 'GET'
    let m = /^\/v1\/(projects\/[^/]+)\/secrets$/.exec(path)
    if (m !== null) {
      const parent = m[1] as string
      if (method === 'POST') {
        const body = await readJson(req)
        const id = url.searchParams.get('secretId') ?? ''
        if (!SECRET_ID.test(id)) throw new GoogleHttpError('INVALID_ARGUMENT', `Secret ID [${id}] is invalid.`)
        const name = `${parent}/secrets/${id}`
        if (this.secrets.has(name)) throw new GoogleHttpError('ALREADY_EXISTS', `Secret [${name}] already exists.`)
        const s: FakeSecret = { name, labels: { ...(body.labels as Record<string, string> | undefined) }, createTime: rfc3339(new Date()), versions: [] }
        this.secrets.set(name, s)
        return sendJson(res, 200, this.json(s))
      }
      if (method === 'GET') {
        const terms = (url.searchParams.get('filter') ?? '').split(/\s+AND\s+/).filter((t) => t !== '').map((t) => {
          const tm = /^labels\.([^=:]+)[=:](.*)$/.exec(t.trim())
          if (tm === null) throw new GoogleHttpError('INVALID_ARGUMENT', `Invalid filter: ${t}`)
          return [tm[1] as string, (tm[2] as string).replace(/^"|"$/g, '')] as const
        })
        const all = [...this.secrets.values()].filter((s) => s.name.startsWith(`${parent}/`) && terms.every(([k, v]) => s.labels[k] === v))
          .sort((a, b) => a.name.localeCompare(b.name))
        const size = Math.min(Number(url.searchParams.get('pageSize') ?? '100') || 100, this.maxPageSize)
        const start = Number(url.searchParams.get('pageToken') ?? '0') || 0
        const out: Json = { secrets: all.slice(start, start + size).map((s) => this.json(s)), totalSize: all.length }
        if (start + size < all.length) out.nextPageToken = String(start + size)
        return sendJson(res, 200, out)
      }
    }
    m = /^\/v1\/(projects\/[^/]+\/secrets\/[^/:]+)(:addVersion)?$/.exec(path)
    if (m !== null) {
      const name = m[1] as string
      if (m[2] !== undefined && method === 'POST') {
        const body = await readJson(req)
        const s = this.find(name)
        const data = (body.payload as { data?: string } | undefined)?.data ?? ''
        s.versions.push(Buffer.from(data, 'base64'))
        return sendJson(res, 200, { name: `${name}/versions/${s.versions.length}`, createTime: rfc3339(new Date()), state: 1 })
      }
      if (method === 'GET') return sendJson(res, 200, this.json(this.find(name)))
      if (method === 'DELETE') {
        this.find(name)
        this.secrets.delete(name)
        return sendJson(res, 200, {})
      }
    }
    m = /^\/v1\/(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/:]+):access$/.exec(path)
    if (m !== null && method === 'GET') {
      const s = this.find(m[1] as string)
      const v = m[2] === 'latest' ? s.versions.length : Number(m[2])
      const data = s.versions[v - 1]
      if (data === undefined) throw new GoogleHttpError('NOT_FOUND', `Secret Version [${m[1] as string}/versions/${m[2] as string}] not found.`)
      return sendJson(res, 200, { name: `${s.name}/versions/${v}`, payload: { data: data.toString('base64') } })
    }
    throw new GoogleHttpError('NOT_FOUND', `The requested URL ${path} was not found on this server.`)
  }
}
