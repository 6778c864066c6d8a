/*
 * POST /system/functions → createService with the whole OpenFaaS spec mapped onto Cloud Run, waited
 * on through its long-running operation; GET /system/function/NAME reads it all back.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody, IMAGE, NS, PROJECT, REGION } from './helpers.ts'

t.test('deploy maps the spec onto a Cloud Run service and status reads it back', async (t) => {
  const s = await appSetup(t, { driverOptions: { serviceAccount: 'fn@test-project.iam.gserviceaccount.com', ingress: 'internal' } })
  await s.driver.secrets.create({ name: 'api-key', namespace: NS, value: Buffer.from('k') })
  const res = await s.call('/system/functions', {
    method: 'POST',
    json: deployBody('figlet', {
      envVars: { mode: 'http', fprocess: 'ignored' },
      labels: { team: 'blue', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '5', Team: 'Not A Google Label' },
      annotations: { 'prometheus.io.scrape': 'false' },
      limits: { cpu: '2', memory: '1Gi' },
      requests: { cpu: '100m' },
      secrets: ['api-key']
    })
  })
  t.equal(res.status, 202, await res.text())

  const create = s.fake.run.requests.find((r) => r.method === 'POST')
  t.ok(create, 'createService was called')
  t.equal(create?.path, `/v2/projects/${PROJECT}/locations/${REGION}/services`)
  t.equal(create?.query.get('serviceId'), 'figlet')
  const body = create?.body ?? {}
  const c = body.template.containers[0]
  t.equal(c.image, IMAGE)
  t.same(c.ports, [{ name: 'http1', containerPort: 8080 }], 'port 8080')
  t.same(c.env, [{ name: 'mode', value: 'http' }, { name: 'fprocess', value: 'env' }], 'env with fprocess from envProcess')
  t.same(c.resources.limits, { cpu: '2', memory: '1Gi' })
  t.same(c.volumeMounts, [{ name: 'secret-0', mountPath: '/var/openfaas/secrets/api-key' }])
  t.same(body.template.volumes, [{ name: 'secret-0', secret: { secret: `openfaas_${NS}_api-key`, items: [{ path: 'api-key', version: 'latest' }] } }])
  t.equal(body.template.serviceAccount, 'fn@test-project.iam.gserviceaccount.com')
  t.same(body.template.scaling, { maxInstanceCount: 5 }, 'scale.max → template max instances')
  t.same(body.scaling, { minInstanceCount: 2 }, 'scale.min → service min instances')
  t.equal(body.ingress, 2, 'ingress as a numeric enum (INTERNAL_ONLY)')
  t.same(body.traffic, [{ type: 1, percent: 100 }], 'all traffic to the latest revision')
  t.same(body.labels, { 'managed-by': 'faas-bridge', 'openfaas-namespace': NS, 'openfaas-function': 'figlet', team: 'blue' },
    'only labels that satisfy Google rules become Google labels')
  t.ok(s.fake.seen.some((l) => l.startsWith(`GET /v2/projects/${PROJECT}/locations/${REGION}/operations/`)), 'the operation was polled')

  const st = await s.call('/system/function/figlet')
  t.equal(st.status, 200)
  const fn = await st.json() as FunctionStatus & { annotations: Record<string, string> }
  t.equal(fn.name, 'figlet')
  t.equal(fn.namespace, NS)
  t.equal(fn.image, IMAGE)
  t.equal(fn.envProcess, 'env')
  t.same(fn.envVars, { mode: 'http' })
  t.same(fn.labels, { team: 'blue', 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '5', Team: 'Not A Google Label', faas_function: 'figlet' },
    'every label round-trips (through an annotation)')
  t.equal(fn.annotations['prometheus.io.scrape'], 'false')
  t.equal(fn.annotations['faas-bridge/url'], s.fn.url, 'status annotation with the URL')
  t.equal(fn.annotations['faas-bridge/console'], `https://console.cloud.google.com/run/detail/${REGION}/figlet/metrics?project=${PROJECT}`)
  t.same(fn.limits, { cpu: '2', memory: '1Gi' })
  t.same(fn.requests, { cpu: '100m' })
  t.same(fn.secrets, ['api-key'])
  t.equal(fn.replicas, 2)
  t.equal(fn.availableReplicas, 2)
  t.match(fn.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}000123Z$/, 'createdAt from createTime, nanoseconds kept')

  const again = await s.call('/system/functions', { method: 'POST', json: deployBody('figlet') })
  t.equal(again.status, 409, 'ALREADY_EXISTS → 409')
  t.match(await again.text(), /already exists/)
})

t.test('a deploy naming a missing secret is 400 and creates nothing', async (t) => {
  const s = await appSetup(t)
  const res = await s.call('/system/functions', { method: 'POST', json: deployBody('needs', { secrets: ['absent'] }) })
  t.equal(res.status, 400)
  t.match(await res.text(), /absent/)
  t.equal(s.fake.run.services.size, 0)
})
