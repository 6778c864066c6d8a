/*
 * /function/NAME proxies to the service URL with `X-Serverless-Authorization: Bearer <Google ID
 * token>` for the
 * service URL as audience. The token is cached until it nears expiry; services with IAM invoker
 * checks disabled get no token; invokeAuth 'none' sends none.
 */
import t from 'tap'
import type { EchoReply } from '../../fakes/cloudrun/function-server.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('invoke carries an ID token for the service URL; cached, then refreshed', async (t) => {
  const s = await appSetup(t)
  s.fn.acceptToken = (token) => s.tokens.minted.has(token)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('echo') })).status, 202)

  const res = await s.call('/function/echo/sub/path?x=1', { method: 'POST', body: 'ping', headers: { authorization: 'Basic caller-creds' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-function'), 'fake', 'response headers pass through')
  const echoed = await res.json() as EchoReply
  t.equal(echoed.body, 'ping', 'body streamed to the function')
  t.equal(echoed.path, '/sub/path?x=1', 'path and query kept, prefix stripped')
  t.equal(echoed.authorization, 'Basic caller-creds', 'the caller\'s own Authorization reaches the function')
  t.same(s.tokens.audiences, [s.fn.url], 'audience = the service URL')

  for (let i = 0; i < 3; i++) t.equal((await s.call('/function/echo', { method: 'GET' })).status, 200)
  t.equal(s.tokens.audiences.length, 1, 'the token is cached')

  const s2 = await appSetup(t)
  s2.tokens.lifetimeMs = 60_000 // inside google-auth-library's five-minute refresh window
  s2.fn.acceptToken = (token) => s2.tokens.minted.has(token)
  t.equal((await s2.call('/system/functions', { method: 'POST', json: deployBody('echo') })).status, 202)
  t.equal((await s2.call('/function/echo', { method: 'GET' })).status, 200)
  t.equal((await s2.call('/function/echo', { method: 'GET' })).status, 200)
  t.equal(s2.tokens.audiences.length, 2, 'a token near expiry is fetched again')
})

t.test('no token when the service does not check IAM, or with invokeAuth none', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('open') })).status, 202)
  const svc = s.fake.run.serviceById('open')
  if (svc !== undefined) svc.invokerIamDisabled = true
  const res = await s.call('/function/open', { method: 'GET' })
  t.equal((await res.json() as EchoReply).authorization, null)
  t.same(s.tokens.audiences, [])

  const n = await appSetup(t, { driverOptions: { invokeAuth: 'none' } })
  t.equal((await n.call('/system/functions', { method: 'POST', json: deployBody('plain') })).status, 202)
  t.equal((await (await n.call('/function/plain', { method: 'GET' })).json() as EchoReply).authorization, null)
})

t.test('unknown functions and unready services are 503 from the proxy', async (t) => {
  const s = await appSetup(t)
  const res = await s.call('/function/nobody', { method: 'GET' })
  t.equal(res.status, 503)
  t.equal(res.headers.get('x-openfaas-internal'), 'proxy')
})
