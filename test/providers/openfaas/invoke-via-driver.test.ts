/*
 * invokeVia: driver — the driver's own undici Agent runs the call (what an https remote with
 * caFile/insecure uses): binary bodies, sub-paths, status codes and response headers pass through,
 * and invokeAuth sends the system credentials only when asked.
 */
import { randomBytes } from 'node:crypto'
import t from 'tap'
import { api, deployReady, frontFor, httpSpec, remoteFor, STREAM_FIXTURE } from './helpers.ts'

t.test('the call upstream streams through the driver', async (t) => {
  const remote = await remoteFor(t)
  const front = await frontFor(t, remote.url, { invokeVia: 'driver' })
  await deployReady(front, { ...httpSpec('via-driver'), envProcess: `'${process.execPath}' '${STREAM_FIXTURE}'` })
  await deployReady(front, httpSpec('env-reader'))

  const up = await front.driver.upstream('edge', 'via-driver')
  t.equal(up.kind, 'call', 'a call upstream')

  const body = randomBytes(512 * 1024)
  const res = await fetch(`${front.url}/function/via-driver.edge`, { method: 'POST', body, signal: AbortSignal.timeout(10_000) })
  t.equal(res.status, 200)
  t.ok(Buffer.from(await res.arrayBuffer()).equals(body), 'binary body round trip')

  const ticks = await fetch(`${front.url}/function/via-driver.edge/ticks?n=3&ms=50`, { signal: AbortSignal.timeout(10_000) })
  t.equal(await ticks.text(), 'tick 0\ntick 1\ntick 2\n', 'sub-path and query reach the function')

  const missing = await api(front.url, 'GET', '/function/env-reader.edge/env?name=NOPE')
  t.equal(missing.status, 404, "the function's own status passes through")
})

t.test('invokeAuth puts the system credentials on invocations', async (t) => {
  const remote = await remoteFor(t)
  const plain = await frontFor(t, remote.url)
  const withAuth = await frontFor(t, remote.url, { invokeAuth: true })
  const up1 = await (async () => { await deployReady(plain, httpSpec('auth-check')); return await plain.driver.upstream('edge', 'auth-check') })()
  t.same(up1.kind === 'http' ? up1.headers : 'call', undefined, 'no credentials by default')
  const up2 = await withAuth.driver.upstream('edge', 'auth-check')
  t.match(up2.kind === 'http' ? up2.headers : {}, { authorization: /^Basic / }, 'credentials with invokeAuth')
})
