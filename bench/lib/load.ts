/*
 * HTTP load generation for benchmarks: wrk when it is installed (or can be installed with
 * apt-get), autocannon otherwise. Both report requests/s and p99 latency the same way, and the
 * report always says which tool measured.
 */
import { execFile, execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import autocannon from 'autocannon'
import { hasTaskset } from './procs.ts'

const execFileAsync = promisify(execFile)

export type LoadTool = 'wrk' | 'autocannon'

export interface LoadOptions {
  connections: number
  durationSec: number
  /** CPU list for taskset (wrk only), e.g. "0" */
  cpus?: string
  /** POST this body (text/plain) instead of GET */
  body?: string
}

/** A wrk Lua script that POSTs `body` (wrk takes the method and body only from a script). */
function postScript (body: string): { file: string, cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-wrk-'))
  const file = path.join(dir, 'post.lua')
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "text/plain"\n`)
  return { file, cleanup: () => { rmSync(dir, { recursive: true, force: true }) } }
}

export interface LoadResult {
  rps: number
  p99Ms: number
  /** socket errors, timeouts and non-2xx responses */
  errors: number
}

function hasCommand (cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

let chosen: LoadTool | undefined

/**
 * wrk if present; else, when running as root with apt-get, install Debian's wrk; else autocannon.
 * FAAS_BRIDGE_BENCH_TOOL=autocannon forces the fallback.
 */
export function chooseTool (log: (line: string) => void = console.log): LoadTool {
  if (chosen !== undefined) return chosen
  if (process.env.FAAS_BRIDGE_BENCH_TOOL === 'autocannon') return (chosen = 'autocannon')
  if (hasCommand('wrk')) return (chosen = 'wrk')
  if (process.getuid?.() === 0 && hasCommand('apt-get')) {
    log('bench: wrk not found; installing it with apt-get (Debian package "wrk")')
    try {
      execFileSync('sh', ['-c', 'apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1)'], { stdio: 'ignore', timeout: 180_000 })
    } catch {
      // fall through to the check below
    }
    if (hasCommand('wrk')) return (chosen = 'wrk')
  }
  log('bench: wrk unavailable; using autocannon')
  return (chosen = 'autocannon')
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 }

/** Parses wrk's `--latency` report. */
export function parseWrk (out: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(out)
  if (rps === null || p99 === null) throw new Error(`cannot parse wrk output:\n${out}`)
  let errors = 0
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out)
  if (non2xx !== null) errors += Number(non2xx[1])
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  if (sock !== null) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4])
  return { rps: Number(rps[1]), p99Ms: Number(p99[1]) * (UNIT_MS[p99[2] as string] as number), errors }
}

/** Drives `url` for `durationSec` with `connections` keep-alive connections. */
export async function load (tool: LoadTool, url: string, options: LoadOptions): Promise<LoadResult> {
  if (tool === 'wrk') {
    const script = options.body !== undefined ? postScript(options.body) : undefined
    try {
      const args = ['-t1', `-c${options.connections}`, `-d${options.durationSec}s`, '--latency', '--timeout', '5s',
        ...(script !== undefined ? ['-s', script.file] : []), url]
      const [cmd, argv] = options.cpus !== undefined && hasTaskset()
        ? ['taskset', ['-c', options.cpus, 'wrk', ...args]]
        : ['wrk', args]
      const { stdout } = await execFileAsync(cmd, argv, { timeout: (options.durationSec + 30) * 1000 })
      return parseWrk(stdout)
    } finally {
      script?.cleanup()
    }
  }
  const result = await autocannon({
    url,
    connections: options.connections,
    duration: options.durationSec,
    ...(options.body !== undefined ? { method: 'POST', body: options.body, headers: { 'content-type': 'text/plain' } } : {})
  })
  return {
    rps: result.requests.average,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx
  }
}
