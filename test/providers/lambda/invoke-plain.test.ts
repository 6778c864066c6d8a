/*
 * /function/NAME through the Lambda backend: the request becomes an HTTP API (2.0) event — method,
 * rawPath, rawQueryString, headers, cookies, body (base64 when binary) — and a payload that is not
 * HTTP-shaped comes back as-is with 200.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('the event and a plain reply', async (t) => {
  const { url, fake } = await lambdaApp(t)
  fake.handle('plain', () => ({ hello: 'world' }))
  await deployReady(url, { service: 'echo', image: image('echo') })
  await deployReady(url, { service: 'plain', image: image('plain') })

  const r = await api(url, 'POST', '/function/echo/sub/path?a=1&a=2&b=x', 'text body', {
    'content-type': 'text/plain', 'x-custom': 'yes', cookie: 'c1=v1; c2=v2'
  })
  t.equal(r.status, 200)
  t.equal(r.headers.get('content-type'), 'application/json', 'JSON payload → application/json')
  const event = r.json() as Record<string, any>
  t.equal(event.version, '2.0')
  t.equal(event.rawPath, '/sub/path', 'path below /function/NAME')
  t.equal(event.rawQueryString, 'a=1&a=2&b=x')
  t.same(event.queryStringParameters, { a: '1,2', b: 'x' })
  t.equal(event.requestContext.http.method, 'POST')
  t.equal(event.requestContext.http.path, '/sub/path')
  t.equal(event.headers['x-custom'], 'yes')
  t.equal(event.headers['content-type'], 'text/plain')
  t.same(event.cookies, ['c1=v1', 'c2=v2'])
  t.equal(event.headers.cookie, undefined, 'cookies move out of headers (2.0 format)')
  t.equal(event.body, 'text body')
  t.equal(event.isBase64Encoded, false)

  const binary = Buffer.from([0, 1, 2, 253, 254, 255])
  const b = await fetch(`${url}/function/echo`, { method: 'PUT', body: binary, headers: { 'content-type': 'application/octet-stream' } })
  const bev = await b.json() as Record<string, any>
  t.equal(bev.isBase64Encoded, true, 'binary → base64')
  t.same(Buffer.from(bev.body, 'base64'), binary)

  const get = await api(url, 'GET', '/function/echo')
  const gev = get.json() as Record<string, any>
  t.equal(gev.requestContext.http.method, 'GET')
  t.equal(gev.body, undefined, 'no body → none in the event')
  t.equal(gev.rawPath, '/')

  const p = await api(url, 'POST', '/function/plain', 'x')
  t.equal(p.status, 200)
  t.equal(p.text, '{"hello":"world"}', 'payload as-is')
  t.equal((fake.state.invocations.at(-1)?.event as Record<string, unknown>).body, 'x', 'the fake saw the event')

  t.equal((await api(url, 'POST', '/function/missing', 'x')).status, 503, 'unknown function → 503 as faas-provider')
})
