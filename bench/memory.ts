/*
 * Benchmark: idle memory. The provider on its default configuration (local backend, no functions,
 * temporary state_dir, port 0) is started fresh 3 times for each way it is run:
 *   src  — as `npm start` runs it: node --max-semi-space-size=8 src/main.ts (type stripping, compile cache);
 *   dist — as the image runs it: NODE_ENV=production node --max-semi-space-size=8 dist/src/main.js
 *          (needs `npm run build` first).
 * Each is measured SETTLE_MS after it first answers /healthz: /proc/PID/smaps_rollup (Rss,
 * Anonymous; file-backed = Rss - Anonymous) and /proc/PID/status VmRSS, of the node process itself
 * (spawned directly, not through npm). Baselines from the same run: bare `node -e` kept alive, and a
 * bare fastify hello server. Figures are medians with the range over the starts.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Figure } from './lib/figures.ts'
import { track } from './lib/procs.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const STARTS = Number(process.env.BENCH_MEMORY_STARTS ?? 3)
const SETTLE_MS = Number(process.env.BENCH_MEMORY_SETTLE_MS ?? 10_000)
const READY_TIMEOUT_MS = 30_000
const TARGET_MB = 80

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

interface Reading { rss: number, anon: number, file: number, vmRss: number }

/** MB (10^6 bytes) from /proc; smaps_rollup and status give kB */
function read (pid: number): Reading {
  const kb = (text: string, field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(text)
    if (m === null) throw new Error(`/proc/${pid}: no ${field}`)
    return Number(m[1]) * 1024 / 1e6
  }
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rss = kb(rollup, 'Rss')
  const anon = kb(rollup, 'Anonymous')
  return { rss, anon, file: rss - anon, vmRss: kb(status, 'VmRSS') }
}

/** Asks GET url every 50 ms until it answers 200 (bounded). */
async function waitHealthy (url: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the process exited before ${url} answered`)
    try {
      if ((await fetch(url)).status === 200) return
    } catch {}
    await sleep(50)
  }
  throw new Error(`${url} did not answer 200 within ${READY_TIMEOUT_MS} ms`)
}

interface Command {
  name: string
  argv: string[]
  env: Record<string, string>
  /** undefined: no server, measured SETTLE_MS after spawn */
  healthPath?: string
}

/** One fresh start: spawn, wait for the health URL, settle, read /proc, stop. */
async function measureOnce (cmd: Command): Promise<Reading> {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-mem-'))
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const child = spawn(process.execPath, cmd.argv, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', port: String(port), state_dir: stateDir, ...cmd.env },
    stdio: ['ignore', 'ignore', 'pipe']
  })
  const untrack = track(child)
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null
  try {
    if (cmd.healthPath !== undefined) await waitHealthy(`http://127.0.0.1:${port}${cmd.healthPath}`, exited)
    await sleep(SETTLE_MS)
    if (exited()) throw new Error(`${cmd.name} exited:\n${stderr}`)
    return read(child.pid as number)
  } catch (err) {
    throw new Error(`${cmd.name}: ${(err as Error).message}\n${stderr}`)
  } finally {
    if (!exited()) {
      const gone = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
      child.kill('SIGKILL')
      await gone
    }
    untrack()
    rmSync(stateDir, { recursive: true, force: true })
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const FASTIFY_HELLO = "import Fastify from 'fastify'; const app = Fastify(); app.get('/healthz', async () => 'OK'); " +
  'await app.listen({ port: Number(process.env.port), host: "127.0.0.1" })'

export async function runMemory (log: (line: string) => void = console.log): Promise<{ figures: Figure[] }> {
  const semi = '--max-semi-space-size=8'
  const commands: Command[] = [
    { name: 'node -e (idle)', argv: [semi, '-e', 'setInterval(() => {}, 1 << 30)'], env: {} },
    { name: 'fastify hello', argv: [semi, '--input-type=module', '-e', FASTIFY_HELLO], env: {}, healthPath: '/healthz' },
    {
      name: 'src (npm start)',
      argv: [semi, path.join(repoRoot, 'src/main.ts')],
      // npm start's compile cache (package.json "start")
      env: { NODE_COMPILE_CACHE: path.join(repoRoot, 'node_modules', '.cache', 'faas-bridge') },
      healthPath: '/healthz'
    }
  ]
  if (existsSync(path.join(repoRoot, 'dist/src/main.js'))) {
    commands.push({ name: 'dist (image)', argv: [semi, path.join(repoRoot, 'dist/src/main.js')], env: { NODE_ENV: 'production' }, healthPath: '/healthz' })
  } else {
    log('memory: dist/src/main.js is missing (run `npm run build`): the image command is not measured')
  }
  log(`memory: ${STARTS} fresh starts per command, read ${SETTLE_MS} ms after /healthz answers; MB = 10^6 bytes`)
  const medians = new Map<string, Reading>()
  for (const cmd of commands) {
    const readings: Reading[] = []
    for (let i = 0; i < STARTS; i++) readings.push(await measureOnce(cmd))
    const m: Reading = {
      rss: median(readings.map((r) => r.rss)),
      anon: median(readings.map((r) => r.anon)),
      file: median(readings.map((r) => r.file)),
      vmRss: median(readings.map((r) => r.vmRss))
    }
    medians.set(cmd.name, m)
    const range = (f: (r: Reading) => number): string => `${Math.min(...readings.map(f)).toFixed(1)}–${Math.max(...readings.map(f)).toFixed(1)}`
    log(`memory: ${cmd.name.padEnd(16)} Rss ${m.rss.toFixed(1)} (${range((r) => r.rss)}), anonymous ${m.anon.toFixed(1)} (${range((r) => r.anon)}), ` +
      `file-backed ${m.file.toFixed(1)} (${range((r) => r.file)}), VmRSS ${m.vmRss.toFixed(1)} MB`)
  }
  const node = medians.get('node -e (idle)') as Reading
  const hello = medians.get('fastify hello') as Reading
  const figures: Figure[] = []
  for (const name of ['src (npm start)', 'dist (image)']) {
    const m = medians.get(name)
    if (m === undefined) continue
    log(`memory: ${name}: ${(m.rss / node.rss).toFixed(2)}x bare node, ${(m.rss / hello.rss).toFixed(2)}x fastify hello, ` +
      `+${(m.rss - hello.rss).toFixed(1)} MB over fastify hello`)
    figures.push({ name: `memory: idle RSS, ${name}, median of ${STARTS}`, value: `${m.rss.toFixed(1)} MB`, target: `<= ${TARGET_MB} MB`, met: m.rss <= TARGET_MB })
  }
  return { figures }
}
