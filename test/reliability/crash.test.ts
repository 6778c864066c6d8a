/*
 * The short version of `npm run crash-test` (bench/lib/crash.ts): the real provider process,
 * concurrent deploys/updates/deletes/scales/secret writes, SIGKILL at random moments, restart:
 * nothing acknowledged is lost, state files parse, functions come back (secrets read through
 * functions that cat them), no orphaned replica survives, no secret value reaches the log.
 * CRASH_CYCLES (default 5) and CRASH_SEED replay a run.
 */
import t from 'tap'
import { runCrashTest } from '../../bench/lib/crash.ts'

const cycles = Number(process.env.CRASH_CYCLES ?? '5')
const seed = process.env.CRASH_SEED !== undefined ? Number(process.env.CRASH_SEED) : undefined

t.test(`${cycles} SIGKILL cycles lose nothing that was acknowledged`, async (t) => {
  const r = await runCrashTest({ cycles, workers: 4, maxOpsPerCycle: 150, ...(seed !== undefined ? { seed } : {}) })
  t.comment(`seed ${r.seed}: cycles ${r.cycles}, acknowledged writes ${r.acknowledged} (${r.acknowledgedDeletes} deletes), ` +
    `${r.unanswered} cut off by a kill, lost: ${r.lost.length}, ${(r.elapsedMs / 1000).toFixed(1)} s`)
  t.equal(r.cycles, cycles)
  t.ok(r.acknowledged > 0, 'writes were acknowledged')
  t.same(r.lost, [], `no acknowledged write lost (seed ${r.seed})`)
  t.same(r.problems, [], `no other problem (seed ${r.seed})`)
  t.equal(r.tempFiles, 0, 'no temp files left after restarts')
})
