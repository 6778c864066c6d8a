import t from 'tap'
import { mkdtemp, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { readCredentials } from '../../src/api/auth.ts'
import { memoryApp } from '../helpers/app.ts'

const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`

t.test('credentials are read from secret_mount_path and trimmed; a missing file is a clear error', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-auth-'))
  t.throws(() => readCredentials(dir), /basic-auth-user cannot be read/)
  await writeFile(path.join(dir, 'basic-auth-user'), 'admin\n')
  await writeFile(path.join(dir, 'basic-auth-password'), '  s3cret \n')
  t.same(readCredentials(dir), { user: 'admin', password: 's3cret' })
})

t.test('protected routes need the right Basic credentials; the others stay open', async (t) => {
  const { app } = await memoryApp(t, { credentials: { user: 'admin', password: 's3cret' } })
  const protectedRoutes: Array<[string, string]> = [
    ['GET', '/system/functions'], ['POST', '/system/functions'], ['PUT', '/system/functions'], ['DELETE', '/system/functions'],
    ['GET', '/system/function/x'], ['POST', '/system/scale-function/x'], ['GET', '/system/info'],
    ['GET', '/system/secrets'], ['POST', '/system/secrets'], ['PUT', '/system/secrets'], ['DELETE', '/system/secrets'],
    ['GET', '/system/logs?name=x'], ['POST', '/system/namespace/'], ['DELETE', '/system/namespace/x']
  ]
  for (const [method, url] of protectedRoutes) {
    for (const authorization of [undefined, basic('admin', 'wrong'), basic('root', 's3cret'), 'Bearer abc', 'Basic !!!']) {
      const res = await app.inject({ method: method as 'GET', url, headers: authorization !== undefined ? { authorization } : {} })
      t.equal(res.statusCode, 401, `${method} ${url} with ${authorization ?? 'no credentials'}`)
      t.equal(res.headers['www-authenticate'], 'Basic realm="Restricted"')
      t.equal(res.body, 'invalid credentials')
    }
  }
  const ok = await app.inject({ method: 'GET', url: '/system/functions', headers: { authorization: basic('admin', 's3cret') } })
  t.equal(ok.statusCode, 200)
  for (const url of ['/healthz', '/system/namespaces', '/metrics']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} is open`)
  }
  t.equal((await app.inject({ method: 'POST', url: '/function/nope' })).statusCode, 503, 'invocations are not behind provider auth')
})
