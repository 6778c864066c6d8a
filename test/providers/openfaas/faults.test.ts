/*
 * Backend faults against the openfaas backend: a scripted remote (fake-remote.ts) with wire-level
 * faults (latency, 5xx, 429 with Retry-After, reset, truncated body, never answering) under the
 * fault contract (test/driver-contract/faults.ts), through the front's HTTP API; plus Retry-After
 * and writes that must not be repeated.
 */
import t, { type Test } from 'tap'
import { runFaultSuite } from '../../driver-contract/faults.ts'
import { fakeRemote, type FakeRemote } from './fake-remote.ts'
import { api, frontFor, type Front } from './helpers.ts'

/*
 * 3 s: room on a loaded machine for the reads that must get through two transient faults (at
 * 400 ms and a load of 20 on 2 cores they were 504s)
 */
const REQUEST_TIMEOUT_MS = 3000

const status = (name: string): string => JSON.stringify({
  name, namespace: 'openfaas-fn', image: 'example/fn:1', replicas: 1, availableReplicas: 1, invocationCount: 0, labels: {}, annotations: {}
})

/** a remote that knows one function, "steady", and accepts deploys of new ones */
async function remote (t: Test, over: Record<string, unknown> = {}): Promise<{ fake: FakeRemote, front: Front }> {
  const fake = await fakeRemote(t)
  const deployed = new Set(['steady'])
  fake.routes.set('GET /system/functions', () => ({ status: 200, body: `[${[...deployed].map(status).join(',')}]`, contentType: 'application/json' }))
  fake.routes.set('POST /system/functions', (req) => {
    deployed.add((JSON.parse(req.body) as { service: string }).service)
    fake.routes.set(`GET /system/function/${(JSON.parse(req.body) as { service: string }).service}`, { status: 200, body: status('x'), contentType: 'application/json' })
    return { status: 202 }
  })
  fake.routes.set('GET /system/function/steady', { status: 200, body: status('steady'), contentType: 'application/json' })
  const front = await frontFor(t, fake.url, { auth: { type: 'none' }, requestTimeoutMs: REQUEST_TIMEOUT_MS, ...over })
  return { fake, front }
}

await runFaultSuite(t, {
  name: 'openfaas',
  requestTimeoutMs: REQUEST_TIMEOUT_MS,
  match: { status: 'GET /system/function/steady', list: 'GET /system/functions', deploy: 'POST /system/functions' },
  setup: async (t) => {
    const { fake, front } = await remote(t)
    return {
      url: front.url,
      namespace: 'edge',
      existing: 'steady',
      deployBody: (name) => ({ service: name, image: 'example/fn:1' }),
      inject: (f) => { fake.faults.add(f) },
      clear: () => { fake.faults.clear() }
    }
  }
})

t.test('Retry-After is honoured when it fits, answered at once when it does not', async (t) => {
  const { fake, front } = await remote(t, { requestTimeoutMs: 1000 })
  fake.faults.add({ kind: 'throttle', match: 'GET /system/function/steady', retryAfterSeconds: 0.3 })
  const started = Date.now()
  const ok = await api(front.url, 'GET', '/system/function/steady?namespace=edge')
  const took = Date.now() - started
  t.equal(ok.status, 200, 'the read succeeds after the throttle')
  t.ok(took >= 280, `after waiting the Retry-After (${took} ms)`)
  fake.faults.add({ kind: 'throttle', match: 'GET /system/function/steady', retryAfterSeconds: 30 })
  const t0 = Date.now()
  const no = await api(front.url, 'GET', '/system/function/steady?namespace=edge')
  t.equal(no.status, 429, 'a Retry-After beyond the timeout is a 429')
  t.match(no.text, /retry after 30000 ms/, 'saying so')
  t.ok(Date.now() - t0 < 500, 'at once')
})

t.test('writes: retried on 429 only; a 5xx, reset or cut-off write is sent once and not reported done', async (t) => {
  const { fake, front } = await remote(t)
  const posts = (): number => fake.requests.filter((r) => r.method === 'POST').length
  fake.faults.add({ kind: 'throttle', match: 'POST /system/functions', times: 2 })
  t.equal((await api(front.url, 'POST', '/system/functions', { service: 'a', image: 'i', namespace: 'edge' })).status, 202, 'deployed after two 429s')
  for (const [kind, want] of [['status', 500], ['reset', 502], ['truncate', 502]] as const) {
    const before = posts()
    fake.faults.add({ kind, match: 'POST /system/functions', message: 'remote broke' })
    const r = await api(front.url, 'POST', '/system/functions', { service: `b-${kind}`, image: 'i', namespace: 'edge' })
    t.equal(r.status, want, `${kind} → ${want}`)
    t.equal(posts() - before, 1, `${kind}: sent once`)
  }
})
