/*
 * Invocation edges at the driver (no HTTP proxy in front): the driver's own read_timeout is a
 * TIMEOUT with the TaskRun cancelled; a TaskRun deleted under a call ends it; a caller that
 * leaves cancels its TaskRun; a Task that vanished fails the run with its reason; close()
 * abandons calls under way.
 */
import t from 'tap'
import { invokeUpstream } from '../../../src/driver-contract/invoke.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { TASKRUNS, TASKS } from '../../fakes/kubernetes/server.ts'
import { NS, startTekton } from './helpers.ts'

const spec = { service: 'edge', image: 'ghcr.io/openfaas/alpine:latest', envProcess: 'cat', namespace: NS }

t.test('the driver times out by itself and cancels the run', async (t) => {
  const s = await startTekton({ timeoutMs: 300 })
  t.teardown(s.cleanup)
  s.tekton.handler = async () => await new Promise(() => {})
  await s.driver.deploy(spec)
  await t.rejects(invokeUpstream(await s.driver.upstream(NS, 'edge'), { body: 'x' }), { code: 'TIMEOUT', message: /did not finish within 300 ms/ })
  await eventually(() => { check(s.tekton.cancelled.length === 1, 'cancelled') }, { timeoutMs: 2000 })
  t.match(s.tekton.taskRuns(NS, 'edge')[0]?.spec.statusMessage, /read_timeout of 300 ms passed/)
})

t.test('a TaskRun deleted under a call ends it with BACKEND', async (t) => {
  const s = await startTekton()
  t.teardown(s.cleanup)
  s.tekton.handler = async () => await new Promise(() => {})
  await s.driver.deploy(spec)
  const call = invokeUpstream(await s.driver.upstream(NS, 'edge'), { body: 'x' })
  const run = await eventually(() => {
    const r = s.tekton.taskRuns(NS, 'edge')[0]
    check(r?.status?.podName !== undefined, 'running')
    return r
  }, { timeoutMs: 2000 })
  s.fake.store.delete(TASKRUNS, 'taskruns.tekton.dev', NS, run?.metadata.name as string)
  await t.rejects(call, { code: 'BACKEND', message: /was deleted before it finished/ })
})

t.test('a caller that leaves cancels the run', async (t) => {
  const s = await startTekton()
  t.teardown(s.cleanup)
  s.tekton.handler = async () => await new Promise(() => {})
  await s.driver.deploy(spec)
  const ac = new AbortController()
  const call = invokeUpstream(await s.driver.upstream(NS, 'edge'), { body: 'x', signal: ac.signal })
  await eventually(() => { check(s.tekton.taskRuns(NS, 'edge').length === 1, 'created') }, { timeoutMs: 2000 })
  ac.abort(new Error('gone'))
  await t.rejects(call)
  await eventually(() => { check(s.tekton.cancelled.length === 1, 'cancelled') }, { timeoutMs: 2000 })
  t.match(s.tekton.taskRuns(NS, 'edge')[0]?.spec.statusMessage, /the call ended before the run did/)
})

t.test('a Task that vanished: the run fails with its reason', async (t) => {
  const s = await startTekton()
  t.teardown(s.cleanup)
  await s.driver.deploy(spec)
  const up = await s.driver.upstream(NS, 'edge')
  s.fake.store.delete(TASKS, 'tasks.tekton.dev', NS, 'edge')
  const r = await invokeUpstream(up, { body: 'x' })
  t.equal(r.status, 500)
  t.match(r.body, /TaskRunResolutionFailed: tasks.tekton.dev "edge" not found/)
  t.match(r.body, /\(the run has no pod\)/)
})

t.test('close() abandons calls under way', async (t) => {
  const s = await startTekton()
  t.teardown(s.cleanup)
  s.tekton.handler = async () => await new Promise(() => {})
  await s.driver.deploy(spec)
  const call = invokeUpstream(await s.driver.upstream(NS, 'edge'), { body: 'x' })
  await eventually(() => { check(s.tekton.taskRuns(NS, 'edge').length === 1, 'created') }, { timeoutMs: 2000 })
  await s.driver.close()
  await t.rejects(call, /closing/)
  await eventually(() => { check(s.tekton.cancelled.length === 1, 'cancelled') }, { timeoutMs: 2000 })
  await t.rejects(s.driver.status(NS, 'edge'), { code: 'BACKEND' }, 'closed')
})

// Regression: close() landing while the call read the TaskRun after opening its watch left the call
// waiting forever on a stream that had been destroyed before anything read it (seen under load).
// (the per-run watch: what a call uses without the TaskRun cache, or while it cannot be trusted)
t.test('close() while the call reads its TaskRun after the watch opened', async (t) => {
  const s = await startTekton({ driver: { cache: false } })
  t.teardown(s.cleanup)
  s.tekton.handler = async () => await new Promise(() => {})
  await s.driver.deploy(spec)
  const runGet = (r: { method: string, path: string, query: string }): boolean =>
    r.method === 'GET' && /\/taskruns\/edge-[a-z0-9]+$/.test(r.path) && !r.query.includes('watch')
  let reading = false
  s.fake.onRequest = (r) => { if (runGet(r)) reading = true }
  const held = s.fake.fault({ kind: 'latency', latencyMs: 300, match: runGet })
  const call = invokeUpstream(await s.driver.upstream(NS, 'edge'), { body: 'x' })
  await eventually(() => { check(reading, 'the call reads its TaskRun') }, { timeoutMs: 10_000 })
  const heldBeforeClose = held.hits
  await s.driver.close()
  await t.rejects(call, /closing/)
  t.equal(heldBeforeClose, 1, 'the GET was under way (held by the fake) when close() came')
})
