/*
 * Request bodies travel in a ConfigMap (at most 1 MiB): above maxBodyBytes the call is answered
 * 413 before anything is created in the cluster, whether the size is declared or streamed.
 */
import t from 'tap'
import { TASKRUNS } from '../../fakes/kubernetes/server.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('a body above maxBodyBytes: 413, no TaskRun', async (t) => {
  const { url, fake } = await tektonApp(t, { driver: { maxBodyBytes: 1000 } })
  await api(url, 'POST', '/system/functions', fnSpec('small'))
  const r = await api(url, 'POST', '/function/small', 'x'.repeat(1001))
  t.equal(r.status, 413, r.text)
  t.match(r.text, /larger than 1000 bytes/)
  const chunked = await fetch(`${url}/function/small`, {
    method: 'POST',
    body: new ReadableStream({ start (c) { c.enqueue(new Uint8Array(600)); c.enqueue(new Uint8Array(600)); c.close() } }),
    duplex: 'half',
    signal: AbortSignal.timeout(5000)
  } as RequestInit)
  t.equal(chunked.status, 413, 'streamed without a length: 413 once it passes the limit')
  await chunked.text()
  t.same(fake.store.list(TASKRUNS, NS), [], 'nothing was run')
  t.same(fake.store.list('configmaps', NS), [], 'nothing was stored')
  const ok = await api(url, 'POST', '/function/small', 'y'.repeat(1000))
  t.equal(ok.status, 200, 'at the limit it runs')
  t.equal(ok.text.length, 1000)
})
