/*
 * Streaming through two proxies: the response of a slow NDJSON function arrives line by line
 * (the first line long before the last is written), and a duplex call gets each request chunk
 * echoed back before the next one is sent.
 */
import { Readable } from 'node:stream'
import t from 'tap'
import { request } from 'undici'
import { deployReady, frontFor, httpSpec, remoteFor, STREAM_FIXTURE } from './helpers.ts'

t.test('response and request bodies stream', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url)
  await deployReady(front, { ...httpSpec('streamer'), envProcess: `'${process.execPath}' '${STREAM_FIXTURE}'` })

  const started = Date.now()
  const res = await request(`${front.url}/function/streamer.edge/ticks?n=4&ms=300`, {
    headers: { accept: 'application/x-ndjson' }, signal: AbortSignal.timeout(10_000)
  })
  t.equal(res.statusCode, 200)
  const arrivals: Array<{ text: string, ms: number }> = []
  for await (const chunk of res.body) arrivals.push({ text: (chunk as Buffer).toString(), ms: Date.now() - started })
  t.equal(arrivals.map((a) => a.text).join(''), 'tick 0\ntick 1\ntick 2\ntick 3\n', 'every line arrives')
  t.ok(arrivals.length >= 3, `arrived in pieces (${arrivals.length})`)
  const first = arrivals[0]?.ms ?? Infinity
  const last = arrivals[arrivals.length - 1]?.ms ?? 0
  t.ok(last - first >= 600, `the first line came ${last - first} ms before the last: not buffered`)

  // duplex: chunk n+1 is only sent once chunk n came back
  let echoed = ''
  let wake: (() => void) | undefined
  async function * body (): AsyncGenerator<Buffer> {
    for (let i = 0; i < 3; i++) {
      const piece = `piece-${i};`
      yield Buffer.from(piece)
      const deadline = Date.now() + 5000
      while (!echoed.endsWith(piece) && Date.now() < deadline) {
        await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 50) })
      }
    }
  }
  const duplex = await request(`${front.url}/function/streamer.edge/duplex`, {
    method: 'POST', body: Readable.from(body()), headers: { 'content-type': 'application/octet-stream' }, signal: AbortSignal.timeout(10_000)
  })
  t.equal(duplex.statusCode, 200)
  for await (const chunk of duplex.body) {
    echoed += (chunk as Buffer).toString()
    wake?.()
  }
  t.equal(echoed, 'piece-0;piece-1;piece-2;', 'each chunk came back before the next was sent')
})
