/*
 * What the driver needs from a function's replicas, whichever mode runs them: http-mode process
 * replicas (supervisor.ts) or fork-mode watchdog slots (watchdog.ts).
 */
import type { Upstream } from '../../src/core/driver.ts'

export interface Runtime {
  /** start or stop replicas until there are `n` */
  setReplicas (n: number): void
  /**
   * Optional: scale to 0 but keep the processes suspended; the next setReplicas(n > 0) resumes
   * them first. Runtimes without it are scaled to 0.
   */
  park? (): void
  /** replicas ready to serve right now */
  available (): number
  /** an upstream of a ready replica (round-robin), or undefined when none is ready */
  pick (): Upstream | undefined
  /** instance names of the current replicas */
  instances (): string[]
  /** stops every replica and waits for the processes to exit */
  stop (): Promise<void>
}
