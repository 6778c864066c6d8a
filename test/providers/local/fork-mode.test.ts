/*
 * Fork mode (the classic watchdog inside the provider): stdin → stdout, Http_* env vars,
 * non-zero exit → 500 with stderr, exec_timeout → 504, Content-Type rules, watchdog log lines.
 */
import t from 'tap'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import { forkSpec, makeLocalDriver, NS, testContext } from './helpers.ts'
import { watchdogHeaderName } from '../../../src/core/watchdog-env.ts'
import { parseDurationMs } from '../../../providers/local/durations.ts'
import type { LogMessage } from '../../../src/core/types.ts'

t.test('header names as the classic watchdog spells them', async (t) => {
  t.equal(watchdogHeaderName('x-call-id'), 'X_Call_Id')
  t.equal(watchdogHeaderName('content-type'), 'Content_Type')
  t.equal(watchdogHeaderName('USER-AGENT'), 'User_Agent')
})

t.test('Go durations', async (t) => {
  t.equal(parseDurationMs('10'), 10_000, 'bare seconds')
  t.equal(parseDurationMs('1m30s'), 90_000)
  t.equal(parseDurationMs('250ms'), 250)
  t.equal(parseDurationMs('1.5s'), 1500)
  t.equal(parseDurationMs('soon'), undefined)
})

t.test('stdin to stdout, with shell quoting', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('tr', "tr ' ' '-'"))
  const res = await invokeUpstream(await driver.upstream(NS, 'tr'), { body: 'a b c' })
  t.equal(res.status, 200)
  t.equal(res.body, 'a-b-c')
  t.equal(res.headers['content-type'], 'text/plain', 'text/plain when the request has no Content-Type')
  t.ok(res.headers['x-duration-seconds'] !== undefined, 'X-Duration-Seconds like the watchdog')
})

t.test('request metadata in Http_* env vars', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('env', 'env', { mine: 'yes' }))
  const res = await invokeUpstream(await driver.upstream(NS, 'env'), {
    method: 'PUT',
    path: '/sub/path',
    query: 'a=1&b=2',
    headers: { 'X-Call-Id': 'abc-123', 'Content-Type': 'application/json' },
    body: '{}'
  })
  t.equal(res.status, 200)
  const env = Object.fromEntries(res.body.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
  t.equal(env.Http_Method, 'PUT')
  t.equal(env.Http_Path, '/sub/path')
  t.equal(env.Http_Query, 'a=1&b=2')
  t.equal(env.Http_X_Call_Id, 'abc-123')
  t.equal(env.Http_Content_Type, 'application/json')
  t.equal(env.Http_ContentLength, '2')
  t.equal(env.mine, 'yes', 'function envVars')
  t.equal(env.fprocess, 'env', 'fprocess as in the watchdog container')
  t.ok(env.secret_mount_path !== undefined, 'secret_mount_path')
  t.equal(res.headers['content-type'], 'application/json', 'Content-Type follows the request')

  const noQuery = await invokeUpstream(await driver.upstream(NS, 'env'), { method: 'GET', path: '/' })
  t.notMatch(noQuery.body, /Http_Query=/, 'Http_Query omitted when empty')
})

t.test('non-zero exit → 500 with stderr', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('fail', 'echo partial; echo "something broke" >&2; exit 3'))
  const res = await invokeUpstream(await driver.upstream(NS, 'fail'))
  t.equal(res.status, 500)
  t.equal(res.body, 'something broke\n')
})

t.test('exec_timeout kills the process → 504', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('slow', 'sleep 5; echo late', { exec_timeout: '300ms' }))
  const started = Date.now()
  const res = await invokeUpstream(await driver.upstream(NS, 'slow'))
  t.equal(res.status, 504)
  t.ok(Date.now() - started < 2000, 'answered at the timeout, not when the process would end')
  t.match(res.body, /exec_timeout/)
})

t.test('an unparsable exec_timeout is INVALID', async (t) => {
  const driver = await makeLocalDriver(t)
  await t.rejects(driver.deploy(forkSpec('bad', 'cat', { exec_timeout: 'whenever' })), { code: 'INVALID' })
  await t.rejects(driver.status(NS, 'bad'), { code: 'NOT_FOUND' })
})

t.test('content_type env overrides the response Content-Type', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('html', 'echo "<p>hi</p>"', { content_type: 'text/html' }))
  const res = await invokeUpstream(await driver.upstream(NS, 'html'), { headers: { 'Content-Type': 'application/json' } })
  t.equal(res.headers['content-type'], 'text/html')
})

t.test('watchdog lines and stderr go to the function log', async (t) => {
  const driver = await makeLocalDriver(t)
  await driver.deploy(forkSpec('chatty', 'echo to-stderr >&2; cat'))
  await invokeUpstream(await driver.upstream(NS, 'chatty'), { body: 'four' })
  const lines: LogMessage[] = []
  for await (const m of await driver.logs({ name: 'chatty', namespace: NS, follow: false }, AbortSignal.timeout(2000))) lines.push(m)
  const texts = lines.map((l) => l.text)
  t.ok(texts.includes('Forking fprocess.'))
  t.ok(texts.includes('to-stderr'))
  t.ok(texts.some((x) => /^Wrote 4 Bytes - Duration: \d+\.\d+ seconds$/.test(x)), texts.join(' | '))
  t.ok(lines.every((l) => l.instance === driver.replicaInfo(NS, 'chatty').instances[0]), 'instance is the watchdog slot')
})

t.test('many concurrent calls', async (t) => {
  // exec_timeout 60 s: 100 forks at once on a loaded machine took over the helpers' 5 s (504s)
  const driver = await makeLocalDriver(t, {}, testContext({ execTimeoutMs: 60_000 }))
  await driver.deploy(forkSpec('cat', 'cat'))
  const up = await driver.upstream(NS, 'cat')
  const started = Date.now()
  const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => await invokeUpstream(up, { body: `n${i}` })))
  const ms = Date.now() - started
  const wrong = results.flatMap((r, i) => r.status === 200 && r.body === `n${i}` ? [] : [`#${i}: ${r.status} ${r.body.slice(0, 80)}`])
  t.same(wrong, [], 'every call answered its own body')
  t.comment(`100 forks in ${ms} ms`)
})
