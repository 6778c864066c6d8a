/*
 * validateOptions(): defaults, and messages that name the wrong option.
 */
import t from 'tap'
import {
  DEFAULT_LOG_GROUP_PATTERN, DEFAULT_MEMORY_MB, DEFAULT_REGION, DEFAULT_TIMEOUT_SECONDS, LAMBDA_MAX_PAYLOAD_BYTES, validateOptions
} from '../../../providers/lambda/options.ts'

t.test('defaults', async (t) => {
  const o = validateOptions({}, ['openfaas-fn'])
  t.equal(o.region, DEFAULT_REGION)
  t.equal(o.credentials, 'default')
  t.equal(o.roleArn, undefined)
  t.equal(o.timeoutSeconds, DEFAULT_TIMEOUT_SECONDS)
  t.equal(o.memoryMb, DEFAULT_MEMORY_MB)
  t.equal(o.architecture, 'x86_64')
  t.equal(o.logGroupPattern, DEFAULT_LOG_GROUP_PATTERN)
  t.equal(o.maxPayloadBytes, LAMBDA_MAX_PAYLOAD_BYTES)
  t.same(o.endpoints, {})
  t.same(o.namespaces['openfaas-fn'], { functionPrefix: 'openfaas-fn_', region: DEFAULT_REGION, roleArn: undefined, secretsPrefix: 'openfaas/openfaas-fn/' })
  const p = validateOptions({ namePrefix: 'of-', separator: '--', secretsPrefix: 'prod/' }, ['a'])
  t.same(p.namespaces.a, { functionPrefix: 'of-a--', region: DEFAULT_REGION, roleArn: undefined, secretsPrefix: 'prod/a/' })
})

t.test('mistakes are named', async (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ region: 'mars' }, /option "region" must be an AWS region/],
    [{ endpoint: 'ftp://x' }, /option "endpoint" must be an http\(s\) URL/],
    [{ endpoints: { dynamo: 'http://x' } }, /option "endpoints.dynamo" is unknown/],
    [{ credentials: { accessKeyId: 'x' } }, /option "credentials" must be "default", "env" or/],
    [{ roleArn: 'admin' }, /option "roleArn" must be an IAM role ARN/],
    [{ namePrefix: 'a b' }, /option "namePrefix" may only hold letters, digits/],
    [{ timeoutSeconds: 901 }, /option "timeoutSeconds" must be an integer from 1 to 900/],
    [{ memoryMb: 64 }, /option "memoryMb" must be an integer from 128/],
    [{ architecture: 'sparc' }, /option "architecture" must be "x86_64" or "arm64"/],
    [{ logGroupPattern: '/aws/lambda/x' }, /option "logGroupPattern" must contain "\{function\}"/],
    [{ namespaces: { other: {} } }, /namespace "other" is not assigned to this backend/],
    [{ namespaces: { a: { zone: 'x' } } }, /option "namespaces.a.zone" is unknown/],
    [{ namespaces: { a: { region: 'x' } } }, /option "namespaces.a.region" must be an AWS region/],
    [{ namespaces: { a: { functionPrefix: 'p' }, ab: { functionPrefix: 'p-x' } } }, /overlapping function prefixes/]
  ]
  for (const [opts, message] of bad) t.throws(() => validateOptions(opts, ['a', 'ab']), { message }, JSON.stringify(opts))
})

t.test('credentials "env" reads only the environment', async (t) => {
  const { createDriver } = await import('../../../providers/lambda/index.ts')
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY }
  delete process.env.AWS_ACCESS_KEY_ID
  delete process.env.AWS_SECRET_ACCESS_KEY
  t.teardown(() => {
    if (saved.id !== undefined) process.env.AWS_ACCESS_KEY_ID = saved.id
    if (saved.key !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved.key
  })
  const ctx = { logger: { info () {}, warn () {}, error () {}, debug () {}, child () { return ctx.logger } }, namespaces: ['a'], execTimeoutMs: 1000 }
  await t.rejects(createDriver({ credentials: 'env' }, ctx), { message: /needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/ })
})
