/*
 * parseInvokeUrl: the name segment (percent-decoded), the raw sub-path and the raw query.
 */
import t from 'tap'
import { parseInvokeUrl } from '../../src/proxy/invoke-path.ts'

t.test('splits the raw target', async (t) => {
  t.same(parseInvokeUrl('/function/fn'), { segment: 'fn', path: '/', query: '', pathAndQuery: '/' })
  t.same(parseInvokeUrl('/function/fn.ns/'), { segment: 'fn.ns', path: '/', query: '', pathAndQuery: '/' })
  t.same(parseInvokeUrl('/function/fn?'), { segment: 'fn', path: '/', query: '', pathAndQuery: '/?' })
  t.same(parseInvokeUrl('/function/fn/a/b?c=%2F&d'), { segment: 'fn', path: '/a/b', query: 'c=%2F&d', pathAndQuery: '/a/b?c=%2F&d' })
  t.same(parseInvokeUrl('/function/f%6e/x%20y'), { segment: 'fn', path: '/x%20y', query: '', pathAndQuery: '/x%20y' })
  t.same(parseInvokeUrl('/function/bad%zz'), { segment: 'bad%zz', path: '/', query: '', pathAndQuery: '/' })
  t.equal(parseInvokeUrl('/function/').segment, '')
  t.equal(parseInvokeUrl('/function//x').segment, '')
  t.equal(parseInvokeUrl('/function/?a=b/c').path, '/')
})
