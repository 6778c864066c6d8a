import t from 'tap'
import { memoryApp } from '../helpers/app.ts'
import type { LogMessage } from '../../src/core/types.ts'

const fn = { service: 'text-echo', image: 'x:1', envProcess: 'cat' }
const line = (text: string, instance: string, timestamp: string): LogMessage => ({ name: 'text-echo', namespace: 'openfaas-fn', instance, timestamp, text })

async function setup (t: Parameters<typeof memoryApp>[0]) {
  const ctx = await memoryApp(t)
  await ctx.app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  ctx.driver.logLines.push(
    line('Forking fprocess.', 'text-echo-a', '2026-11-21T10:00:00.000Z'),
    line('Wrote 5 Bytes - Duration: 0.001 seconds', 'text-echo-a', '2026-11-21T10:00:01.000Z'),
    line('hello', 'text-echo-b', '2026-11-21T10:00:02.000Z')
  )
  return ctx
}

t.test('NDJSON with all five keys on every line', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'GET', url: '/system/logs?follow=false&name=text-echo&tail=-1' })
  t.equal(res.statusCode, 200)
  t.equal(res.headers['content-type'], 'application/x-ndjson')
  const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l))
  t.equal(lines.length, 3)
  for (const l of lines) t.same(Object.keys(l).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp'])
})

t.test('tail, since, instance filter; repeated keys: the last wins', async (t) => {
  const { app } = await setup(t)
  const tail = await app.inject({ method: 'GET', url: '/system/logs?follow=false&name=text-echo&tail=1' })
  t.same(tail.body.trimEnd().split('\n').map((l) => JSON.parse(l).text), ['hello'])
  const since = await app.inject({ method: 'GET', url: '/system/logs?follow=false&name=text-echo&since=2026-11-21T10%3A00%3A01Z' })
  t.equal(since.body.trimEnd().split('\n').length, 2)
  const inst = await app.inject({ method: 'GET', url: '/system/logs?follow=false&name=text-echo&instance=text-echo-b' })
  t.same(inst.body.trimEnd().split('\n').map((l) => JSON.parse(l).instance), ['text-echo-b'])
  const repeated = await app.inject({ method: 'GET', url: '/system/logs?follow=false&name=text-echo&tail=abc&tail=2' })
  t.equal(repeated.statusCode, 200)
  t.equal(repeated.body.trimEnd().split('\n').length, 2)
})

t.test('unknown function → 404 before any stream starts', async (t) => {
  const { app } = await setup(t)
  const res = await app.inject({ method: 'GET', url: '/system/logs?name=nope' })
  t.equal(res.statusCode, 404)
})

t.test('follow: headers flushed before the first line, stream ends at write_timeout', async (t) => {
  const { app } = await memoryApp(t, { writeTimeoutMs: 600 })
  await app.inject({ method: 'POST', url: '/system/functions', payload: fn })
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  const started = Date.now()
  const res = await fetch(`${address}/system/logs?name=text-echo&follow=true&tail=-1`)
  t.equal(res.status, 200, 'the status arrives although no log line exists yet')
  t.ok(Date.now() - started < 500, 'headers came at once')
  const body = await res.text()
  t.equal(body, '')
  t.ok(Date.now() - started >= 550, 'the stream was held open until write_timeout')
})

t.test('a backend that cannot open the log source → 500 with its reason, not an empty 200', async (t) => {
  const { app, driver } = await setup(t)
  driver.failNext('logs', 'log service unreachable')
  const res = await app.inject({ method: 'GET', url: '/system/logs?name=text-echo&follow=false' })
  t.equal(res.statusCode, 500)
  t.match(res.body, /log service unreachable/)
})
