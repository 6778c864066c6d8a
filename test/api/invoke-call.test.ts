/*
 * `call` upstreams: the driver gets method, sub-path, raw query, forwarded headers, the body as a
 * stream and an abort signal; its response (string, Buffer or stream) is written with the same
 * Content-Type fallback; its errors map through the status table; a slow call is 504.
 */
import { Readable } from 'node:stream'
import t from 'tap'
import type { InvocationRequest, Upstream } from '../../src/core/driver.ts'
import { backendError, invalid, timeout, unavailable } from '../../src/core/errors.ts'
import { send, startProxy } from './invoke-harness.ts'

t.test('request and response mapping', async (t) => {
  let seen: (Omit<InvocationRequest, 'body' | 'signal'> & { body: string }) | undefined
  const echo: Upstream = {
    kind: 'call',
    async call (req) {
      const chunks: Buffer[] = []
      for await (const c of req.body) chunks.push(c as Buffer)
      seen = { method: req.method, path: req.path, query: req.query, headers: req.headers, body: Buffer.concat(chunks).toString() }
      if (req.path === '/stream') return { status: 201, headers: { 'X-Kind': 'stream', 'content-type': 'text/csv' }, body: Readable.from(['a,', 'b']) }
      if (req.path === '/buffer') return { status: 202, headers: { 'X-Multi': ['1', '2'] }, body: Buffer.from([0, 1, 2]) }
      return { status: 200, headers: {}, body: 'text' }
    }
  }
  const proxy = await startProxy(t, { functions: { fn: echo } })

  let res = await send(proxy.base, '/function/fn/sub/x?q=%20a&b', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-call-id': 'abc', connection: 'keep-alive' }, body: '{"a":1}'
  })
  t.equal(res.status, 200)
  t.equal(res.body.toString(), 'text')
  t.equal(res.headers['content-type'], 'application/json', 'falls back to the request Content-Type')
  t.equal(seen?.method, 'POST')
  t.equal(seen?.path, '/sub/x')
  t.equal(seen?.query, 'q=%20a&b')
  t.equal(seen?.body, '{"a":1}')
  t.equal(seen?.headers['x-call-id'], 'abc')
  t.match(seen?.headers['x-forwarded-for'], /^127\.0\.0\.1:\d+$/)
  t.equal(seen?.headers.connection, undefined)
  t.equal(seen?.headers.host, undefined)

  res = await send(proxy.base, '/function/fn/stream')
  t.equal(res.status, 201)
  t.equal(res.headers['x-kind'], 'stream')
  t.equal(res.headers['content-type'], 'text/csv')
  t.equal(res.body.toString(), 'a,b')
  t.equal(seen?.path, '/stream')
  t.equal(seen?.query, '')

  res = await send(proxy.base, '/function/fn/buffer')
  t.equal(res.status, 202)
  t.same(res.body, Buffer.from([0, 1, 2]))
  t.equal(res.headers['x-multi'], '1, 2')
  t.equal(res.headers['content-type'], 'text/plain')
  t.same(proxy.invocations.map((i) => i.labels.code), [200, 201, 202])
})

t.test('errors map through the status table', async (t) => {
  const failing = (err: Error): Upstream => ({ kind: 'call', async call () { throw err } })
  const proxy = await startProxy(t, {
    functions: {
      cold: failing(unavailable('no instance')),
      slow: failing(timeout('took too long')),
      bad: failing(invalid('bad input: field x')),
      crash: failing(new Error('internal detail')),
      down: failing(backendError('lambda: AccessDeniedException: not authorized to invoke'))
    }
  })
  const expected: Array<[string, number, string]> = [
    ['cold', 503, 'No endpoints available for: cold.'],
    ['slow', 504, 'Timed out waiting for: slow.'],
    ['bad', 400, 'bad input: field x'],
    ['crash', 500, "Can't reach service for: crash."],
    // a backend's own failure keeps its reason; an untyped error's internals stay out
    ['down', 500, "Can't reach service for: down. lambda: AccessDeniedException: not authorized to invoke"]
  ]
  for (const [name, status, message] of expected) {
    const res = await send(proxy.base, `/function/${name}`)
    t.equal(res.status, status, name)
    t.equal(res.headers['x-openfaas-internal'], 'proxy')
    t.equal(res.body.toString(), message)
  }
})

t.test('a call that outlives readTimeoutMs is 504 and its signal aborts', async (t) => {
  let aborted = false
  const slow: Upstream = {
    kind: 'call',
    call (req) {
      return new Promise((_resolve, reject) => {
        req.signal.addEventListener('abort', () => { aborted = true; reject(new Error('aborted')) })
      })
    }
  }
  const proxy = await startProxy(t, { functions: { slow }, readTimeoutMs: 200 })
  const res = await send(proxy.base, '/function/slow')
  t.equal(res.status, 504)
  t.equal(res.headers['x-openfaas-internal'], 'proxy')
  t.ok(aborted, 'the driver saw the abort')
  t.same(proxy.invocations.map((i) => i.labels.code), [504])
})

t.test('a call whose response body stops flowing is cut off after read_timeout, and the driver is told', async (t) => {
  let aborted = false
  const stalls: Upstream = {
    kind: 'call',
    async call (req) {
      req.signal.addEventListener('abort', () => { aborted = true })
      const body = new Readable({ read () {} })
      body.push('first chunk;')
      return { status: 200, headers: { 'content-type': 'text/plain' }, body } // then nothing, ever
    }
  }
  const proxy = await startProxy(t, { functions: { fn: stalls }, readTimeoutMs: 300 })
  const started = Date.now()
  const outcome = await send(proxy.base, '/function/fn').then((r) => `complete: ${r.body.toString()}`, (err: Error) => `cut off: ${err.message}`)
  t.match(outcome, /^cut off/, 'the caller sees the response end abnormally, not a hang')
  t.ok(Date.now() - started < 5000, 'within a bounded time')
  for (let i = 0; i < 50 && !aborted; i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.ok(aborted, 'the driver saw its signal abort')
})
