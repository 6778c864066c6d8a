/*
 * How /ui/ and /system/backends are served, over plain HTTP: behind the same basic auth as
 * /system when it is on, index.html revalidated and hashed assets cached for good, security
 * headers, no path escapes, and a 503 that says what to run when the UI was never built.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { localApp } from '../helpers/local-app.ts'
import { ensureUi } from '../helpers/ui.ts'

const credentials = { user: 'admin', password: 'ui-s3cret' }
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const good = { authorization: basic(credentials.user, credentials.password) }

t.before(async () => { await ensureUi() })

t.test('with basic auth on, /ui/ and /system/backends need credentials', async (t) => {
  const { app } = await localApp(t, { app: { credentials } })
  for (const url of ['/ui/', '/ui', '/ui/index.html', '/ui/assets/anything.js', '/system/backends']) {
    const none = await app.inject({ method: 'GET', url })
    t.equal(none.statusCode, 401, `GET ${url} without credentials`)
    t.equal(none.headers['www-authenticate'], 'Basic realm="Restricted"')
    const wrong = await app.inject({ method: 'GET', url, headers: { authorization: basic('admin', 'nope') } })
    t.equal(wrong.statusCode, 401, `GET ${url} with a wrong password`)
  }
  const index = await app.inject({ method: 'GET', url: '/ui/', headers: good })
  t.equal(index.statusCode, 200)
  t.match(index.headers['content-type'], /^text\/html/)
  t.match(index.body, /<div id="app">/)

  const backends = await app.inject({ method: 'GET', url: '/system/backends', headers: good })
  t.equal(backends.statusCode, 200)
  t.same(backends.json(), [{ name: 'local', kind: 'local', namespaces: ['openfaas-fn', 'staging-fn'] }])
  const wrongMethod = await app.inject({ method: 'POST', url: '/system/backends', headers: good })
  t.equal(wrongMethod.statusCode, 405)
})

t.test('cache and security headers', async (t) => {
  const { app } = await localApp(t, { app: { credentials } })
  const redirect = await app.inject({ method: 'GET', url: '/ui', headers: good })
  t.equal(redirect.statusCode, 301)
  t.equal(redirect.headers.location, '/ui/')

  const index = await app.inject({ method: 'GET', url: '/ui/', headers: good })
  t.equal(index.headers['cache-control'], 'no-cache', 'index.html is revalidated on every load')
  t.match(index.headers['content-security-policy'], /default-src 'self'/)
  t.match(index.headers['content-security-policy'], /frame-ancestors 'none'/)
  t.equal(index.headers['x-content-type-options'], 'nosniff')
  t.equal(index.headers['referrer-policy'], 'no-referrer')
  t.type(index.headers.etag, 'string')
  const again = await app.inject({ method: 'GET', url: '/ui/', headers: { ...good, 'if-none-match': String(index.headers.etag) } })
  t.equal(again.statusCode, 304, 'an unchanged index.html is a 304')

  const assets = [...index.body.matchAll(/(?:src|href)="(assets\/[^"]+)"/g)].map((m) => m[1] as string)
  t.equal(assets.length, 2, 'index.html names the script and the stylesheet')
  for (const asset of assets) {
    const res = await app.inject({ method: 'GET', url: `/ui/${asset}`, headers: good })
    t.equal(res.statusCode, 200, asset)
    t.equal(res.headers['cache-control'], 'private, max-age=31536000, immutable', `${asset}: content-hashed, cached for good, privately`)
    t.match(res.headers['content-type'], asset.endsWith('.js') ? /javascript/ : /^text\/css/)
    const head = await app.inject({ method: 'HEAD', url: `/ui/${asset}`, headers: good })
    t.equal(head.statusCode, 200)
    t.equal(head.body, '')
  }
  t.match(await app.inject({ method: 'GET', url: '/ui/assets/missing-123.js', headers: good }), { statusCode: 404 })
  t.match(await app.inject({ method: 'GET', url: '/ui/build.json', headers: good }), { statusCode: 200 }, 'the build record is public to the user')
  for (const url of ['/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json', '/ui/.hidden']) {
    const res = await app.inject({ method: 'GET', url, headers: good })
    t.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} is not served (${res.statusCode})`)
    t.notMatch(res.body, /"name": "faas-bridge"/)
  }
})

t.test('without basic auth the dashboard is open, like /system', async (t) => {
  const { app } = await localApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/ui/' })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/system/backends' })).statusCode, 200)
})

t.test('a missing build is a 503 that says what to run, and the API still works', async (t) => {
  const empty = await mkdtemp(path.join(os.tmpdir(), 'fb-no-ui-'))
  t.teardown(async () => { await rm(empty, { recursive: true, force: true }) })
  const { app } = await localApp(t, { app: { credentials, uiRoot: empty } })
  for (const url of ['/ui/', '/ui/assets/app.js']) {
    const res = await app.inject({ method: 'GET', url, headers: good })
    t.equal(res.statusCode, 503, url)
    t.match(res.body, /npm run build:ui/)
  }
  t.equal((await app.inject({ method: 'GET', url: '/ui/' })).statusCode, 401, 'still behind auth')
  t.equal((await app.inject({ method: 'GET', url: '/system/functions', headers: good })).statusCode, 200)
  t.equal((await app.inject({ method: 'GET', url: '/system/backends', headers: good })).statusCode, 200)
})
