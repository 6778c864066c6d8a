/*
 * The suite on a busy machine: `npm run test:busy [-- --runs N --burners N --max-minutes M]`.
 * Starts CPU burners (child processes spinning a bounded busy loop), runs `npm test` N times in a
 * row beside them, then stops them. Prints each run's totals (from tap's closing summary line) and
 * duration, and exits non-zero if any run failed. A test that passes only on an idle machine fails
 * here. The burners end by themselves after --max-minutes even if this script is killed with SIGKILL,
 * and are killed at once when it exits or gets SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    burners: { type: 'string', default: '2' },
    'max-minutes': { type: 'string', default: '90' }
  }
})

function positiveInt (name: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    console.error(`--${name} must be a whole number${allowZero ? '' : ' above 0'} (got ${String(raw)})`)
    process.exit(2)
  }
  return n
}
const runs = positiveInt('runs', values.runs)
const burnerCount = positiveInt('burners', values.burners, true)
const maxMinutes = positiveInt('max-minutes', values['max-minutes'])

/* each burner spins until its own deadline, so none outlives this script by more than --max-minutes */
const BURN = 'const end = Date.now() + Number(process.argv[1]); let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x ^= i }'
const burners: ChildProcess[] = []
function stopBurners (): void {
  for (const b of burners) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL')
}
process.on('exit', stopBurners)
let current: ChildProcess | undefined
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    // npm test runs in its own process group: stop npm, tap and the test processes together
    if (current?.pid !== undefined) {
      try { process.kill(-current.pid, sig) } catch { current.kill(sig) }
    }
    stopBurners()
    process.exit(130)
  })
}
for (let i = 0; i < burnerCount; i++) {
  burners.push(spawn(process.execPath, ['-e', BURN, String(maxMinutes * 60_000)], { stdio: 'ignore' }))
}

interface RunResult { pass: number, fail: number, total: number, seconds: number, code: number | null, summary: boolean }

/* tap's closing line: # { total: 1234, pass: 1230, fail: 2, skip: 2 } */
function totals (out: string): { total: number, pass: number, fail: number } | undefined {
  const lines = out.split('\n').filter((l) => /^# \{ total: \d+/.test(l))
  const last = lines[lines.length - 1]
  if (last === undefined) return undefined
  const field = (name: string): number => Number(new RegExp(`${name}: (\\d+)`).exec(last)?.[1] ?? 0)
  return { total: field('total'), pass: field('pass'), fail: field('fail') }
}

async function runSuite (n: number): Promise<RunResult> {
  const t0 = performance.now()
  console.log(`--- run ${n}/${runs}: npm test beside ${burnerCount} CPU burner(s), load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const child = spawn('npm', ['test'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: process.env, detached: true })
  current = child
  let out = ''
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (d: Buffer) => {
      out += d.toString()
      process.stdout.write(d)
    })
  }
  const code = await new Promise<number | null>((resolve) => { child.on('close', (c) => { resolve(c) }) })
  current = undefined
  const seconds = (performance.now() - t0) / 1000
  const t = totals(out)
  return { ...(t ?? { total: 0, pass: 0, fail: 0 }), seconds, code, summary: t !== undefined }
}

const results: RunResult[] = []
for (let n = 1; n <= runs; n++) {
  const r = await runSuite(n)
  results.push(r)
  console.log(`--- run ${n}: ${r.summary ? `${r.pass} passed, ${r.fail} failed of ${r.total}` : 'no tap summary'}, exit ${String(r.code)}, ${r.seconds.toFixed(0)} s`)
}
stopBurners()

console.log(`\ntest:busy — ${runs} run(s) of npm test beside ${burnerCount} CPU burner(s) on ${os.cpus().length} CPUs (load now ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`)
for (const [i, r] of results.entries()) {
  console.log(`  run ${i + 1}: ${r.summary ? `${r.pass} passed, ${r.fail} failed` : 'no tap summary'} (exit ${String(r.code)}) in ${Math.floor(r.seconds / 60)} min ${Math.round(r.seconds % 60)} s`)
}
const ok = results.every((r) => r.code === 0 && r.summary && r.fail === 0)
console.log(ok ? 'all runs passed' : 'FAILED: at least one run did not pass')
process.exit(ok ? 0 : 1)
