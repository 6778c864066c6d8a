/*
 * The fake Lambda REST API (restJson1): the function CRUD, concurrency, tags and both invoke
 * paths the backend uses, with Lambda's status codes, x-amzn-errortype errors, Marker/NextMarker
 * pagination, State Pending → Active and LastUpdateStatus InProgress → Successful after a delay,
 * X-Amz-Function-Error / X-Amz-Log-Result on Invoke, and event-stream framing on
 * InvokeWithResponseStream. "Functions" are JS handlers keyed by the image's ECR repository.
 * Versions (PublishVersion snapshots $LATEST, or returns the last version when nothing changed),
 * aliases, invoking a qualifier (alias or version: its snapshot's image and environment run), and
 * provisioned concurrency per alias (IN_PROGRESS for provisionMs, then READY, or FAILED when the
 * function's provisionFailure is set), with Lambda's errors for unpublished versions, missing
 * aliases and configurations, and a request above the reserved concurrency.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { eventMessage } from './event-stream.ts'
import {
  ACCOUNT, readBody, restError, sendJson, type FakeFunction, type FakeProvisioned, type FakeState, type HandlerContext, type StreamReply
} from './state.ts'

const NAME = /^[a-zA-Z0-9_-]{1,64}$/
const ALIAS_NAME = /^(?!^[0-9]+$)([a-zA-Z0-9-_]+)$/
const ROLE = /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/.+$/
const MAX_PAYLOAD = 6 * 1024 * 1024
const HTTP_INTEGRATION = 'application/vnd.awslambda.http-integration-response'

interface Route {
  op: string
  fn?: string
  arn?: string
  alias?: string
}

/** method + path → operation */
export function lambdaRoute (method: string, path: string): Route | undefined {
  const seg = path.split('/').filter((s) => s !== '')
  const [version, kind, rawName, sub, rawAlias] = seg
  const name = rawName !== undefined ? decodeURIComponent(rawName) : undefined
  if (version === '2015-03-31' && kind === 'functions' && name !== undefined && sub === 'versions') {
    return method === 'POST' ? { op: 'PublishVersion', fn: name } : method === 'GET' ? { op: 'ListVersionsByFunction', fn: name } : undefined
  }
  if (version === '2015-03-31' && kind === 'functions' && name !== undefined && sub === 'aliases') {
    if (rawAlias === undefined) return method === 'POST' ? { op: 'CreateAlias', fn: name } : method === 'GET' ? { op: 'ListAliases', fn: name } : undefined
    const alias = decodeURIComponent(rawAlias)
    const op = method === 'GET' ? 'GetAlias' : method === 'PUT' ? 'UpdateAlias' : method === 'DELETE' ? 'DeleteAlias' : undefined
    return op === undefined ? undefined : { op, fn: name, alias }
  }
  if (version === '2019-09-30' && kind === 'functions' && name !== undefined && sub === 'provisioned-concurrency') {
    const op = method === 'PUT' ? 'PutProvisionedConcurrencyConfig' : method === 'GET' ? 'GetProvisionedConcurrencyConfig'
      : method === 'DELETE' ? 'DeleteProvisionedConcurrencyConfig' : undefined
    return op === undefined ? undefined : { op, fn: name }
  }
  if (version === '2015-03-31' && kind === 'functions') {
    if (name === undefined) return method === 'POST' ? { op: 'CreateFunction' } : method === 'GET' ? { op: 'ListFunctions' } : undefined
    if (sub === undefined) return { op: method === 'GET' ? 'GetFunction' : method === 'DELETE' ? 'DeleteFunction' : '?', fn: name }
    if (sub === 'configuration') return { op: method === 'GET' ? 'GetFunctionConfiguration' : 'UpdateFunctionConfiguration', fn: name }
    if (sub === 'code' && method === 'PUT') return { op: 'UpdateFunctionCode', fn: name }
    if (sub === 'invocations' && method === 'POST') return { op: 'Invoke', fn: name }
  }
  if (version === '2021-11-15' && kind === 'functions' && sub === 'response-streaming-invocations') return { op: 'InvokeWithResponseStream', fn: name }
  if ((version === '2017-10-31' || version === '2019-09-30') && kind === 'functions' && sub === 'concurrency') {
    return { op: method === 'PUT' ? 'PutFunctionConcurrency' : method === 'DELETE' ? 'DeleteFunctionConcurrency' : 'GetFunctionConcurrency', fn: name }
  }
  if (version === '2017-03-31' && kind === 'tags' && name !== undefined) {
    return { op: method === 'GET' ? 'ListTags' : method === 'POST' ? 'TagResource' : 'UntagResource', arn: name }
  }
  return undefined
}

function nameOf (ref: string): string {
  const m = /:function:([^:]+)/.exec(ref)
  return m !== null ? m[1] as string : ref
}

function state (fn: FakeFunction): { State: string, LastUpdateStatus: string } {
  const now = Date.now()
  return {
    State: now < fn.pendingUntil ? 'Pending' : 'Active',
    LastUpdateStatus: now < fn.pendingUntil || now < fn.updatingUntil ? 'InProgress' : 'Successful'
  }
}

function aliasConfiguration (fn: FakeFunction, name: string): Record<string, unknown> {
  const a = fn.aliases.get(name)
  return { AliasArn: `${fn.arn}:${name}`, Name: name, FunctionVersion: a?.version, Description: a?.description ?? '', RevisionId: a?.revisionId }
}

/** Status of a provisioned concurrency configuration now (IN_PROGRESS → READY / FAILED) */
function provisionedView (fn: FakeFunction, p: FakeProvisioned): Record<string, unknown> {
  const now = Date.now()
  if (now >= p.readyAt && fn.provisionFailure === undefined) p.available = p.requested
  const status = now < p.readyAt ? 'IN_PROGRESS' : fn.provisionFailure !== undefined ? 'FAILED' : 'READY'
  return {
    RequestedProvisionedConcurrentExecutions: p.requested,
    AvailableProvisionedConcurrentExecutions: p.available,
    AllocatedProvisionedConcurrentExecutions: status === 'READY' ? p.requested : p.available,
    Status: status,
    ...(status === 'FAILED' ? { StatusReason: fn.provisionFailure } : {}),
    LastModified: p.lastModified
  }
}

function configuration (fn: FakeFunction): Record<string, unknown> {
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Role: fn.role,
    PackageType: 'Image',
    MemorySize: fn.memorySize,
    Timeout: fn.timeout,
    Architectures: fn.architectures,
    Description: fn.description,
    LastModified: fn.lastModified,
    Version: '$LATEST',
    CodeSize: 0,
    ...(Object.keys(fn.env).length > 0 ? { Environment: { Variables: fn.env } } : {}),
    ...state(fn)
  }
}

function repository (imageUri: string): string {
  const path = imageUri.slice(imageUri.indexOf('/') + 1)
  return path.replace(/@.*$/, '').replace(/:[^/]*$/, '')
}

function logGroup (fn: FakeFunction): string {
  return `/aws/lambda/${fn.name}`
}

function newLogStream (): string {
  const d = new Date()
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/[$LATEST]${randomBytes(16).toString('hex')}`
}

function lastModified (): string {
  return new Date().toISOString().replace('Z', '+0000')
}

export function createLambdaApi (s: FakeState): (req: IncomingMessage, res: ServerResponse, route: Route) => Promise<void> {
  const region = s.settings.region
  const notFound = (res: ServerResponse, name: string): void => {
    restError(res, 404, 'ResourceNotFoundException', `Function not found: arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`)
  }
  const invalid = (res: ServerResponse, message: string): void => { restError(res, 400, 'InvalidParameterValueException', message) }
  const inProgress = (res: ServerResponse, fn: FakeFunction): void => {
    restError(res, 409, 'ResourceConflictException', `The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`)
  }

  function context (fn: FakeFunction, lines: string[]): HandlerContext {
    return {
      functionName: fn.name,
      env: { ...fn.env },
      log (line: string) {
        lines.push(line)
        s.appendLog(logGroup(fn), fn.logStream, `${line}\n`)
      }
    }
  }

  function checkCreate (body: Record<string, unknown>): string | undefined {
    if (typeof body.FunctionName !== 'string' || !NAME.test(body.FunctionName)) {
      return `1 validation error detected: Value '${String(body.FunctionName)}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and length <= 64`
    }
    if (typeof body.Role !== 'string' || !ROLE.test(body.Role)) return 'The role defined for the function cannot be assumed by Lambda.'
    if (body.PackageType !== 'Image' || typeof (body.Code as { ImageUri?: unknown } | undefined)?.ImageUri !== 'string') {
      return 'Please provide ImageUri when PackageType is Image.'
    }
    return checkConfig(body) ?? checkTags((body.Tags ?? {}) as Record<string, string>, 0)
  }

  function checkConfig (body: Record<string, unknown>): string | undefined {
    const mem = body.MemorySize
    if (mem !== undefined && (typeof mem !== 'number' || mem < 128 || mem > 10240)) {
      return `1 validation error detected: Value '${String(mem)}' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240`
    }
    const t = body.Timeout
    if (t !== undefined && (typeof t !== 'number' || t < 1 || t > 900)) return `1 validation error detected: Value '${String(t)}' at 'timeout' failed to satisfy constraint`
    const vars = (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {}
    for (const k of Object.keys(vars)) {
      if (k.startsWith('AWS_') || k === '_HANDLER' || k === 'LAMBDA_TASK_ROOT') {
        return `Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: ${k}`
      }
    }
    return undefined
  }

  function checkTags (tags: Record<string, string>, existing: number): string | undefined {
    if (Object.keys(tags).length + existing > 50) return 'Number of tags exceeds resource tag limit.'
    for (const k of Object.keys(tags)) if (k.startsWith('aws:')) return 'Tag keys cannot start with aws:'
    return undefined
  }

  /** The function as a qualifier (alias, version or $LATEST) runs it: its snapshot's image and environment. */
  function qualified (fn: FakeFunction, qualifier: string | null): { fn: FakeFunction, version: string } | undefined {
    if (qualifier === null || qualifier === '$LATEST') return { fn, version: '$LATEST' }
    const version = fn.aliases.get(qualifier)?.version ?? qualifier
    const v = fn.versions.find((x) => x.version === version)
    if (v === undefined) return undefined
    return { fn: { ...fn, imageUri: v.imageUri, env: v.env, memorySize: v.memorySize, timeout: v.timeout }, version }
  }

  async function invoke (req: IncomingMessage, res: ServerResponse, latest: FakeFunction, streaming: boolean): Promise<void> {
    const payload = await readBody(req)
    const qualifier = new URL(req.url as string, 'http://fake').searchParams.get('Qualifier')
    const target = qualified(latest, qualifier)
    if (target === undefined) return notFound(res, `${latest.name}:${qualifier ?? ''}`)
    const fn = target.fn
    if (payload.length > MAX_PAYLOAD) {
      restError(res, 413, 'RequestTooLargeException', `Request must be smaller than ${MAX_PAYLOAD} bytes for the InvokeFunction operation`)
      return
    }
    if (fn.reserved === 0) {
      restError(res, 429, 'TooManyRequestsException', 'Rate Exceeded.', { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' })
      return
    }
    if (state(fn).State !== 'Active') {
      restError(res, 409, 'ResourceConflictException', 'The operation cannot be performed at this time. The function is currently in the following state: Pending')
      return
    }
    let event: unknown
    try {
      event = JSON.parse(payload.toString('utf8'))
    } catch {
      restError(res, 400, 'InvalidRequestContentException', 'Could not parse request body into json')
      return
    }
    s.invocations.push({ functionName: fn.name, event, ...(qualifier !== null ? { qualifier } : {}), version: target.version })
    const requestId = crypto.randomUUID()
    const lines: string[] = []
    const ctx = context(fn, lines)
    s.appendLog(logGroup(fn), fn.logStream, `START RequestId: ${requestId} Version: $LATEST\n`)
    const end = (): void => {
      s.appendLog(logGroup(fn), fn.logStream, `END RequestId: ${requestId}\n`)
      s.appendLog(logGroup(fn), fn.logStream, `REPORT RequestId: ${requestId}\tDuration: 1.00 ms\tBilled Duration: 1 ms\tMemory Size: ${fn.memorySize} MB\n`)
    }
    const repo = repository(fn.imageUri)
    if (streaming) {
      await invokeStreaming(res, fn, repo, event, ctx, end)
      return
    }
    const headers: Record<string, string> = { 'X-Amz-Executed-Version': target.version }
    let out: Buffer
    const handler = s.handlers.get(repo)
    const stream = s.streamHandlers.get(repo)
    try {
      if (handler !== undefined) {
        const result = await handler(event, ctx)
        out = Buffer.from(result === undefined ? 'null' : JSON.stringify(result))
      } else if (stream !== undefined) {
        const reply = await stream(event, ctx)
        const parts: Buffer[] = []
        for await (const c of reply.chunks) parts.push(Buffer.from(c))
        out = Buffer.concat(parts)
      } else {
        throw Object.assign(new Error(`no handler registered for image repository "${repo}"`), { name: 'Runtime.InvalidEntrypoint' })
      }
    } catch (err) {
      const e = err as Error
      ctx.log(`ERROR\tInvoke Error\t${e.message}`)
      out = Buffer.from(JSON.stringify({ errorType: e.name, errorMessage: e.message, trace: [] }))
      headers['X-Amz-Function-Error'] = 'Unhandled'
    }
    end()
    if (req.headers['x-amz-log-type'] === 'Tail') {
      headers['X-Amz-Log-Result'] = Buffer.from(lines.join('\n')).subarray(-4096).toString('base64')
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': out.length, ...headers })
    res.end(out)
  }

  async function invokeStreaming (res: ServerResponse, fn: FakeFunction, repo: string, event: unknown, ctx: HandlerContext, end: () => void): Promise<void> {
    const stream = s.streamHandlers.get(repo)
    const handler = s.handlers.get(repo)
    let reply: StreamReply
    try {
      if (stream !== undefined) reply = await stream(event, ctx)
      else if (handler !== undefined) reply = { contentType: 'application/json', chunks: [JSON.stringify(await handler(event, ctx) ?? null)] }
      else throw Object.assign(new Error(`no handler registered for image repository "${repo}"`), { name: 'Runtime.InvalidEntrypoint' })
    } catch (err) {
      reply = { chunks: [] }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-amz-executed-version': '$LATEST' })
      res.write(eventMessage('InvokeComplete', Buffer.from(JSON.stringify({ ErrorCode: (err as Error).name, ErrorDetails: (err as Error).message })), 'application/json'))
      end()
      res.end()
      return
    }
    const contentType = reply.http !== undefined ? HTTP_INTEGRATION : reply.contentType ?? 'application/octet-stream'
    res.writeHead(200, { 'content-type': contentType, 'x-amz-executed-version': '$LATEST' })
    const chunk = (b: Buffer): void => { res.write(eventMessage('PayloadChunk', b, 'application/octet-stream')) }
    if (reply.http !== undefined) {
      chunk(Buffer.concat([Buffer.from(JSON.stringify(reply.http)), Buffer.alloc(8)]))
    }
    let complete: Record<string, string> = {}
    try {
      for await (const c of reply.chunks) {
        if (res.destroyed) break
        chunk(Buffer.from(c))
      }
    } catch (err) {
      complete = { ErrorCode: (err as Error).name, ErrorDetails: (err as Error).message }
    }
    end()
    if (!res.destroyed) {
      res.write(eventMessage('InvokeComplete', Buffer.from(JSON.stringify(complete)), 'application/json'))
      res.end()
    }
  }

  return async function handle (req, res, route): Promise<void> {
    const method = req.method as string
    const url = new URL(req.url as string, 'http://fake')
    if (route.op === 'CreateFunction') {
      const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>
      const problem = checkCreate(body)
      if (problem !== undefined) return invalid(res, problem)
      const name = body.FunctionName as string
      if (s.functions.has(name)) {
        return restError(res, 409, 'ResourceConflictException', `Function already exist: ${name}`)
      }
      const now = Date.now()
      const fn: FakeFunction = {
        name,
        arn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`,
        role: body.Role as string,
        imageUri: (body.Code as { ImageUri: string }).ImageUri,
        memorySize: (body.MemorySize as number | undefined) ?? 128,
        timeout: (body.Timeout as number | undefined) ?? 3,
        architectures: (body.Architectures as string[] | undefined) ?? ['x86_64'],
        env: { ...((body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {}) },
        description: (body.Description as string | undefined) ?? '',
        tags: { ...((body.Tags ?? {}) as Record<string, string>) },
        reserved: undefined,
        lastModified: lastModified(),
        pendingUntil: now + s.settings.pendingMs,
        updatingUntil: 0,
        logStream: newLogStream(),
        versions: [],
        aliases: new Map(),
        provisioned: new Map()
      }
      s.functions.set(name, fn)
      return sendJson(res, 201, configuration(fn))
    }
    if (route.op === 'ListFunctions') {
      const max = Math.min(Number(url.searchParams.get('MaxItems') ?? 50), s.settings.listPageSize)
      const all = [...s.functions.values()].sort((a, b) => a.name.localeCompare(b.name))
      const marker = url.searchParams.get('Marker')
      const start = marker === null ? 0 : Number(Buffer.from(marker, 'base64').toString('utf8'))
      const page = all.slice(start, start + max)
      const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined
      return sendJson(res, 200, { Functions: page.map(configuration), ...(next !== undefined ? { NextMarker: next } : {}) })
    }
    if (route.arn !== undefined) {
      const fn = s.functions.get(nameOf(route.arn))
      if (fn === undefined || fn.arn !== route.arn) return notFound(res, nameOf(route.arn))
      if (route.op === 'ListTags') return sendJson(res, 200, { Tags: fn.tags })
      if (route.op === 'TagResource') {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { Tags?: Record<string, string> }
        const tags = body.Tags ?? {}
        const added = Object.keys(tags).filter((k) => !(k in fn.tags)).length
        const problem = checkTags(tags, Object.keys(fn.tags).length - Object.keys(tags).length + added)
        if (problem !== undefined) return invalid(res, problem)
        Object.assign(fn.tags, tags)
        return sendJson(res, 204, null)
      }
      for (const k of url.searchParams.getAll('tagKeys')) Reflect.deleteProperty(fn.tags, k)
      return sendJson(res, 204, null)
    }
    const name = nameOf(route.fn as string)
    const fn = s.functions.get(name)
    if (fn === undefined) return notFound(res, name)
    switch (route.op) {
      case 'GetFunction':
        return sendJson(res, 200, {
          Configuration: configuration(fn),
          Code: { RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: `${fn.imageUri.replace(/[:@].*$/, '')}@sha256:${'0'.repeat(64)}` },
          Tags: fn.tags,
          ...(fn.reserved !== undefined ? { Concurrency: { ReservedConcurrentExecutions: fn.reserved } } : {})
        })
      case 'GetFunctionConfiguration':
        return sendJson(res, 200, configuration(fn))
      case 'DeleteFunction':
        s.functions.delete(name)
        return sendJson(res, 204, null)
      case 'UpdateFunctionCode':
      case 'UpdateFunctionConfiguration': {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as Record<string, unknown>
        if (state(fn).LastUpdateStatus === 'InProgress') return inProgress(res, fn)
        if (route.op === 'UpdateFunctionCode') {
          if (typeof body.ImageUri !== 'string') return invalid(res, 'Please provide ImageUri when updating a function with packageType Image.')
          fn.imageUri = body.ImageUri
          if (Array.isArray(body.Architectures)) fn.architectures = body.Architectures as string[]
          fn.logStream = newLogStream()
        } else {
          const problem = checkConfig(body)
          if (problem !== undefined) return invalid(res, problem)
          if (typeof body.Role === 'string') fn.role = body.Role
          if (typeof body.MemorySize === 'number') fn.memorySize = body.MemorySize
          if (typeof body.Timeout === 'number') fn.timeout = body.Timeout
          const env = (body.Environment as { Variables?: Record<string, string> } | undefined)?.Variables
          if (env !== undefined) fn.env = { ...env }
        }
        fn.lastModified = lastModified()
        fn.updatingUntil = Date.now() + s.settings.updateMs
        return sendJson(res, 200, configuration(fn))
      }
      case 'PutFunctionConcurrency': {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { ReservedConcurrentExecutions?: unknown }
        const n = body.ReservedConcurrentExecutions
        if (typeof n !== 'number' || n < 0) return invalid(res, 'ReservedConcurrentExecutions must be >= 0')
        const provisioned = [...fn.provisioned.values()].reduce((sum, p) => sum + p.requested, 0)
        if (n < provisioned) {
          return invalid(res, `ReservedConcurrentExecutions ${n} should not be lower than function's total provisioned concurrency [${provisioned}].`)
        }
        fn.reserved = n
        return sendJson(res, 200, { ReservedConcurrentExecutions: n })
      }
      case 'DeleteFunctionConcurrency':
        fn.reserved = undefined
        return sendJson(res, 204, null)
      case 'GetFunctionConcurrency':
        return sendJson(res, 200, fn.reserved !== undefined ? { ReservedConcurrentExecutions: fn.reserved } : {})
      case 'PublishVersion': {
        await readBody(req)
        if (state(fn).LastUpdateStatus === 'InProgress') return inProgress(res, fn)
        const last = fn.versions.at(-1)
        const same = last !== undefined && last.imageUri === fn.imageUri && last.memorySize === fn.memorySize &&
          last.timeout === fn.timeout && JSON.stringify(last.env) === JSON.stringify(fn.env)
        const v = same ? last : {
          version: String(fn.versions.length + 1), imageUri: fn.imageUri, env: { ...fn.env }, memorySize: fn.memorySize, timeout: fn.timeout, lastModified: lastModified()
        }
        if (!same) fn.versions.push(v)
        return sendJson(res, 201, { ...configuration(fn), Version: v.version, FunctionArn: `${fn.arn}:${v.version}`, LastModified: v.lastModified })
      }
      case 'ListVersionsByFunction':
        return sendJson(res, 200, { Versions: [configuration(fn), ...fn.versions.map((v) => ({ ...configuration(fn), Version: v.version, FunctionArn: `${fn.arn}:${v.version}` }))] })
      case 'CreateAlias':
      case 'UpdateAlias': {
        const body = JSON.parse((await readBody(req)).toString('utf8') || '{}') as { Name?: unknown, FunctionVersion?: unknown, Description?: unknown }
        const alias = route.op === 'CreateAlias' ? body.Name : route.alias
        if (typeof alias !== 'string' || !ALIAS_NAME.test(alias) || alias.length > 128) {
          return invalid(res, `1 validation error detected: Value '${String(alias)}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)`)
        }
        const existing = fn.aliases.get(alias)
        if (route.op === 'CreateAlias' && existing !== undefined) return restError(res, 409, 'ResourceConflictException', `Alias already exists: ${fn.arn}:${alias}`)
        if (route.op === 'UpdateAlias' && existing === undefined) return restError(res, 404, 'ResourceNotFoundException', `Alias not found: ${fn.arn}:${alias}`)
        const version = typeof body.FunctionVersion === 'string' ? body.FunctionVersion : existing?.version
        if (version === undefined) return invalid(res, 'FunctionVersion is required')
        if (version === '$LATEST' && fn.provisioned.has(alias)) {
          return invalid(res, 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.')
        }
        if (version !== '$LATEST' && !fn.versions.some((v) => v.version === version)) return notFound(res, `${fn.name}:${version}`)
        const moved = existing !== undefined && existing.version !== version
        fn.aliases.set(alias, {
          version,
          revisionId: crypto.randomUUID(),
          description: typeof body.Description === 'string' ? body.Description : existing?.description ?? ''
        })
        const p = fn.provisioned.get(alias)
        if (moved && p !== undefined) {
          // Lambda provisions the new version; the old one's environments serve until then
          provisionedView(fn, p)
          p.readyAt = Date.now() + s.settings.provisionMs
        }
        return sendJson(res, route.op === 'CreateAlias' ? 201 : 200, aliasConfiguration(fn, alias))
      }
      case 'GetAlias':
      case 'DeleteAlias': {
        const alias = route.alias as string
        if (!fn.aliases.has(alias)) return restError(res, 404, 'ResourceNotFoundException', `Alias not found: ${fn.arn}:${alias}`)
        if (route.op === 'GetAlias') return sendJson(res, 200, aliasConfiguration(fn, alias))
        fn.aliases.delete(alias)
        fn.provisioned.delete(alias)
        return sendJson(res, 204, null)
      }
      case 'ListAliases':
        return sendJson(res, 200, { Aliases: [...fn.aliases.keys()].map((a) => aliasConfiguration(fn, a)) })
      case 'PutProvisionedConcurrencyConfig':
      case 'GetProvisionedConcurrencyConfig':
      case 'DeleteProvisionedConcurrencyConfig': {
        const body = route.op === 'PutProvisionedConcurrencyConfig'
          ? JSON.parse((await readBody(req)).toString('utf8') || '{}') as { ProvisionedConcurrentExecutions?: unknown }
          : (await readBody(req), {})
        const qualifier = url.searchParams.get('Qualifier')
        if (qualifier === null || qualifier === '' || qualifier === '$LATEST') {
          return invalid(res, 'Provisioned Concurrency Configs cannot be applied to unpublished function versions.')
        }
        const isAlias = fn.aliases.has(qualifier)
        if (!isAlias && !fn.versions.some((v) => v.version === qualifier)) {
          return restError(res, 404, 'ResourceNotFoundException', /^\d+$/.test(qualifier)
            ? `Function not found: ${fn.arn}:${qualifier}`
            : `Cannot find alias arn: ${fn.arn}:${qualifier}`)
        }
        const existing = fn.provisioned.get(qualifier)
        if (route.op === 'GetProvisionedConcurrencyConfig' || route.op === 'DeleteProvisionedConcurrencyConfig') {
          if (existing === undefined) {
            return restError(res, 404, 'ProvisionedConcurrencyConfigNotFoundException', 'No Provisioned Concurrency Config found for this function')
          }
          if (route.op === 'GetProvisionedConcurrencyConfig') return sendJson(res, 200, provisionedView(fn, existing))
          fn.provisioned.delete(qualifier)
          return sendJson(res, 204, null)
        }
        const n = (body as { ProvisionedConcurrentExecutions?: unknown }).ProvisionedConcurrentExecutions
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
          return invalid(res, `1 validation error detected: Value '${String(n)}' at 'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have value greater than or equal to 1`)
        }
        if (fn.reserved !== undefined && n > fn.reserved) {
          return invalid(res, `Requested Provisioned Concurrency should not be greater than the reservedConcurrentExecution for function ${fn.name}`)
        }
        const p: FakeProvisioned = existing ?? { requested: 0, available: 0, readyAt: 0, lastModified: '' }
        if (existing !== undefined) provisionedView(fn, existing)
        p.requested = n
        p.available = Math.min(p.available, n)
        p.readyAt = Date.now() + s.settings.provisionMs
        p.lastModified = lastModified()
        fn.provisioned.set(qualifier, p)
        return sendJson(res, 202, provisionedView(fn, p))
      }
      case 'Invoke':
        return await invoke(req, res, fn, false)
      case 'InvokeWithResponseStream':
        return await invoke(req, res, fn, true)
    }
    restError(res, 400, 'UnsupportedOperation', `${method} ${url.pathname} is not implemented by the fake`)
  }
}
