/*
 * Label selectors as the API server parses them (?labelSelector=): equality (`a=b`, `a==b`,
 * `a!=b`), set-based (`a in (x,y)`, `a notin (x)`), existence (`a`, `!a`), comma = AND.
 */

export type Requirement =
  | { op: 'eq' | 'neq', key: string, value: string }
  | { op: 'in' | 'notin', key: string, values: string[] }
  | { op: 'exists' | 'notexists', key: string }

const SET = /^\s*([^\s!=(),]+)\s+(in|notin)\s+\(([^)]*)\)\s*$/
const EQ = /^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$/
const EXISTS = /^\s*(!?)\s*([^\s!=(),]+)\s*$/

/** Splits on commas that are not inside parentheses. */
function splitTerms (text: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else {
      cur += ch
    }
  }
  out.push(cur)
  return out.filter((t) => t.trim() !== '')
}

/** Throws with the API server's wording when the selector cannot be parsed. */
export function parseSelector (text: string | null | undefined): Requirement[] {
  if (text === null || text === undefined || text.trim() === '') return []
  return splitTerms(text).map((term): Requirement => {
    let m = SET.exec(term)
    if (m !== null) {
      return { op: m[2] as 'in' | 'notin', key: m[1] as string, values: (m[3] as string).split(',').map((v) => v.trim()).filter((v) => v !== '') }
    }
    m = EQ.exec(term)
    if (m !== null) return { op: m[2] === '!=' ? 'neq' : 'eq', key: m[1] as string, value: m[3] as string }
    m = EXISTS.exec(term)
    if (m !== null) return { op: m[1] === '!' ? 'notexists' : 'exists', key: m[2] as string }
    throw new Error(`unable to parse requirement: ${term}`)
  })
}

export function matches (reqs: readonly Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key)
    const v = l[r.key]
    switch (r.op) {
      case 'eq': return has && v === r.value
      case 'neq': return !has || v !== r.value
      case 'in': return has && r.values.includes(v as string)
      case 'notin': return !has || !r.values.includes(v as string)
      case 'exists': return has
      case 'notexists': return !has
    }
    return false
  })
}

/** A selector object ({matchLabels}) as a label map matcher (services, deployments). */
export function matchesMap (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (selector === undefined || Object.keys(selector).length === 0) return false
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v)
}
