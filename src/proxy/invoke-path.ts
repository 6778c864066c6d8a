/*
 * Splits a raw request target `/function/NAME[.NAMESPACE][/sub/path][?query]` into the name
 * segment and what the function sees (`/` or `/sub/path`, plus `?` and the raw query, byte-exact).
 * Works on the raw URL so that the sub-path and query are never decoded and re-encoded.
 */

export const INVOKE_PREFIX = '/function/'

export interface InvokeTarget {
  /** the name segment as given (percent-decoded), may include `.namespace`; '' when missing */
  segment: string
  /** `/` or `/sub/path`, raw */
  path: string
  /** raw query without `?`, '' when none */
  query: string
  /** path + ('?' + query when the request had a `?`), raw */
  pathAndQuery: string
}

/** True for targets under /function/ (the upgrade hook's filter). */
export function isInvokeUrl (url: string | undefined): boolean {
  return url !== undefined && url.startsWith(INVOKE_PREFIX)
}

export function parseInvokeUrl (url: string): InvokeTarget {
  const start = INVOKE_PREFIX.length
  let end = start
  const len = url.length
  // the segment ends at the next '/' or '?'
  for (; end < len; end++) {
    const c = url.charCodeAt(end)
    if (c === 0x2f || c === 0x3f) break
  }
  let segment = url.slice(start, end)
  if (segment.includes('%')) {
    try {
      segment = decodeURIComponent(segment)
    } catch {
      // a malformed escape stays as given
    }
  }
  const q = url.indexOf('?', end)
  let path: string
  if (end < len && url.charCodeAt(end) === 0x2f) path = q === -1 ? url.slice(end) : url.slice(end, q)
  else path = '/'
  const query = q === -1 ? '' : url.slice(q + 1)
  const pathAndQuery = q === -1 ? path : `${path}?${query}`
  return { segment, path, query, pathAndQuery }
}
