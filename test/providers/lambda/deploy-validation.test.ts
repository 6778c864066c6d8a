/*
 * Deploys Lambda cannot take are refused with a 400 that says why, before anything is created:
 * non-ECR images, ECR in another region, names over 64 characters, memory quantities out of
 * bounds, bad timeout/architecture annotations, tags Lambda would refuse, reserved env vars, and
 * a namespace without an execution role. Valid quantities and annotations reach CreateFunction.
 */
import t from 'tap'
import { api, image, lambdaApp } from './helpers.ts'

t.test('refusals say why', async (t) => {
  const { url, fake } = await lambdaApp(t)
  const deploy = async (body: Record<string, unknown>): Promise<{ status: number, text: string }> =>
    await api(url, 'POST', '/system/functions', { service: 'fn', image: image('echo'), ...body })
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['Docker Hub image', { image: 'ghcr.io/openfaas/figlet:latest' }, /not an Amazon ECR image URI: AWS Lambda runs container images only from ECR/],
    ['ECR in another region', { image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/echo:1' }, /ECR region eu-west-1, but the function is created in us-east-1/],
    ['name too long', { service: 'a'.repeat(63) }, /does not fit AWS Lambda's 64-character limit.*at most 60 characters/],
    ['memory not a quantity', { limits: { memory: 'lots' } }, /limits.memory "lots" is not a Kubernetes quantity/],
    ['memory too small', { limits: { memory: '64Mi' } }, /64 MiB; Lambda functions here take 128 to 10240 MiB/],
    ['memory too large', { limits: { memory: '20Gi' } }, /20480 MiB/],
    ['timeout annotation', { annotations: { 'faas-bridge/lambda-timeout': '901' } }, /lambda-timeout must be whole seconds from 1 to 900/],
    ['architecture annotation', { annotations: { 'faas-bridge/lambda-architecture': 'riscv' } }, /"x86_64" or "arm64"/],
    ['tag value characters', { labels: { owner: 'a,b' } }, /Lambda tag values do not allow/],
    ['tag value length', { annotations: { note: 'x'.repeat(300) } }, /at most 256/],
    ['aws: prefix', { labels: { 'aws:thing': '1' } }, /must not start with "aws:"/],
    ['reserved label', { labels: { 'faas-bridge:replicas': '3' } }, /reserved for faas-bridge/],
    ['too many tags', { labels: Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`l${i}`, 'v'])) }, /51 Lambda tags.*at most 50/],
    ['fprocess in envVars', { envVars: { fprocess: 'x' } }, /envVars.fprocess is set by faas-bridge/]
  ]
  for (const [what, body, message] of cases) {
    const r = await deploy(body)
    t.equal(r.status, 400, `${what}: 400`)
    t.match(r.text, message, `${what}: says why`)
  }
  t.equal(fake.count('Lambda.CreateFunction'), 0, 'nothing reached CreateFunction')

  const aws = await deploy({ service: 'reserved', envVars: { AWS_REGION: 'x' } })
  t.equal(aws.status, 400, 'Lambda\'s own InvalidParameterValueException → 400')
  t.match(aws.text, /reserved keys/, 'with AWS\'s message')
})

t.test('quantities, annotations and architecture reach CreateFunction', async (t) => {
  const { url, fake } = await lambdaApp(t)
  const cases: Array<[string, number]> = [['512Mi', 512], ['1Gi', 1024], ['1G', 954], ['134217728', 128], ['0.5Gi', 512], ['300M', 287]]
  for (const [i, [memory, mb]] of cases.entries()) {
    const r = await api(url, 'POST', '/system/functions', { service: `m${i}`, image: image('echo'), limits: { memory } })
    t.equal(r.status, 202, r.text)
    t.equal(fake.state.functions.get(`aws_m${i}`)?.memorySize, mb, `${memory} → ${mb} MiB`)
  }
  const r = await api(url, 'POST', '/system/functions', {
    service: 'annotated',
    image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/echo@sha256:' + 'a'.repeat(64),
    annotations: { 'faas-bridge/lambda-timeout': '120', 'faas-bridge/lambda-architecture': 'arm64' }
  })
  t.equal(r.status, 202, r.text)
  const fn = fake.state.functions.get('aws_annotated')
  t.equal(fn?.timeout, 120)
  t.same(fn?.architectures, ['arm64'])
  t.equal(fn?.memorySize, 128, 'default memory')
})

t.test('no execution role → 400 naming the option', async (t) => {
  const { url } = await lambdaApp(t, { driverOptions: { roleArn: undefined } })
  const r = await api(url, 'POST', '/system/functions', { service: 'fn', image: image('echo') })
  t.equal(r.status, 400)
  t.match(r.text, /no execution role for namespace "aws": set option "roleArn"/)
})
