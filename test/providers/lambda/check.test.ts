/*
 * `--check` for the Lambda backend: one ListFunctions (MaxItems 1) per region the namespaces use,
 * through the real SDK against the fake. Passes against a healthy fake; fails naming the backend,
 * the call, the region and endpoint and the reason: AccessDenied (with the IAM permission), a
 * closed port (at once, not retried until the request timeout), and a throttle that never ends.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { fakeAws, makeDriver, NS, NS2 } from './helpers.ts'

async function closedPort (): Promise<number> {
  const s = net.createServer()
  await new Promise<void>((resolve) => { s.listen(0, '127.0.0.1', resolve) })
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  return port
}

t.test('a healthy fake: one ListFunctions per region', async (t) => {
  const fake = await fakeAws(t)
  const driver = await makeDriver(t, fake, { namespaces: { [NS2]: { region: 'eu-west-1' } } })
  await t.resolves(driver.check())
  t.same(fake.state.calls, ['Lambda.ListFunctions', 'Lambda.ListFunctions'], `${NS} in us-east-1, ${NS2} in eu-west-1`)
  const one = await makeDriver(t, await fakeAws(t))
  await t.resolves(one.check(), 'two namespaces in one region: one call')
})

t.test('AccessDenied → names the permission', async (t) => {
  const fake = await fakeAws(t)
  const driver = await makeDriver(t, fake)
  fake.fail('Lambda.ListFunctions', {
    status: 403,
    type: 'AccessDeniedException',
    message: 'User: arn:aws:iam::123456789012:user/fb is not authorized to perform: lambda:ListFunctions on resource: * because no identity-based policy allows the lambda:ListFunctions action'
  })
  const err = await driver.check().then(() => undefined, (e: unknown) => e as Error)
  t.match(err?.message, new RegExp(`^lambda backend: ListFunctions \\(MaxItems 1\\) in us-east-1 at ${fake.url.replace(/\./g, '\\.')} failed: User: .* is not authorized to perform: lambda:ListFunctions`))
  t.match(err?.message, /; the credentials need the IAM permission lambda:ListFunctions \(docs\/backends\/lambda\.md#iam-policy\)$/)
})

t.test('unsigned/invalid credentials → 403 from the service', async (t) => {
  const fake = await fakeAws(t)
  const driver = await makeDriver(t, fake)
  fake.fail('Lambda.ListFunctions', { status: 403, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' })
  await t.rejects(driver.check(), /^lambda backend: ListFunctions .* failed: The security token included in the request is invalid\.; the credentials need/)
})

t.test('a closed port: fails at once with the endpoint', async (t) => {
  const fake = await fakeAws(t)
  const port = await closedPort()
  const driver = await makeDriver(t, fake, { endpoint: `http://127.0.0.1:${port}`, requestTimeoutMs: 10_000 })
  const started = Date.now()
  const err = await driver.check().then(() => undefined, (e: unknown) => e as Error)
  t.match(err?.message, new RegExp(`^lambda backend: ListFunctions \\(MaxItems 1\\) in us-east-1 at http://127\\.0\\.0\\.1:${port} failed: .*could not be reached.*ECONNREFUSED`))
  t.ok(Date.now() - started < 3000, 'not retried until requestTimeoutMs')
})

t.test('throttled past the request timeout → 429 message, bounded', async (t) => {
  const fake = await fakeAws(t)
  // 2 s: room for several throttled attempts on a loaded machine (in 300 ms it managed one)
  const driver = await makeDriver(t, fake, { requestTimeoutMs: 2000 })
  fake.fail('Lambda.ListFunctions', { status: 429, type: 'TooManyRequestsException', message: 'Rate exceeded', times: 1000 })
  const started = Date.now()
  await t.rejects(driver.check(), /^lambda backend: ListFunctions .* failed: Rate exceeded$/)
  t.ok(Date.now() - started < 15_000, 'bounded by the request timeout, not retried for ever')
  t.ok(fake.count('Lambda.ListFunctions') > 1, 'throttles are retried')
})
