/*
 * validateOptions: namespaces map to project + region, collisions and typos are reported with the
 * option that is wrong, endpoints parse into the clients' apiEndpoint/port/protocol.
 */
import t from 'tap'
import { validateOptions } from '../../../providers/cloudrun/options.ts'

t.test('defaults and per-namespace targets', async (t) => {
  const o = validateOptions({ project: 'my-project', region: 'us-central1', namespaces: { b: { region: 'europe-west1', servicePrefix: 'b-', ingress: 'internal' } } }, ['a', 'b'])
  t.same(o.targets.get('a'), { project: 'my-project', region: 'us-central1', servicePrefix: '', ingress: 'all' })
  t.same(o.targets.get('b'), { project: 'my-project', region: 'europe-west1', servicePrefix: 'b-', ingress: 'internal' })
  t.equal(o.scaleToZero, 'native')
  t.equal(o.defaultMinInstances, 0)
  t.equal(o.invokeAuth, 'id-token')
  t.equal(validateOptions({ project: 'my-project', region: 'us-central1', scaleToZero: 'gateway' }, ['a']).defaultMinInstances, 1)
  t.same(validateOptions({ project: 'my-project', region: 'us-central1', endpoints: { run: 'http://127.0.0.1:8085' } }, ['a']).endpoints.run,
    { apiEndpoint: '127.0.0.1', port: 8085, protocol: 'http' })
})

t.test('mistakes name the option', async (t) => {
  const base = { project: 'my-project', region: 'us-central1' }
  const cases: Array<[Record<string, unknown>, string[], RegExp]> = [
    [{}, ['a'], /namespace "a" has no project/],
    [{ project: 'my-project' }, ['a'], /has no region/],
    [{ ...base, bogus: 1 }, ['a'], /unknown option "bogus"/],
    [{ ...base }, ['a', 'b'], /both map to project "my-project", region "us-central1"/],
    [{ ...base, namespaces: { c: {} } }, ['a'], /does not own/],
    [{ ...base, ingress: 'public' }, ['a'], /"ingress" must be one of/],
    [{ ...base, region: 'Mars' }, ['a'], /not a Google Cloud region/],
    [{ ...base, project: 'X' }, ['a'], /not a Google Cloud project id/],
    [{ ...base, endpoints: { run: 'ftp://x' } }, ['a'], /endpoints.run/],
    [{ ...base, auth: 'none' }, ['a'], /invokeAuth "id-token" needs credentials/],
    [{ ...base, operationTimeoutMs: 0 }, ['a'], /"operationTimeoutMs" must be an integer >= 1/],
    [{ ...base, idTokenProvider: {} }, ['a'], /fetchIdToken/]
  ]
  for (const [opts, namespaces, message] of cases) t.throws(() => validateOptions(opts, namespaces), message, JSON.stringify(opts))
})
