/*
 * A scripted remote for error-path tests: a loopback HTTP server whose answer per "METHOD path"
 * (path without query) is given by the test, shaped like faas-netes or the gateway answers
 * (text/plain bodies, sometimes empty). Every request is recorded. Closed at teardown.
 * `faults` adds the wire-level fault modes of ../../fakes/wire-faults.ts keyed by "METHOD path"
 * (latency, 5xx and 429 with Retry-After as text/plain, connection reset, truncated body, never answering).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { WireFaults } from '../../fakes/wire-faults.ts'

export interface Scripted {
  status: number
  body?: string
  contentType?: string
}

export interface RecordedRequest {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
}

export interface FakeRemote {
  url: string
  requests: RecordedRequest[]
  /** "GET /system/function/x" → answer (a function gets the request) */
  routes: Map<string, Scripted | ((req: RecordedRequest) => Scripted)>
  /** wire-level faults keyed by "METHOD path" (path without query) */
  faults: WireFaults
}

export async function fakeRemote (t: Test): Promise<FakeRemote> {
  const routes: FakeRemote['routes'] = new Map()
  const requests: RecordedRequest[] = []
  const faults = new WireFaults((res, status, message) => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
    res.end(message)
  })
  const server = http.createServer((req, res) => {
    const key = `${req.method ?? ''} ${(req.url ?? '').split('?')[0] ?? ''}`
    faults.intercept(key, req, res).then((handled) => {
      if (handled) requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: '' })
      else serve(req, res)
    }, () => { res.destroy() })
  })
  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => { chunks.push(c) })
    req.on('end', () => {
      const rec = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() }
      requests.push(rec)
      const key = `${rec.method} ${rec.url.split('?')[0] ?? ''}`
      const route = routes.get(key)
      const answer = route === undefined ? { status: 404, body: '404 page not found' } : typeof route === 'function' ? route(rec) : route
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'text/plain; charset=utf-8' })
      res.end(answer.body ?? '')
    })
  }
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    faults.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests, routes, faults }
}
