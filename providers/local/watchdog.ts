/*
 * Fork mode: the classic OpenFaaS watchdog, run inside the provider (no watchdog process per
 * function: memory matters with many functions). Each call forks `sh -c envProcess`, streams the
 * request body to its stdin and answers with its stdout; request metadata goes in Http_* env vars
 * as the classic watchdog sets them.
 *
 * A "replica" here is a watchdog slot (an instance name like `fn-1a2b3`), not an OS process:
 * scale N creates N slots, calls rotate over them (the slot names the log lines), scale 0 removes
 * them and invocations then get 503 until the function is scaled up again.
 */
import type { ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import type { HeaderMap, InvocationRequest, InvocationResponse, Upstream } from '../../src/core/driver.ts'
import { watchdogHeaderName } from '../../src/core/watchdog-env.ts'
import { instanceName, type RunSpec } from './function-env.ts'
import { lineSplitter, type FunctionLog } from './log-buffer.ts'
import { signalGroup, spawnGroup } from './process-group.ts'
import type { Runtime } from './runtime.ts'

const headerNameCache = new Map<string, string>()
function envNameOf (header: string): string {
  let name = headerNameCache.get(header)
  if (name === undefined) {
    name = 'Http_' + watchdogHeaderName(header)
    if (headerNameCache.size < 1000) headerNameCache.set(header, name)
  }
  return name
}

function first (v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** The child's environment: the function's env plus the request metadata. */
export function requestEnv (base: Record<string, string>, req: InvocationRequest): Record<string, string> {
  const env: Record<string, string> = { ...base }
  for (const key of Object.keys(req.headers)) {
    const value = first(req.headers[key])
    if (value !== undefined) env[envNameOf(key)] = value
  }
  env.Http_Method = req.method
  env.Http_Path = req.path
  if (req.query !== '') env.Http_Query = req.query
  const length = first(req.headers['content-length'])
  if (length !== undefined) env.Http_ContentLength = length
  return env
}

function contentTypeOf (headers: HeaderMap): string | undefined {
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === 'content-type') return first(headers[key])
  }
  return undefined
}

/** One forked call. Timeouts are answered 504, failures 500 with stderr, as responses. */
export function forkCall (
  spec: RunSpec, log: FunctionLog, instance: string, req: InvocationRequest, inflight: Set<ChildProcess>
): Promise<InvocationResponse> {
  return new Promise((resolve) => {
    const started = performance.now()
    log.append(instance, 'Forking fprocess.')
    const child = spawnGroup(spec.command, requestEnv(spec.env, req), 'pipe')
    inflight.add(child)
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    let outBytes = 0
    let timedOut = false
    let aborted = false
    let done = false
    const errLines = lineSplitter((line) => { log.append(instance, line) })

    const kill = (): void => { if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL') }
    // answer at once: a process that escaped its group could hold stdout open forever
    const timer = setTimeout(() => { timedOut = true; kill(); finish(null, null) }, spec.execTimeoutMs)
    const onAbort = (): void => { aborted = true; kill() }
    req.signal.addEventListener('abort', onAbort, { once: true })

    child.stdout?.on('data', (c: Buffer) => { stdout.push(c); outBytes += c.length })
    child.stderr?.on('data', (c: Buffer) => { stderr.push(c); errLines.write(c) })
    child.stdin?.on('error', () => {}) // EPIPE when the process does not read its input
    req.body.on('error', () => { kill() })
    if (child.stdin !== null) req.body.pipe(child.stdin)

    const finish = (code: number | null, signal: NodeJS.Signals | null, spawnError?: Error): void => {
      if (done) return
      done = true
      inflight.delete(child)
      clearTimeout(timer)
      req.signal.removeEventListener('abort', onAbort)
      req.body.unpipe()
      errLines.flush()
      const seconds = ((performance.now() - started) / 1000).toFixed(6)
      const headers: HeaderMap = { 'x-duration-seconds': seconds }
      if (timedOut) {
        const text = `Killed process: exec_timeout of ${spec.execTimeoutMs / 1000}s exceeded.\n`
        log.append(instance, text.trim())
        resolve({ status: 504, headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' }, body: text })
        return
      }
      if (spawnError !== undefined || code !== 0) {
        const why = spawnError?.message ?? (signal !== null ? `killed by ${signal}` : `exit status ${String(code)}`)
        log.append(instance, `fprocess failed: ${aborted ? 'request aborted' : why}`)
        const errText = Buffer.concat(stderr).toString('utf8')
        resolve({
          status: 500,
          headers: { ...headers, 'content-type': 'text/plain; charset=utf-8' },
          body: errText !== '' ? errText : `fprocess failed: ${why}\n`
        })
        return
      }
      log.append(instance, `Wrote ${outBytes} Bytes - Duration: ${seconds} seconds`)
      headers['content-type'] = spec.contentType ?? contentTypeOf(req.headers) ?? 'text/plain'
      resolve({ status: 200, headers, body: Buffer.concat(stdout, outBytes) })
    }
    child.once('error', (e) => { if (child.pid === undefined) finish(null, null, e) })
    // 'close': stdout and stderr are fully read, not just the process gone
    child.once('close', (code, signal) => { finish(code, signal) })
  })
}

export class ForkSlots implements Runtime {
  private slots: string[] = []
  private next = 0
  private readonly upstream: Upstream
  private readonly spec: RunSpec
  private readonly log: FunctionLog

  /** `inflight`: the driver's set of running forks, killed when the driver closes */
  constructor (spec: RunSpec, log: FunctionLog, inflight: Set<ChildProcess>) {
    this.spec = spec
    this.log = log
    this.upstream = {
      kind: 'call',
      call: async (req) => {
        const instance = this.slots.length > 0 ? this.slots[this.next++ % this.slots.length] as string : this.spec.name
        return await forkCall(this.spec, this.log, instance, req, inflight)
      }
    }
  }

  setReplicas (n: number): void {
    while (this.slots.length < n) this.slots.push(instanceName(this.spec.name))
    if (this.slots.length > n) this.slots = this.slots.slice(0, n)
  }

  available (): number {
    return this.slots.length
  }

  pick (): Upstream | undefined {
    return this.slots.length > 0 ? this.upstream : undefined
  }

  instances (): string[] {
    return [...this.slots]
  }

  async stop (): Promise<void> {
    this.slots = []
  }
}
