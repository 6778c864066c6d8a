/*
 * Pure mapping rules: Kubernetes quantities, Lambda names, the HTTP event and reply conversions.
 */
import { Readable } from 'node:stream'
import t from 'tap'
import { httpEvent, replyToResponse } from '../../../providers/lambda/invoke.ts'
import { quantityBytes } from '../../../providers/lambda/mapping.ts'
import { lambdaFunctionName } from '../../../providers/lambda/naming.ts'

t.test('quantities', async (t) => {
  const cases: Array<[string, number | undefined]> = [
    ['128Mi', 128 * 2 ** 20], ['1Gi', 2 ** 30], ['1G', 1e9], ['500M', 5e8], ['1e9', 1e9], ['0.5Gi', 2 ** 29],
    ['1024Ki', 2 ** 20], ['134217728', 134217728], ['1000m', 1], ['lots', undefined], ['1Gb', undefined], ['', undefined]
  ]
  for (const [q, want] of cases) t.equal(quantityBytes(q), want, q)
})

t.test('Lambda names', async (t) => {
  const settings = { functionPrefix: 'openfaas-fn_', region: 'us-east-1', roleArn: undefined, secretsPrefix: '' }
  t.equal(lambdaFunctionName(settings, 'openfaas-fn', 'figlet'), 'openfaas-fn_figlet')
  t.equal(lambdaFunctionName(settings, 'openfaas-fn', 'a'.repeat(52)).length, 64, 'exactly 64 fits')
  t.throws(() => lambdaFunctionName(settings, 'openfaas-fn', 'a'.repeat(53)), { code: 'INVALID', message: /at most 52 characters/ })
})

t.test('event and reply', async (t) => {
  const ev = httpEvent({
    method: 'POST', path: '/x', query: '', headers: { 'x-forwarded-for': '10.0.0.1:5555', 'content-type': 'application/json', multi: ['a', 'b'] },
    body: Readable.from([]), signal: AbortSignal.timeout(1000)
  }, Buffer.from('{"a":1}'))
  t.match(ev, { rawPath: '/x', rawQueryString: '', body: '{"a":1}', isBase64Encoded: false, requestContext: { http: { sourceIp: '10.0.0.1' } } })
  t.equal((ev.headers as Record<string, string>).multi, 'a,b', 'repeated headers joined with commas')
  t.notOk('queryStringParameters' in ev)

  t.same(replyToResponse(Buffer.from('not json'), undefined), { status: 200, headers: {}, body: Buffer.from('not json') }, 'non-JSON as-is')
  t.equal(replyToResponse(Buffer.from('{"statusCode":"200"}'), undefined).body.toString(), '{"statusCode":"200"}', 'a string statusCode is not HTTP-shaped')
  t.same(replyToResponse(Buffer.from('{"statusCode":204,"multiValueHeaders":{"X-A":["1","2"]}}'), undefined).headers, { 'x-a': ['1', '2'] }, 'multiValueHeaders')
  t.equal(replyToResponse(undefined, 'Handled').status, 500)
})
