/*
 * /system/secrets over Secrets Manager: names under the namespace's prefix, tagged managed,
 * 202/409/404 as faas-netes answers, list names only (NextToken paging), binary values as
 * SecretBinary; a deployed function gets its secrets' ARNs in env FAAS_BRIDGE_SECRETS.
 */
import t from 'tap'
import { api, deployReady, image, lambdaApp } from './helpers.ts'

t.test('secret routes', async (t) => {
  const { url, fake } = await lambdaApp(t, { fake: { secretPageSize: 2 } })
  t.same((await api(url, 'GET', '/system/secrets')).json(), [])
  for (const name of ['db', 'api-key', 'cert']) {
    t.equal((await api(url, 'POST', '/system/secrets', { name, value: `v-${name}` })).status, 202, `create ${name}`)
  }
  const s = fake.state.secrets.get('openfaas/aws/db')
  t.equal(s?.string, 'v-db', 'stored under openfaas/NAMESPACE/NAME as SecretString')
  t.same(s?.tags, [{ Key: 'faas-bridge:managed', Value: 'true' }, { Key: 'faas-bridge:namespace', Value: 'aws' }])
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'db', value: 'again' })).status, 409)

  // someone else's secret under the prefix, and one of another namespace
  fake.state.secrets.set('openfaas/aws/foreign', { name: 'openfaas/aws/foreign', arn: 'arn:x', tags: [], created: 0, string: 'x' })
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'other', namespace: 'aws-staging', value: 'o' })).status, 202)

  const list = await api(url, 'GET', '/system/secrets')
  t.same(list.json(), [{ name: 'api-key', namespace: 'aws' }, { name: 'cert', namespace: 'aws' }, { name: 'db', namespace: 'aws' }], 'names only, managed only, every page')
  t.notMatch(list.text, /v-/, 'no values')
  t.ok(fake.count('SecretsManager.ListSecrets') >= 2, 'NextToken followed')

  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'db', value: 'v2' })).status, 202)
  t.equal(fake.state.secrets.get('openfaas/aws/db')?.string, 'v2')
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'nope', value: 'v' })).status, 404)

  const raw = Buffer.from([0xff, 0x00, 0xfe])
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'cert', rawValue: raw.toString('base64') })).status, 202)
  t.equal(fake.state.secrets.get('openfaas/aws/cert')?.binary, raw.toString('base64'), 'binary → SecretBinary')

  await deployReady(url, { service: 'uses', image: image('echo'), secrets: ['db', 'api-key'] })
  const env = fake.state.functions.get('aws_uses')?.env ?? {}
  const arns = JSON.parse(env.FAAS_BRIDGE_SECRETS ?? '{}') as Record<string, string>
  t.same(Object.keys(arns).sort(), ['api-key', 'db'])
  t.equal(arns.db, fake.state.secrets.get('openfaas/aws/db')?.arn, 'ARNs, for GetSecretValue')
  const status = (await api(url, 'GET', '/system/function/uses')).json() as { secrets?: string[], envVars?: Record<string, string> }
  t.same(status.secrets, ['api-key', 'db'], 'secrets read back')
  t.equal(status.envVars, undefined, 'the internal env var is not shown')
  const missing = await api(url, 'POST', '/system/functions', { service: 'lacks', image: image('echo'), secrets: ['absent'] })
  t.equal(missing.status, 400)

  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'db' })).status, 202)
  t.notOk(fake.state.secrets.has('openfaas/aws/db'), 'deleted without a recovery window')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'db' })).status, 404)
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'db', value: 'reborn' })).status, 202, 'the name can be reused at once')
})
