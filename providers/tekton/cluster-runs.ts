/*
 * The maximum of concurrent runs across provider replicas. A call holds a slot in this process's
 * limiter first (concurrency.ts: its bounded queue and 429 are per replica), then claims one of the
 * function's `replicas` run slots in the cluster: a coordination.k8s.io/v1 Lease per slot in the
 * function's namespace (../kubernetes/common/lease-slots.ts), created to claim it, renewed while
 * the run is under way and deleted when the call ends, however it ends. The API server's
 * create-if-absent is the atomic step: two replicas claiming in the same round trip cannot both
 * get one slot, so the maximum holds for the whole deployment.
 *
 * Where it can still be passed (honest): a holder that cannot renew its Lease for a whole
 * slotLeaseSeconds (its API server connection lost while its run goes on) loses the slot to a
 * waiter although its run is still under way; a holder that dies keeps its slot until then. After
 * a scale-down, runs already holding slots above the new maximum finish; no new one starts there.
 */
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type { KubeConfig } from '@kubernetes/client-node'
import type { DriverContext } from '../../src/core/driver.ts'
import { FUNCTION_LABEL } from '../kubernetes/common/function-spec.ts'
import { LeaseSlots } from '../kubernetes/common/lease-slots.ts'
import type { KubeRetryPolicy } from '../kubernetes/common/transport.ts'
import type { Label } from '../kubernetes/common/secrets.ts'
import { ROLE_LABEL } from './mapping.ts'

/** ROLE_LABEL of the slot Leases */
export const ROLE_RUN_SLOT = 'run-slot'

export interface RunSlotSettings {
  managedBy: Label
  slotLeaseSeconds: number
  logger: DriverContext['logger']
  now?: () => number
}

/** this process in the Leases' holderIdentity: host, pid and a random part (a restarted pid is another holder) */
function processIdentity (): string {
  return `${os.hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/** The function's run slots: Leases labelled with the function, managed-by and role run-slot. */
export function runSlots (config: KubeConfig, policy: Partial<KubeRetryPolicy>, s: RunSlotSettings): LeaseSlots {
  return new LeaseSlots(config, policy, {
    leaseDurationMs: s.slotLeaseSeconds * 1000,
    identity: processIdentity(),
    labels: (fn) => ({ [FUNCTION_LABEL]: fn, [s.managedBy.key]: s.managedBy.value, [ROLE_LABEL]: ROLE_RUN_SLOT }),
    logger: s.logger,
    ...(s.now !== undefined ? { now: s.now } : {})
  })
}
