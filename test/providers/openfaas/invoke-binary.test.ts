/*
 * Invocation through the front reaches the remote's /function/NAME.REMOTE_NS/ with the sub-path
 * and query kept, and a binary body (every byte value, 3 MiB) makes the round trip unchanged.
 */
import { createHash, randomBytes } from 'node:crypto'
import t from 'tap'
import { deployReady, frontFor, httpSpec, remoteFor, STREAM_FIXTURE } from './helpers.ts'

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

t.test('binary body both ways, path and query kept', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  await deployReady(front, { ...httpSpec('echo-bin'), envProcess: `'${process.execPath}' '${STREAM_FIXTURE}'` })
  await deployReady(front, httpSpec('echo-json'))

  const body = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3 * 1024 * 1024)])
  const res = await fetch(`${front.url}/function/echo-bin.edge`, {
    method: 'POST', body, headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(10_000)
  })
  t.equal(res.status, 200)
  t.equal(res.headers.get('x-echo-length'), String(body.length), 'the function got every byte')
  const back = Buffer.from(await res.arrayBuffer())
  t.equal(back.length, body.length, 'same length back')
  t.equal(sha(back), sha(body), 'same bytes back')

  const sub = await fetch(`${front.url}/function/echo-json.edge/sub/path?x=1&y=two`, { method: 'PUT', body: 'b', signal: AbortSignal.timeout(5000) })
  t.equal(sub.status, 200)
  const echoed = await sub.json() as { method: string, path: string, body: string }
  t.equal(echoed.method, 'PUT', 'method kept')
  t.equal(echoed.path, '/sub/path', 'sub-path kept below /function/NAME')

  const unknown = await fetch(`${front.url}/function/nope.edge`, { signal: AbortSignal.timeout(5000) })
  t.equal(unknown.status, 503, 'an unknown remote function is 503 like any unknown function')
  t.match(await unknown.text(), /No endpoints available for: nope\.edge/)
})
