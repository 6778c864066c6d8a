/*
 * The reconciler over stack files, on the real local backend, observed through the HTTP API:
 * declared functions appear (annotated as managed) and answer; edits and drift are corrected;
 * functions it did not create are never touched; prune removes only with prune: true and only on a
 * pass that read the whole source; a bad entry is reported without blocking the others; a failing
 * function is retried with backoff; writes are rate-bounded. Passes are run by hand (pass()) with an
 * injected clock, so nothing depends on timing.
 */
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t, { type Test } from 'tap'
import { localApp } from '../helpers/local-app.ts'
import { Reconciler, type ReconcilerOptions } from '../../src/reconcile/reconciler.ts'
import { SOURCE_ANNOTATION, SPEC_HASH_ANNOTATION } from '../../src/reconcile/desired.ts'
import { stackSource } from '../../src/reconcile/stack-source.ts'
import type { FunctionStatus } from '../../src/core/types.ts'

interface Logged { level: 'info' | 'warn', obj: Record<string, unknown>, msg: string }

async function setup (t: Test, opts: { prune?: boolean, reconciler?: Partial<ReconcilerOptions> } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-stack-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const local = await localApp(t)
  const logs: Logged[] = []
  let clock = 1_000_000
  const reconciler = new Reconciler({
    backends: local.backends,
    sources: [stackSource({ path: dir, id: 'stack:test', prune: opts.prune ?? false, defaultNamespace: 'openfaas-fn' })],
    resyncMs: 60_000,
    logger: {
      info: (obj, msg) => { logs.push({ level: 'info', obj: obj as Record<string, unknown>, msg }) },
      warn: (obj, msg) => { logs.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }) }
    },
    now: () => clock,
    sleep: async (ms) => { clock += ms },
    ...opts.reconciler
  })
  const api = async (method: string, p: string, body?: unknown): Promise<{ status: number, text: string, json: () => unknown }> => {
    const res = await fetch(local.url + p, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
    const text = await res.text()
    return { status: res.status, text, json: () => JSON.parse(text) }
  }
  const list = async (ns = 'openfaas-fn'): Promise<FunctionStatus[]> => (await api('GET', `/system/functions?namespace=${ns}`)).json() as FunctionStatus[]
  const fn = async (name: string, ns = 'openfaas-fn'): Promise<FunctionStatus | undefined> => (await list(ns)).find((f) => f.name === name)
  const write = async (file: string, text: string): Promise<void> => { await writeFile(path.join(dir, file), text) }
  return { dir, local, reconciler, logs, api, list, fn, write, advance: (ms: number) => { clock += ms } }
}

const STACK = `
functions:
  echo:
    image: ghcr.io/acme/echo:1
    fprocess: cat
    environment: { GREETING: hello }
    labels: { team: core }
  upper:
    image: ghcr.io/acme/upper:1
    fprocess: tr a-z A-Z
    namespace: staging-fn
`

t.test('declared functions are deployed, marked as managed, and answer', async (t) => {
  const s = await setup(t)
  await s.write('stack.yml', STACK)
  await s.reconciler.pass()
  const echo = await s.fn('echo')
  t.equal(echo?.image, 'ghcr.io/acme/echo:1')
  t.same(echo?.envVars, { GREETING: 'hello' })
  t.equal(echo?.annotations?.[SOURCE_ANNOTATION], 'stack:test', '/system/functions shows who manages it')
  t.match(echo?.annotations?.[SPEC_HASH_ANNOTATION], /^[0-9a-f]{32}$/)
  t.equal((await s.fn('upper', 'staging-fn'))?.image, 'ghcr.io/acme/upper:1')
  const res = await fetch(`${s.local.url}/function/upper.staging-fn`, { method: 'POST', body: 'shout' })
  t.equal(await res.text(), 'SHOUT')
  t.same(s.reconciler.report()[0]?.functions.map((f) => `${f.namespace}/${f.name}:${f.state}`).sort(), ['openfaas-fn/echo:created', 'staging-fn/upper:created'])
  // a second pass has nothing to do
  await s.reconciler.pass()
  t.same(s.reconciler.report()[0]?.functions.map((f) => f.state), ['in-sync', 'in-sync'])
  t.equal(s.logs.filter((l) => l.msg.startsWith('reconcile: function created')).length, 2)
})

t.test('an edit of the file is applied; a change made through the API is put back and logged', async (t) => {
  const s = await setup(t)
  await s.write('stack.yml', STACK)
  await s.reconciler.pass()
  await s.write('stack.yml', STACK.replace('GREETING: hello', 'GREETING: bonjour'))
  await s.reconciler.pass()
  t.same((await s.fn('echo'))?.envVars, { GREETING: 'bonjour' }, 'the edit reached the backend')

  // someone redeploys it by hand, as faas-cli would (its own annotations, another image)
  const put = await s.api('PUT', '/system/functions', { service: 'echo', image: 'ghcr.io/acme/echo:hotfix', envProcess: 'cat', labels: { team: 'core' } })
  t.equal(put.status, 202)
  t.equal((await s.fn('echo'))?.image, 'ghcr.io/acme/echo:hotfix')
  t.equal((await s.fn('echo'))?.annotations?.[SOURCE_ANNOTATION], undefined, 'the hand deploy dropped the marker')
  await s.reconciler.pass()
  const echo = await s.fn('echo')
  t.equal(echo?.image, 'ghcr.io/acme/echo:1', 'put back to the declared image')
  t.same(echo?.envVars, { GREETING: 'bonjour' })
  t.equal(echo?.annotations?.[SOURCE_ANNOTATION], 'stack:test', 'and marked again')
  t.match(s.logs.findLast((l) => l.msg === 'reconcile: drift corrected' && l.obj.function === 'echo')?.obj.why, /drifted: spec-hash, image/)

  // a change that keeps the marker (the dashboard's edit sends the annotations back) is drift
  const cur = await s.fn('upper', 'staging-fn')
  const edit = await s.api('PUT', '/system/functions', {
    service: 'upper', namespace: 'staging-fn', image: 'ghcr.io/acme/upper:2', envProcess: 'tr a-z A-Z', annotations: cur?.annotations
  })
  t.equal(edit.status, 202)
  await s.reconciler.pass()
  t.equal((await s.fn('upper', 'staging-fn'))?.image, 'ghcr.io/acme/upper:1', 'drift corrected')
  const logged = s.logs.find((l) => l.msg === 'reconcile: drift corrected' && l.obj.function === 'upper')
  t.match(logged?.obj.why, /drifted: .*image/)
})

t.test('functions the reconciler did not create are never touched, prune or not', async (t) => {
  const s = await setup(t, { prune: true })
  t.equal((await s.api('POST', '/system/functions', { service: 'manual', image: 'x:1', envProcess: 'cat' })).status, 202)
  t.equal((await s.api('POST', '/system/functions', { service: 'echo', image: 'mine:1', envProcess: 'cat' })).status, 202)
  await s.write('stack.yml', STACK)
  await s.reconciler.pass()
  t.equal((await s.fn('manual'))?.image, 'x:1', 'an undeclared function of the API stays')
  t.equal((await s.fn('echo'))?.image, 'mine:1', 'a declared name that exists without the marker stays as it is')
  const echo = s.reconciler.report()[0]?.functions.find((f) => f.name === 'echo')
  t.equal(echo?.state, 'conflict')
  t.equal((await s.fn('upper', 'staging-fn'))?.image, 'ghcr.io/acme/upper:1', 'the others are applied')
})

t.test('removal from the source: kept without prune, removed with prune, never on a pass that could not read the source', async (t) => {
  t.test('prune off', async (t) => {
    const s = await setup(t)
    await s.write('stack.yml', STACK)
    await s.reconciler.pass()
    await s.write('stack.yml', STACK.replace(/\n {2}upper:[\s\S]*$/, '\n'))
    await s.reconciler.pass()
    t.ok(await s.fn('upper', 'staging-fn'), 'still there')
    const upper = s.reconciler.report()[0]?.functions.find((f) => f.name === 'upper')
    t.same(upper, { namespace: 'staging-fn', name: 'upper', state: 'orphaned', message: 'no longer declared; kept because prune is off' })
  })
  t.test('prune on', async (t) => {
    const s = await setup(t, { prune: true })
    await s.write('stack.yml', STACK)
    await s.write('other.yaml', 'functions:\n  extra:\n    image: x:1\n    fprocess: cat\n')
    await s.reconciler.pass()
    t.ok(await s.fn('extra'))
    // a broken file: its functions are unknown this pass, so nothing is pruned
    await s.write('other.yaml', 'functions: [oops')
    await s.write('stack.yml', STACK.replace(/\n {2}upper:[\s\S]*$/, '\n'))
    await s.reconciler.pass()
    t.ok(await s.fn('upper', 'staging-fn'), 'not pruned while other.yaml is unreadable')
    t.ok(await s.fn('extra'), 'not pruned while other.yaml is unreadable')
    t.match(s.reconciler.report()[0]?.problems[0]?.message, /other\.yaml: not valid YAML/)
    // the file is fixed but no longer declares extra: both go
    await s.write('other.yaml', 'functions: {}\n')
    await s.reconciler.pass()
    t.equal(await s.fn('upper', 'staging-fn'), undefined, 'pruned')
    t.equal(await s.fn('extra'), undefined, 'pruned')
    t.ok(await s.fn('echo'), 'the declared one stays')
  })
  t.test('a declared entry that is bad is not pruned', async (t) => {
    const s = await setup(t, { prune: true })
    await s.write('stack.yml', STACK)
    await s.reconciler.pass()
    await s.write('stack.yml', STACK.replace('image: ghcr.io/acme/upper:1', 'image: ""'))
    await s.reconciler.pass()
    t.equal((await s.fn('upper', 'staging-fn'))?.image, 'ghcr.io/acme/upper:1', 'kept as it was')
    t.match(s.reconciler.report()[0]?.problems.map((p) => p.message), [/functions\.upper\.image: required/])
  })
})

t.test('a bad entry is reported (log, report, /metrics) and does not block the others', async (t) => {
  const s = await setup(t)
  s.local.app.metrics.setReconcileSource(() => s.reconciler.report())
  await s.write('stack.yml', `
functions:
  good:
    image: ghcr.io/acme/good:1
    fprocess: cat
  broken:
    image: ghcr.io/acme/broken:1
    labels: { com.openfaas.scale.max: "-3" }
  elsewhere:
    image: ghcr.io/acme/x:1
    namespace: no-such-ns
`)
  await s.reconciler.pass()
  t.ok(await s.fn('good'))
  t.equal(await s.fn('broken'), undefined)
  const problems = s.reconciler.report()[0]?.problems.map((p) => p.message) ?? []
  t.match(problems, [/functions\.broken: .*com\.openfaas\.scale\.max/, /functions\.elsewhere: namespace "no-such-ns" is not served/])
  t.equal(s.logs.filter((l) => l.msg === 'reconcile: entry skipped').length, 2)
  const metrics = (await s.api('GET', '/metrics')).text
  t.match(metrics, /faas_bridge_reconcile_problems\{source="stack:test"\} 2/)
  t.match(metrics, /faas_bridge_reconcile_functions\{source="stack:test",state="created"\} 1/)
})

t.test('a failing function is retried with exponential backoff; the others go on', async (t) => {
  const s = await setup(t, { reconciler: { backoffBaseMs: 1000, backoffMaxMs: 4000 } })
  s.local.app.metrics.setReconcileSource(() => s.reconciler.report())
  await s.write('stack.yml', `
functions:
  needs-secret:
    image: x:1
    fprocess: cat
    secrets: [not-created-yet]
  fine:
    image: y:1
    fprocess: cat
`)
  const attempts = (): number => s.logs.filter((l) => l.msg === 'reconcile: action failed').length
  await s.reconciler.pass()
  t.ok(await s.fn('fine'), 'the other function is deployed')
  t.equal(attempts(), 1)
  const failed = s.reconciler.report()[0]?.functions.find((f) => f.name === 'needs-secret')
  t.equal(failed?.state, 'failed')
  t.match(failed?.message, /create failed: .*not-created-yet/)
  await s.reconciler.pass()
  t.equal(attempts(), 1, 'not retried before the backoff has passed')
  s.advance(1000)
  await s.reconciler.pass()
  t.equal(attempts(), 2, 'retried after 1 s')
  s.advance(1000)
  await s.reconciler.pass()
  t.equal(attempts(), 2, 'then waits 2 s')
  s.advance(1000)
  await s.reconciler.pass()
  t.equal(attempts(), 3)
  s.advance(4000)
  await s.reconciler.pass()
  t.equal(attempts(), 4, 'capped at 4 s')
  t.equal((await s.api('POST', '/system/secrets', { name: 'not-created-yet', value: 'v' })).status, 202)
  s.advance(4000)
  await s.reconciler.pass()
  t.ok(await s.fn('needs-secret'), 'deployed once its secret exists')
  t.match((await s.api('GET', '/metrics')).text, /faas_bridge_reconcile_functions\{source="stack:test",state="created"\} 1/)
})

t.test('writes are rate-bounded', async (t) => {
  const waits: number[] = []
  let clock = 0
  const s = await setup(t, { reconciler: { actionsPerSecond: 2, now: () => clock, sleep: async (ms) => { waits.push(ms); clock += ms } } })
  await s.write('stack.yml', 'functions:\n' + ['a', 'b', 'c', 'd', 'e'].map((n) => `  ${n}:\n    image: x:1\n    fprocess: cat\n`).join(''))
  await s.reconciler.pass()
  t.equal((await s.list()).length, 5)
  t.equal(waits.reduce((a, b) => a + b, 0), 1500, 'a burst of 2, then one write every 500 ms')
})

t.test('an unreadable source is a problem, not a crash, and prunes nothing', async (t) => {
  const s = await setup(t, { prune: true })
  await s.write('stack.yml', STACK)
  await s.reconciler.pass()
  await chmod(s.dir, 0o000)
  t.teardown(async () => { await chmod(s.dir, 0o700) })
  await s.reconciler.pass()
  if (process.getuid?.() === 0) {
    t.pass('root reads the directory anyway') // a mode check cannot fail for root
  } else {
    t.match(s.reconciler.report()[0]?.problems[0]?.message, /cannot read: EACCES/)
  }
  t.ok(await s.fn('echo'), 'nothing pruned')
})

t.test('only the leader reconciles', async (t) => {
  let leading = false
  const s = await setup(t, { reconciler: { isLeader: () => leading } })
  await s.write('stack.yml', STACK)
  await s.reconciler.pass()
  t.equal(await s.fn('echo'), undefined, 'a follower writes nothing')
  leading = true
  await s.reconciler.pass()
  t.ok(await s.fn('echo'), 'the leader does')
})
