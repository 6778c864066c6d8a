/*
 * A faas-provider that is not faas-bridge: an independent, stateful stand-in answering the way the
 * Go providers built on openfaas/faas-provider do (faas-netes CE where the providers differ, faasd
 * or faas-memory where faas-netes has no such case). It shows that any faas-provider, whatever
 * language it is written in, plugs in behind faas-bridge's `openfaas` driver. Functions do not run
 * code: each invocation answers with what it was sent and writes one log line, and replicas are
 * as requested (the stand-in's "cluster" is always healthy). References are to the repositories
 * named in the faas-provider contract notes: [P] faas-provider, [N] faas-netes, [D] faasd,
 * [M] faas-memory.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface GoProvider {
  url: string
  /** every request as "METHOD /path?query" */
  requests: string[]
  close (): Promise<void>
}

interface Fn {
  spec: Record<string, unknown>
  replicas: number
  createdAt: string
  logs: Array<{ instance: string, timestamp: string, text: string }>
}

const NAMESPACE = 'openfaas-fn'
// [N] pkg/handlers/validate.go: a DNS-1123 label
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

/** Go's encoding/json with omitempty: "", 0, false, null, [] and {} are left out ([P] types/*.go). */
function omitEmpty (obj: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) =>
    v !== undefined && v !== null && v !== '' && v !== 0 && v !== false &&
    !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)))
}

export async function startGoProvider (opts: { user: string, password: string }): Promise<GoProvider> {
  const functions = new Map<string, Fn>()
  const secrets = new Map<string, Buffer>()
  const requests: string[] = []
  const basic = `Basic ${Buffer.from(`${opts.user}:${opts.password}`).toString('base64')}`

  const text = (res: http.ServerResponse, status: number, body = ''): void => {
    // [N] http.Error: text/plain, nosniff, the message and "\n"; several paths write an empty body
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' })
    res.end(body === '' ? '' : `${body}\n`)
  }
  const json = (res: http.ServerResponse, value: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(value))
  }
  const status = (name: string, fn: Fn): Record<string, unknown> => ({
    ...omitEmpty({
      name,
      image: fn.spec.image,
      namespace: NAMESPACE,
      envProcess: fn.spec.envProcess,
      envVars: fn.spec.envVars,
      labels: fn.spec.labels,
      annotations: fn.spec.annotations,
      secrets: fn.spec.secrets,
      replicas: fn.replicas,
      availableReplicas: fn.replicas
    }),
    // time.Time is never omitted ([P] types/function_status.go)
    createdAt: fn.createdAt
  })

  const system = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void => {
    const route = `${req.method ?? ''} ${url.pathname}`
    let parsed: Record<string, unknown> = {}
    if (body !== '') {
      try {
        parsed = JSON.parse(body) as Record<string, unknown>
      } catch {
        text(res, 400, 'failed to unmarshal request')
        return
      }
    }
    // [N] one namespace only: any other is a 400 (the query for reads, the body for writes)
    const ns = url.searchParams.get('namespace') ?? (typeof parsed.namespace === 'string' ? parsed.namespace : NAMESPACE)
    if (ns !== NAMESPACE && url.pathname !== '/system/info') {
      text(res, 400, `namespace must be: ${NAMESPACE}`)
      return
    }
    const fnName = decodeURIComponent(url.pathname.split('/')[3] ?? '')
    switch (route) {
      case 'GET /system/functions': {
        const list = [...functions].map(([name, fn]) => status(name, fn))
        // [M] handlers/reader.go marshals a nil slice: null when there are none
        json(res, list.length === 0 ? null : list)
        return
      }
      case 'POST /system/functions':
      case 'PUT /system/functions': {
        const name = String(parsed.service ?? '')
        if (!NAME.test(name) || typeof parsed.image !== 'string' || parsed.image === '') {
          text(res, 400, `validation failed: service ${JSON.stringify(name)} must be a DNS-1123 label and image is required`)
          return
        }
        const missing = ((parsed.secrets ?? []) as string[]).filter((s) => !secrets.has(s))
        if (missing.length > 0) {
          // [N] deploy.go: a referenced secret that does not exist
          text(res, 400, `unable to fetch secrets: ${missing.join(', ')} not found`)
          return
        }
        const existing = functions.get(name)
        if (req.method === 'POST') {
          // [N] deploy.go: Kubernetes' "already exists" is a 500, never a 409
          if (existing !== undefined) return text(res, 500, `deployments.apps "${name}" already exists`)
          functions.set(name, { spec: parsed, replicas: 1, createdAt: new Date().toISOString(), logs: [] })
        } else {
          // [N] update.go: 404 when the Deployment is not there (faas-cli deploy relies on it)
          if (existing === undefined) return text(res, 404, `unable update Deployment: deployments.apps "${name}" not found`)
          existing.spec = parsed
        }
        text(res, 202)
        return
      }
      case 'DELETE /system/functions': {
        const name = String(parsed.functionName ?? '')
        if (name === '') return text(res, 400)
        if (!functions.delete(name)) return text(res, 404, `deployments.apps "${name}" not found`)
        text(res, 202)
        return
      }
      case `GET /system/function/${fnName}`: {
        const fn = functions.get(fnName)
        // [N] replica_reader.go: 404 with an empty body
        if (fn === undefined) return text(res, 404)
        json(res, status(fnName, fn))
        return
      }
      case `POST /system/scale-function/${fnName}`: {
        const fn = functions.get(fnName)
        // [N] replica_updater.go: not found is a 500 "Unable to lookup function deployment"
        if (fn === undefined) return text(res, 500, `Unable to lookup function deployment ${fnName}`)
        fn.replicas = Number(parsed.replicas ?? 0)
        text(res, 202)
        return
      }
      case 'GET /system/secrets':
        json(res, [...secrets.keys()].map((name) => ({ name, namespace: NAMESPACE })))
        return
      case 'POST /system/secrets':
      case 'PUT /system/secrets': {
        const name = String(parsed.name ?? '')
        // [N] secrets.go: 409 for an existing one on POST, 404 for a missing one on PUT, empty bodies
        if (req.method === 'POST' && secrets.has(name)) return text(res, 409)
        if (req.method === 'PUT' && !secrets.has(name)) return text(res, 404)
        // [P] types/secret.go: rawValue ([]byte, base64) wins over value
        const raw = typeof parsed.rawValue === 'string' && parsed.rawValue !== '' ? Buffer.from(parsed.rawValue, 'base64') : Buffer.from(String(parsed.value ?? ''))
        secrets.set(name, raw)
        text(res, 202)
        return
      }
      case 'DELETE /system/secrets':
        if (!secrets.delete(String(parsed.name ?? ''))) return text(res, 404)
        text(res, 202)
        return
      case 'GET /system/logs': {
        const fn = functions.get(url.searchParams.get('name') ?? '')
        // [N] logs.go: no instances for the function → 500 "function log request failed"
        if (fn === undefined) return text(res, 500, 'function log request failed')
        const tail = Number(url.searchParams.get('tail') ?? '-1')
        const lines = tail > 0 ? fn.logs.slice(-tail) : fn.logs
        // [P] logs/handler.go: 200 and NDJSON, one Message per line, every key present
        res.writeHead(200, { 'content-type': 'application/x-ndjson' })
        for (const l of lines) res.write(`${JSON.stringify({ name: url.searchParams.get('name'), namespace: NAMESPACE, ...l })}\n`)
        if (/^(1|t|true)$/i.test(url.searchParams.get('follow') ?? '')) {
          req.socket.once('close', () => { res.end() })
        } else {
          res.end()
        }
        return
      }
      case 'GET /system/info':
        json(res, { provider: 'go-faas-provider-standin', orchestration: 'none', version: { sha: 'standin', release: '0.0.1' } })
        return
    }
    // gorilla/mux: an unknown path
    text(res, 404, '404 page not found')
  }

  // [P] proxy/handler.go: /function/NAME[.NAMESPACE]/PATH, not behind basic auth
  const invoke = (req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: string): void => {
    const [, , target = '', ...rest] = url.pathname.split('/')
    const [name = '', ns = NAMESPACE] = target.split('.')
    const fn = ns === NAMESPACE ? functions.get(name) : undefined
    if (fn === undefined || fn.replicas === 0) return text(res, 503, `No endpoints available for: ${name}.`)
    const path = `/${rest.join('/')}${url.search}`
    fn.logs.push({ instance: `${name}-standin-0`, timestamp: new Date().toISOString(), text: `${req.method ?? ''} ${path} ${Buffer.byteLength(body)} bytes` })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ method: req.method, path, body }))
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => { chunks.push(c) })
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin')
      requests.push(`${req.method ?? ''} ${url.pathname}${url.search}`)
      const body = Buffer.concat(chunks).toString()
      if (url.pathname.startsWith('/function/')) return invoke(req, res, url, body)
      if (url.pathname === '/healthz') return text(res, 200)
      // [P] auth/basic_auth.go wraps every /system route (but /system/namespaces is never wrapped, §1)
      if (req.headers.authorization !== basic) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="Restricted"' })
        res.end('invalid credentials\n')
        return
      }
      system(req, res, url, body)
    })
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close () {
      server.closeAllConnections()
      await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    }
  }
}
