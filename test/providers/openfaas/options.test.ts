/*
 * validateOptions: defaults, URL normalisation, namespace mapping, auth forms, and a message that
 * names the wrong option for every mistake.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_STATUS_CACHE_MS, validateOptions
} from '../../../providers/openfaas/options.ts'

const owned = ['edge', 'staging-fn']

t.test('defaults', async (t) => {
  const o = validateOptions({ url: 'http://gateway.openfaas:8080' }, owned)
  t.equal(o.url.href, 'http://gateway.openfaas:8080/', 'trailing slash added')
  t.equal(o.authorization, undefined)
  t.equal(o.authKind, 'none')
  t.same([...o.remoteNamespaces], [['edge', 'edge'], ['staging-fn', 'staging-fn']], 'identity mapping by default')
  t.equal(o.requestTimeoutMs, DEFAULT_REQUEST_TIMEOUT_MS)
  t.equal(o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS)
  t.equal(o.statusCacheMs, DEFAULT_STATUS_CACHE_MS)
  t.equal(o.invokeVia, 'proxy')
  t.equal(o.invokeAuth, false)
  t.equal(o.invokeWhenUnready, false)
  t.equal(validateOptions({ url: 'https://h/openfaas' }, owned).url.href, 'https://h/openfaas/', 'a path prefix keeps its segment')
})

t.test('auth forms', async (t) => {
  const basic = validateOptions({ url: 'http://h', auth: { type: 'basic', user: 'u', password: 'p' } }, owned)
  t.equal(basic.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`)
  t.equal(validateOptions({ url: 'http://h', auth: { type: 'basic', password: 'p' } }, owned).authorization,
    `Basic ${Buffer.from('admin:p').toString('base64')}`, 'user defaults to admin')
  t.equal(validateOptions({ url: 'http://h', auth: { type: 'bearer', token: 't0k' } }, owned).authorization, 'Bearer t0k')
  const dir = await mkdtemp(join(tmpdir(), 'fb-openfaas-opts-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'token'), 'file-token\n')
  t.equal(validateOptions({ url: 'http://h', auth: { type: 'bearer', tokenFile: join(dir, 'token') } }, owned).authorization, 'Bearer file-token')
  await writeFile(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
  const tls = validateOptions({ url: 'https://h', caFile: join(dir, 'ca.pem') }, owned)
  t.equal(tls.invokeVia, 'driver', 'a custom CA makes the driver run invocations')
  t.match(tls.ca, /BEGIN CERTIFICATE/)
  t.equal(validateOptions({ url: 'https://h', insecure: true }, owned).invokeVia, 'driver')
})

t.test('mistakes name the option', async (t) => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /option "url" is required/],
    [{ url: 'not a url' }, /option "url" must be/],
    [{ url: 'ftp://h' }, /http or https/],
    [{ url: 'http://u:p@h' }, /must not carry credentials/],
    [{ url: 'http://h?x=1' }, /query or fragment/],
    [{ url: 'http://h', colour: 'red' }, /unknown option "colour"/],
    [{ url: 'http://h', namespaces: { prod: 'x' } }, /"namespaces.prod" names a namespace this backend does not own/],
    [{ url: 'http://h', namespaces: { edge: 'Bad_NS' } }, /remote namespace "Bad_NS"/],
    [{ url: 'http://h', namespaces: { edge: 'staging-fn' } }, /both map to remote namespace "staging-fn"/],
    [{ url: 'http://h', namespaces: 'edge' }, /option "namespaces" must be a mapping/],
    [{ url: 'http://h', auth: 'admin:pw' }, /option "auth" must be a mapping/],
    [{ url: 'http://h', auth: { type: 'oauth' } }, /"auth.type" must be one of/],
    [{ url: 'http://h', auth: { type: 'basic' } }, /exactly one of "auth.password", "auth.passwordFile" or "auth.secretMountPath"/],
    [{ url: 'http://h', auth: { type: 'basic', password: 'p', token: 't' } }, /unknown option "auth.token"/],
    [{ url: 'http://h', auth: { type: 'basic', passwordFile: '/nonexistent/pw' } }, /"auth.passwordFile": cannot read \/nonexistent\/pw \(ENOENT\)/],
    [{ url: 'http://h', auth: { type: 'bearer' } }, /exactly one of "auth.token" or "auth.tokenFile"/],
    [{ url: 'http://h', auth: { type: 'basic', user: 'a:b', password: 'p' } }, /must not contain ":"/],
    [{ url: 'http://h', insecure: true }, /only apply to an https remote/],
    [{ url: 'https://h', insecure: true, invokeVia: 'proxy' }, /cannot honour "caFile" or "insecure"/],
    [{ url: 'http://h', invokeVia: 'carrier-pigeon' }, /"invokeVia" must be one of/],
    [{ url: 'http://h', requestTimeoutMs: 0 }, /"requestTimeoutMs" must be an integer >= 1/],
    [{ url: 'http://h', statusCacheMs: -1 }, /"statusCacheMs" must be an integer >= 0/],
    [{ url: 'http://h', invokeAuth: 'yes' }, /"invokeAuth" must be true or false/]
  ]
  for (const [opts, message] of bad) {
    t.throws(() => validateOptions(opts, owned), { message }, JSON.stringify(opts))
    t.throws(() => validateOptions(opts, owned), { message: /^openfaas backend: / }, 'prefixed with the backend')
  }
  t.throws(() => validateOptions({ url: 'http://h' }, []), { message: /owns no namespace/ })
})
