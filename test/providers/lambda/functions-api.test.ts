/*
 * /system/functions and /system/function/{name} through the HTTP API over the Lambda backend:
 * deploy → list → status → update → delete, with the contract's status codes (202, 404, 409) and
 * what the Lambda function looks like in the fake (PackageType Image, role, memory, env, tags).
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp, NS, ROLE } from './helpers.ts'

t.test('deploy, list, status, update and delete', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { pendingMs: 60_000 } })
  t.same((await api(url, 'GET', '/system/functions')).json(), [], 'empty list')

  const deploy = await api(url, 'POST', '/system/functions', {
    service: 'figlet',
    image: image('echo'),
    envProcess: 'figlet',
    envVars: { MODE: 'fast' },
    labels: { team: 'blue' },
    annotations: { 'com.openfaas.health.http.path': '/healthz' },
    limits: { memory: '256Mi' }
  })
  t.equal(deploy.status, 202, deploy.text)
  const fn = fake.state.functions.get('aws_figlet')
  t.ok(fn, 'the Lambda function is named namespace_name')
  t.equal(fn?.role, ROLE)
  t.equal(fn?.memorySize, 256, '256Mi → MemorySize 256')
  t.equal(fn?.timeout, 30, 'default timeout')
  t.same(fn?.env, { MODE: 'fast', fprocess: 'figlet' }, 'envVars plus fprocess')
  t.equal(fn?.tags['faas-bridge:managed'], 'true', 'tagged managed')
  t.equal(fn?.tags.team, 'blue', 'labels are tags')
  t.equal(fn?.tags['faas-bridge:annotation:com.openfaas.health.http.path'], '/healthz', 'annotations are prefixed tags')

  const pending = (await api(url, 'GET', '/system/function/figlet')).json() as Record<string, unknown>
  t.equal(pending.replicas, 1)
  t.equal(pending.availableReplicas ?? 0, 0, 'State Pending → no available replica')

  for (const f of fake.state.functions.values()) f.pendingUntil = 0 // Lambda finishes creating it
  fake.state.settings.pendingMs = 0
  await deployReady(url, { service: 'other', image: image('echo') })
  const status = (await api(url, 'GET', '/system/function/figlet')).json() as Record<string, unknown>
  t.match(status, {
    name: 'figlet',
    namespace: NS,
    image: image('echo'),
    envProcess: 'figlet',
    envVars: { MODE: 'fast' },
    labels: { team: 'blue' },
    annotations: { 'com.openfaas.health.http.path': '/healthz' },
    limits: { memory: '256Mi' },
    replicas: 1,
    availableReplicas: 1
  })
  t.ok(!Number.isNaN(Date.parse(status.createdAt as string)), 'createdAt')

  const list = (await api(url, 'GET', '/system/functions')).json() as Array<{ name: string }>
  t.same(list.map((f) => f.name), ['figlet', 'other'])

  t.equal((await api(url, 'POST', '/system/functions', { service: 'figlet', image: image('echo') })).status, 409, 'deploy twice → 409')

  const upd = await api(url, 'PUT', '/system/functions', { service: 'figlet', image: image('echo', '2'), labels: { team: 'red', faas_function: 'figlet' }, limits: { memory: '1Gi' } })
  t.equal(upd.status, 202, upd.text)
  const after = (await api(url, 'GET', '/system/function/figlet')).json() as Record<string, unknown>
  t.equal(after.image, image('echo', '2'), 'new image')
  t.same(after.labels, { team: 'red', faas_function: 'figlet' }, 'labels replaced')
  t.notOk('faas_function' in (fake.state.functions.get('aws_figlet')?.tags ?? {}), 'faas_function sent back is not stored as a tag')
  t.equal(after.annotations, undefined, 'annotations removed')
  t.same(after.limits, { memory: '1024Mi' })
  t.equal(after.envProcess, undefined, 'fprocess gone')
  t.equal(after.createdAt, status.createdAt, 'createdAt kept')

  const missing = await api(url, 'PUT', '/system/functions', { service: 'nope', image: image('echo') })
  t.equal(missing.status, 404, 'update of an unknown function → 404 (faas-cli then POSTs)')
  t.equal((await api(url, 'GET', '/system/function/nope')).status, 404)

  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'figlet' })).status, 202)
  t.equal((await api(url, 'DELETE', '/system/functions', { functionName: 'figlet' })).status, 404, 'second delete → 404')
  t.notOk(fake.state.functions.has('aws_figlet'), 'gone from Lambda')
})

t.test('list pages through ListFunctions and shows only managed functions of the namespace', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { listPageSize: 2 } })
  for (const n of ['a', 'b', 'c', 'd', 'e']) {
    t.equal((await api(url, 'POST', '/system/functions', { service: n, image: image('echo') })).status, 202)
  }
  t.equal((await api(url, 'POST', '/system/functions', { service: 'z', namespace: 'aws-staging', image: image('echo') })).status, 202)
  // a function with our prefix that faas-bridge did not create
  const stranger = { ...(fake.state.functions.get('aws_a') as NonNullable<ReturnType<typeof fake.state.functions.get>>) }
  fake.state.functions.set('aws_stranger', { ...stranger, name: 'aws_stranger', arn: stranger.arn.replace('aws_a', 'aws_stranger'), tags: { team: 'x' } })

  const list = (await api(url, 'GET', '/system/functions')).json() as Array<{ name: string, namespace: string }>
  t.same(list.map((f) => f.name), ['a', 'b', 'c', 'd', 'e'], 'all pages, managed only')
  t.ok(fake.count('Lambda.ListFunctions') >= 4, 'Marker/NextMarker followed')
  const staging = (await api(url, 'GET', '/system/functions?namespace=aws-staging')).json() as Array<{ name: string, namespace: string }>
  t.same(staging.map((f) => [f.name, f.namespace]), [['z', 'aws-staging']])
  t.equal((await api(url, 'GET', '/system/function/stranger')).status, 404, 'an unmanaged function is not found')
  t.equal((await api(url, 'POST', '/system/functions', { service: 'stranger', image: image('echo') })).status, 409, 'nor overwritten')
})
