/*
 * The real provider process for benchmarks, started as `npm start` starts it (`node src/main.ts`,
 * default configuration: the local backend on openfaas-fn) with a temporary state_dir and port 0,
 * plus a small keep-alive HTTP client for its API. The process is killed when the bench exits,
 * however it exits; stop() also removes the state directory.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { Agent, request } from 'undici'
import { cpuSecondsOf, track } from './procs.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

export interface Reply {
  status: number
  body: string
}

export interface Provider {
  url: string
  pid: number
  /** VmRSS of the provider process in MB (10^6 bytes; Linux /proc) */
  rssMB (): number
  /** user+system CPU seconds used so far */
  cpuSeconds (): number
  /** one API call on a keep-alive connection; the body is read in full */
  call (method: string, urlPath: string, body?: unknown): Promise<Reply>
  /** the last lines the provider printed (diagnostics when something fails) */
  tail (): string
  stop (): Promise<void>
}

export function rssMBOf (pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? Number.NaN : Number(m[1]) * 1024 / 1e6
  } catch {
    return Number.NaN
  }
}

export async function startProvider (env: Record<string, string> = {}): Promise<Provider> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-state-'))
  // the same V8 flag as npm start (package.json) and the image (Dockerfile)
  // BENCH_PROVIDER_FLAGS: extra node flags for the provider only, e.g. "--cpu-prof --cpu-prof-dir=DIR"
  // to profile it during a bench (NODE_OPTIONS refuses --cpu-prof)
  const extra = (process.env.BENCH_PROVIDER_FLAGS ?? '').split(/\s+/).filter((f) => f !== '')
  const child = spawn(process.execPath, ['--max-semi-space-size=8', ...extra, path.join(repoRoot, 'src/main.ts')], {
    cwd: repoRoot,
    // the compile cache npm start keeps (package.json "start"): a warm start skips type stripping
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_COMPILE_CACHE: path.join(repoRoot, 'node_modules', '.cache', 'faas-bridge'),
      // V8 flags to compare (e.g. --max-semi-space-size=8) reach the provider, not only the bench
      ...(process.env.NODE_OPTIONS !== undefined ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      port: '0',
      state_dir: stateDir,
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const untrack = track(child)
  const lines: string[] = []
  const keep = (line: string): void => { lines.push(line); if (lines.length > 50) lines.shift() }
  createInterface({ input: child.stderr }).on('line', keep)
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`provider did not listen within 15 s:\n${lines.join('\n')}`)) }, 15_000)
    createInterface({ input: child.stdout }).on('line', (line) => {
      keep(line)
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line)
      if (m !== null) { clearTimeout(timer); resolve(m[1] as string) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`provider exited with ${String(code)}:\n${lines.join('\n')}`)) })
  })
  const pid = child.pid as number
  const agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 })
  return {
    url,
    pid,
    rssMB: () => rssMBOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    async call (method, urlPath, body) {
      const res = await request(url + urlPath, {
        method: method as 'GET',
        dispatcher: agent,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {})
      })
      return { status: res.statusCode, body: await res.body.text() }
    },
    tail: () => lines.join('\n'),
    async stop () {
      await agent.close().catch(() => {})
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
        child.kill('SIGTERM')
        const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
        await exited
        clearTimeout(timer)
      }
      untrack()
      rmSync(stateDir, { recursive: true, force: true })
    }
  }
}

/** Deploys (POST /system/functions) and fails loudly unless the provider answers 202. */
export async function deploy (p: Provider, fn: Record<string, unknown>): Promise<void> {
  const r = await p.call('POST', '/system/functions', fn)
  if (r.status !== 202) throw new Error(`deploy ${String(fn.service)}: ${r.status} ${r.body}`)
}

/** Polls the function's status until availableReplicas === want (bounded). */
export async function waitAvailable (p: Provider, name: string, want: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = await p.call('GET', `/system/function/${name}`)
    if (r.status === 200 && (JSON.parse(r.body) as { availableReplicas: number }).availableReplicas === want) return
    if (Date.now() > deadline) throw new Error(`${name}: availableReplicas did not reach ${want} within ${timeoutMs} ms (last: ${r.status} ${r.body})`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export function quantile (sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i] as number
}

export function summarize (xs: number[]): { median: number, p90: number, p99: number } {
  const s = [...xs].sort((a, b) => a - b)
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99) }
}

/** /proc/loadavg's three load averages, for the report (other work shares these cores). */
export function loadAverages (): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return os.loadavg().map((l) => l.toFixed(2)).join(' ')
  }
}
