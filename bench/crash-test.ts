/*
 * `npm run crash-test [-- --cycles N] [--seed S]`: the crash-safety run (bench/lib/crash.ts).
 * Starts the real provider over a temporary state_dir, loads it with concurrent writes, SIGKILLs
 * it at random moments, restarts it and checks that nothing acknowledged was lost. Default 100
 * cycles. Prints `cycles N, acknowledged writes N, lost: N`; exits 1 on any loss or problem.
 */
import os from 'node:os'
import { parseArgs } from 'node:util'
import { runCrashTest } from './lib/crash.ts'

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    seed: { type: 'string' },
    workers: { type: 'string', default: '6' },
    quiet: { type: 'boolean', default: false }
  }
})
const whole = (name: string, v: string | undefined, max: number): number | undefined => {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) {
    console.error(`--${name} must be a whole number in 1..${max}, got "${v}"`)
    process.exit(2)
  }
  return Number(v)
}
const cycles = whole('cycles', values.cycles, 100_000) as number
const seed = whole('seed', values.seed, 2 ** 31 - 1)
const workers = whole('workers', values.workers, 64) as number

const load = os.loadavg().map((l) => l.toFixed(2)).join(' ')
console.log(`crash-test: ${cycles} cycles, ${workers} concurrent clients, load average ${load} on ${os.cpus().length} CPUs`)
const result = await runCrashTest({
  cycles,
  workers,
  ...(seed !== undefined ? { seed } : {}),
  log: values.quiet === true ? undefined : (line) => { console.log(line) }
})
for (const l of result.lost) console.log(`LOST: ${l}`)
for (const p of result.problems) console.log(`PROBLEM: ${p}`)
console.log(`seed ${result.seed}; ${result.acknowledgedDeletes} of the acknowledged writes were deletes; ${result.unanswered} writes cut off by a kill; ` +
  `${result.tempFiles} temp files left in the state directory; ${(result.elapsedMs / 1000).toFixed(1)} s`)
console.log(`cycles ${result.cycles}, acknowledged writes ${result.acknowledged}, lost: ${result.lost.length}`)
process.exit(result.lost.length === 0 && result.problems.length === 0 ? 0 : 1)
