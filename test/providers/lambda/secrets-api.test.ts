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
  // regression: a forced DeleteSecret of a nonexistent secret succeeds at AWS, so the 404 that
  // faas-cli prints as "unable to find secret" must come from looking the secret up first
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'db' })).status, 404, 'deleting it again is 404')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'never-was' })).status, 404, 'deleting a name that never existed is 404')
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'db', value: 'reborn' })).status, 202, 'the name can be reused at once')
})

t.test('secrets faas-bridge did not create are not ours: update and delete are 404 and change nothing', async (t) => {
  const { url, fake } = await lambdaApp(t)
  // under the namespace's prefix, but without the managed tag (created directly in Secrets Manager)
  const foreign = { name: 'openfaas/aws/foreign', arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:openfaas/aws/foreign-abc', tags: [{ Key: 'team', Value: 'x' }], created: 0, string: 'theirs' }
  fake.state.secrets.set(foreign.name, { ...foreign })
  // and one of ours that was scheduled for deletion by someone else (recovery window)
  t.equal((await api(url, 'POST', '/system/secrets', { name: 'leaving', value: 'v' })).status, 202)
  const leaving = fake.state.secrets.get('openfaas/aws/leaving')
  if (leaving !== undefined) leaving.deletedDate = Date.now() / 1000

  const put = await api(url, 'PUT', '/system/secrets', { name: 'foreign', value: 'mine now' })
  t.equal(put.status, 404, 'update → 404')
  t.notMatch(put.text, /theirs|mine now/, 'no value in the message')
  t.equal((await api(url, 'DELETE', '/system/secrets', { name: 'foreign' })).status, 404, 'delete → 404')
  t.same(fake.state.secrets.get(foreign.name), foreign, 'the foreign secret is untouched')
  t.same((await api(url, 'GET', '/system/secrets')).json(), [], 'and not listed')
  t.equal((await api(url, 'PUT', '/system/secrets', { name: 'leaving', value: 'v2' })).status, 404, 'a secret scheduled for deletion is not found')
  t.equal(fake.count('SecretsManager.PutSecretValue'), 0, 'no value was written')
  t.equal(fake.count('SecretsManager.DeleteSecret'), 0, 'nothing was deleted')
})
