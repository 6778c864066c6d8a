/*
 * Accept: text/event-stream or application/x-ndjson → InvokeWithResponseStream (real event-stream
 * framing from the fake), streamed to the caller as chunks arrive; HttpResponseStream preludes
 * set status and headers; an error before the first byte is 500, one after it cuts the stream.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('server-sent events arrive while the function is still running', async (t) => {
  const { url, fake } = await lambdaApp(t)
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  fake.handleStream('sse', (event, ctx) => ({
    contentType: 'text/event-stream',
    chunks: (async function * () {
      ctx.log('streaming')
      yield 'data: one\n\n'
      await gate
      yield `data: ${(event as { rawPath: string }).rawPath}\n\n`
    })()
  }))
  await deployReady(url, { service: 'sse', image: image('sse') })

  const res = await fetch(`${url}/function/sse/path`, { headers: { accept: 'text/event-stream' }, signal: AbortSignal.timeout(5000) })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const first = await reader.read()
  t.equal(Buffer.from(first.value ?? []).toString(), 'data: one\n\n', 'first event before the function finished')
  release()
  let rest = ''
  for (;;) {
    const next = await reader.read()
    if (next.done) break
    rest += Buffer.from(next.value).toString()
  }
  t.equal(rest, 'data: /path\n\n')
  t.equal(fake.count('Lambda.InvokeWithResponseStream'), 1)
  t.equal(fake.count('Lambda.Invoke'), 0)
})

t.test('ndjson, HttpResponseStream preludes, buffered functions and errors', async (t) => {
  const { url, fake } = await lambdaApp(t)
  fake.handleStream('http', () => ({
    http: { statusCode: 207, headers: { 'content-type': 'application/x-ndjson', 'x-stream': 'yes' }, cookies: ['s=1'] },
    chunks: ['{"n":1}\n', '{"n":2}\n']
  }))
  fake.handleStream('early', () => { throw new RangeError('no stream today') })
  fake.handleStream('late', () => ({
    contentType: 'application/x-ndjson',
    chunks: (async function * () { yield '{"n":1}\n'; throw new Error('mid-stream') })()
  }))
  for (const n of ['http', 'early', 'late', 'echo']) await deployReady(url, { service: n, image: image(n) })
  const nd = { accept: 'application/x-ndjson' }

  const http = await api(url, 'GET', '/function/http', undefined, nd)
  t.equal(http.status, 207, 'status from the prelude')
  t.equal(http.headers.get('x-stream'), 'yes')
  t.same(http.headers.getSetCookie(), ['s=1'])
  t.equal(http.text, '{"n":1}\n{"n":2}\n', 'body after the prelude')

  const buffered = await api(url, 'POST', '/function/echo', 'hi', nd)
  t.equal(buffered.status, 200, 'a buffered function streams its whole reply')
  t.match(buffered.json(), { body: 'hi' })

  const early = await api(url, 'GET', '/function/early', undefined, nd)
  t.equal(early.status, 500)
  t.match(early.json(), { errorType: 'RangeError', errorMessage: 'no stream today' })

  const late = await fetch(`${url}/function/late`, { headers: nd })
  t.equal(late.status, 200, 'headers were sent before the failure')
  await t.rejects(late.text(), 'the body is cut off')
})
