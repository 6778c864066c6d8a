/*
 * The Autoscaler loop on a fake clock over in-memory drivers: it acts only through status/scale
 * (and park), logs every action, scales only backends in "scale" mode (report-only backends are
 * listed and measured, never scaled), shares one wake between concurrent requests, and forgets
 * functions that are gone.
 */
import t from 'tap'
import { Autoscaler, defaultMode, type FunctionReport } from '../../src/autoscale/autoscaler.ts'
import { Backends } from '../../src/core/backends.ts'
import { FAKE_CLOCK_TIMING } from '../helpers/fake-clock-autoscale.ts'
import { MemoryDriver } from '../helpers/memory-driver.ts'

function setup (over: { park?: boolean } = {}) {
  const scaled = new MemoryDriver()
  const reported = new MemoryDriver()
  scaled.upstreamUrl = new URL('http://127.0.0.1:1')
  const parks: string[] = []
  if (over.park === true) {
    Object.assign(scaled, {
      park: async (ns: string, name: string) => { parks.push(`${ns}/${name}`); await scaled.scale(ns, name, 0) }
    })
  }
  const backends = new Backends([
    { backend: { name: 'here', driver: scaled }, namespaces: ['openfaas-fn'] },
    { backend: { name: 'cloud', driver: reported }, namespaces: ['cloud'] }
  ], 'openfaas-fn')
  let now = 0
  const lines: Array<{ obj: Record<string, unknown>, msg: string | undefined }> = []
  const decisions: string[] = []
  const reasons: string[] = []
  const samples: FunctionReport[] = []
  const forgotten: string[] = []
  const scaler = new Autoscaler({
    backends,
    ...FAKE_CLOCK_TIMING,
    zeroDurationMs: 10_000,
    logger: {
      info: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg }) },
      warn: (obj, msg) => { lines.push({ obj: obj as Record<string, unknown>, msg }) }
    },
    now: () => now,
    listener: {
      decision: (d) => {
        decisions.push(`${d.function}:${d.action}:${d.from}->${d.to}:${d.ok ? 'ok' : 'failed'}`)
        reasons.push(d.reason)
      },
      sampled: (r) => { samples.push(r) },
      forgotten: (namespace, name) => { forgotten.push(`${namespace}/${name}`) }
    }
  })
  const advance = async (ms: number): Promise<void> => {
    now += ms
    await scaler.tick()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { scaled, reported, scaler, lines, decisions, reasons, samples, forgotten, parks, advance, backends }
}

t.test('default modes: local and kubernetes are scaled, the rest only reported', async (t) => {
  t.equal(defaultMode('local'), 'scale')
  t.equal(defaultMode('kubernetes'), 'scale')
  for (const kind of ['lambda', 'cloudrun', 'openfaas', 'some-plugin']) t.equal(defaultMode(kind), 'report', kind)
})

t.test('load drives the CE rule through driver.scale; each action is logged; report-only backends are never scaled', async (t) => {
  const s = setup()
  const labels = { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '6', 'com.openfaas.scale.factor': '50' }
  await s.scaled.deploy({ service: 'api', namespace: 'openfaas-fn', image: 'x', labels })
  await s.reported.deploy({ service: 'api', namespace: 'cloud', image: 'x', labels })
  await s.advance(0)
  const here = s.scaler.load.counter('openfaas-fn', 'api')
  const cloud = s.scaler.load.counter('cloud', 'api')
  if (here === undefined || cloud === undefined) throw new Error('counters expected')
  for (let i = 0; i < 6; i++) {
    here.completed += 20; here.ok += 20
    cloud.completed += 20; cloud.ok += 20
    await s.advance(1000)
  }
  t.equal((await s.scaled.status('openfaas-fn', 'api')).replicas, 4, 'stepped up by 3 (50% of 6) after the up window')
  t.equal((await s.reported.status('cloud', 'api')).replicas, 1, 'report-only backend untouched')
  t.notOk(s.reported.calls.includes('scale'))
  const report = s.scaler.report()
  t.match(report.find((r) => r.backend === 'cloud'), { function: 'api', namespace: 'cloud', desiredReplicas: undefined }, 'reported, not managed')
  t.ok((report.find((r) => r.backend === 'cloud')?.rps ?? 0) > 5, 'its load is measured')
  t.match(report.find((r) => r.backend === 'here'), { desiredReplicas: 4, replicas: 4 })
  t.match(s.lines.find((l) => l.msg?.startsWith('autoscale: scaled up')), { obj: { function: 'api', namespace: 'openfaas-fn', backend: 'here', from: 1, to: 4, action: 'up' } })
  t.same(s.decisions, ['api:up:1->4:ok'])
  t.match(s.reasons[0], /\S/, 'the decision names the rule that fired')
  // idle: back to min after the rate window and the down window
  for (let i = 0; i < 10; i++) await s.advance(1000)
  t.equal((await s.scaled.status('openfaas-fn', 'api')).replicas, 1)
  t.match(s.decisions[s.decisions.length - 1], /^api:down:[46]->1:ok$/, 'one step down to min (the rate window may have stepped it up once more first)')
})

t.test('a failed scale is logged and counted, and retried on a later tick', async (t) => {
  const s = setup()
  await s.scaled.deploy({ service: 'f', namespace: 'openfaas-fn', image: 'x', labels: { 'com.openfaas.scale.min': '2', 'com.openfaas.scale.max': '3' } })
  await s.scaled.scale('openfaas-fn', 'f', 5)
  s.scaled.failNext('scale', 'boom')
  await s.advance(0)
  t.same(s.decisions, ['f:down:5->3:failed'])
  t.ok(s.lines.some((l) => l.msg === 'autoscale: scaling failed'))
  await s.advance(1000)
  t.equal((await s.scaled.status('openfaas-fn', 'f')).replicas, 3)
})

t.test('idle → park (the driver capability); concurrent wakes share one scale call', async (t) => {
  const s = setup({ park: true })
  await s.scaled.deploy({ service: 'z', namespace: 'openfaas-fn', image: 'x', labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.min': '2' } })
  await s.advance(0)
  await s.advance(5000)
  t.same(s.parks, [], 'not idle long enough')
  await s.advance(5000)
  t.same(s.parks, ['openfaas-fn/z'], 'parked after 10 s idle (provider-wide default)')
  t.equal((await s.scaled.status('openfaas-fn', 'z')).replicas, 0)
  const scalesBefore = s.scaled.calls.filter((c) => c === 'scale').length
  const backend = s.backends.resolve('openfaas-fn').backend
  const woken = await Promise.all(Array.from({ length: 5 }, async () => await s.scaler.wake(backend, 'openfaas-fn', 'z')))
  t.same(woken, [true, true, true, true, true])
  t.equal(s.scaled.calls.filter((c) => c === 'scale').length - scalesBefore, 1, 'one scale call for five held requests')
  t.equal((await s.scaled.status('openfaas-fn', 'z')).replicas, 2, 'woken to min')
  t.ok(s.lines.some((l) => l.msg === 'autoscale: woke a sleeping function for a request'))
})

t.test('wake refuses functions that are not sleepers, and report-only backends', async (t) => {
  const s = setup()
  await s.scaled.deploy({ service: 'plain', namespace: 'openfaas-fn', image: 'x' })
  await s.scaled.scale('openfaas-fn', 'plain', 0)
  await s.reported.deploy({ service: 'z', namespace: 'cloud', image: 'x', labels: { 'com.openfaas.scale.zero': 'true' } })
  await s.reported.scale('cloud', 'z', 0)
  t.equal(await s.scaler.wake(s.backends.resolve('openfaas-fn').backend, 'openfaas-fn', 'plain'), false)
  t.equal(await s.scaler.wake(s.backends.resolve('cloud').backend, 'cloud', 'z'), false)
  t.equal((await s.scaled.status('openfaas-fn', 'plain')).replicas, 0, 'left at 0 (the gateway scales it)')
})

t.test('a removed function is forgotten (its counters too)', async (t) => {
  const s = setup()
  await s.scaled.deploy({ service: 'gone', namespace: 'openfaas-fn', image: 'x' })
  await s.advance(0)
  t.ok(s.scaler.load.counter('openfaas-fn', 'gone'))
  await s.scaled.remove('openfaas-fn', 'gone')
  await s.advance(1000)
  t.equal(s.scaler.load.counter('openfaas-fn', 'gone'), undefined)
  t.same(s.scaler.report().filter((r) => r.function === 'gone'), [])
  t.same(s.forgotten, ['openfaas-fn/gone'], 'listeners hear that it is gone')
  t.ok(s.samples.some((r) => r.function === 'gone' && r.namespace === 'openfaas-fn'), 'it was sampled while it existed')
  await s.scaler.stop()
})
