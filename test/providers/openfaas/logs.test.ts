/*
 * /system/logs through the front: the remote's NDJSON comes back line by line with the local
 * namespace and all five keys; follow=true delivers lines written after the request started; an
 * unknown function is a 404 before any streaming starts.
 */
import t from 'tap'
import { Agent, request } from 'undici'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, deployReady, frontFor, httpSpec, remoteFor } from './helpers.ts'

interface Line { name: string, namespace: string, instance: string, timestamp: string, text: string }
const parse = (text: string): Line[] => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)

t.test('logs stream from the remote with the local namespace', async (t) => {
  const remote = await remoteFor(t, { writeTimeoutMs: 5000 })
  const front = await frontFor(t, remote.url, {}, { writeTimeoutMs: 5000 })
  await deployReady(front, httpSpec('talker'))
  t.equal((await api(front.url, 'POST', '/function/talker.edge/first', 'x')).status, 200)

  const lines = await eventually(async () => {
    const res = await api(front.url, 'GET', '/system/logs?name=talker&namespace=edge&follow=false&tail=-1')
    check(res.status === 200, `status ${res.status}: ${res.text}`)
    check(res.headers.get('content-type') === 'application/x-ndjson', 'ndjson')
    const got = parse(res.text)
    check(got.some((l) => l.text.includes('handled POST /first')), `no "handled POST /first" in ${res.text}`)
    return got
  }, { timeoutMs: 5000, what: 'the invocation in the logs' })
  for (const l of lines) {
    t.same(Object.keys(l).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp'])
    t.equal(l.namespace, 'edge', 'local namespace')
    t.equal(l.name, 'talker')
  }

  const tail = parse((await api(front.url, 'GET', '/system/logs?name=talker&namespace=edge&follow=false&tail=1')).text)
  t.equal(tail.length, 1, 'tail=1 is passed on')

  // follow: a line produced after the stream opened arrives on it
  // an own client, destroyed at the end: the global one would keep the half-read socket open
  const client = new Agent()
  t.teardown(async () => { await client.destroy() })
  const ac = new AbortController()
  const res = await request(`${front.url}/system/logs?name=talker&namespace=edge&follow=true&tail=1`, { signal: ac.signal, dispatcher: client })
  t.equal(res.statusCode, 200)
  let seen = ''
  const invoked = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 200))
    await api(front.url, 'POST', '/function/talker.edge/later', 'y')
  })()
  try {
    for await (const chunk of res.body) {
      seen += (chunk as Buffer).toString()
      if (seen.includes('handled POST /later')) break
    }
  } finally {
    ac.abort()
    await client.destroy()
  }
  await invoked
  t.match(seen, /handled POST \/later/, 'a new line arrived while following')
  t.equal(parse(seen.slice(0, seen.lastIndexOf('\n') + 1))[0]?.namespace, 'edge')

  const unknown = await api(front.url, 'GET', '/system/logs?name=ghost&namespace=edge')
  t.equal(unknown.status, 404, 'unknown function → 404')
  t.match(unknown.text, /ghost/)
})
