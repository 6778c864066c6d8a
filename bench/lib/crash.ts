/*
 * The crash-safety harness behind `npm run crash-test` and test/reliability/crash.test.ts.
 *
 * Runs the real provider (src/main.ts, local backend) as a child process over one temporary
 * state_dir, fires concurrent deploys, updates, deletes, scales and secret writes at it, SIGKILLs it
 * at a random moment, restarts it and checks:
 *   - every write that got a 2xx is there, every delete that got a 2xx is gone (a write cut off by
 *     the kill may have happened or not: both outcomes are allowed, then the model follows the truth);
 *   - secret values are right, read back through functions that cat their secret;
 *   - every state file parses;
 *   - every function's processes come back (invocations answer) and no replica of an earlier life
 *     is left running (orphans);
 *   - no secret value ever appears in the provider's output.
 * Everything is bounded: ops per cycle, the kill delay, every wait. Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { track } from './procs.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const FIXTURE = path.join(repoRoot, 'test/fixtures/http-function.mjs')
const NS = 'openfaas-fn'

/** bounds of every wait */
const START_TIMEOUT_MS = 20_000
const REQUEST_TIMEOUT_MS = 15_000
const COME_BACK_TIMEOUT_MS = 20_000

export interface CrashOptions {
  cycles: number
  seed?: number
  /** concurrent clients during the load phase */
  workers?: number
  /** upper bound of requests per cycle */
  maxOpsPerCycle?: number
  /** the kill comes after a delay drawn uniformly from this range (ms) */
  killAfterMs?: [number, number]
  log?: (line: string) => void
}

export interface CrashResult {
  seed: number
  cycles: number
  /** mutating requests that got a 2xx */
  acknowledged: number
  /** of which deletes */
  acknowledgedDeletes: number
  /** mutating requests cut off by the kill (either outcome allowed) */
  unanswered: number
  /** acknowledged writes not found after a restart (each described) */
  lost: string[]
  /** everything else that is wrong: unparsable state, processes not back, unexpected statuses, orphans, leaks */
  problems: string[]
  /** leftover temp files found in the state directory after the last restart */
  tempFiles: number
  elapsedMs: number
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with --seed */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// --- the model -----------------------------------------------------------------------------

interface FnState { present: boolean, gen: number, replicas: number }
const ABSENT: FnState = { present: false, gen: 0, replicas: 0 }
const sameFn = (a: FnState, b: FnState): boolean =>
  a.present === b.present && (!a.present || (a.gen === b.gen && a.replicas === b.replicas))
const showFn = (s: FnState): string => s.present ? `present(gen ${s.gen}, replicas ${s.replicas})` : 'absent'

/** a secret's value, or null when it does not exist */
type SecretState = string | null

interface FnKey { kind: 'fn', name: string, mode: 'fork' | 'http', secret: string, allowed: FnState[], busy: boolean }
interface SecretKey { kind: 'secret', name: string, deletable: boolean, allowed: SecretState[], busy: boolean }
type Key = FnKey | SecretKey

const definite = <T>(allowed: T[]): T => allowed[0] as T

// --- the provider process ------------------------------------------------------------------

interface Life {
  url: string
  child: ChildProcess
  exited: Promise<void>
  output: () => string
}

async function startLife (stateDir: string, configFile: string, onOutput: (chunk: string) => void): Promise<Life> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'src/main.ts')], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? path.join(repoRoot, 'node_modules/.cache/faas-bridge'),
      port: '0',
      state_dir: stateDir,
      config_file: configFile,
      read_timeout: '10s'
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const untrack = track(child)
  let out = ''
  const keep = (d: Buffer): void => {
    const s = d.toString()
    onOutput(s)
    out += s
    if (out.length > 64 * 1024) out = out.slice(-32 * 1024)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { untrack(); resolve() }) })
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
    if (m !== null) return { url: m[1] as string, child, exited, output: () => out }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`provider exited before listening:\n${out.slice(-4000)}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  child.kill('SIGKILL')
  throw new Error(`provider did not listen within ${START_TIMEOUT_MS} ms:\n${out.slice(-4000)}`)
}

interface Reply { status: number, body: string }

function client (url: string): { call (method: string, p: string, body?: unknown): Promise<Reply>, close (): Promise<void> } {
  const agent = new Agent({ connections: 32, keepAliveTimeout: 10_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS })
  return {
    async call (method, p, body) {
      const res = await request(url + p, {
        method: method as 'GET',
        dispatcher: agent,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {})
      })
      return { status: res.statusCode, body: await res.body.text() }
    },
    async close () { await agent.destroy().catch(() => {}) }
  }
}

// --- checks on disk and in /proc ----------------------------------------------------------

/** Parses every state file; returns problems, and counts temp files left behind. */
function checkStateFiles (stateDir: string): { problems: string[], tempFiles: number } {
  const problems: string[] = []
  let tempFiles = 0
  const walk = (dir: string): void => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const full = path.join(dir, e.name)
      if (e.isDirectory()) { walk(full); continue }
      if (e.name.endsWith('.tmp')) { tempFiles++; continue }
      if (e.name.endsWith('.json')) {
        try {
          JSON.parse(readFileSync(full, 'utf8'))
        } catch (err) {
          problems.push(`state file ${path.relative(stateDir, full)} does not parse: ${(err as Error).message}`)
        }
      }
    }
  }
  walk(stateDir)
  return { problems, tempFiles }
}

/** pids of running (non-zombie) processes whose command line contains `mark` */
function processesMarked (mark: string): number[] {
  const out: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'latin1')
      if (!cmd.includes(mark)) continue
      const stat = readFileSync(`/proc/${e}/stat`, 'latin1')
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
      // only the node processes themselves (not a wrapping shell or unshare) and not zombies
      if (state !== 'Z' && state !== 'X' && cmd.split('\0')[0] === process.execPath) out.push(Number(e))
    } catch {}
  }
  return out
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

/** `p`, or give up after `ms`; the timer never keeps the process alive afterwards */
async function within (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  await Promise.race([p, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms) })])
  clearTimeout(timer)
}

// --- the run -------------------------------------------------------------------------------

export async function runCrashTest (opts: CrashOptions): Promise<CrashResult> {
  const started = Date.now()
  const seed = opts.seed ?? (Date.now() % 2 ** 31)
  const rand = prng(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T
  const log = opts.log ?? (() => {})
  const workers = opts.workers ?? 6
  const maxOps = opts.maxOpsPerCycle ?? 300
  const [killMin, killMax] = opts.killAfterMs ?? [30, 1200]
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fb-crash-state-'))
  const mark = `--crash-mark=${path.basename(stateDir)}`
  // the autoscaler is off: its own scale decisions are writes no client acknowledged
  const configFile = `${stateDir}.yaml`
  writeFileSync(configFile, `backends:\n  local:\n    driver: local\n    namespaces: [${NS}]\n    autoscale: 'off'\n`)
  const result: CrashResult = { seed, cycles: 0, acknowledged: 0, acknowledgedDeletes: 0, unanswered: 0, lost: [], problems: [], tempFiles: 0, elapsedMs: 0 }

  // secret values all carry this prefix, so the provider's output can be searched for any of them
  const SECRET_PREFIX = `sv${seed.toString(36)}q`
  let leaked = false
  /** the provider's error-level log lines (level 50+), each a problem */
  const errorLines: string[] = []
  let partial = ''
  const watchOutput = (chunk: string): void => {
    if (!leaked && chunk.includes(SECRET_PREFIX)) leaked = true
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    if (partial.length > 64 * 1024) partial = ''
    for (const line of lines) {
      if (/"level":(5|6)\d/.test(line) && errorLines.length < 50) errorLines.push(line.slice(0, 600))
    }
  }
  let valueCounter = 0
  const newValue = (): string => `${SECRET_PREFIX}${(valueCounter++).toString(36)}${Math.floor(rand() * 1e9).toString(36)}`

  // s0..s2: fixed secrets, values updated under load, read by functions; x0..x2: created, updated and deleted
  const fixedSecrets = ['s0', 's1', 's2']
  const keys: Key[] = [
    ...fixedSecrets.map((name): SecretKey => ({ kind: 'secret', name, deletable: false, allowed: [null], busy: false })),
    ...['x0', 'x1', 'x2'].map((name): SecretKey => ({ kind: 'secret', name, deletable: true, allowed: [null], busy: false })),
    ...[0, 1, 2, 3, 4, 5].map((i): FnKey => ({ kind: 'fn', name: `f${i}`, mode: 'fork', secret: fixedSecrets[i % 3] as string, allowed: [ABSENT], busy: false })),
    ...[0, 1].map((i): FnKey => ({ kind: 'fn', name: `h${i}`, mode: 'http', secret: fixedSecrets[i % 3] as string, allowed: [ABSENT], busy: false }))
  ]
  const fnKeys = keys.filter((k): k is FnKey => k.kind === 'fn')
  const secretKeys = keys.filter((k): k is SecretKey => k.kind === 'secret')
  let gen = 0

  const spec = (k: FnKey, g: number, minReplicas: number): Record<string, unknown> => ({
    service: k.name,
    image: `ghcr.io/acme/${k.name}:${g}`,
    envProcess: k.mode === 'fork'
      ? `cat "$secret_mount_path/${k.secret}"`
      : `${process.execPath} ${FIXTURE} ${mark}`,
    envVars: { GEN: String(g), ...(k.mode === 'http' ? { mode: 'http' } : {}) },
    labels: { 'com.openfaas.scale.min': String(minReplicas) },
    secrets: [k.secret]
  })

  let life = await startLife(stateDir, configFile, watchOutput)
  const api = (): ReturnType<typeof client> => client(life.url)
  try {
    // set-up (not killed): the fixed secrets, and one checker function per fixed secret
    {
      const c = api()
      for (const k of secretKeys.filter((s) => !s.deletable)) {
        const value = newValue()
        const r = await c.call('POST', '/system/secrets', { name: k.name, value })
        if (r.status !== 202) throw new Error(`set-up: secret ${k.name}: ${r.status} ${r.body}`)
        k.allowed = [value]
      }
      for (const s of fixedSecrets) {
        const r = await c.call('POST', '/system/functions', { service: `check-${s}`, image: 'checker:1', envProcess: `cat "$secret_mount_path/${s}"`, secrets: [s] })
        if (r.status !== 202) throw new Error(`set-up: checker for ${s}: ${r.status} ${r.body}`)
      }
      await c.close()
    }

    log(`seed ${seed}, state in ${stateDir}`)
    let lostSeen = 0
    let problemsSeen = 0
    for (let cycle = 1; cycle <= opts.cycles; cycle++) {
      // --- load, then SIGKILL at a random moment ---
      const c = api()
      let killed = false
      let ops = 0
      const unexpected = (what: string, r: Reply): void => {
        result.problems.push(`cycle ${cycle}: ${what} answered ${r.status}: ${r.body.trim().slice(0, 200)}`)
      }
      /** one operation on one key; false when the provider is gone */
      const operate = async (k: Key): Promise<boolean> => {
        let next: FnState | SecretState
        let method: string
        let url: string
        let body: unknown
        let isDelete = false
        if (k.kind === 'fn') {
          const cur = definite(k.allowed)
          if (!cur.present) {
            const min = 1 + Math.floor(rand() * 2)
            const g = ++gen
            next = { present: true, gen: g, replicas: min }
            ;[method, url, body] = ['POST', '/system/functions', spec(k, g, min)]
          } else {
            const r = rand()
            if (r < 0.35) {
              const g = ++gen
              next = { ...cur, gen: g }
              ;[method, url, body] = ['PUT', '/system/functions', spec(k, g, 1)]
            } else if (r < 0.7) {
              const n = Math.floor(rand() * 3)
              next = { ...cur, replicas: n }
              ;[method, url, body] = ['POST', `/system/scale-function/${k.name}`, { serviceName: k.name, replicas: n }]
            } else {
              next = ABSENT
              isDelete = true
              ;[method, url, body] = ['DELETE', '/system/functions', { functionName: k.name }]
            }
          }
        } else {
          const cur = definite(k.allowed)
          if (cur === null) {
            next = newValue()
            ;[method, url, body] = ['POST', '/system/secrets', { name: k.name, value: next }]
          } else if (k.deletable && rand() < 0.4) {
            next = null
            isDelete = true
            ;[method, url, body] = ['DELETE', '/system/secrets', { name: k.name }]
          } else {
            next = newValue()
            ;[method, url, body] = ['PUT', '/system/secrets', { name: k.name, value: next }]
          }
        }
        let r: Reply
        try {
          r = await c.call(method, url, body)
        } catch {
          // cut off by the kill: it may or may not have happened
          result.unanswered++
          if (k.kind === 'fn') k.allowed = [definite(k.allowed), next as FnState]
          else k.allowed = [definite(k.allowed), next as SecretState]
          return false
        }
        if (r.status >= 200 && r.status < 300) {
          result.acknowledged++
          if (isDelete) result.acknowledgedDeletes++
          if (k.kind === 'fn') k.allowed = [next as FnState]
          else k.allowed = [next as SecretState]
        } else {
          unexpected(`${method} ${url} ${k.name}`, r)
          // a 5xx may come after part of the work was done: either outcome is allowed (and reported)
          if (r.status >= 500) {
            if (k.kind === 'fn') k.allowed = [definite(k.allowed), next as FnState]
            else k.allowed = [definite(k.allowed), next as SecretState]
          }
        }
        return true
      }
      const worker = async (): Promise<void> => {
        while (!killed && ops < maxOps) {
          const free = keys.filter((k) => !k.busy)
          if (free.length === 0) { await sleep(1); continue }
          const k = pick(free)
          k.busy = true
          ops++
          let alive: boolean
          try {
            alive = await operate(k)
          } finally {
            k.busy = false
          }
          if (!alive) return
        }
        // the op budget is spent: wait (bounded by the kill) for the kill
        while (!killed) await sleep(5)
      }
      const killDelay = killMin + Math.floor(rand() * (killMax - killMin))
      const killer = (async () => {
        await sleep(killDelay)
        killed = true
        life.child.kill('SIGKILL')
        await life.exited
      })()
      await Promise.all([killer, ...Array.from({ length: workers }, async () => { await worker() })])
      await c.close()

      // --- restart and verify ---
      const files = checkStateFiles(stateDir)
      result.problems.push(...files.problems.map((p) => `cycle ${cycle}: ${p}`))
      result.tempFiles = files.tempFiles
      life = await startLife(stateDir, configFile, watchOutput)
      const v = api()
      try {
        await verify(v, cycle)
      } finally {
        await v.close()
      }
      result.cycles = cycle
      for (const l of result.lost.slice(lostSeen)) log(`  LOST: ${l}`)
      for (const p of result.problems.slice(problemsSeen)) log(`  PROBLEM: ${p.slice(0, 600)}`)
      lostSeen = result.lost.length
      problemsSeen = result.problems.length
      log(`cycle ${cycle}: kill after ${killDelay} ms, ${ops} requests; acknowledged ${result.acknowledged}, unanswered ${result.unanswered}, lost ${result.lost.length}, problems ${result.problems.length}`)
    }

    // a clean stop at the end: every replica goes with the provider
    life.child.kill('SIGTERM')
    await within(life.exited, START_TIMEOUT_MS)
    await sleep(200)
    const left = processesMarked(mark)
    if (left.length > 0) result.problems.push(`after SIGTERM ${left.length} function process(es) of earlier lives are still running: ${left.join(', ')}`)
    if (leaked) result.problems.push('a secret value appeared in the provider\'s output')
    for (const line of errorLines) result.problems.push(`provider logged an error: ${line}`)
    result.tempFiles = checkStateFiles(stateDir).tempFiles
  } finally {
    if (life.child.exitCode === null && life.child.signalCode === null) life.child.kill('SIGKILL')
    await within(life.exited, 5000)
    for (const pid of processesMarked(mark)) { try { process.kill(pid, 'SIGKILL') } catch {} }
    rmSync(stateDir, { recursive: true, force: true })
    rmSync(configFile, { force: true })
    result.elapsedMs = Date.now() - started
  }
  return result

  /** After a restart: what was acknowledged is there, the model follows the truth, processes are back. */
  async function verify (c: ReturnType<typeof client>, cycle: number): Promise<void> {
    const where = `cycle ${cycle}`
    const list = await c.call('GET', '/system/functions')
    if (list.status !== 200) throw new Error(`${where}: GET /system/functions answered ${list.status}: ${list.body}`)
    const actualFns = new Map<string, FnState>()
    for (const f of JSON.parse(list.body) as Array<{ name: string, replicas: number, envVars?: Record<string, string> }>) {
      actualFns.set(f.name, { present: true, gen: Number(f.envVars?.GEN ?? -1), replicas: f.replicas })
    }
    for (const k of fnKeys) {
      const actual = actualFns.get(k.name) ?? ABSENT
      if (!k.allowed.some((a) => sameFn(a, actual))) {
        result.lost.push(`${where}: function ${k.name} is ${showFn(actual)}, acknowledged: ${k.allowed.map(showFn).join(' or ')}`)
      }
      k.allowed = [actual]
    }
    const sl = await c.call('GET', '/system/secrets')
    if (sl.status !== 200) throw new Error(`${where}: GET /system/secrets answered ${sl.status}: ${sl.body}`)
    const secretNames = new Set((JSON.parse(sl.body) as Array<{ name: string }>).map((s) => s.name))
    for (const k of secretKeys) {
      let actual: SecretState = null
      if (secretNames.has(k.name)) {
        if (k.deletable) {
          // no function reads these: the value is checked in the state directory
          try {
            actual = readFileSync(path.join(stateDir, 'secrets', NS, k.name), 'utf8')
          } catch (err) {
            result.problems.push(`${where}: secret ${k.name} is listed but unreadable: ${(err as Error).message}`)
            actual = ''
          }
        } else {
          const r = await invokeUntil(c, `check-${k.name}`, (x) => x.status === 200)
          actual = r.status === 200 ? r.body : `<invoke answered ${r.status}>`
        }
      }
      if (!k.allowed.some((a) => a === actual)) {
        result.lost.push(`${where}: secret ${k.name} is ${actual === null ? 'absent' : JSON.stringify(actual)}, acknowledged: ${k.allowed.map((a) => a === null ? 'absent' : JSON.stringify(a)).join(' or ')}`)
      }
      k.allowed = [actual]
    }
    // processes come back: every function with replicas answers, fork functions with their secret
    for (const k of fnKeys) {
      const s = definite(k.allowed)
      if (!s.present || s.replicas === 0) continue
      const want = definite((secretKeys.find((x) => x.name === k.secret) as SecretKey).allowed)
      const r = await invokeUntil(c, k.name, (x) => x.status === 200)
      if (r.status !== 200) {
        result.problems.push(`${where}: function ${k.name} (${k.mode}, ${s.replicas} replicas) did not come back: ${r.status} ${r.body.slice(0, 200)}`)
      } else if (k.mode === 'fork' && r.body !== want) {
        result.problems.push(`${where}: function ${k.name} read secret ${k.secret} as ${JSON.stringify(r.body)}, stored value is ${JSON.stringify(want)}`)
      }
    }
    // every http replica is up, and none of an earlier life is left over
    const wantHttp = fnKeys.filter((k) => k.mode === 'http').reduce((n, k) => n + (definite(k.allowed).present ? definite(k.allowed).replicas : 0), 0)
    const deadline = Date.now() + COME_BACK_TIMEOUT_MS
    let running = processesMarked(mark)
    while (running.length !== wantHttp && Date.now() < deadline) {
      await sleep(50)
      running = processesMarked(mark)
    }
    if (running.length !== wantHttp) {
      const describe = (pid: number): string => {
        try {
          const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]?.split(' ') ?? []
          return `${pid}(ppid ${f[1]}, pgrp ${f[2]}, state ${f[0]})`
        } catch {
          return `${pid}(gone)`
        }
      }
      let records: string[] = []
      try { records = readdirSync(path.join(stateDir, 'run')) } catch {}
      result.problems.push(`${where}: ${running.length} http-mode function processes are running, ${wantHttp} expected (orphans of an earlier life?): ` +
        `${running.map(describe).join(', ')}; provider pid ${life.child.pid ?? '?'}; records ${records.join(',')}`)
    }
  }

  async function invokeUntil (c: ReturnType<typeof client>, name: string, ok: (r: Reply) => boolean): Promise<Reply> {
    const deadline = Date.now() + COME_BACK_TIMEOUT_MS
    let r: Reply = { status: 0, body: '' }
    while (Date.now() < deadline) {
      try {
        r = await c.call('POST', `/function/${name}`, '')
      } catch (err) {
        r = { status: 0, body: (err as Error).message }
      }
      if (ok(r)) return r
      await sleep(50)
    }
    return r
  }
}
