/*
 * Property-based input fuzzing (fast-check) of every route the app registers: generated bodies
 * (valid ones mutated: wrong types, huge values, unicode, deep nesting, duplicated keys, garbage),
 * query strings (duplicated keys, arrays, traversal), path segments (`../`, `a/b`, `%2e%2e`,
 * unicode, empty, huge) and headers. Invariants:
 *   - never a 5xx the contract does not define (invocations may answer 502/503/504; nothing else);
 *   - never a crash or an unhandled rejection;
 *   - a rejected request (4xx/5xx) changes no state (functions, secrets, namespaces);
 *   - every 4xx carries a message (except HEAD, and the invoke proxy's bare 405, which faas-provider
 *     also sends empty).
 * Runs against the real app over the memory driver (fast: most cases) and over the local backend
 * (real files; envProcess forced to `cat`). FUZZ_RUNS sets the memory run's count (default 300;
 * `npm run fuzz` runs 10,000); the local run gets a fifth of it. FUZZ_SEED replays a run.
 */
import { existsSync } from 'node:fs'
import t, { type Test } from 'tap'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import { memoryApp } from '../helpers/app.ts'
import { localApp } from '../helpers/local-app.ts'
import type { Driver } from '../../src/core/driver.ts'
import { registeredRoutes } from './routes.ts'

const RUNS = Number(process.env.FUZZ_RUNS ?? '300')
/** on a fresh clone the dashboard is not built yet, and /ui/ answers its documented 503 */
const UI_BUILT = existsSync(new URL('../../dist/ui/index.html', import.meta.url))
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined
const NAMESPACES = ['openfaas-fn', 'staging-fn']
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const

// ---------------------------------------------------------------- generators

const hostile = fc.constantFrom(
  '', ' ', '.', '..', '../x', '../../etc/passwd', 'a/b', '%2e%2e', '%2e%2e%2fx', '..%2f', '%2F', 'a%00b', '\u0000', 'é', '名前',
  '😀', 'UPPER', '-lead', 'trail-', 'a'.repeat(64), 'a'.repeat(300), 'x.openfaas-fn', 'x.nowhere', 'x.', '.x', 'x..y', 'con', 'null',
  '__proto__', 'constructor', '{}', '[]', '%', '%zz', '?', '#', ';', ' echo', 'echo\n', 'openfaas-fn', 'staging-fn', 'team-a'
)
const name = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('echo', 'word-count', 'web', 'a', 'f1') },
  { weight: 3, arbitrary: hostile },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9][-a-z0-9]{0,70}$/) }
)
/** a path segment as sent on the wire: sometimes percent-encoded, sometimes raw (slashes and all) */
const segment = fc.oneof(
  name.map((s) => encodeURIComponent(s)),
  fc.constantFrom('..', '../x', 'a/b', '%2e%2e', '%2e%2e/%2e%2e', '.%2e', 'a%2Fb', '%c0%ae%c0%ae', '%', '%zz', '', '//', 'x?y=1', '%3F')
)

/** any JSON value, nesting bounded */
const jsonValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true }), fc.string({ maxLength: 30 }),
    fc.constantFrom(-1, 0, 1.5, 2 ** 53, -(2 ** 31), 1e308, '', 'x'.repeat(5000)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 10 }), tie('value'), { maxKeys: 4 }))
})).value

const labelsLike = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), { maxKeys: 5 }),
  fc.constant({ 'com.openfaas.scale.min': 'two' }), fc.constant({ 'com.openfaas.scale.min': '3' }), jsonValue
)

const validBodies = {
  deploy: fc.record({
    service: name,
    image: fc.oneof(fc.constant('ghcr.io/acme/fn:1'), fc.string({ maxLength: 40 }), jsonValue),
    namespace: fc.oneof(fc.constantFrom(...NAMESPACES, '', 'nowhere'), name),
    envProcess: fc.oneof(fc.constant('cat'), fc.string({ maxLength: 40 })),
    envVars: labelsLike,
    labels: labelsLike,
    annotations: labelsLike,
    secrets: fc.oneof(fc.array(name, { maxLength: 3 }), jsonValue),
    constraints: fc.oneof(fc.array(fc.string(), { maxLength: 2 }), jsonValue),
    limits: fc.oneof(fc.record({ memory: fc.string(), cpu: fc.string() }), jsonValue),
    readOnlyRootFilesystem: fc.oneof(fc.boolean(), jsonValue)
  }, { requiredKeys: [] }),
  remove: fc.record({ functionName: name, namespace: fc.oneof(fc.constantFrom(...NAMESPACES), name) }, { requiredKeys: [] }),
  scale: fc.record({
    serviceName: name,
    replicas: fc.oneof(fc.integer({ min: -5, max: 200 }), fc.constantFrom(1e9, 2 ** 53, 1.5, -0), jsonValue),
    namespace: fc.oneof(fc.constantFrom(...NAMESPACES), name)
  }, { requiredKeys: [] }),
  secret: fc.record({
    name,
    namespace: fc.oneof(fc.constantFrom(...NAMESPACES), name),
    value: fc.oneof(fc.string({ maxLength: 50 }), fc.constant('x'.repeat(100_000)), jsonValue),
    rawValue: fc.oneof(fc.base64String({ maxLength: 40 }), fc.string({ maxLength: 20 }), jsonValue)
  }, { requiredKeys: [] }),
  namespace: fc.record({ name, labels: labelsLike, annotations: labelsLike }, { requiredKeys: [] })
}

/** raw body text: valid-ish objects, mutated JSON, garbage, duplicated keys, deep nesting, huge */
const body: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 6, arbitrary: fc.oneof(...Object.values(validBodies)).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: jsonValue.map((v) => JSON.stringify(v) ?? 'null') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom(
    '{"service":"dup","service":"dup2","image":"x","envProcess":"cat"}',
    '{"name":"s1","name":"s2","value":"v"}',
    '{"replicas":1,"replicas":-1}',
    '{"__proto__":{"polluted":true},"service":"proto","image":"x","envProcess":"cat"}',
    '{"constructor":{"prototype":{"polluted":true}},"name":"c"}',
    '['.repeat(5000) + ']'.repeat(5000),
    '{"a":'.repeat(3000) + '1' + '}'.repeat(3000),
    '{"service":"x","image":"x"',
    '\u0000\u0001\u0002', '\ufeff{"service":"bom","image":"x"}', 'null', 'true', '"str"', '123', '{}', '[]', ''
  ) },
  { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 1_300_000 }).map((n) => JSON.stringify({ service: 'big', image: 'x', envVars: { BIG: 'x'.repeat(n) } })) }
)

const queryValue = fc.oneof(name, hostile, fc.constantFrom('true', '1', '-1', '2026-01-02T03:04:05Z', 'yesterday', '10', '99999999999999999999'))
const query: fc.Arbitrary<string> = fc.array(
  fc.tuple(fc.constantFrom('namespace', 'name', 'tail', 'follow', 'since', 'instance', 'namespace[]', 'a[b][c]', 'x', ''), queryValue),
  { maxLength: 5 }
).map((pairs) => pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'))

const headerName = fc.constantFrom('content-type', 'accept', 'x-forwarded-for', 'x-forwarded-host', 'authorization', 'x-call-id',
  'transfer-encoding', 'connection', 'upgrade', 'x-custom', 'accept-encoding', 'content-encoding', 'expect')
const headerValue = fc.oneof(
  fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x',
    'application/json; charset=utf-16', '*/*', '', 'Basic Og==', 'Basic !!!', 'gzip', 'deflate', 'websocket', 'close', '100-continue', 'chunked'),
  fc.stringMatching(/^[\x20-\x7e]{0,80}$/)
)
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 4 })

interface Case { method: string, url: string, body: string | undefined, headers: Record<string, string> }

const goodName = fc.constantFrom('echo', 'word-count', 'web', 'a', 'f1')
/** bodies the route accepts (so state does change), sometimes with one key replaced by anything */
const goodBodies: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  '/system/functions': fc.oneof(
    fc.record({ service: goodName, image: fc.constant('ghcr.io/acme/fn:1'), envProcess: fc.constant('cat'), namespace: fc.constantFrom(...NAMESPACES), labels: fc.constant({ 'com.openfaas.scale.min': '1' }), secrets: fc.constantFrom([], ['s1']) }, { requiredKeys: ['service', 'image', 'envProcess'] }),
    fc.record({ functionName: goodName, namespace: fc.constantFrom(...NAMESPACES) }, { requiredKeys: ['functionName'] })),
  '/system/secrets': fc.record({ name: fc.constantFrom('s1', 's2', 'a.b'), value: fc.string({ maxLength: 20 }), namespace: fc.constantFrom(...NAMESPACES) }, { requiredKeys: ['name'] }),
  '/system/scale-function/:name': fc.record({ replicas: fc.integer({ min: 0, max: 3 }), serviceName: goodName }, { requiredKeys: ['replicas'] }),
  '/system/namespace/:name': fc.record({ name: fc.constantFrom('team-a', 'team-b'), labels: fc.constant({ openfaas: '1' }) }, { requiredKeys: ['name'] })
}
const mutated = (good: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<string> => fc.tuple(good, fc.nat(), fc.oneof(jsonValue, hostile), fc.boolean())
  .map(([b, i, v, mutate]) => {
    const keys = Object.keys(b)
    if (mutate && keys.length > 0) b[keys[i % keys.length] as string] = v
    return JSON.stringify(b)
  })

function caseFor (routes: string[]): fc.Arbitrary<Case> {
  // the routes that change state are picked more often, and mostly with a method that writes
  const route = fc.oneof(...routes.map((r) => ({ weight: goodBodies[r] !== undefined ? 4 : 1, arbitrary: fc.constant(r) })))
  return route.chain((route) => fc.record({
    method: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...METHODS) },
      { weight: goodBodies[route] !== undefined ? 6 : 0, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE') },
      { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'QUERY') }),
    seg: fc.oneof(goodName, segment),
    rest: fc.array(segment, { maxLength: 3 }),
    query,
    body: goodBodies[route] !== undefined ? fc.oneof(mutated(goodBodies[route]), body) : body,
    headers
  }).map(({ method, seg, rest, query, body, headers }) => ({
    method,
    url: route.replace(/:[A-Za-z]+/, seg).replace(/\*$/, rest.join('/')) + query,
    body,
    headers
  })))
}

// ---------------------------------------------------------------- the property

interface Tally { total: number, byStatus: Map<number, number> }

async function fuzz (t: Test, app: FastifyInstance, snapshot: () => Promise<string>, runs: number, label: string, sanitize?: (c: Case) => Case): Promise<Tally> {
  const routes = registeredRoutes(app).map((r) => r.url)
  t.ok(routes.length >= 10, `${label}: ${routes.length} routes found`)
  const tally: Tally = { total: 0, byStatus: new Map() }
  const problems: string[] = []
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUnhandled)
  try {
    await fc.assert(fc.asyncProperty(caseFor(routes), async (raw) => {
      const c = sanitize !== undefined ? sanitize(raw) : raw
      const before = await snapshot()
      const res = await app.inject({
        method: c.method as 'GET',
        url: c.url,
        headers: c.headers,
        ...(c.body !== undefined ? { payload: c.body } : {})
      })
      tally.total++
      tally.byStatus.set(res.statusCode, (tally.byStatus.get(res.statusCode) ?? 0) + 1)
      const what = `${c.method} ${c.url.slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 200)}`
      const isInvoke = c.url.startsWith('/function/')
      const uiNotBuilt = !UI_BUILT && c.url.startsWith('/ui') && res.statusCode === 503
      if (res.statusCode >= 500 && !(isInvoke && [502, 503, 504].includes(res.statusCode)) && !uiNotBuilt) {
        problems.push(`a 5xx the contract does not define: ${what}`)
        return false
      }
      if (res.statusCode >= 400) {
        const after = await snapshot()
        if (after !== before) { problems.push(`a rejected request changed state: ${what}`); return false }
        const bare405 = isInvoke && res.statusCode === 405
        if (c.method !== 'HEAD' && !bare405 && res.body.trim() === '') { problems.push(`a ${res.statusCode} without a message: ${what}`); return false }
      }
      if (unhandled.length > 0) { problems.push(`unhandled: ${String(unhandled[0])} after ${what}`); return false }
      return true
    }), { numRuns: runs, ...(SEED !== undefined ? { seed: SEED } : {}), endOnFailure: true, interruptAfterTimeLimit: 600_000 })
  } catch (err) {
    t.fail(`${label}: ${problems.at(-1) ?? (err as Error).message.slice(0, 2000)}`)
  } finally {
    process.off('unhandledRejection', onUnhandled)
    process.off('uncaughtException', onUnhandled)
  }
  const statuses = [...tally.byStatus.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')
  t.comment(`${label}: ${tally.total} cases; statuses ${statuses}`)
  t.same(unhandled, [], `${label}: no unhandled rejection or exception`)
  return tally
}

async function driverSnapshot (driver: Driver, namespaces: () => Promise<unknown>): Promise<string> {
  const parts: unknown[] = [await namespaces()]
  for (const ns of NAMESPACES) {
    parts.push((await driver.list(ns)).map((f) => [f.name, f.image, f.replicas, f.envVars, f.labels, f.secrets]))
    parts.push(await driver.secrets?.list(ns))
  }
  return JSON.stringify(parts)
}

t.test('memory driver: every route, generated input', async (t) => {
  const { app, driver, backends } = await memoryApp(t, { systemBodyLimit: 1024 * 1024 })
  await app.ready()
  const snapshot = async (): Promise<string> =>
    await driverSnapshot(driver, async () => backends.namespaces()) + JSON.stringify([...driver.secretValues.entries()].map(([k, v]) => [k, v.toString('base64')])) +
    JSON.stringify([...driver.createdNamespaces.entries()])
  const tally = await fuzz(t, app, snapshot, RUNS, 'memory driver')
  t.equal(tally.total, RUNS)
})

t.test('local backend: every route, generated input (envProcess forced to cat)', async (t) => {
  const { app, driver } = await localApp(t)
  const runs = Math.max(50, Math.floor(RUNS / 5))
  // a fuzzed deploy must never run a generated command: every body's envProcess becomes `cat`,
  // and mode=http (a long-running server) is dropped
  const sanitize = (c: Case): Case => {
    if (c.body === undefined) return c
    let parsed: unknown
    try { parsed = JSON.parse(c.body) } catch { return c }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return c
    const o = parsed as Record<string, unknown>
    if ('envProcess' in o || 'service' in o) o.envProcess = 'cat'
    if (typeof o.envVars === 'object' && o.envVars !== null) delete (o.envVars as Record<string, unknown>).mode
    return { ...c, body: JSON.stringify(o) }
  }
  const tally = await fuzz(t, app, async () => await driverSnapshot(driver, async () => await driver.namespaces?.list()), runs, 'local backend', sanitize)
  t.equal(tally.total, runs)
})
