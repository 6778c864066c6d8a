/*
 * A function that answers {statusCode, headers, cookies, body, isBase64Encoded} (API Gateway /
 * function URL style, the AWS Lambda Web Adapter's output) becomes that HTTP response.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('HTTP-shaped replies', async (t) => {
  const { url, fake } = await lambdaApp(t)
  fake.handle('web', (event) => {
    const e = event as { rawPath: string }
    if (e.rawPath === '/created') return { statusCode: 201, headers: { 'content-type': 'text/plain', 'x-app': 'web' }, cookies: ['a=1', 'b=2'], body: 'made' }
    if (e.rawPath === '/binary') return { statusCode: 200, headers: { 'content-type': 'image/png' }, body: Buffer.from([137, 80, 78, 71]).toString('base64'), isBase64Encoded: true }
    if (e.rawPath === '/teapot') return { statusCode: 418 }
    return { statusCode: 200, body: { nested: true } }
  })
  await deployReady(url, { service: 'web', image: image('web') })

  const created = await api(url, 'GET', '/function/web/created')
  t.equal(created.status, 201)
  t.equal(created.text, 'made')
  t.equal(created.headers.get('content-type'), 'text/plain')
  t.equal(created.headers.get('x-app'), 'web')
  t.same(created.headers.getSetCookie(), ['a=1', 'b=2'], 'cookies → Set-Cookie')

  const bin = await fetch(`${url}/function/web/binary`)
  t.equal(bin.headers.get('content-type'), 'image/png')
  t.same(Buffer.from(await bin.arrayBuffer()), Buffer.from([137, 80, 78, 71]), 'isBase64Encoded → bytes')

  const teapot = await api(url, 'GET', '/function/web/teapot')
  t.equal(teapot.status, 418)
  t.equal(teapot.text, '', 'no body')

  const obj = await api(url, 'GET', '/function/web/obj')
  t.equal(obj.text, '{"nested":true}', 'a non-string body is JSON')
})
