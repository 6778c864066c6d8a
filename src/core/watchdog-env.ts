/*
 * The classic OpenFaaS watchdog's names for request metadata in a forked process's environment,
 * shared by every backend that runs functions the watchdog way (local fork mode, Tekton steps).
 */

/** `x-call-id` → `X_Call_Id`: Go's canonical header key with "-" → "_" (prefix it with `Http_`). */
export function watchdogHeaderName (header: string): string {
  let out = ''
  let upper = true
  for (const ch of header) {
    if (ch === '-' || ch === '_') {
      out += '_'
      upper = true
    } else {
      out += upper ? ch.toUpperCase() : ch.toLowerCase()
      upper = false
    }
  }
  return out
}
