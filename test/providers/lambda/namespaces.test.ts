/*
 * Namespaces are configured: each maps to a function-name prefix (default NAMESPACE_, or
 * namespaces.NS.functionPrefix), a secrets prefix, and optionally its own region and role.
 */
import t from 'tap'
import { createDriver } from '../../../providers/lambda/index.ts'
import { api, fakeAws, fakeOptions, lambdaApp, NS, NS2, registerEcho, ROLE, testContext } from './helpers.ts'

t.test('namespaces through the API', async (t) => {
  const { url, fake } = await lambdaApp(t, {
    driverOptions: { namespaces: { 'aws-staging': { functionPrefix: 'stg-', secretsPrefix: 'staging/', roleArn: 'arn:aws:iam::123456789012:role/staging' } } }
  })
  t.same((await api(url, 'GET', '/system/namespaces')).json(), [NS, NS2])
  t.equal((await api(url, 'POST', '/system/functions', { service: 'fn', namespace: NS2, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:1' })).status, 202)
  t.equal((await api(url, 'POST', '/system/functions', { service: 'fn', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:1' })).status, 202, 'same name, other namespace')
  t.same([...fake.state.functions.keys()].sort(), ['aws_fn', 'stg-fn'])
  t.equal(fake.state.functions.get('stg-fn')?.role, 'arn:aws:iam::123456789012:role/staging', 'per-namespace role')
  t.equal(fake.state.functions.get('aws_fn')?.role, ROLE)
  t.equal((await api(url, 'POST', '/system/secrets', { name: 's', namespace: NS2, value: 'v' })).status, 202)
  t.ok(fake.state.secrets.has('staging/s'), 'per-namespace secrets prefix')
  t.same((await api(url, 'GET', '/system/secrets?namespace=aws')).json(), [], 'secrets are per namespace')
  t.equal((await api(url, 'GET', '/system/functions?namespace=elsewhere')).status, 400, 'unknown namespace')
  t.equal((await api(url, 'GET', '/system/namespace/aws')).status, 200, 'a configured namespace exists')
  const create = await api(url, 'POST', '/system/namespace/', { name: 'new-ns', labels: { openfaas: '1' } })
  t.equal(create.status, 501, 'namespaces are configured, not created at run time')
  t.equal((await api(url, 'GET', '/system/info')).status, 200)
  t.equal((await api(url, 'GET', '/healthz')).status, 200)
})

t.test('a namespace in another region needs an image from that region', async (t) => {
  const fake = await fakeAws(t)
  registerEcho(fake)
  const driver = await createDriver(fakeOptions(fake, { namespaces: { [NS2]: { region: 'eu-west-1' } } }), testContext())
  t.teardown(async () => { await driver.close() })
  await t.rejects(driver.deploy({ service: 'x', namespace: NS2, image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/echo:1' }),
    { code: 'INVALID', message: /ECR region us-east-1, but the function is created in eu-west-1/ })
  await driver.deploy({ service: 'x', namespace: NS2, image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/echo:1' })
  t.ok(fake.state.functions.has('aws-staging_x'), 'created through the eu-west-1 client')
})
