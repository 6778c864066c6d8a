/*
 * TaskRun cleanup: only the newest keepTaskRuns finished TaskRuns of a function are kept; runs
 * under way are never pruned; request ConfigMaps do not pile up.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { FunctionResult } from '../../fakes/kubernetes/tekton.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('keep the last N TaskRuns per function', async (t) => {
  const { url, tekton, fake, driver } = await tektonApp(t, { driver: { keepTaskRuns: 2 } })
  await api(url, 'POST', '/system/functions', fnSpec('busy'))
  await api(url, 'POST', '/system/functions', fnSpec('other'))
  t.equal((await api(url, 'POST', '/function/other', 'o')).status, 200)
  const names: string[] = []
  for (let i = 0; i < 5; i++) {
    const r = await api(url, 'POST', '/function/busy', String(i))
    t.equal(r.status, 200)
    names.push(r.headers.get('x-tekton-taskrun') ?? '')
  }
  await driver.janitor.idle()
  await eventually(() => { check(tekton.taskRuns(NS, 'busy').length === 2, `${tekton.taskRuns(NS, 'busy').length} TaskRuns`) }, { timeoutMs: 3000 })
  t.same(tekton.taskRuns(NS, 'busy').map((r) => r.metadata.name).sort(), names.slice(-2).sort(), 'the newest two are kept')
  t.equal(tekton.taskRuns(NS, 'other').length, 1, 'other functions are not touched')
  t.same(fake.store.list('configmaps', NS), [], 'no request ConfigMaps left')

  // a run under way survives a pass
  let release: (() => void) | undefined
  tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { release = () => { resolve({ stdout: run.body }) } })
  const pending = api(url, 'POST', '/function/busy', 'long')
  await eventually(() => { check(release !== undefined, 'started') }, { timeoutMs: 2000 })
  await driver.janitor.prune(NS, 'busy')
  t.equal(tekton.taskRuns(NS, 'busy').length, 3, 'two finished and the running one')
  release?.()
  t.equal((await pending).text, 'long')
})
