/*
 * Security checks, as tests:
 *   - every route the app registers (read from Fastify's route tree, so a new route cannot slip
 *     through) answers 401 without credentials when basic auth is on, unless it is on the explicit
 *     allow-list below; the method-not-allowed fallbacks may answer their bare 405; no backend
 *     call is made for any of them;
 *   - secret values never appear in the log (every level captured), in list/status responses or
 *     in error messages;
 *   - names with path separators or traversal are rejected before any backend call;
 *   - with auth off the provider binds loopback only;
 *   - a client that sends its headers byte by byte is cut off (headersTimeout), while a slow body
 *     upload still goes through.
 */
import t from 'tap'
import net from 'node:net'
import { Writable } from 'node:stream'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { memoryApp } from '../helpers/app.ts'
import { createDriver } from '../../providers/local/index.ts'
import { buildApp, HEADERS_TIMEOUT_MS } from '../../src/app.ts'
import { Backends } from '../../src/core/backends.ts'
import { loadConfig, LOOPBACK_ADDRESS } from '../../src/config.ts'
import { concretePath, registeredRoutes } from './routes.ts'

/** `p`, or `fallback` after `ms`; the timer is cleared either way */
async function within<T> (p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const r = await Promise.race([p, new Promise<T>((resolve) => { timer = setTimeout(() => { resolve(fallback) }, ms) })])
  clearTimeout(timer)
  return r
}

const CREDS = { user: 'admin', password: 'pa55word-xyz' }
const BASIC = `Basic ${Buffer.from(`${CREDS.user}:${CREDS.password}`).toString('base64')}`

/** deliberately open: health and metrics for probes and Prometheus, the namespace list (as in faas-provider), invocations */
const OPEN = new Set(['/healthz', '/metrics', '/system/namespaces', '/function/:name', '/function/:name/*'])

t.test('basic auth: every registered route not on the allow-list answers 401 without credentials', async (t) => {
  const { app, driver } = await memoryApp(t, { credentials: CREDS })
  await app.ready()
  const routes = registeredRoutes(app)
  t.ok(routes.length >= 15, `${routes.length} routes registered`)
  let checked = 0
  for (const route of routes) {
    if (OPEN.has(route.url)) continue
    for (const method of route.methods) {
      const url = concretePath(route.url, 'probe')
      for (const authorization of [undefined, 'Basic ' + Buffer.from('admin:wrong').toString('base64'), 'Bearer x', 'Basic !!!']) {
        const res = await app.inject({
          method: method as 'GET',
          url,
          headers: { 'content-type': 'application/json', ...(authorization !== undefined ? { authorization } : {}) },
          ...(['POST', 'PUT', 'DELETE', 'PATCH'].includes(method) ? { payload: '{"name":"probe","service":"probe","image":"x","functionName":"probe","replicas":1}' } : {})
        })
        checked++
        const bare405 = res.statusCode === 405 && (res.body === 'method not allowed\n' || res.body === '')
        if (res.statusCode !== 401 && !bare405) t.fail(`${method} ${url} (${authorization ?? 'no credentials'}) answered ${res.statusCode}: ${res.body.slice(0, 100)}`)
        if (res.statusCode === 401 && method !== 'HEAD') t.equal(res.headers['www-authenticate'], 'Basic realm="Restricted"', `${method} ${url}`)
      }
    }
  }
  t.comment(`${checked} requests on ${routes.length - OPEN.size} protected routes`)
  t.same(driver.calls, [], 'no backend call without valid credentials')
  // and the protected routes do work with them (so the 401s above are not an artefact)
  t.equal((await app.inject({ method: 'GET', url: '/system/functions', headers: { authorization: BASIC } })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/system/info', headers: { authorization: BASIC } })).statusCode, 200)
  // the allow-list is open, and exactly these routes are (a new open route must be added here on purpose)
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/system/namespaces' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200)
  for (const url of OPEN) t.ok(routes.some((r) => r.url === url), `${url} is still registered (drop it from the allow-list otherwise)`)
})

t.test('secret values never reach the log, list responses or error messages', async (t) => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'fb-sec-'))
  t.teardown(async () => { await rm(stateDir, { recursive: true, force: true }) })
  let logged = ''
  const sink = new Writable({ write (chunk: Buffer, _enc, cb) { logged += chunk.toString(); cb() } })
  const logger = pino({ level: 'trace' }, sink)
  const namespaces = ['openfaas-fn']
  const driver = await createDriver({ stateDir, secretsMount: 'env' }, { logger, namespaces, execTimeoutMs: 5000 })
  const backends = new Backends([{ backend: { name: 'local', driver }, namespaces }], 'openfaas-fn')
  await backends.init()
  const app = await buildApp({ backends, readTimeoutMs: 5000, writeTimeoutMs: 500, systemBodyLimit: 64 * 1024, maxIdleConnsPerHost: 8, logger })
  t.teardown(async () => { await app.close(); await backends.close() })
  const V = ['Sx-first-7f3a9c', 'Sx-second-0b2d41', 'Sx-rejected-91e0aa', 'Sx-raw-5c5c5c', 'Sx-dup-e4e4e4', 'Sx-badname-123123', 'Sx-missing-777']
  const bodies: string[] = []
  const call = async (method: string, url: string, payload?: unknown): Promise<{ status: number, body: string }> => {
    const res = await app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload: payload as object } : {}) })
    bodies.push(`${method} ${url} → ${res.statusCode} ${res.body}`)
    return { status: res.statusCode, body: res.body }
  }
  t.equal((await call('POST', '/system/secrets', { name: 'token', value: V[0] })).status, 202, 'create')
  t.equal((await call('PUT', '/system/secrets', { name: 'token', value: V[1] })).status, 202, 'update')
  t.equal((await call('POST', '/system/secrets', { name: 'raw', rawValue: Buffer.from(V[3] as string).toString('base64') })).status, 202, 'create with rawValue')
  // errors whose request carries a value
  t.equal((await call('POST', '/system/secrets', { name: 'token', value: V[4] })).status, 409, 'duplicate create')
  t.equal((await call('POST', '/system/secrets', { name: 'Bad/Name', value: V[5] })).status, 400, 'bad name')
  t.equal((await call('PUT', '/system/secrets', { name: 'nope', value: V[6] })).status, 404, 'update of a missing secret')
  t.equal((await call('POST', '/system/secrets', { name: 'x', value: V[2], rawValue: '***' })).status, 400, 'bad rawValue')
  t.equal((await call('POST', '/system/secrets', `{"name":"x","value":"${V[2] as string}"`)).status, 400, 'malformed JSON')
  // a function that reads its secret, deployed, invoked, listed, described; a deploy that fails
  t.equal((await call('POST', '/system/functions', { service: 'reader', image: 'r:1', envProcess: 'cat "$secret_mount_path/token"', secrets: ['token'] })).status, 202)
  t.equal((await call('POST', '/system/functions', { service: 'reader2', image: 'r:1', envProcess: 'cat', secrets: ['no-such'] })).status, 400)
  const invoked = await call('POST', '/function/reader', '')
  t.equal(invoked.body, V[1], 'the function reads the current value (the one place it may appear)')
  bodies.pop()
  t.equal((await call('POST', '/function/reader.nowhere', '')).status, 503, 'unknown namespace: no endpoints (as faas-provider)')
  await call('GET', '/system/functions')
  await call('GET', '/system/function/reader')
  await call('GET', '/system/secrets')
  await call('DELETE', '/system/secrets', { name: 'raw' })
  await call('GET', '/system/logs?name=reader&tail=100')
  const haystack = logged + bodies.join('\n')
  t.ok(logged.length > 500, 'the log was captured')
  for (const v of V) {
    t.notOk(haystack.includes(v), `value ${v} appears nowhere`)
    t.notOk(haystack.includes(Buffer.from(v).toString('base64')), `nor its base64`)
  }
})

t.test('names with path separators or traversal are rejected before any backend call', async (t) => {
  const { app, driver } = await memoryApp(t)
  // the invoke proxy's backend call is upstream(): record it like the others
  const upstream = driver.upstream.bind(driver)
  driver.upstream = async (ns, name) => { driver.calls.push('upstream'); return await upstream(ns, name) }
  await app.inject({ method: 'POST', url: '/system/secrets', payload: { name: 'ok', value: 'v' } })
  await app.inject({ method: 'POST', url: '/system/functions', payload: { service: 'ok', image: 'x', envProcess: 'cat' } })
  const bad = ['../x', '..', 'a/b', '/etc', '%2e%2e', '..%2fx', 'a\\b', '.', 'x/..', '\u0000', '..\u2215x']
  for (const name of bad) {
    const seg = encodeURIComponent(name)
    const requests: Array<{ method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object }> = [
      { method: 'POST', url: '/system/functions', payload: { service: name, image: 'x', envProcess: 'cat' } },
      { method: 'PUT', url: '/system/functions', payload: { service: name, image: 'x', envProcess: 'cat' } },
      { method: 'POST', url: '/system/functions', payload: { service: 'ok2', image: 'x', envProcess: 'cat', secrets: [name] } },
      { method: 'DELETE', url: '/system/functions', payload: { functionName: name } },
      { method: 'POST', url: '/system/functions', payload: { service: 'ok3', image: 'x', envProcess: 'cat', namespace: name } },
      { method: 'GET', url: `/system/function/${seg}` },
      { method: 'GET', url: `/system/function/ok?namespace=${seg}` },
      { method: 'POST', url: `/system/scale-function/${seg}`, payload: { replicas: 1 } },
      { method: 'POST', url: '/system/secrets', payload: { name, value: 'v' } },
      { method: 'PUT', url: '/system/secrets', payload: { name, value: 'v' } },
      { method: 'DELETE', url: '/system/secrets', payload: { name } },
      { method: 'GET', url: `/system/secrets?namespace=${seg}` },
      { method: 'GET', url: `/system/logs?name=${seg}` },
      { method: 'POST', url: '/system/namespace/', payload: { name } },
      { method: 'GET', url: `/system/namespace/${seg}` },
      { method: 'DELETE', url: `/system/namespace/${seg}` },
      { method: 'POST', url: `/function/${seg}` },
      { method: 'POST', url: `/function/ok.${seg}` }
    ]
    for (const r of requests) {
      const before = driver.calls.length
      const res = await app.inject({ method: r.method, url: r.url, ...(r.payload !== undefined ? { payload: r.payload } : {}) })
      const calls = driver.calls.slice(before)
      // the invoke proxy answers a function that cannot exist as faas-provider does any unknown one: 503
      const ok = r.url.startsWith('/function/') ? [400, 404, 503].includes(res.statusCode) : res.statusCode >= 400 && res.statusCode < 500
      if (!ok) t.fail(`${r.method} ${r.url} ${JSON.stringify(r.payload)}: ${res.statusCode}`)
      if (calls.length > 0) t.fail(`${r.method} ${r.url} ${JSON.stringify(r.payload ?? {})} reached the backend (${calls.join(', ')}) → ${res.statusCode}`)
    }
  }
  t.pass(`${bad.length} hostile names × 18 requests`)
})

t.test('with basic auth off the provider binds loopback only', async (t) => {
  const off = loadConfig({})
  t.equal(off.host, LOOPBACK_ADDRESS)
  t.equal(off.hostExplicit, false)
  t.equal(loadConfig({ basic_auth: 'false' }).host, '127.0.0.1')
  t.equal(loadConfig({ basic_auth: 'TRUE' }).host, '127.0.0.1', 'only the exact string "true" turns auth on')
  t.equal(loadConfig({ basic_auth: 'true' }).host, '0.0.0.0', 'with auth on it serves other hosts')
  const explicit = loadConfig({ bind_address: '0.0.0.0' })
  t.equal(explicit.hostExplicit, true, 'binding elsewhere without auth only by saying so (and main.ts warns)')
})

t.test('slow-loris: headers sent byte by byte are cut off; a slow body still goes through', async (t) => {
  t.ok(HEADERS_TIMEOUT_MS >= 5000 && HEADERS_TIMEOUT_MS <= 30_000, `the default headers timeout is ${HEADERS_TIMEOUT_MS} ms`)
  const { app, driver } = await memoryApp(t, { headersTimeoutMs: 500 })
  const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))
  const port = Number(url.port)

  // headers, one byte every 100 ms, forever (bounded by the test: 60 bytes = 6 s)
  const loris = net.connect({ port, host: '127.0.0.1' })
  await new Promise<void>((resolve) => loris.once('connect', () => { resolve() }))
  const started = Date.now()
  let received = ''
  loris.on('data', (d: Buffer) => { received += d.toString() })
  const closed = new Promise<number>((resolve) => loris.once('close', () => { resolve(Date.now() - started) }))
  loris.on('error', () => {})
  const text = 'GET /system/functions HTTP/1.1\r\nHost: x\r\n' + 'X-Slow: ' + 'a'.repeat(200)
  let sent = 0
  const timer = setInterval(() => {
    if (sent >= 60 || loris.destroyed) { clearInterval(timer); return }
    loris.write(text[sent++ % text.length] as string)
  }, 100)
  const after = await within(closed, 8000, -1)
  clearInterval(timer)
  loris.destroy()
  t.ok(after > 0, 'the server closed the connection')
  t.ok(after < 3000, `within the headers timeout plus one check interval (${after} ms)`)
  t.match(received, /^HTTP\/1\.1 408/, 'with a 408')

  // a body that dribbles in over longer than the headers timeout is fine: bodies are not bounded
  driver.upstreamUrl = undefined
  const slow = net.connect({ port, host: '127.0.0.1' })
  slow.on('error', () => {})
  await new Promise<void>((resolve) => slow.once('connect', () => { resolve() }))
  const payload = JSON.stringify({ name: 'slow', value: 'v'.repeat(20) })
  slow.write(`POST /system/secrets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\nConnection: close\r\n\r\n`)
  let answer = ''
  slow.on('data', (d: Buffer) => { answer += d.toString() })
  const done = new Promise<void>((resolve) => slow.once('close', () => { resolve() }))
  for (let i = 0; i < payload.length; i += 6) {
    slow.write(payload.slice(i, i + 6))
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await within(done, 5000, undefined)
  slow.destroy()
  t.match(answer, /^HTTP\/1\.1 202/, 'a body sent over ~1 s (twice the headers timeout) is accepted')
})

t.test('calls to made-up function names do not grow /metrics (anyone may call /function/)', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: { service: 'known', image: 'x', envProcess: 'cat' } })
  await app.inject({ method: 'GET', url: '/function/known' })
  /** the invocation series in /metrics */
  const series = async (): Promise<string[]> => (await app.inject({ method: 'GET', url: '/metrics' })).body
    .split('\n').filter((l) => l.startsWith('faas_bridge_invocation')).map((l) => l.replace(/ \S+$/, ''))
  const callMadeUp = async (from: number, to: number): Promise<void> => {
    for (let i = from; i < to; i++) {
      const res = await app.inject({ method: 'GET', url: i % 2 === 0 ? `/function/made-up-${i}` : `/function/x.ns-${i}` })
      if (res.statusCode !== 503) t.fail(`made-up-${i}: ${res.statusCode}`)
    }
  }
  await callMadeUp(0, 250)
  const before = await series()
  await callMadeUp(250, 500)
  const after = await series()
  t.same(after, before, `no new invocation series for 250 more made-up names (${after.length} series)`)
  t.notOk(after.some((l) => l.includes('made-up') || l.includes('ns-')), 'no made-up name in a label')
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  t.match(text, /faas_bridge_invocations_total\{function_name="known",namespace="openfaas-fn"/, 'a deployed function keeps its own series')
  t.match(text, /faas_bridge_invocations_total\{function_name="",namespace="openfaas-fn",backend="mem",code="503"\} 250/, 'unknown ones are counted together')
})
