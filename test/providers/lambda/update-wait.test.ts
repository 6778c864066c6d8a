/*
 * PUT /system/functions waits for each Lambda update to finish before the next one:
 * UpdateFunctionCode → (LastUpdateStatus InProgress … Successful) → UpdateFunctionConfiguration
 * → (wait) → tags. The wait is bounded: an update that never finishes is a 504.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('code and configuration updates are serialised by waiting', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { updateMs: 150 } })
  await deployReady(url, { service: 'slow', image: image('echo'), labels: { old: '1' } })
  fake.state.calls.length = 0
  const started = Date.now()
  const r = await api(url, 'PUT', '/system/functions', { service: 'slow', image: image('echo', '2'), envVars: { V: '2' }, labels: { fresh: '1' } })
  t.equal(r.status, 202, r.text)
  t.ok(Date.now() - started >= 280, 'waited for both updates')
  const calls = fake.state.calls.filter((c) => c !== 'Lambda.GetFunction' && c !== 'SecretsManager.DescribeSecret')
  const code = calls.indexOf('Lambda.UpdateFunctionCode')
  const conf = calls.indexOf('Lambda.UpdateFunctionConfiguration')
  t.ok(code >= 0 && conf > code, 'code first, then configuration')
  t.ok(calls.slice(code + 1, conf).filter((c) => c === 'Lambda.GetFunctionConfiguration').length >= 2, 'polled while InProgress')
  t.ok(calls.indexOf('Lambda.UntagResource') > conf, 'stale labels untagged after the configuration update')
  const fn = fake.state.functions.get('aws_slow')
  t.equal(fn?.imageUri, image('echo', '2'))
  t.same(fn?.env, { V: '2' })
  t.equal(fn?.tags.old, undefined)
  t.equal(fn?.tags.fresh, '1')
  t.equal(fn?.tags['faas-bridge:managed'], 'true', 'system tags kept')
})

t.test('an update right after deploy waits for State Pending to end', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { pendingMs: 150 } })
  t.equal((await api(url, 'POST', '/system/functions', { service: 'fresh', image: image('echo') })).status, 202)
  const r = await api(url, 'PUT', '/system/functions', { service: 'fresh', image: image('echo', '3') })
  t.equal(r.status, 202, r.text)
  t.equal(fake.state.functions.get('aws_fresh')?.imageUri, image('echo', '3'))
})

t.test('an update that does not finish in time → 504', async (t) => {
  const { url } = await lambdaApp(t, { fake: { updateMs: 5000 }, driverOptions: { updateTimeoutMs: 200 } })
  await deployReady(url, { service: 'stuck', image: image('echo') })
  const r = await api(url, 'PUT', '/system/functions', { service: 'stuck', image: image('echo', '2') })
  t.equal(r.status, 504)
  t.match(r.text, /the code update of aws_stuck did not finish within 200 ms \(LastUpdateStatus InProgress/)
})
