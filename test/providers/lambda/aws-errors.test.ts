/*
 * AWS errors through the HTTP API: ResourceNotFound 404, ResourceConflict 409,
 * InvalidParameterValue 400, TooManyRequests 429 (after retries with back-off within the request
 * timeout), AccessDenied 403 — each with AWS's message; a throttle that clears is retried
 * invisibly; AWS unreachable is 502.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('error mapping', async (t) => {
  const { url, fake } = await lambdaApp(t)
  await deployReady(url, { service: 'fn', image: image('echo') })

  fake.fail('Lambda.GetFunction', { status: 403, type: 'AccessDeniedException', message: 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:GetFunction' })
  const denied = await api(url, 'GET', '/system/function/fn')
  t.equal(denied.status, 403)
  t.match(denied.text, /not authorized to perform: lambda:GetFunction/, 'AWS\'s message')

  fake.fail('Lambda.CreateFunction', { status: 409, type: 'ResourceConflictException', message: 'Function already exist: aws_x' })
  const conflict = await api(url, 'POST', '/system/functions', { service: 'x', image: image('echo') })
  t.equal(conflict.status, 409)
  t.match(conflict.text, /Function already exist: aws_x/)

  fake.fail('Lambda.UpdateFunctionConfiguration', { status: 400, type: 'InvalidParameterValueException', message: 'The role defined for the function cannot be assumed by Lambda.' })
  const bad = await api(url, 'PUT', '/system/functions', { service: 'fn', image: image('echo') })
  t.equal(bad.status, 400)
  t.match(bad.text, /cannot be assumed by Lambda/)

  fake.fail('Lambda.DeleteFunction', { status: 404, type: 'ResourceNotFoundException', message: 'Function not found: arn:aws:lambda:us-east-1:123456789012:function:aws_fn' })
  const gone = await api(url, 'DELETE', '/system/functions', { functionName: 'fn' })
  t.equal(gone.status, 404)
  t.match(gone.text, /Function not found/)

  fake.fail('SecretsManager.CreateSecret', { status: 400, type: 'AccessDeniedException', message: 'not allowed to create secrets' })
  t.equal((await api(url, 'POST', '/system/secrets', { name: 's', value: 'v' })).status, 403)

  fake.fail('Lambda.PutFunctionConcurrency', { status: 500, type: 'ServiceException', message: 'Lambda had an internal error' })
  const internal = await api(url, 'POST', '/system/scale-function/fn', { serviceName: 'fn', replicas: 0 })
  t.equal(internal.status, 500)
  t.match(internal.text, /ServiceException: Lambda had an internal error/)
})

t.test('throttles are retried with back-off, within the request timeout', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: { requestTimeoutMs: 1500, retryBaseMs: 20 } })
  await deployReady(url, { service: 'fn', image: image('echo') })

  const before = fake.count('Lambda.GetFunction')
  fake.fail('Lambda.GetFunction', { status: 429, type: 'TooManyRequestsException', message: 'Rate exceeded', times: 3, extra: { Reason: 'CallerRateLimitExceeded' } })
  const ok = await api(url, 'GET', '/system/function/fn')
  t.equal(ok.status, 200, 'a throttle that clears is invisible')
  t.equal(fake.count('Lambda.GetFunction') - before, 4, 'three throttled attempts, then success')

  fake.fail('Logs.FilterLogEvents', { status: 400, type: 'ThrottlingException', message: 'Rate exceeded', times: 2 })
  t.equal((await api(url, 'GET', '/system/logs?name=fn')).status, 200, 'CloudWatch Logs throttles too')

  fake.fail('Lambda.GetFunction', { status: 429, type: 'TooManyRequestsException', message: 'Rate exceeded', times: 1000 })
  const started = Date.now()
  const slow = await api(url, 'GET', '/system/function/fn')
  const took = Date.now() - started
  t.equal(slow.status, 429, 'still throttled when the timeout runs out → 429')
  t.match(slow.text, /Rate exceeded/)
  t.ok(took < 4000, `gave up within the request timeout (${took} ms)`)
  t.ok(fake.count('Lambda.GetFunction') - before > 6, 'retried several times')
  fake.state.faults.clear()

  fake.fail('Lambda.Invoke', { status: 429, type: 'TooManyRequestsException', message: 'Rate Exceeded.', times: 2, extra: { Reason: 'ConcurrentInvocationLimitExceeded' } })
  t.equal((await api(url, 'POST', '/function/fn', 'x')).status, 200, 'invoke throttles are retried')
})

t.test('AWS unreachable → 502', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: { requestTimeoutMs: 500 } })
  await deployReady(url, { service: 'fn', image: image('echo') })
  await fake.close()
  const r = await api(url, 'GET', '/system/function/fn')
  t.equal(r.status, 502)
  t.match(r.text, /AWS could not be reached/)
})

t.test('check() proves the endpoint and credentials work', async (t) => {
  const { driver, fake } = await lambdaApp(t)
  await driver.check()
  fake.fail('Lambda.ListFunctions', { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
  await t.rejects(driver.check(), { message: /ListFunctions \(MaxItems 1\) in us-east-1 at http:\/\/127\.0\.0\.1:\d+ failed: The security token included in the request is invalid/ })
})
