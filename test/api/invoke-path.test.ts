/*
 * /function/NAME[.NAMESPACE][/path]: the prefix is stripped, the function sees `/` or the
 * sub-path, the raw query is passed byte-exact (no decoding or re-encoding).
 */
import t from 'tap'
import { httpUpstream, parseSeen, send, startEcho, startProxy } from './invoke-harness.ts'

t.test('path and query mapping', async (t) => {
  const echo = await startEcho(t)
  const other = await startEcho(t)
  const proxy = await startProxy(t, {
    namespaces: ['openfaas-fn', 'team-a'],
    functions: {
      echo: httpUpstream(echo.url),
      'echo.team-a': httpUpstream(other.url),
      based: httpUpstream(new URL('/base/dir/', echo.url))
    }
  })
  const cases: Array<[string, string]> = [
    ['/function/echo', '/'],
    ['/function/echo/', '/'],
    ['/function/echo?x=1', '/?x=1'],
    ['/function/echo/?x=1', '/?x=1'],
    ['/function/echo/sub/path', '/sub/path'],
    ['/function/echo/sub/path/', '/sub/path/'],
    ['/function/echo/subPath/extras?query=true', '/subPath/extras?query=true'],
    ['/function/echo.openfaas-fn/a', '/a'],
    ['/function/echo?', '/?'],
    ['/function/echo/a%2Fb/%7E?q=%20a+b&x=%E2%9C%93&&y=%zz', '/a%2Fb/%7E?q=%20a+b&x=%E2%9C%93&&y=%zz'],
    ['/function/based/x?y', '/base/dir/x?y']
  ]
  for (const [path, expected] of cases) {
    const res = await send(proxy.base, path)
    t.equal(res.status, 200, path)
    t.equal(parseSeen(res.body).url, expected, `${path} → ${expected}`)
  }
  // the namespace picks the function
  const res = await send(proxy.base, '/function/echo.team-a/z')
  t.equal(res.status, 200)
  t.equal(parseSeen(res.body).url, '/z')
  t.equal(res.headers.host, undefined)
  t.same(proxy.invocations.at(-1)?.labels, { function: 'echo', namespace: 'team-a', backend: 'fake', code: 200 })
})
