/*
 * The maximum of concurrent runs holds across provider replicas: two tekton drivers (two provider
 * apps, as two replicas) on one fake cluster. With replicas = 1, a call through replica B waits
 * while replica A's run is under way (B counts the function's running TaskRuns from the API, and
 * creates none), starts when A's run ends; B's own line stays bounded (maxQueue 0: a second call
 * through B is refused with 429 while B's first waits).
 */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { pino } from 'pino'
import { createDriver } from '../../../providers/tekton/index.ts'
import { buildApp } from '../../../src/app.ts'
import { Backends } from '../../../src/core/backends.ts'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import type { FunctionResult } from '../../fakes/kubernetes/tekton.ts'
import { api, fnSpec, NAMESPACES, NS, tektonApp } from './helpers.ts'

t.test('replicas = 1 holds for two provider replicas: B waits for A\'s run, then runs; B\'s line stays bounded', async (t) => {
  const a = await tektonApp(t, { driver: { maxQueue: 0 } })
  // replica B: its own driver and app on the same cluster
  const kubeconfig = path.join(path.dirname(a.kubeconfig), 'config-b')
  await writeFile(kubeconfig, a.fake.kubeconfig(), { mode: 0o600 })
  const driverB = await createDriver({ kubeconfig, inCluster: false, maxQueue: 0 }, { logger: pino({ level: 'silent' }), namespaces: NAMESPACES, execTimeoutMs: 5000 })
  const backendsB = new Backends([{ backend: { name: 'tekton', driver: driverB }, namespaces: NAMESPACES }], NS)
  await backendsB.init()
  const appB = await buildApp({ backends: backendsB, readTimeoutMs: 5000, writeTimeoutMs: 3000, systemBodyLimit: 1024 * 1024, maxIdleConnsPerHost: 16 })
  const urlB = await appB.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    await appB.close()
    await backendsB.close()
  })

  const gates: Array<() => void> = []
  let running = 0
  let most = 0
  a.tekton.handler = async (run) => await new Promise<FunctionResult>((resolve) => {
    running++
    most = Math.max(most, running)
    gates.push(() => { running--; resolve({ stdout: run.body }) })
  })
  await api(a.url, 'POST', '/system/functions', fnSpec('one'))
  const first = api(a.url, 'POST', '/function/one', 'through A')
  await eventually(() => { check(gates.length === 1, `${gates.length} runs`) }, { timeoutMs: 5000 })
  const listsBefore = a.fake.requestsTo(/^GET \/apis\/tekton\.dev\/v1\/namespaces\/ci\/taskruns$/).length
  const second = api(urlB, 'POST', '/function/one', 'through B')
  // B holds its one slot and keeps counting the cluster's runs; it creates no TaskRun meanwhile
  await eventually(() => {
    check(driverB.limiter.usage(`${NS}/one`).running === 1, 'B holds its slot')
    check(a.fake.requestsTo(/^GET \/apis\/tekton\.dev\/v1\/namespaces\/ci\/taskruns$/).length >= listsBefore + 3, 'B counted the cluster\'s runs several times')
  }, { timeoutMs: 5000 })
  t.equal(a.tekton.taskRuns(NS, 'one').length, 1, 'no second TaskRun while A\'s run is under way')
  const third = await api(urlB, 'POST', '/function/one', 'refused')
  t.equal(third.status, 429, 'B\'s line is bounded: maxQueue 0 refuses the next call at once')
  gates[0]?.()
  t.equal((await first).text, 'through A')
  await eventually(() => { check(gates.length === 2, 'B\'s run started') }, { timeoutMs: 5000 })
  gates[1]?.()
  const b = await second
  t.equal(b.status, 200)
  t.equal(b.text, 'through B', 'B ran after A\'s run ended')
  t.equal(most, 1, 'never more than 1 run at once in the cluster')
})
