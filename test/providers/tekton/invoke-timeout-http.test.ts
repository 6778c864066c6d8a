/*
 * read_timeout: a run that does not finish in time is answered 504 and its TaskRun is cancelled
 * (spec.status TaskRunCancelled), so the cluster stops working on it.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('a run past read_timeout: 504 and the TaskRun cancelled', async (t) => {
  const { url, tekton } = await tektonApp(t, { timeoutMs: 400 })
  tekton.handler = async () => await new Promise(() => {}) // hangs
  await api(url, 'POST', '/system/functions', fnSpec('slow'))
  const started = Date.now()
  const r = await api(url, 'POST', '/function/slow', 'x')
  t.equal(r.status, 504, r.text)
  t.ok(Date.now() - started < 3000, 'answered at the timeout')
  const run = await eventually(() => {
    const x = tekton.taskRuns(NS, 'slow')[0]
    check(x?.spec.status === 'TaskRunCancelled', `spec.status ${String(x?.spec.status)}`)
    check(x?.status?.conditions?.[0]?.reason === 'TaskRunCancelled', 'cancelled by the controller')
    return x
  }, { timeoutMs: 3000, what: 'the cancelled TaskRun' })
  t.match(run?.spec.statusMessage, /read_timeout/, 'the reason is recorded on the TaskRun')
  t.same(tekton.cancelled, [`${NS}/${String(run?.metadata.name)}`])
})
