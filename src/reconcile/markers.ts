/*
 * The annotations the reconciler puts on every function it deploys. Pure, no dependencies: the
 * dashboard's bundle imports them too (it shows such functions read-only).
 */

/** which declarative source manages the function (shown by /system/functions and faas-cli describe) */
export const SOURCE_ANNOTATION = 'reconcile.faas-bridge.dev/source'
/** hash of the declared spec the function was last deployed from */
export const SPEC_HASH_ANNOTATION = 'reconcile.faas-bridge.dev/spec-hash'
