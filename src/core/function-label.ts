/*
 * The `faas_function: NAME` label. faas-netes puts it on every function's pod template and so
 * reports it in GET /system/functions and /system/function/NAME; clients and OpenFaaS's own
 * conformance tests expect it there. It is the provider's, never the user's: deploy and update
 * drop it from the labels they are given (its value is always the function's name), and every
 * backend adds it to the statuses it reports. Pure, no dependencies.
 */

export const FUNCTION_LABEL = 'faas_function'

/** The user's labels without faas_function (undefined stays undefined). */
export function withoutFunctionLabel (labels: Record<string, string> | undefined): Record<string, string> | undefined {
  if (labels === undefined || !(FUNCTION_LABEL in labels)) return labels
  const out = { ...labels }
  delete out[FUNCTION_LABEL]
  return out
}

/** A status's labels as reported: the given ones plus faas_function = the function's name. */
export function withFunctionLabel (name: string, labels: Record<string, string> | undefined): Record<string, string> {
  return { ...(labels ?? {}), [FUNCTION_LABEL]: name }
}
