import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

t.test('/system/info: provider, orchestration and a non-null version', async (t) => {
  const { app } = await memoryApp(t, { info: { release: '1.2.3', sha: 'abc123' } })
  const res = await app.inject({ method: 'GET', url: '/system/info' })
  t.equal(res.statusCode, 200)
  // coordination: faas-bridge's own field (the gateway reads only the three others); one process leads itself
  t.same(res.json(), {
    provider: 'faas-bridge',
    version: { sha: 'abc123', release: '1.2.3' },
    orchestration: 'memory',
    coordination: { identity: 'single', leader: 'single', leading: true, mode: 'single' }
  })
  const metrics = await app.inject({ method: 'GET', url: '/metrics' })
  t.match(metrics.body, /faas_bridge_leader\{identity="single",leader="single",mode="single"\} 1/, '/metrics says who leads')
})

t.test('/healthz answers GET and HEAD with an empty 200', async (t) => {
  const { app } = await memoryApp(t)
  for (const method of ['GET', 'HEAD'] as const) {
    const res = await app.inject({ method, url: '/healthz' })
    t.equal(res.statusCode, 200, method)
    t.equal(res.body, '', method)
  }
})

t.test('/metrics: Prometheus text with request counts per route and backend', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'GET', url: '/system/functions' })
  await app.inject({ method: 'GET', url: '/system/functions?namespace=staging-fn' })
  await app.inject({ method: 'GET', url: '/system/function/nope' })
  const res = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(res.statusCode, 200)
  t.match(res.headers['content-type'], /text\/plain/)
  t.match(res.body, /provider_http_requests_total\{method="GET",path="\/system\/functions",code="200",backend="mem"\} 2/)
  t.match(res.body, /provider_http_requests_total\{method="GET",path="\/system\/function\/:name",code="404",backend="mem"\} 1/)
  t.match(res.body, /provider_http_request_duration_seconds_bucket\{/)
})
