/*
 * The fake speaks the real wire format: checked with the real SDK clients directly (no driver) for
 * what the driver does not use itself — X-Amz-Log-Result on LogType Tail, FunctionError, typed
 * errors from x-amzn-errortype and {"__type"}, event-stream decoding, and refusing unsigned calls.
 */
import t from 'tap'
import { GetFunctionCommand, InvokeCommand, InvokeWithResponseStreamCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import { fakeAws, image, ROLE } from './helpers.ts'

t.test('the fake through the real SDK', async (t) => {
  const fake = await fakeAws(t, { pendingMs: 0 })
  const conf = {
    region: 'us-east-1', endpoint: fake.url, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
    requestHandler: { requestTimeout: 3000, throwOnRequestTimeout: true }
  }
  const lambda = new LambdaClient(conf)
  const sm = new SecretsManagerClient(conf)
  t.teardown(() => { lambda.destroy(); sm.destroy() })
  fake.handle('fail', (_e, ctx) => { ctx.log('about to fail'); throw new Error('nope') })
  fake.handleStream('chunks', () => ({ contentType: 'text/plain', chunks: ['a', 'b', 'c'] }))
  const { CreateFunctionCommand } = await import('@aws-sdk/client-lambda')
  for (const repo of ['fail', 'chunks']) {
    await lambda.send(new CreateFunctionCommand({ FunctionName: repo, Role: ROLE, PackageType: 'Image', Code: { ImageUri: image(repo) } }))
  }

  const out = await lambda.send(new InvokeCommand({ FunctionName: 'fail', LogType: 'Tail', Payload: Buffer.from('{}') }))
  t.equal(out.FunctionError, 'Unhandled')
  t.match(Buffer.from(out.LogResult ?? '', 'base64').toString(), /about to fail/, 'X-Amz-Log-Result')
  t.match(JSON.parse(Buffer.from(out.Payload ?? []).toString()), { errorMessage: 'nope' })

  const stream = await lambda.send(new InvokeWithResponseStreamCommand({ FunctionName: 'chunks', Payload: Buffer.from('{}') }))
  t.equal(stream.ResponseStreamContentType, 'text/plain')
  const got: string[] = []
  let complete = false
  for await (const ev of stream.EventStream ?? []) {
    if (ev.PayloadChunk?.Payload !== undefined) got.push(Buffer.from(ev.PayloadChunk.Payload).toString())
    if (ev.InvokeComplete !== undefined) complete = true
  }
  t.same(got, ['a', 'b', 'c'], 'PayloadChunk events')
  t.ok(complete, 'InvokeComplete')

  await t.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } })
  await t.rejects(sm.send(new GetSecretValueCommand({ SecretId: 'nope' })), { name: 'ResourceNotFoundException' })

  const unsigned = await fetch(`${fake.url}/2015-03-31/functions/fail`)
  t.equal(unsigned.status, 403, 'unsigned requests are refused')
})
