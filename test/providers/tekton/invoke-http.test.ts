/*
 * /function/NAME over the tekton backend: one TaskRun per call, labelled with the function and
 * the call id (X-Call-Id); the step sees the body on stdin and the method, path, query and
 * headers as Http_* variables; stdout is the 200 response, as the Task result when small, read
 * back from step `response`'s log when larger than resultLimitBytes; content_type sets the type.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('a call is a TaskRun; the request reaches the step; stdout is the response', async (t) => {
  const { url, tekton, fake } = await tektonApp(t)
  let seen: Record<string, string> = {}
  tekton.handler = (run) => {
    seen = run.env
    return { stdout: `got ${run.body.toString('utf8')}`, stderr: ['working'] }
  }
  await api(url, 'POST', '/system/functions', fnSpec('echo', { envVars: { content_type: 'text/x-echo' } }))
  const r = await api(url, 'POST', '/function/echo/sub/path?x=1&y=2', 'payload', { 'x-call-id': 'call-123', 'x-test': 'kept' })
  t.equal(r.status, 200, r.text)
  t.equal(r.text, 'got payload', 'stdout is the body')
  t.equal(r.headers.get('content-type'), 'text/x-echo', 'content_type env sets the type')
  t.equal(seen.Http_Method, 'POST')
  t.equal(seen.Http_Path, '/sub/path')
  t.equal(seen.Http_Query, 'x=1&y=2')
  t.equal(seen.Http_X_Test, 'kept', 'headers as Http_* variables')
  t.equal(seen.Http_ContentLength, '7')
  t.equal(seen.fprocess, 'cat')
  const runs = tekton.taskRuns(NS, 'echo')
  t.equal(runs.length, 1, 'one TaskRun per call')
  const run = runs[0]
  t.equal(run?.metadata.labels?.faas_function, 'echo', 'labelled with the function')
  t.equal(run?.metadata.labels?.['faas-bridge.dev/call-id'], 'call-123', 'and the call id')
  t.equal(r.headers.get('x-tekton-taskrun'), run?.metadata.name, 'the TaskRun is named in the response')
  t.equal(run?.spec.taskRef.name, 'echo')
  await eventually(() => { check(fake.store.list('configmaps', NS).length === 0, 'ConfigMaps left') }, { timeoutMs: 2000 })
  t.pass('the request ConfigMap is deleted after the call (not awaited by the answer)')

  const noId = await api(url, 'GET', '/function/echo')
  t.equal(noId.status, 200)
  t.match(noId.headers.get('x-call-id'), /^[0-9a-f-]{36}$/, 'a call id is made when none is sent')
})

t.test('stdout larger than a Task result is read back from the response step log', async (t) => {
  const { url, tekton } = await tektonApp(t, { driver: { resultLimitBytes: 100 } })
  const big = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(40)}`).join('\n') + '\n'
  tekton.handler = () => ({ stdout: big })
  await api(url, 'POST', '/system/functions', fnSpec('big'))
  const r = await api(url, 'POST', '/function/big', 'x')
  t.equal(r.status, 200, r.text.slice(0, 200))
  t.equal(r.text.length, big.length, 'every byte')
  t.equal(r.text, big)
  const run = tekton.taskRuns(NS, 'big')[0]
  t.same(run?.status.results.find((x: { name: string }) => x.name === 'delivery')?.value, 'log', 'delivered through the log')

  tekton.handler = () => ({ stdout: 'small' })
  t.equal((await api(url, 'POST', '/function/big', 'x')).text, 'small', 'a small one still comes inline')
})
