/*
 * withRetry, the Cloud Run driver's one retry loop, when the call's deadline cuts a retry short:
 * the answer is what Google said last (here 429, RESOURCE_EXHAUSTED), not a "did not respond within
 * 1 ms" of our own making; a call that never answered at all is still a deadline error.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { GRPC, withRetry } from '../../../providers/cloudrun/errors.ts'

const throttled = Object.assign(new Error('Quota exceeded'), { code: GRPC.RESOURCE_EXHAUSTED })

/** an attempt that uses all the time it is given and then reports the deadline, as gax does */
async function hangs (timeout: number): Promise<never> {
  await sleep(timeout)
  throw Object.assign(new Error(`did not respond within ${timeout} milliseconds`), { code: GRPC.DEADLINE_EXCEEDED })
}

t.test('a retry that only runs out of the deadline reports the throttle before it', async (t) => {
  let attempts = 0
  const err = await withRetry(async ({ timeout }) => {
    if (++attempts === 1) throw throttled
    return await hangs(timeout)
  }, { timeoutMs: 300, baseMs: 1, idempotent: true }).then(() => undefined, (e: unknown) => e)
  t.equal(attempts, 2, 'retried once')
  t.equal(err, throttled, 'the 429 Google gave, not our deadline')
})

t.test('a first attempt that never answers is the deadline error', async (t) => {
  const err = await withRetry(async ({ timeout }) => await hangs(timeout), { timeoutMs: 100, baseMs: 1, idempotent: true })
    .then(() => undefined, (e: unknown) => e) as { code?: number } | undefined
  t.equal(err?.code, GRPC.DEADLINE_EXCEEDED)
})
