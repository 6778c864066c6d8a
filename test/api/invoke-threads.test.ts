/*
 * Invoke threads (src/proxy/invoke-threads.ts) through HTTP: invocations served on a thread's
 * connections reach the function with the same headers and bodies, are counted once on the main
 * thread (metrics, load counters), and every other request is relayed to the main thread's own
 * routes with the same answer.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import Fastify from 'fastify'
import { invokeRoutes } from '../../src/api/invoke.ts'
import type { InvokeThreads } from '../../src/proxy/invoke-threads.ts'
import { FakeDriver, fakeBackends } from '../helpers/fake-driver.ts'
import { startUpstream } from './invoke-harness.ts'

async function request (base: string, path: string, init: { method?: string, body?: string, headers?: Record<string, string>, agent?: http.Agent } = {}): Promise<{ status: number, headers: http.IncomingHttpHeaders, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = http.request(base + path, { method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) })
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** the thread reports an outcome after the response went out: wait for it (bounded) */
async function until (what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (!ok()) throw new Error(`never: ${what}`)
}

async function start (t: { teardown (fn: () => unknown): void }, functions: Record<string, URL | Error>): Promise<{ threadBase: string, mainBase: string, threads: InvokeThreads, invocations: Array<{ code: number, fn: string }> }> {
  const driver = new FakeDriver()
  for (const [name, u] of Object.entries(functions)) driver.set('openfaas-fn', name, u instanceof URL ? { kind: 'http', url: u, headers: { 'X-Driver': 'yes' } } : u)
  const invocations: Array<{ code: number, fn: string }> = []
  let threads: InvokeThreads | undefined
  const app = Fastify({ logger: false })
  app.get('/system/info', async () => ({ provider: { provider: 'test' } }))
  app.post('/system/echo', async (req) => ({ got: req.body }))
  await app.register(invokeRoutes, {
    backends: fakeBackends(driver, ['openfaas-fn']),
    readTimeoutMs: 5_000,
    maxIdleConnsPerHost: 16,
    onInvocation: (labels) => { invocations.push({ code: labels.code, fn: labels.function }) },
    // the threads on a port of their own, so that every request of this test reaches a thread
    threads: { count: 1, startRps: 0, listen: { host: '127.0.0.1', port: 0 }, created: (x) => { threads = x } }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close() })
  if (threads === undefined) throw new Error('no invoke threads were created')
  const port = await threads.listening()
  if (port === undefined) throw new Error('the invoke threads did not start')
  return { threadBase: `http://127.0.0.1:${port}`, mainBase: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, threads, invocations }
}

t.test('an invocation on a thread reaches the function and is counted on the main thread', async (t) => {
  const seen: Array<{ url: string, headers: http.IncomingHttpHeaders, body: string }> = []
  const up = await startUpstream(t, (req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => { body += c.toString() })
    req.on('end', () => {
      seen.push({ url: req.url as string, headers: req.headers, body })
      res.writeHead(201, { 'Content-Type': 'application/x-test', 'X-Fn': 'echo' })
      res.end(`echo:${body}`)
    })
  })
  const { threadBase, threads, invocations } = await start(t, { echo: up.url })
  const r = await request(threadBase, '/function/echo/sub/path?x=1&y=%20', { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain', 'X-Custom': 'c' } })
  t.equal(r.status, 201)
  t.equal(r.body, 'echo:hello')
  t.equal(r.headers['content-type'], 'application/x-test')
  t.equal(r.headers['x-fn'], 'echo')
  t.equal(seen[0]?.url, '/sub/path?x=1&y=%20')
  t.equal(seen[0]?.headers['x-custom'], 'c')
  t.equal(seen[0]?.headers['x-driver'], 'yes', 'the driver\'s extra headers reach the function')
  t.match(seen[0]?.headers['x-forwarded-for'], /^127\.0\.0\.1:\d+$/, 'X-Forwarded-For is the caller, as on the main thread')
  await until('the invocation is counted', () => invocations.length === 1)
  t.same(invocations, [{ code: 201, fn: 'echo' }])
  t.equal(threads.stats().invocations, 1, 'the thread served it')
})

t.test('a function that does not exist gets the same 503 from a thread', async (t) => {
  const { threadBase, mainBase, invocations } = await start(t, {})
  const viaThread = await request(threadBase, '/function/nope')
  const viaMain = await request(mainBase, '/function/nope')
  t.equal(viaThread.status, 503)
  t.equal(viaThread.body, viaMain.body)
  t.equal(viaThread.headers['x-openfaas-internal'], 'proxy')
  t.equal(invocations.length, 2)
  const bad = await request(threadBase, '/function/', {})
  t.equal(bad.status, 400)
  const method = await request(threadBase, '/function/nope', { method: 'PROPFIND' })
  t.equal(method.status, 405)
})

t.test('requests that are not invocations are answered by the main thread\'s routes', async (t) => {
  const { threadBase, mainBase } = await start(t, {})
  const a = await request(threadBase, '/system/info')
  const b = await request(mainBase, '/system/info')
  t.equal(a.status, 200)
  t.equal(a.body, b.body)
  t.equal(a.headers['content-type'], b.headers['content-type'])
  const posted = await request(threadBase, '/system/echo', { method: 'POST', body: '{"a":1}', headers: { 'Content-Type': 'application/json' } })
  t.equal(posted.status, 200)
  t.same(JSON.parse(posted.body), { got: { a: 1 } })
  const missing = await request(threadBase, '/nothing-here')
  t.equal(missing.status, 404)
  t.equal(missing.body, (await request(mainBase, '/nothing-here')).body)
})

t.test('an unreachable function gets the main thread\'s 500 from a thread', async (t) => {
  const srv = http.createServer()
  await new Promise<void>((resolve) => { srv.listen(0, '127.0.0.1', resolve) })
  const port = (srv.address() as AddressInfo).port
  await new Promise((resolve) => { srv.close(resolve) })
  const { threadBase, invocations } = await start(t, { gone: new URL(`http://127.0.0.1:${port}/`) })
  const r = await request(threadBase, '/function/gone', { method: 'POST', body: 'x' })
  t.equal(r.status, 500)
  t.equal(r.body, "Can't reach service for: gone.")
  await until('the failure is counted', () => invocations.length === 1)
  t.same(invocations, [{ code: 500, fn: 'gone' }])
})
