/*
 * A function that throws: Lambda answers 200 with X-Amz-Function-Error; the caller gets 500 with
 * the error payload (errorType, errorMessage) and the X-Amz-Function-Error header.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('FunctionError → 500 with the payload', async (t) => {
  const { url, fake } = await lambdaApp(t)
  fake.handle('boom', () => { throw new TypeError('kaput') })
  await deployReady(url, { service: 'boom', image: image('boom') })
  const r = await api(url, 'POST', '/function/boom', 'x')
  t.equal(r.status, 500)
  t.equal(r.headers.get('x-amz-function-error'), 'Unhandled')
  t.equal(r.headers.get('x-openfaas-internal'), null, 'the function\'s error, not the proxy\'s')
  t.match(r.json(), { errorType: 'TypeError', errorMessage: 'kaput' })
})
