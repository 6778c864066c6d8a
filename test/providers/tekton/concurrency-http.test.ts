/*
 * replicas = the maximum of concurrent runs: calls beyond it wait in a bounded queue (maxQueue),
 * one more is answered 429; a waiting call starts when a run ends.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { FunctionResult } from '../../fakes/kubernetes/tekton.ts'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

t.test('one run at a time, one waiting, the next refused with 429', async (t) => {
  const { url, tekton, driver } = await tektonApp(t, { driver: { maxQueue: 1 } })
  const gates: Array<(r: FunctionResult) => void> = []
  tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { gates.push(() => { resolve({ stdout: run.body }) }) })
  await api(url, 'POST', '/system/functions', fnSpec('one'))
  const first = api(url, 'POST', '/function/one', 'first')
  await eventually(() => { check(gates.length === 1, `${gates.length} runs`) }, { timeoutMs: 2000 })
  const second = api(url, 'POST', '/function/one', 'second')
  await eventually(() => { check(driver.limiter.usage(`${NS}/one`).queued === 1, 'second waits') }, { timeoutMs: 2000 })
  const third = await api(url, 'POST', '/function/one', 'third')
  t.equal(third.status, 429, 'the queue is full: 429')
  t.match(third.text, /1 runs under way \(the maximum is 1\) and 1 calls waiting/)
  t.equal(tekton.taskRuns(NS, 'one').length, 1, 'the waiting call has no TaskRun yet')
  const s = (await api(url, 'GET', '/system/function/one')).json()
  t.equal(s.annotations['faas-bridge.dev/runs-in-flight'], '1')
  t.equal(s.annotations['faas-bridge.dev/runs-queued'], '1')
  gates[0]?.({})
  t.equal((await first).text, 'first')
  await eventually(() => { check(gates.length === 2, 'second started') }, { timeoutMs: 2000 })
  gates[1]?.({})
  t.equal((await second).text, 'second', 'the waiting call ran after the first')
})

t.test('scaled to 2: two runs at once', async (t) => {
  const { url, tekton } = await tektonApp(t, { driver: { maxQueue: 0 } })
  const gates: Array<() => void> = []
  tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => { gates.push(() => { resolve({ stdout: run.body }) }) })
  await api(url, 'POST', '/system/functions', fnSpec('two'))
  await api(url, 'POST', '/system/scale-function/two', { replicas: 2 })
  const calls = [api(url, 'POST', '/function/two', 'a'), api(url, 'POST', '/function/two', 'b')]
  await eventually(() => { check(gates.length === 2, `${gates.length} runs`) }, { timeoutMs: 2000 })
  t.equal((await api(url, 'POST', '/function/two', 'c')).status, 429, 'maxQueue 0: a third is refused at once')
  for (const g of gates) g()
  t.same((await Promise.all(calls)).map((r) => r.text).sort(), ['a', 'b'])
})
