/*
 * Provisioned concurrency (option provisionedConcurrency: { alias, perReplica }), through the HTTP
 * API over the real SDK and the fake's versions, aliases and provisioned-concurrency paths:
 * deploy/update publish a version and move the alias, invoke runs the alias, scale N provisions
 * N × perReplica (0 deletes it and reserves 0), status counts what is provisioned
 * (IN_PROGRESS → READY, FAILED → 0). Also the option's validation and the fake's wire errors.
 */
import t from 'tap'
import {
  DeleteProvisionedConcurrencyConfigCommand, GetProvisionedConcurrencyConfigCommand, LambdaClient,
  PutProvisionedConcurrencyConfigCommand, UpdateAliasCommand
} from '@aws-sdk/client-lambda'
import { validateOptions } from '../../../providers/lambda/options.ts'
import { api, deployReady, fakeAws, image, lambdaApp, makeDriver, spec, testContext } from './helpers.ts'

const PC = { provisionedConcurrency: { alias: 'live', perReplica: 2 } }

interface Status { replicas?: number, availableReplicas?: number }

async function status (url: string, name: string): Promise<Status> {
  return (await api(url, 'GET', `/system/function/${name}`)).json() as Status
}

/** polls status until `ok` (bounded) */
async function until (url: string, name: string, ok: (s: Status) => boolean): Promise<Status> {
  const deadline = Date.now() + 30_000 // generous: a met condition returns at once
  for (;;) {
    const s = await status(url, name)
    if (ok(s)) return s
    if (Date.now() > deadline) throw new Error(`${name}: status never matched: ${JSON.stringify(s)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test('the option is validated with messages that name it', async (t) => {
  t.equal(validateOptions({}, ['a']).provisionedConcurrency, undefined, 'off by default')
  t.same(validateOptions({ provisionedConcurrency: { alias: 'live' } }, ['a']).provisionedConcurrency, { alias: 'live', perReplica: 1 })
  const bad: Array<[unknown, RegExp]> = [
    ['live', /option "provisionedConcurrency" must be \{ alias: NAME, perReplica\?: N \}, got "live"/],
    [{}, /"alias" is missing/],
    [{ alias: '42' }, /option "provisionedConcurrency.alias" must be a Lambda alias name .*got "42"/],
    [{ alias: '$LATEST' }, /option "provisionedConcurrency.alias" must be a Lambda alias name/],
    [{ alias: 'x'.repeat(129) }, /option "provisionedConcurrency.alias" must be a Lambda alias name/],
    [{ alias: 'live', perReplica: 0 }, /option "provisionedConcurrency.perReplica" must be an integer from 1 to 10000, got 0/],
    [{ alias: 'live', perReplica: 1.5 }, /perReplica" must be an integer/],
    [{ alias: 'live', qualifier: 'x' }, /option "provisionedConcurrency.qualifier" is unknown \(alias, perReplica\)/]
  ]
  for (const [value, message] of bad) t.throws(() => validateOptions({ provisionedConcurrency: value }, ['a']), message, JSON.stringify(value))
})

t.test('deploy, invoke, scale, update and scale to zero with provisioned concurrency', async (t) => {
  // provisioning stays IN_PROGRESS until the test says it is done (not for a time a slow machine
  // could let pass before the IN_PROGRESS reads)
  const { url, fake } = await lambdaApp(t, { driverOptions: PC, fake: { provisionMs: 600_000 } })
  const deployed = await api(url, 'POST', '/system/functions', { service: 'pc', image: image('echo') })
  t.equal(deployed.status, 202, deployed.text)
  const fn = fake.state.functions.get('aws_pc')
  if (fn === undefined) throw new Error('not created')
  const provisioningDone = (): void => { for (const p of fn.provisioned.values()) p.readyAt = 0 }
  t.same(fn.versions.map((v) => v.version), ['1'], 'a version is published')
  t.equal(fn.aliases.get('live')?.version, '1', 'the alias points at it')
  t.equal(fn.provisioned.get('live')?.requested, 2, '1 replica × perReplica 2')
  t.match(await status(url, 'pc'), { replicas: 1, availableReplicas: 0 }, 'IN_PROGRESS: nothing provisioned yet')
  provisioningDone()
  await until(url, 'pc', (s) => s.availableReplicas === 1)

  const inv = await api(url, 'POST', '/function/pc', 'hi')
  t.equal(inv.status, 200)
  t.match(fake.state.invocations.at(-1), { functionName: 'aws_pc', qualifier: 'live', version: '1' }, 'invoke targets the alias')

  t.equal((await api(url, 'POST', '/system/scale-function/pc', { serviceName: 'pc', replicas: 3 })).status, 202)
  t.equal(fn.provisioned.get('live')?.requested, 6, '3 replicas × 2')
  const growing = await status(url, 'pc')
  t.same([growing.replicas, growing.availableReplicas], [3, 1], 'IN_PROGRESS: the environments already there count')
  provisioningDone()
  await until(url, 'pc', (s) => s.availableReplicas === 3)

  const updated = await api(url, 'PUT', '/system/functions', { service: 'pc', image: image('echo', '2'), envVars: { v: '2' } })
  t.equal(updated.status, 202, updated.text)
  t.same(fn.versions.map((v) => v.version), ['1', '2'], 'update publishes a new version')
  t.equal(fn.aliases.get('live')?.version, '2', 'and moves the alias')
  t.equal(fn.provisioned.get('live')?.requested, 6, 'the configuration stays on the alias')
  t.equal((await status(url, 'pc')).availableReplicas, 3, 'the old environments serve while Lambda provisions the new version')
  t.equal((await api(url, 'POST', '/function/pc', 'hi')).status, 200)
  t.match(fake.state.invocations.at(-1), { qualifier: 'live', version: '2' }, 'the new version runs')

  t.equal((await api(url, 'POST', '/system/scale-function/pc', { serviceName: 'pc', replicas: 0 })).status, 202)
  t.equal(fn.provisioned.has('live'), false, 'scale 0 deletes the configuration')
  t.equal(fn.reserved, 0, 'and reserves 0')
  const zero = await status(url, 'pc')
  t.same([zero.replicas ?? 0, zero.availableReplicas ?? 0], [0, 0])
  t.equal((await api(url, 'POST', '/function/pc', 'hi')).status, 503)

  t.equal((await api(url, 'POST', '/system/scale-function/pc', { serviceName: 'pc', replicas: 1 })).status, 202)
  t.equal(fn.reserved, undefined, 'the reservation is lifted')
  t.equal(fn.provisioned.get('live')?.requested, 2)
  provisioningDone()
  await until(url, 'pc', (s) => s.availableReplicas === 1)
  const listed = (await api(url, 'GET', '/system/functions')).json() as Array<{ name: string, availableReplicas: number }>
  t.match(listed, [{ name: 'pc', availableReplicas: 1 }], 'list reads the provisioned state too')
})

t.test('FAILED provisioning reads as 0 available', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: PC, fake: { provisionMs: 0 } })
  await deployReady(url, { service: 'bad', image: image('echo') })
  const fn = fake.state.functions.get('aws_bad')
  if (fn !== undefined) fn.provisionFailure = 'FUNCTION_ERROR_INIT_FAILURE: the function could not initialise'
  const s = await status(url, 'bad')
  t.same([s.replicas, s.availableReplicas], [1, 0])
})

t.test('a function deployed before the option was set gets its alias on scale (and on update)', async (t) => {
  const fake = await fakeAws(t, { provisionMs: 0 })
  const plain = await makeDriver(t, fake)
  await plain.deploy(spec('old'))
  await plain.deploy(spec('older'))
  const driver = await makeDriver(t, fake, PC, testContext())
  await driver.scale('aws', 'old', 2)
  const fn = fake.state.functions.get('aws_old')
  t.equal(fn?.aliases.get('live')?.version, '1', 'published and aliased')
  t.equal(fn?.provisioned.get('live')?.requested, 4)
  t.equal((await driver.status('aws', 'old')).availableReplicas, 2)

  await driver.update(spec('older', 'echo', { envVars: { x: '1' } }))
  const older = fake.state.functions.get('aws_older')
  t.equal(older?.aliases.get('live')?.version, '1')
  t.equal(older?.provisioned.get('live')?.requested, 2, 'the recorded replicas (1) × 2')
})

t.test('AWS errors of the provisioned calls map as any other', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: PC, fake: { provisionMs: 0 } })
  await deployReady(url, { service: 'denied', image: image('echo') })
  fake.fail('Lambda.PutProvisionedConcurrencyConfig', {
    status: 403, type: 'AccessDeniedException', message: 'User is not authorized to perform: lambda:PutProvisionedConcurrencyConfig'
  })
  const r = await api(url, 'POST', '/system/scale-function/denied', { serviceName: 'denied', replicas: 2 })
  t.equal(r.status, 403)
  t.match(r.text, /lambda:PutProvisionedConcurrencyConfig/)
})

t.test('the fake answers the provisioned-concurrency paths with Lambda\'s errors (real SDK)', async (t) => {
  const fake = await fakeAws(t, { provisionMs: 0 })
  const driver = await makeDriver(t, fake)
  await driver.deploy(spec('wire'))
  const client = new LambdaClient({
    region: 'us-east-1', endpoint: fake.url, maxAttempts: 1, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' }
  })
  t.teardown(() => { client.destroy() })
  await t.rejects(client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'aws_wire', Qualifier: '$LATEST', ProvisionedConcurrentExecutions: 1 })),
    { name: 'InvalidParameterValueException', message: /cannot be applied to unpublished function versions/ })
  await t.rejects(client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: 'aws_wire', Qualifier: 'live', ProvisionedConcurrentExecutions: 1 })),
    { name: 'ResourceNotFoundException', message: /Cannot find alias arn: arn:aws:lambda:us-east-1:123456789012:function:aws_wire:live/ })
  await t.rejects(client.send(new UpdateAliasCommand({ FunctionName: 'aws_wire', Name: 'live', FunctionVersion: '1' })),
    { name: 'ResourceNotFoundException', message: /Alias not found/ })
  await driver.scale('aws', 'wire', 1) // no option on this driver: no alias, no configuration
  t.equal(fake.state.functions.get('aws_wire')?.aliases.size, 0)
  const pcDriver = await makeDriver(t, fake, PC)
  await pcDriver.scale('aws', 'wire', 1)
  const got = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'aws_wire', Qualifier: 'live' }))
  t.match(got, { Status: 'READY', RequestedProvisionedConcurrentExecutions: 2, AvailableProvisionedConcurrentExecutions: 2 })
  await client.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'aws_wire', Qualifier: 'live' }))
  await t.rejects(client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'aws_wire', Qualifier: 'live' })),
    { name: 'ProvisionedConcurrencyConfigNotFoundException' })
})
