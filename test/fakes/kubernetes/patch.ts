/*
 * The two patch formats the fake accepts: JSON Patch (RFC 6902, application/json-patch+json) and
 * JSON Merge Patch (RFC 7386, application/merge-patch+json). Strategic merge patch is served as a
 * merge patch: the fake has no per-field merge keys (documented limitation).
 */

export class PatchError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

export function mergePatch (target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch)
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target)
    ? { ...(target as Record<string, unknown>) }
    : {}
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

function unescape (token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~')
}

function pointer (path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`)
  return path.slice(1).split('/').map(unescape)
}

/** The parent container and last key of a pointer; throws when the parent does not exist. */
function locate (doc: Json, tokens: string[]): { parent: Json, key: string } {
  let cur: Json = doc
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)] as Json
    else if (typeof cur === 'object' && cur !== null) cur = cur[t] as Json
    else cur = undefined as unknown as Json
    if (cur === undefined) throw new PatchError(`doc is missing path: /${tokens.join('/')}`)
  }
  return { parent: cur, key: tokens[tokens.length - 1] as string }
}

function get (doc: Json, tokens: string[]): Json | undefined {
  if (tokens.length === 0) return doc
  const { parent, key } = locate(doc, tokens)
  if (Array.isArray(parent)) return parent[Number(key)]
  if (typeof parent === 'object' && parent !== null) return Object.hasOwn(parent, key) ? parent[key] : undefined
  return undefined
}

export interface JsonPatchOp {
  op: string
  path: string
  value?: unknown
  from?: string
}

export function jsonPatch (target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations')
  let doc = structuredClone(target) as Json
  for (const raw of ops as JsonPatchOp[]) {
    const tokens = pointer(raw.path)
    const write = (value: Json): void => {
      if (tokens.length === 0) {
        doc = value
        return
      }
      const { parent, key } = locate(doc, tokens)
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key)
        if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new PatchError(`index out of range: ${raw.path}`)
        if (raw.op === 'replace') parent[i] = value
        else parent.splice(i, 0, value)
      } else if (typeof parent === 'object' && parent !== null) {
        if (raw.op === 'replace' && !Object.hasOwn(parent, key)) throw new PatchError(`replace operation does not apply: doc is missing key: ${raw.path}`)
        parent[key] = value
      } else {
        throw new PatchError(`doc is missing path: ${raw.path}`)
      }
    }
    const remove = (): void => {
      const { parent, key } = locate(doc, tokens)
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else if (typeof parent === 'object' && parent !== null && Object.hasOwn(parent, key)) delete parent[key]
      else throw new PatchError(`remove operation does not apply: doc is missing path: ${raw.path}`)
    }
    switch (raw.op) {
      case 'add':
      case 'replace':
        write(structuredClone(raw.value) as Json)
        break
      case 'remove':
        remove()
        break
      case 'test':
        if (JSON.stringify(get(doc, tokens)) !== JSON.stringify(raw.value)) throw new PatchError(`testing value ${raw.path} failed`)
        break
      case 'copy':
      case 'move': {
        const from = pointer(raw.from ?? '')
        const value = get(doc, from)
        if (value === undefined) throw new PatchError(`doc is missing from path: ${raw.from ?? ''}`)
        if (raw.op === 'move') {
          const { parent, key } = locate(doc, from)
          if (Array.isArray(parent)) parent.splice(Number(key), 1)
          else if (typeof parent === 'object' && parent !== null) delete parent[key]
        }
        write(structuredClone(value))
        break
      }
      default:
        throw new PatchError(`unexpected kind of operation: ${String(raw.op)}`)
    }
  }
  return doc
}
