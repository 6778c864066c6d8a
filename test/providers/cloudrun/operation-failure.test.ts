/*
 * A long-running operation that ends in an error: the deploy answers with the error's code
 * mapped (FAILED_PRECONDITION/INVALID_ARGUMENT → 400) and Google's message; the failed service
 * then reads as not available.
 */
import t from 'tap'
import type { FunctionStatus } from '../../../src/core/types.ts'
import { appSetup, deployBody } from './helpers.ts'

t.test('an operation error becomes the deploy answer, with Google\'s message', async (t) => {
  const s = await appSetup(t, { pollsToFinish: 2 })
  s.fake.run.failNextOperation('FAILED_PRECONDITION', "Revision 'bad-00001-abc' is not ready and cannot serve traffic. The user-provided container failed to start.")
  const res = await s.call('/system/functions', { method: 'POST', json: deployBody('bad') })
  t.equal(res.status, 400)
  const text = await res.text()
  t.match(text, /creating Cloud Run service "bad": operation projects\/.+\/operations\/op-1 failed/)
  t.match(text, /user-provided container failed to start/)
  const st = await (await s.call('/system/function/bad')).json() as FunctionStatus
  t.equal(st.availableReplicas ?? 0, 0, 'a failed service has no available replica')
  const inv = await s.call('/function/bad', { method: 'POST', body: 'x' })
  t.equal(inv.status, 503, 'and is not invocable')

  s.fake.run.failNextOperation('INTERNAL', 'internal error while updating')
  const upd = await s.call('/system/functions', { method: 'PUT', json: deployBody('bad') })
  t.equal(upd.status, 500, 'INTERNAL → 500')
  t.match(await upd.text(), /internal error while updating/)
})
