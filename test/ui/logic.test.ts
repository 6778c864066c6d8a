/*
 * The dashboard's pure logic, run in Node: the deploy form's checks agree with the API's own
 * (src/core/validate.ts) on generated inputs; API messages land at the field they name; stack.yml
 * written without a YAML library parses back to exactly the deployed values.
 */
import fc from 'fast-check'
import t from 'tap'
import { parse } from 'yaml'
import { normaliseDeployment } from '../../src/core/validate.ts'
import type { FunctionStatus } from '../../ui/src/api.ts'
import { backendDetails, health } from '../../ui/src/status.ts'
import { fieldOfApiError, parsePairs, readEnvRows, validateDeployment } from '../../ui/src/validate.ts'
import { toStackYaml } from '../../ui/src/yaml.ts'

const serverAccepts = (fn: Parameters<typeof normaliseDeployment>[0]): boolean => {
  try { normaliseDeployment(fn); return true } catch { return false }
}

t.test('the form checks what the API checks', async (t) => {
  const nameChars = fc.constantFrom(...'abcz09-_.A'.split(''))
  const name = fc.oneof(fc.string({ unit: nameChars, maxLength: 70 }), fc.string({ maxLength: 8 }))
  const scale = fc.oneof(fc.constant(undefined), fc.constantFrom('0', '3', '10', '-1', '1.5', 'two', ''))
  fc.assert(fc.property(name, fc.string({ maxLength: 4 }), scale, fc.array(name, { maxLength: 2 }), (service, image, min, secrets) => {
    const fn = { service, image, secrets, ...(min !== undefined ? { labels: { 'com.openfaas.scale.min': min } } : {}) }
    const client = Object.keys(validateDeployment(fn, ['openfaas-fn'])).length === 0
    return client === serverAccepts(fn)
  }), { numRuns: 2000 })
  t.pass('2000 generated deployments: the form refuses exactly what the API refuses')
})

t.test("the API's messages go to the field they name", async (t) => {
  const cases: Array<[number, string, string]> = [
    [400, 'service "Bad_Name" must be a DNS-1123 label: lower-case letters, digits and "-"', 'service'],
    [400, 'image is required', 'image'],
    [400, 'invalid request: body.service is required', 'service'],
    [400, 'invalid request: body.envVars.A must be string', 'envVars'],
    [400, 'label com.openfaas.scale.min must be a whole number, got "x"', 'labels'],
    [400, 'unable to fetch secrets: secret "nope" not found in namespace "openfaas-fn"', 'secrets'],
    [400, 'namespace "x" is not served by this provider (known: openfaas-fn)', 'namespace'],
    [409, 'function "echo" already exists in namespace "openfaas-fn"', 'service'],
    [400, 'labels and annotations make 60 Lambda tags (faas-bridge uses 5 of them); a Lambda function takes at most 50', 'labels'],
    [500, 'backend unreachable', 'form']
  ]
  for (const [status, message, field] of cases) t.equal(fieldOfApiError(status, message), field, message)
})

t.test('KEY=VALUE lines', async (t) => {
  t.same(parsePairs('a=1\n\n# note\nb = x=y\r\nc=', 'label'), { map: { a: '1', b: ' x=y', c: '' } })
  t.match(parsePairs('a=1\nnovalue', 'label').error, /line 2/)
  t.match(parsePairs('a=1\na=2', 'label').error, /given twice/)
})

const fn = (over: Partial<FunctionStatus>): FunctionStatus => ({
  name: 'f', namespace: 'openfaas-fn', image: 'i:1', replicas: 1, availableReplicas: 1, createdAt: '2026-01-01T00:00:00Z', ...over
})

t.test('stack.yml parses back to the deployed values', async (t) => {
  const awkward = ['yes', 'no', 'null', '~', '1.0', '0x1F', '- a', 'a: b', '#x', '"q"', "'s'", 'multi\nline', 'tab\there', 'ünï ✓', '', ' lead', 'trail ', '{x}', '*ref', '&a', '!tag', '%', '@', '`']
  const env = Object.fromEntries(awkward.map((v, i) => [`K${i}`, v]))
  const labels = Object.fromEntries(awkward.filter((v) => v !== '').map((v, i) => [v, String(i)]))
  const functions = [
    fn({ name: 'echo', envProcess: 'cat "$x" | tr a-z A-Z', envVars: env, labels: { ...labels, faas_function: 'echo' }, annotations: { topic: 'orders', 'faas-bridge.dev/pods': 'echo-1 (Running)', 'faas-bridge/console': 'https://console.example/x' }, secrets: ['api-token', 'db.password'], constraints: ['node.platform.os == linux'], limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '64Mi' }, readOnlyRootFilesystem: true }),
    fn({ name: 'yes', namespace: 'staging-fn', image: 'ghcr.io/acme/yes:latest', labels: { faas_function: 'yes' } }),
    fn({ name: 'echo', namespace: 'staging-fn' })
  ]
  const { yaml, skipped } = toStackYaml(functions, 'http://127.0.0.1:8080')
  const stack = parse(yaml) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  t.same(stack.provider, { name: 'openfaas', gateway: 'http://127.0.0.1:8080' })
  t.equal(stack.version, 1.0)
  t.same(Object.keys(stack.functions), ['echo', 'yes'], 'a key that YAML reads as a boolean stays a string')
  t.same(skipped.map((f) => `${f.name}.${f.namespace}`), ['echo.staging-fn'], 'a name taken in another namespace is reported, not silently merged')
  const echo = stack.functions.echo
  t.same(echo.environment, env)
  t.same(echo.labels, labels, "the provider's faas_function label is not exported as a user label")
  t.same(echo.annotations, { topic: 'orders' }, "the backend's status annotations are not exported")
  t.equal(echo.fprocess, 'cat "$x" | tr a-z A-Z')
  t.same(echo.secrets, ['api-token', 'db.password'])
  t.same(echo.constraints, ['node.platform.os == linux'])
  t.same(echo.limits, { memory: '128Mi', cpu: '500m' })
  t.same(echo.requests, { memory: '64Mi' })
  t.equal(echo.readonly_root_filesystem, true)
  t.same(stack.functions.yes, { image: 'ghcr.io/acme/yes:latest', namespace: 'staging-fn' })
  t.same(parse(toStackYaml([], 'http://x').yaml).functions, {}, 'an empty export is still a valid stack')
})

t.test('status badge and backend details', async (t) => {
  t.equal(health(fn({ replicas: 0, availableReplicas: 0 })), 'scaled-to-zero')
  t.equal(health(fn({ replicas: 2, availableReplicas: 1 })), 'partial')
  t.equal(health(fn({ replicas: 1, availableReplicas: 0 })), 'starting')
  t.equal(health(fn({})), 'ready')
  const details = backendDetails(fn({ annotations: { 'faas-bridge.dev/pods': 'a (Running)', 'faas-bridge/console': 'https://console.cloud.google.com/run', 'faas-bridge/url': 'https://f.run.app', mine: 'x' } }))
  t.same(details.map((d) => [d.label, d.href]), [['pods', undefined], ['console', 'https://console.cloud.google.com/run'], ['url', 'https://f.run.app']])
})

t.test('environment rows: values keep their newlines; empty rows are skipped; names are checked', async (t) => {
  t.same(readEnvRows([{ key: ' CERT ', value: '-----BEGIN-----\nAAAA\n-----END-----\n' }, { key: '', value: '' }, { key: 'mode', value: 'http' }]),
    { map: { CERT: '-----BEGIN-----\nAAAA\n-----END-----\n', mode: 'http' } })
  t.match(readEnvRows([{ key: '', value: 'orphan' }]).error, /variable 1: a value needs a name/)
  t.match(readEnvRows([{ key: 'A B', value: 'x' }]).error, /cannot hold/)
  t.match(readEnvRows([{ key: 'A=B', value: 'x' }]).error, /cannot hold/)
  t.match(readEnvRows([{ key: 'A', value: '1' }, { key: 'A', value: '2' }]).error, /variable 2: "A" is given twice/)
})
