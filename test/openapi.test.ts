/*
 * openapi/faas-provider.yaml against the real app. The document must be valid OpenAPI 3.1; every
 * response the app gives here must be documented for its path, method and status, with the right
 * media type, required headers and a body that validates against the response schema; every
 * query parameter sent must be documented; every request body that succeeded must validate
 * against the request schema; the security marks must match what is actually authenticated; and
 * every operation in the document must have been exercised, so the two cannot drift apart.
 */
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { parse } from 'yaml'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020 } from 'ajv/dist/2020.js'
import type { ValidateFunction } from 'ajv/dist/2020.js'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { memoryApp } from './helpers/app.ts'
import { MemoryDriver } from './helpers/memory-driver.ts'

// the document is untyped JSON; `any` keeps the walking code short
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any

const SPEC_FILE = new URL('../openapi/faas-provider.yaml', import.meta.url)
const SPEC_ID = 'https://faas-bridge.invalid/openapi.json'
const spec: Doc = parse(readFileSync(SPEC_FILE, 'utf8'))
const OPERATION_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

// ---------------------------------------------------------------- schema plumbing

const ajv = new Ajv2020({ strict: false, allErrors: true })
ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) })
// the whole document is one schema resource, so `#/components/...` refs resolve inside it
ajv.addSchema(spec, SPEC_ID)

const escapePointer = (part: string): string => part.replaceAll('~', '~0').replaceAll('/', '~1')
const pointer = (...parts: string[]): string => parts.map((p) => `/${escapePointer(p)}`).join('')

function at (ptr: string): Doc {
  let node: Doc = spec
  for (const raw of ptr.split('/').slice(1)) node = node?.[raw.replaceAll('~1', '/').replaceAll('~0', '~')]
  return node
}

/** Follows a local `$ref` (one level is all the document uses); returns the node and its pointer. */
function deref (node: Doc, ptr: string): { node: Doc, ptr: string } {
  if (node !== undefined && typeof node.$ref === 'string') {
    const target = (node.$ref as string).slice(1)
    return { node: at(target), ptr: target }
  }
  return { node, ptr }
}

const validators = new Map<string, ValidateFunction>()
function validatorAt (ptr: string): ValidateFunction {
  let v = validators.get(ptr)
  if (v === undefined) {
    const fragment = ptr.split('/').map(encodeURIComponent).join('/')
    v = ajv.compile({ $ref: `${SPEC_ID}#${fragment}` })
    validators.set(ptr, v)
  }
  return v
}

function validate (t: Test, ptr: string, value: unknown, what: string): void {
  const v = validatorAt(ptr)
  const ok = v(value)
  t.ok(ok, `${what} matches ${ptr}`, ok ? {} : { errors: v.errors, value })
}

// ---------------------------------------------------------------- route matching and coverage

const matchers = Object.keys(spec.paths).map((template) => {
  const source = template.split(/(\{[^}]+\})/).map((part) => {
    if (part === '{path}') return '(.*)' // the invoke sub-path: may be empty, may hold slashes
    if (/^\{.+\}$/.test(part)) return '([^/]+)'
    return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }).join('')
  return { template, re: new RegExp(`^${source}$`) }
})

/** "METHOD template" → statuses seen */
const seen = new Map<string, Set<number>>()

function templateOf (t: Test, path: string): string | undefined {
  const found = matchers.filter((m) => m.re.test(path)).map((m) => m.template)
  t.equal(found.length, 1, `${path} matches exactly one documented path`, { found })
  return found.length === 1 ? found[0] : undefined
}

function parametersOf (template: string, method: string): Doc[] {
  const item = spec.paths[template]
  return [...(item.parameters ?? []), ...(item[method]?.parameters ?? [])].map((p: Doc) => deref(p, '').node)
}

function isProtected (op: Doc): boolean {
  return (op.security ?? spec.security ?? []).some((req: Doc) => 'basicAuth' in req)
}

type Request = InjectOptions & { method: string, url: string }

/** Checks one response against the document. */
function conform (t: Test, req: Request, res: LightMyRequestResponse): void {
  const method = req.method.toLowerCase()
  const [path, query = ''] = req.url.split('?', 2) as [string, string?]
  const template = templateOf(t, path)
  if (template === undefined) return
  const op = spec.paths[template][method]
  if (!t.ok(op, `${req.method} ${template} is documented`)) return
  const where = `${req.method} ${template} → ${res.statusCode}`

  const queryParams = new Set(parametersOf(template, method).filter((p) => p.in === 'query').map((p) => p.name))
  for (const key of new URLSearchParams(query).keys()) {
    if (template.startsWith('/function/')) break // the function's own query
    t.ok(queryParams.has(key), `${req.method} ${template} documents query parameter "${key}"`)
  }

  const statusKey = String(res.statusCode)
  const key = op.responses[statusKey] !== undefined ? statusKey : 'default'
  if (!t.ok(op.responses[key], `${where} is documented`, { body: res.body })) return
  const opKey = `${req.method.toUpperCase()} ${template}`
  if (!seen.has(opKey)) seen.set(opKey, new Set())
  seen.get(opKey)?.add(res.statusCode)

  const { node: response, ptr: responsePtr } = deref(op.responses[key], pointer('paths', template, method, 'responses', key))

  for (const [name, h] of Object.entries<Doc>(response.headers ?? {})) {
    const { node: header, ptr: headerPtr } = deref(h, `${responsePtr}${pointer('headers', name)}`)
    const value = res.headers[name.toLowerCase()]
    if (header.required === true) t.not(value, undefined, `${where} has header ${name}`)
    if (value !== undefined && header.schema !== undefined) validate(t, `${headerPtr}/schema`, value, `${where} header ${name}`)
  }

  const contentType = res.headers['content-type']
  if (response.content === undefined) {
    t.equal(res.body, '', `${where} has no body`)
    return
  }
  if (!t.type(contentType, 'string', `${where} has a Content-Type`)) return
  const mediaType = String(contentType).split(';')[0]?.trim().toLowerCase() ?? ''
  const [type] = mediaType.split('/')
  const documented = Object.keys(response.content)
  const mediaKey = documented.find((k) => k === mediaType) ?? documented.find((k) => k === `${type}/*`) ?? documented.find((k) => k === '*/*')
  if (!t.ok(mediaKey, `${where}: ${mediaType} is documented`, { documented })) return
  if (method === 'head' || mediaKey === '*/*') return
  const schemaPtr = `${responsePtr}${pointer('content', mediaKey as string, 'schema')}`
  if (mediaType === 'application/json') {
    validate(t, schemaPtr, JSON.parse(res.body), `${where} body`)
  } else if (mediaType === 'application/x-ndjson') {
    if (res.body !== '') t.ok(res.body.endsWith('\n'), `${where}: every line ends with \\n`)
    for (const line of res.body.split('\n').filter((l) => l !== '')) validate(t, schemaPtr, JSON.parse(line), `${where} line`)
  } else {
    validate(t, schemaPtr, res.body, `${where} body`)
  }

  if (res.statusCode < 300 && op.requestBody !== undefined && typeof req.payload === 'object' && req.payload !== null) {
    const { node: body, ptr: bodyPtr } = deref(op.requestBody, pointer('paths', template, method, 'requestBody'))
    if (body.content?.['application/json'] !== undefined) {
      validate(t, `${bodyPtr}${pointer('content', 'application/json', 'schema')}`, req.payload, `${req.method} ${template} request body`)
    }
  }
}

/** Sends a request, checks the status when one is expected, and checks the response against the document. */
async function send (t: Test, app: FastifyInstance, req: Request, status?: number): Promise<LightMyRequestResponse> {
  const res = await app.inject(req as InjectOptions)
  if (status !== undefined) t.equal(res.statusCode, status, `${req.method} ${req.url} → ${status}`, { body: res.body })
  conform(t, req, res)
  return res
}

/** A driver without a secret store or a namespace store (for the 501s). */
function bareDriver (): MemoryDriver {
  const d = new MemoryDriver()
  Object.defineProperty(d, 'secrets', { value: undefined })
  Object.defineProperty(d, 'namespaces', { value: undefined })
  return d
}

const app = async (t: Test, overrides: Parameters<typeof memoryApp>[1] = {}): ReturnType<typeof memoryApp> =>
  await memoryApp(t, overrides, [{ name: 'bare', driver: bareDriver(), namespaces: ['bare-fn'] }])

const big = (): string => JSON.stringify({ service: 'f', image: 'i:1', envVars: { pad: 'x'.repeat(70 * 1024) } })
const json = { 'content-type': 'application/json' }

// ---------------------------------------------------------------- the tests

t.test('the document is valid OpenAPI 3.1', async (t) => {
  const validator = new Validator()
  const result = await validator.validate(spec)
  t.equal(validator.version, '3.1')
  t.ok(result.valid, 'valid against the OpenAPI 3.1 schema', { errors: result.errors })
  const ids = OPERATION_METHODS.flatMap((m) => Object.values<Doc>(spec.paths).map((item) => item[m]?.operationId)).filter((id) => id !== undefined)
  t.equal(new Set(ids).size, ids.length, 'operationIds are unique')
})

t.test('/system/functions and /system/function/{name}', async (t) => {
  const { app: a, driver } = await app(t)
  await send(t, a, { method: 'GET', url: '/system/functions' }, 200)
  const fn = {
    service: 'f',
    image: 'ghcr.io/openfaas/alpine:latest',
    envProcess: 'cat',
    envVars: { A: '1' },
    labels: { 'com.openfaas.scale.min': '2' },
    annotations: {},
    limits: { memory: '128Mi', cpu: '100m' },
    requests: null,
    readOnlyRootFilesystem: true
  }
  await send(t, a, { method: 'POST', url: '/system/functions', payload: fn }, 202)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: fn }, 409)
  await send(t, a, { method: 'POST', url: '/system/functions?namespace=staging-fn', payload: { service: 'g', image: 'i:1' } }, 202)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'Bad_Name', image: 'i:1' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { image: 'i:1' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'h', image: 'i:1', secrets: ['missing'] } }, 400)
  await send(t, a, { method: 'POST', url: '/system/functions?namespace=nowhere', payload: { service: 'h', image: 'i:1' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/functions', body: '{"service":', headers: json }, 400)
  await send(t, a, { method: 'POST', url: '/system/functions', body: big(), headers: json }, 413)
  driver.failNext('deploy', 'disk full')
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'h', image: 'i:1' } }, 500)

  await send(t, a, { method: 'PUT', url: '/system/functions', payload: { ...fn, image: 'i:2' } }, 202)
  await send(t, a, { method: 'PUT', url: '/system/functions', payload: { service: 'ghost', image: 'i:1' } }, 404)
  await send(t, a, { method: 'PUT', url: '/system/functions', payload: { service: 'f', image: '' } }, 400)
  await send(t, a, { method: 'PUT', url: '/system/functions', body: big(), headers: json }, 413)
  driver.failNext('update', 'api down')
  await send(t, a, { method: 'PUT', url: '/system/functions', payload: fn }, 500)

  const list = await send(t, a, { method: 'GET', url: '/system/functions' }, 200)
  t.equal(list.json().length, 1)
  await send(t, a, { method: 'GET', url: '/system/functions?namespace=staging-fn' }, 200)
  await send(t, a, { method: 'GET', url: '/system/functions?namespace=nowhere' }, 400)
  driver.failNext('list', 'api down')
  await send(t, a, { method: 'GET', url: '/system/functions' }, 500)

  await send(t, a, { method: 'GET', url: '/system/function/f' }, 200)
  await send(t, a, { method: 'GET', url: '/system/function/f?namespace=openfaas-fn&usage=false' }, 200)
  await send(t, a, { method: 'GET', url: '/system/function/g?namespace=staging-fn&usage=1' }, 200)
  await send(t, a, { method: 'GET', url: '/system/function/ghost' }, 404)
  await send(t, a, { method: 'GET', url: '/system/function/Not.A.Label' }, 404)
  await send(t, a, { method: 'GET', url: '/system/function/f?namespace=nowhere' }, 400)
  driver.failNext('status', 'api down')
  await send(t, a, { method: 'GET', url: '/system/function/f' }, 500)

  // the gateway's scale call: namespace in the query, no Content-Type
  await send(t, a, { method: 'POST', url: '/system/scale-function/f?namespace=openfaas-fn', body: '{"serviceName":"f","replicas":0}' }, 202)
  const scaled = await send(t, a, { method: 'GET', url: '/system/function/f' }, 200)
  t.match(scaled.json(), { replicas: 0, availableReplicas: 0 }, 'zero replicas are reported, not omitted')
  await send(t, a, { method: 'POST', url: '/system/scale-function/g', payload: { serviceName: 'g', replicas: 3, namespace: 'staging-fn' } }, 202)
  await send(t, a, { method: 'POST', url: '/system/scale-function/ghost', payload: { replicas: 1 } }, 404)
  await send(t, a, { method: 'POST', url: '/system/scale-function/f', payload: { replicas: -1 } }, 400)
  await send(t, a, { method: 'POST', url: '/system/scale-function/f', payload: { replicas: 1_000_000 } }, 400)
  await send(t, a, { method: 'POST', url: '/system/scale-function/f', body: big(), headers: json }, 413)
  driver.failNext('scale', 'api down')
  await send(t, a, { method: 'POST', url: '/system/scale-function/f', payload: { replicas: 1 } }, 500)

  // faas-cli's delete: namespace in the body only
  await send(t, a, { method: 'DELETE', url: '/system/functions', payload: { functionName: 'g', namespace: 'staging-fn' } }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/functions?namespace=staging-fn', payload: { functionName: 'g' } }, 404)
  await send(t, a, { method: 'DELETE', url: '/system/functions', payload: {} }, 400)
  await send(t, a, { method: 'DELETE', url: '/system/functions', body: big(), headers: json }, 413)
  driver.failNext('remove', 'api down')
  await send(t, a, { method: 'DELETE', url: '/system/functions', payload: { functionName: 'f' } }, 500)
  await send(t, a, { method: 'DELETE', url: '/system/functions', payload: { functionName: 'f' } }, 202)
})

t.test('/system/secrets', async (t) => {
  const { app: a, driver } = await app(t)
  await send(t, a, { method: 'GET', url: '/system/secrets' }, 200)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's1', value: 'v' } }, 202)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's1', value: 'v' } }, 409)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's2', namespace: 'staging-fn', value: 'x', rawValue: Buffer.from([0, 1, 2]).toString('base64') } }, 202)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 'Bad_Name', value: 'v' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's3', rawValue: 'not base64!' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/secrets', body: JSON.stringify({ name: 's3', value: 'x'.repeat(70 * 1024) }), headers: json }, 413)
  driver.failNext('secrets.create', 'api down')
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's3', value: 'v' } }, 500)

  const list = await send(t, a, { method: 'GET', url: '/system/secrets' }, 200)
  t.same(list.json(), [{ name: 's1', namespace: 'openfaas-fn' }])
  await send(t, a, { method: 'GET', url: '/system/secrets?namespace=staging-fn' }, 200)
  await send(t, a, { method: 'GET', url: '/system/secrets?namespace=nowhere' }, 400)
  driver.failNext('secrets.list', 'api down')
  await send(t, a, { method: 'GET', url: '/system/secrets' }, 500)

  // a deploy may mount an existing secret
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'uses-secret', image: 'i:1', secrets: ['s1'] } }, 202)

  await send(t, a, { method: 'PUT', url: '/system/secrets', payload: { name: 's1', value: 'v2' } }, 202)
  await send(t, a, { method: 'PUT', url: '/system/secrets', payload: { name: 'ghost', value: 'v2' } }, 404)
  await send(t, a, { method: 'PUT', url: '/system/secrets', payload: { value: 'v2' } }, 400)
  await send(t, a, { method: 'PUT', url: '/system/secrets', body: JSON.stringify({ name: 's1', value: 'x'.repeat(70 * 1024) }), headers: json }, 413)
  driver.failNext('secrets.update', 'api down')
  await send(t, a, { method: 'PUT', url: '/system/secrets', payload: { name: 's1', value: 'v3' } }, 500)

  await send(t, a, { method: 'DELETE', url: '/system/secrets', payload: { name: 's1' } }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/secrets', payload: { name: 's1' } }, 404)
  await send(t, a, { method: 'DELETE', url: '/system/secrets', payload: {} }, 400)
  await send(t, a, { method: 'DELETE', url: '/system/secrets', body: JSON.stringify({ name: 's1', pad: 'x'.repeat(70 * 1024) }), headers: json }, 413)
  driver.failNext('secrets.remove', 'api down')
  await send(t, a, { method: 'DELETE', url: '/system/secrets', payload: { name: 's2', namespace: 'staging-fn' } }, 500)

  // a backend without a secret store
  await send(t, a, { method: 'GET', url: '/system/secrets?namespace=bare-fn' }, 501)
  await send(t, a, { method: 'POST', url: '/system/secrets', payload: { name: 's', namespace: 'bare-fn', value: 'v' } }, 501)
  await send(t, a, { method: 'PUT', url: '/system/secrets?namespace=bare-fn', payload: { name: 's', value: 'v' } }, 501)
  await send(t, a, { method: 'DELETE', url: '/system/secrets', payload: { name: 's', namespace: 'bare-fn' } }, 501)
})

t.test('/system/logs', async (t) => {
  const { app: a, driver } = await app(t)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'f', image: 'i:1' } }, 202)
  const line = (instance: string, timestamp: string, text: string): void => {
    driver.logLines.push({ name: 'f', namespace: 'openfaas-fn', instance, timestamp, text })
  }
  line('f-1', '2026-01-02T10:11:12.123456789Z', 'Forking fprocess.\n')
  line('f-2', '2026-01-02T10:11:13Z', 'second')
  line('f-1', '2026-01-02T10:11:14.5+02:00', 'third')
  const all = await send(t, a, { method: 'GET', url: '/system/logs?name=f' }, 200)
  t.equal(all.body.split('\n').filter((l) => l !== '').length, 3)
  const some = await send(t, a, { method: 'GET', url: '/system/logs?name=f&namespace=openfaas-fn&instance=f-1&tail=1&follow=false&since=2026-01-01T00:00:00Z' }, 200)
  t.equal(some.body.split('\n').filter((l) => l !== '').length, 1)
  await send(t, a, { method: 'GET', url: '/system/logs?name=f&tail=-1' }, 200)
  await send(t, a, { method: 'GET', url: '/system/logs?name=ghost' }, 404)
  await send(t, a, { method: 'GET', url: '/system/logs' }, 422)
  await send(t, a, { method: 'GET', url: '/system/logs?name=f&tail=ten' }, 422)
  await send(t, a, { method: 'GET', url: '/system/logs?name=f&since=yesterday' }, 422)
  await send(t, a, { method: 'GET', url: '/system/logs?name=f&namespace=nowhere' }, 400)
  driver.failNext('logs', 'api down')
  await send(t, a, { method: 'GET', url: '/system/logs?name=f' }, 500)
})

t.test('/system/namespaces and /system/namespace/{name}', async (t) => {
  const { app: a } = await app(t)
  await send(t, a, { method: 'GET', url: '/system/namespaces' }, 200)
  // go-sdk's create: POST /system/namespace/ with an empty name
  const team = { name: 'team-a', labels: { openfaas: '1' }, annotations: { openfaas: '1' } }
  await send(t, a, { method: 'POST', url: '/system/namespace/', payload: team }, 201)
  await send(t, a, { method: 'POST', url: '/system/namespace/', payload: team }, 409)
  await send(t, a, { method: 'POST', url: '/system/namespace/', payload: { name: 'Team_B' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/namespace/', payload: { labels: {} } }, 400)
  await send(t, a, { method: 'POST', url: '/system/namespace/', body: JSON.stringify({ name: 'x', labels: { pad: 'x'.repeat(70 * 1024) } }), headers: json }, 413)
  await send(t, a, { method: 'POST', url: '/system/namespace/team-b', payload: { name: 'team-b', labels: null } }, 201)
  await send(t, a, { method: 'POST', url: '/system/namespace/team-b', payload: { name: 'team-b' } }, 409)
  await send(t, a, { method: 'POST', url: '/system/namespace/team-c', payload: { name: 'other' } }, 400)
  await send(t, a, { method: 'POST', url: '/system/namespace/team-c', body: JSON.stringify({ name: 'team-c', labels: { pad: 'x'.repeat(70 * 1024) } }), headers: json }, 413)

  await send(t, a, { method: 'GET', url: '/system/namespace/team-a' }, 200)
  await send(t, a, { method: 'GET', url: '/system/namespace/staging-fn' }, 200)
  await send(t, a, { method: 'GET', url: '/system/namespace/ghost' }, 404)

  await send(t, a, { method: 'PUT', url: '/system/namespace/team-a', payload: { ...team, labels: { openfaas: '1', tier: 'gold' } } }, 202)
  await send(t, a, { method: 'PUT', url: '/system/namespace/team-a', payload: { name: 'team-b' } }, 400)
  await send(t, a, { method: 'PUT', url: '/system/namespace/ghost', payload: { name: 'ghost' } }, 404)
  await send(t, a, { method: 'PUT', url: '/system/namespace/bare-fn', payload: { name: 'bare-fn' } }, 501)
  await send(t, a, { method: 'PUT', url: '/system/namespace/team-a', body: JSON.stringify({ name: 'team-a', labels: { pad: 'x'.repeat(70 * 1024) } }), headers: json }, 413)

  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'f', image: 'i:1', namespace: 'team-a' } }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/team-a', payload: team }, 400)
  await send(t, a, { method: 'DELETE', url: '/system/functions', payload: { functionName: 'f', namespace: 'team-a' } }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/team-a', payload: team }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/team-b' }, 202)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/team-a' }, 404)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/openfaas-fn' }, 400)
  await send(t, a, { method: 'DELETE', url: '/system/namespace/bare-fn' }, 501)
})

t.test('/system/info, /healthz, /metrics', async (t) => {
  const { app: a } = await app(t, { info: { release: '1.2.3', sha: 'abc123' } })
  const info = await send(t, a, { method: 'GET', url: '/system/info' }, 200)
  t.same(info.json().version, { sha: 'abc123', release: '1.2.3' })
  const backends = await send(t, a, { method: 'GET', url: '/system/backends' }, 200)
  t.same(backends.json(), [
    { name: 'mem', kind: 'memory', namespaces: ['openfaas-fn', 'staging-fn'] },
    { name: 'bare', kind: 'memory', namespaces: ['bare-fn'] }
  ])
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'charted', image: 'i:1' } }, 202)
  a.history.observeInvocation('openfaas-fn', 'charted', 200, 0.01)
  a.history.decision('openfaas-fn', 'charted', { action: 'up', from: 1, to: 2, reason: 'rps 20 > 10 per replica', ok: true })
  a.metrics.observeBackendCall({ backend: 'mem', operation: 'status', outcome: 'ok' }, 0.001)
  const h = await send(t, a, { method: 'GET', url: '/system/history/charted' }, 200)
  t.equal(h.json().decisions.length, 1)
  await send(t, a, { method: 'GET', url: '/system/history/charted?window=1h&namespace=openfaas-fn' }, 200)
  await send(t, a, { method: 'GET', url: '/system/history/charted?window=1d' }, 400)
  await send(t, a, { method: 'GET', url: '/system/history/nothing-here' }, 404)
  const summary = await send(t, a, { method: 'GET', url: '/system/history' }, 200)
  t.equal(summary.json().functions[0].name, 'charted')
  await send(t, a, { method: 'GET', url: '/system/history?namespace=staging-fn' }, 200)
  await send(t, a, { method: 'GET', url: '/system/history?namespace=nowhere' }, 400)
  const load = await send(t, a, { method: 'GET', url: '/system/replica-load' }, 200)
  t.same(load.json(), { identity: 'single', leading: true, functions: [] }, 'no autoscaler: nothing counted')
  await send(t, a, { method: 'GET', url: '/healthz' }, 200)
  await send(t, a, { method: 'HEAD', url: '/healthz' }, 200)
  const metrics = await send(t, a, { method: 'GET', url: '/metrics' }, 200)
  t.match(metrics.body, /provider_http_requests_total/)
})

t.test('/function/{name} and /function/{name}/{path}', async (t) => {
  const upstream = http.createServer((req, res) => {
    const url = req.url ?? '/'
    if (url.startsWith('/slow')) {
      setTimeout(() => { if (!res.destroyed) res.end('late') }, 1500)
      return
    }
    const status = /^\/status\/(\d{3})/.exec(url)
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      if (status !== null) {
        res.writeHead(Number(status[1]), { 'content-type': 'text/plain' })
        res.end(`function says ${status[1]}`)
        return
      }
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { allow: 'GET, POST' })
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ method: req.method, url, body: Buffer.concat(chunks).toString() }))
    })
  })
  await new Promise<void>((resolve) => { upstream.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => {
    upstream.closeAllConnections()
    upstream.close()
  })
  const { port } = upstream.address() as AddressInfo
  const { app: a, driver } = await app(t, { readTimeoutMs: 400 })
  driver.upstreamUrl = new URL(`http://127.0.0.1:${port}`)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'echo', image: 'i:1' } }, 202)

  for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'] as const) {
    const withBody = ['POST', 'PUT', 'PATCH'].includes(method) ? { body: 'hello', headers: { 'content-type': 'text/plain' } } : {}
    const expected = method === 'OPTIONS' ? 204 : 200
    const plain = await send(t, a, { method, url: '/function/echo', ...withBody }, expected)
    t.equal(plain.headers['x-openfaas-internal'], undefined, `${method}: the function's response is not marked as the proxy's`)
    const sub = await send(t, a, { method, url: '/function/echo.openfaas-fn/sub/path?q=1', ...withBody }, expected)
    if (method === 'GET') t.same(sub.json(), { method: 'GET', url: '/sub/path?q=1', body: '' }, 'prefix stripped, query kept')
    if (method === 'POST') t.equal(sub.json().body, 'hello', 'the body reaches the function')
  }
  await send(t, a, { method: 'GET', url: '/function/echo/' }, 200)
  // the function's own statuses pass through
  const own404 = await send(t, a, { method: 'GET', url: '/function/echo/status/404' }, 404)
  t.equal(own404.body, 'function says 404')
  await send(t, a, { method: 'POST', url: '/function/echo/status/201', body: 'x' }, 201)

  // the proxy's own errors carry X-OpenFaaS-Internal: proxy
  const proxyError = async (req: Request, status: number, body: string): Promise<void> => {
    const res = await send(t, a, req, status)
    t.equal(res.headers['x-openfaas-internal'], 'proxy', `${req.method} ${req.url}: X-OpenFaaS-Internal`)
    t.equal(res.body, body)
  }
  await proxyError({ method: 'GET', url: '/function/ghost' }, 503, 'No endpoints available for: ghost.')
  await proxyError({ method: 'POST', url: '/function/echo.nowhere/x', body: 'x' }, 503, 'No endpoints available for: echo.nowhere.')
  await proxyError({ method: 'GET', url: '/function/echo/slow' }, 504, 'Timed out waiting for: echo.')
  const closed = http.createServer()
  await new Promise<void>((resolve) => { closed.listen(0, '127.0.0.1', resolve) })
  const closedPort = (closed.address() as AddressInfo).port
  await new Promise<void>((resolve) => { closed.close(() => { resolve() }) })
  driver.upstreamUrl = new URL(`http://127.0.0.1:${closedPort}`)
  await proxyError({ method: 'GET', url: '/function/echo' }, 500, "Can't reach service for: echo.")
  await proxyError({ method: 'PUT', url: '/function/echo/a/b', body: 'x' }, 500, "Can't reach service for: echo.")
  // scaled to zero: no endpoints
  await send(t, a, { method: 'POST', url: '/system/scale-function/echo', payload: { replicas: 0 } }, 202)
  driver.upstreamUrl = new URL(`http://127.0.0.1:${port}`)
  await proxyError({ method: 'GET', url: '/function/echo' }, 503, 'No endpoints available for: echo.')
})

t.test('basicAuth is on exactly the operations that are authenticated', async (t) => {
  const user = 'admin'
  const password = 's3cret'
  const { app: a } = await app(t, { credentials: { user, password } })
  const sample: Record<string, Record<string, unknown>> = {
    FunctionDeployment: { service: 'f', image: 'i:1' },
    DeleteFunctionRequest: { functionName: 'f' },
    ScaleServiceRequest: { replicas: 1 },
    Secret: { name: 's' },
    FunctionNamespace: { name: 'f' }
  }
  for (const [template, item] of Object.entries<Doc>(spec.paths)) {
    for (const method of OPERATION_METHODS) {
      const op = item[method]
      if (op === undefined) continue
      let url = template.replace('{name}', 'f').replace('{path}', 'p')
      if (template === '/system/logs') url += '?name=f'
      const body = deref(op.requestBody, '').node
      const ref = body?.content?.['application/json']?.schema?.$ref as string | undefined
      const payload = ref !== undefined ? sample[ref.split('/').pop() as string] : undefined
      const req: Request = { method: method.toUpperCase(), url, ...(payload !== undefined ? { payload } : {}) }
      const res = await send(t, a, req)
      if (isProtected(op)) {
        t.equal(res.statusCode, 401, `${req.method} ${template} without credentials → 401`)
        const wrong = await send(t, a, { ...req, headers: { authorization: `Basic ${Buffer.from(`${user}:nope`).toString('base64')}` } })
        t.equal(wrong.statusCode, 401, `${req.method} ${template} with a wrong password → 401`)
      } else {
        t.not(res.statusCode, 401, `${req.method} ${template} is not authenticated`)
      }
    }
  }
  const ok = await send(t, a, { method: 'GET', url: '/system/functions', headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } })
  t.equal(ok.statusCode, 200, 'the right credentials pass')
})

t.test('every documented GET also answers HEAD, like GET and without a body', async (t) => {
  const { app: a } = await app(t)
  await send(t, a, { method: 'POST', url: '/system/functions', payload: { service: 'f', image: 'i:1' } }, 202)
  for (const [template, item] of Object.entries<Doc>(spec.paths)) {
    if (item.get === undefined || template.startsWith('/function/')) continue
    let url = template.replace('{name}', template.startsWith('/system/namespace/') ? 'openfaas-fn' : 'f')
    if (template === '/system/logs') url += '?name=f'
    const get = await a.inject({ method: 'GET', url })
    const head = await a.inject({ method: 'HEAD', url })
    t.equal(head.statusCode, get.statusCode, `HEAD ${template}: same status as GET`)
    t.equal(head.headers['content-type'], get.headers['content-type'], `HEAD ${template}: same Content-Type as GET`)
    t.equal(head.body, '', `HEAD ${template}: no body`)
  }
})

t.test('every documented operation was exercised', async (t) => {
  for (const [template, item] of Object.entries<Doc>(spec.paths)) {
    for (const method of OPERATION_METHODS) {
      if (item[method] === undefined) continue
      const key = `${method.toUpperCase()} ${template}`
      t.ok(seen.has(key), `${key} was exercised`)
      const documented = Object.keys(item[method].responses).filter((s) => s !== 'default')
      const untested = documented.filter((s) => !(seen.get(key)?.has(Number(s)) ?? false))
      // the invoke operations share one response set, produced across them
      if (untested.length > 0 && !template.startsWith('/function/')) t.comment(`${key}: documented but not produced here: ${untested.join(', ')}`)
    }
  }
})
