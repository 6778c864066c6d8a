/*
 * The Autoscaler timing the fake-clock tests share (ticks of 1 s, a 4 s window, 2 s up and 4 s
 * down stabilisation, at most 6 replicas): one place, so the tests read the same numbers.
 */
export const FAKE_CLOCK_TIMING = {
  modes: { here: 'scale' as const },
  intervalMs: 1000,
  windowMs: 4000,
  upStabilisationMs: 2000,
  downStabilisationMs: 4000,
  maxReplicas: 6,
  wakeTimeoutMs: 1000
}
