/*
 * A failing run: 500 with the TaskRun's failure reason and the tail of the failing step's log
 * (failureLogLines), so the caller sees why without kubectl.
 */
import t from 'tap'
import { api, fnSpec, tektonApp } from './helpers.ts'

t.test('a failed TaskRun is a 500 with the reason and the log tail', async (t) => {
  const { url, tekton } = await tektonApp(t, { driver: { failureLogLines: 3 } })
  tekton.handler = () => ({ stderr: ['starting', 'reading input', 'parsing', 'boom: bad input'], exitCode: 2 })
  await api(url, 'POST', '/system/functions', fnSpec('broken'))
  const r = await api(url, 'POST', '/function/broken', 'x')
  t.equal(r.status, 500)
  t.match(r.headers.get('content-type'), /text\/plain/)
  t.match(r.text, /TaskRun broken-\w+ failed: Failed: "step-function" exited with code 2/, 'the reason')
  t.match(r.text, /--- last 3 lines of step-function ---\nparsing\nboom: bad input\nfaas-bridge: fprocess exited with code 2\n/, 'the log tail')
  t.notMatch(r.text, /starting/, 'only the tail')
})
