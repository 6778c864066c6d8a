/*
 * A request whose event would pass Lambda's synchronous payload limit (6 MB) is refused with 413
 * before Lambda is called; one just under the limit goes through.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('413 before calling', async (t) => {
  const { url, fake } = await lambdaApp(t, { driverOptions: { maxPayloadBytes: 64 * 1024 } })
  await deployReady(url, { service: 'echo', image: image('echo') })

  const big = await api(url, 'POST', '/function/echo', 'x'.repeat(64 * 1024 + 1))
  t.equal(big.status, 413)
  t.match(big.text, /Lambda takes at most 65536 bytes per synchronous invocation/)

  const framed = await api(url, 'POST', '/function/echo', 'x'.repeat(64 * 1024 - 100))
  t.equal(framed.status, 413, 'the event (body + request metadata) counts, not just the body')

  const chunked = await fetch(`${url}/function/echo`, {
    method: 'POST',
    body: new ReadableStream({ start (c) { for (let i = 0; i < 80; i++) c.enqueue(new Uint8Array(1024)); c.close() } }),
    duplex: 'half'
  } as RequestInit)
  t.equal(chunked.status, 413, 'a chunked body is cut off at the limit')
  t.equal(fake.count('Lambda.Invoke'), 0, 'Lambda never called')

  t.equal((await api(url, 'POST', '/function/echo', 'x'.repeat(32 * 1024))).status, 200, 'under the limit')
})

t.test('the default limit is Lambda\'s 6 MB', async (t) => {
  const { url, fake } = await lambdaApp(t)
  await deployReady(url, { service: 'echo', image: image('echo') })
  const r = await api(url, 'POST', '/function/echo', 'x'.repeat(6 * 1024 * 1024 + 1))
  t.equal(r.status, 413)
  t.equal(fake.count('Lambda.Invoke'), 0)
})
