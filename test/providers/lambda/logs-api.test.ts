/*
 * /system/logs over CloudWatch Logs: FilterLogEvents on /aws/lambda/FUNCTION with nextToken
 * paging; tail, since and instance (= log stream); follow pages forward until the client leaves;
 * unknown function → 404; a function never invoked has no log group yet → empty.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

interface Line { name: string, namespace: string, instance: string, timestamp: string, text: string }
const lines = (text: string): Line[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)

t.test('logs', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { logPageSize: 3 } })
  await deployReady(url, { service: 'echo', image: image('echo') })
  const empty = await api(url, 'GET', '/system/logs?name=echo')
  t.equal(empty.status, 200, 'no log group yet → empty stream')
  t.equal(empty.text, '')
  t.equal((await api(url, 'GET', '/system/logs?name=nope')).status, 404)

  for (const word of ['one', 'two', 'three']) await api(url, 'POST', '/function/echo', word)
  const all = lines((await api(url, 'GET', '/system/logs?name=echo')).text)
  t.equal(all.length, 12, 'START, the line, END, REPORT per invocation, over several pages')
  t.ok(fake.count('Logs.FilterLogEvents') >= 4, 'nextToken followed')
  t.match(all[1], { name: 'echo', namespace: 'aws', text: 'echo invoked: "one"' })
  t.match(all[1]?.instance, /^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/, 'instance = log stream name')
  t.notMatch(all[1]?.text ?? '', /\n$/, 'no trailing newline')

  const tail = lines((await api(url, 'GET', '/system/logs?name=echo&tail=2')).text)
  t.same(tail.map((l) => l.text.split(' ')[0]), ['END', 'REPORT'], 'tail=2 → the last two')

  const future = new Date(Date.now() + 60_000).toISOString()
  t.same(lines((await api(url, 'GET', `/system/logs?name=echo&since=${future}`)).text), [], 'since in the future → nothing')

  // a code update starts a new instance (log stream)
  t.equal((await api(url, 'PUT', '/system/functions', { service: 'echo', image: image('echo', '2') })).status, 202)
  await api(url, 'POST', '/function/echo', 'four')
  const newest = lines((await api(url, 'GET', '/system/logs?name=echo&tail=1')).text)[0] as Line
  t.not(newest.instance, all[0]?.instance, 'a new log stream')
  const only = lines((await api(url, 'GET', `/system/logs?name=echo&instance=${encodeURIComponent(newest.instance)}`)).text)
  t.equal(only.length, 4, 'instance filters by log stream')
  t.ok(only.every((l) => l.instance === newest.instance))
})

t.test('follow pages forward until the client leaves', async (t) => {
  const { url } = await lambdaApp(t, { fake: { logPageSize: 3 } })
  await deployReady(url, { service: 'echo', image: image('echo') })
  await api(url, 'POST', '/function/echo', 'before')
  const ac = new AbortController()
  const res = await fetch(`${url}/system/logs?name=echo&follow=true&tail=1`, { signal: ac.signal })
  t.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  let text = ''
  const readUntil = async (needle: string): Promise<void> => {
    const deadline = Date.now() + 5000
    while (!text.includes(needle) && Date.now() < deadline) {
      const next = await reader.read()
      if (next.done) break
      text += Buffer.from(next.value).toString()
    }
  }
  await readUntil('REPORT')
  t.equal(lines(text).length, 1, 'tail=1 of the backlog')
  await api(url, 'POST', '/function/echo', 'after')
  await readUntil('echo invoked: \\"after\\"')
  const got = lines(text)
  t.ok(got.some((l) => l.text === 'echo invoked: "after"'), 'new lines arrive')
  const firstReport = got[0]?.text
  t.equal(got.filter((l) => l.text === firstReport).length, 1, 'nothing repeated from the backlog')
  ac.abort()
})
