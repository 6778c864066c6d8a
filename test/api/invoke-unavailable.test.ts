/*
 * Resolution failures answer 503 `No endpoints available for: NAME.` with
 * X-OpenFaaS-Internal: proxy (unknown function, unknown namespace, not ready, driver failure);
 * an empty name is 400.
 */
import t from 'tap'
import { backendError, unavailable } from '../../src/core/errors.ts'
import { httpUpstream, send, startEcho, startProxy } from './invoke-harness.ts'

t.test('503 for unknown, unready and failing functions', async (t) => {
  const echo = await startEcho(t)
  const proxy = await startProxy(t, {
    functions: {
      ok: httpUpstream(echo.url),
      cold: unavailable('no ready replica'),
      broken: backendError('cluster unreachable')
    }
  })
  for (const name of ['missing', 'missing.openfaas-fn', 'ok.nowhere', 'cold', 'broken']) {
    const res = await send(proxy.base, `/function/${name}/x?y=1`, { method: 'POST', body: 'ignored' })
    t.equal(res.status, 503, name)
    t.equal(res.headers['x-openfaas-internal'], 'proxy')
    // the contract's text; a backend that failed (not an unknown or unready function) adds its reason
    const reason = name === 'broken' ? ' The backend failed: cluster unreachable' : ''
    t.equal(res.body.toString(), `No endpoints available for: ${name}.${reason}`)
  }
  t.same(proxy.invocations.map((i) => [i.labels.function, i.labels.namespace, i.labels.backend, i.labels.code]), [
    // functions that do not exist are counted without their name (anyone may call /function/ANYTHING:
    // a series per made-up name would grow /metrics without bound; test/reliability/security.test.ts)
    ['', 'openfaas-fn', 'fake', 503],
    ['', 'openfaas-fn', 'fake', 503],
    ['', '', '', 503],
    ['cold', 'openfaas-fn', 'fake', 503],
    ['broken', 'openfaas-fn', 'fake', 503]
  ])
})

t.test('400 when the name is empty', async (t) => {
  const proxy = await startProxy(t)
  for (const path of ['/function/', '/function//sub', '/function/?x=1']) {
    const res = await send(proxy.base, path)
    t.equal(res.status, 400, path)
    t.equal(res.headers['x-openfaas-internal'], 'proxy')
    t.equal(res.body.toString(), 'Provide function name in the request path')
  }
})
