/*
 * Server-side apply and field ownership for the fake API server, a bounded subset of what
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/ documents:
 *
 *  - every object carries metadata.managedFields: one entry per (manager, operation), operation
 *    'Apply' for apply patches and 'Update' for every other write (create, PUT, JSON/merge patch,
 *    the /scale subresource), fieldsType FieldsV1 ("Field management");
 *  - an Update takes ownership of the fields it changes, silently, from everyone else
 *    ("Conflicts": only apply requests can conflict);
 *  - an apply sets what it sends, owns exactly those fields afterwards, and removes the fields it
 *    owned before and omits now unless another manager also owns them ("Field management",
 *    "Merge strategy": "fields that were previously owned ... and are no longer in the
 *    configuration are removed");
 *  - applying a field another manager owns with a different value is a conflict: 409 with a Status
 *    of reason Conflict and one FieldManagerConflict cause per field; with force=true the applier
 *    takes the fields instead ("Conflicts", "Overriding conflicts"); the same value is shared
 *    ownership, no conflict;
 *  - status is a subresource: writes to the main resource never touch it, so it is not tracked
 *    here ("Status subresource" in API Concepts, https://kubernetes.io/docs/reference/using-api/api-concepts/).
 *
 * Simplified (said so): lists are atomic (owned whole, replaced whole) where the API server merges
 * associative lists such as containers and env by key; ownership is tracked per leaf path, so a
 * parent map and its keys are compared by path prefix; no apiVersion conversion of field sets;
 * managers of Update writes are the `fieldManager` parameter or the user agent's product token.
 */

type Path = string[]
type Obj = Record<string, unknown>

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: Obj
  subresource?: string
}

/** A 409 apply conflict, as the API server words it. */
export class ApplyConflict extends Error {
  readonly causes: Array<{ reason: 'FieldManagerConflict', message: string, field: string }>
  constructor (conflicts: Array<{ manager: string, apiVersion: string, field: string }>) {
    const parts = conflicts.map((c) => `conflict with "${c.manager}" using ${c.apiVersion}: ${c.field}`)
    super(`Apply failed with ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${parts.join('\n')}`)
    this.causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: c.field }))
  }
}

/** metadata fields the system sets; never owned */
const SYSTEM_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'selfLink'])

function isObj (v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** The owned leaf paths of an object: scalars, lists (atomic) and empty maps. */
export function leafPaths (obj: unknown): Path[] {
  const out: Path[] = []
  const walk = (v: unknown, at: Path): void => {
    if (isObj(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) {
        if (at.length === 0 && (k === 'apiVersion' || k === 'kind' || k === 'status')) continue
        if (at.length === 1 && at[0] === 'metadata' && SYSTEM_METADATA.has(k)) continue
        walk(child, [...at, k])
      }
    } else if (at.length > 0) {
      out.push(at)
    }
  }
  walk(obj, [])
  return out
}

function get (obj: unknown, path: Path): unknown {
  let cur = obj
  for (const k of path) {
    if (!isObj(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

function remove (obj: Obj, path: Path): void {
  let cur: unknown = obj
  for (const k of path.slice(0, -1)) {
    if (!isObj(cur)) return
    cur = cur[k]
  }
  if (isObj(cur)) delete cur[path[path.length - 1] as string]
}

function overlaps (a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

function same (a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function toFieldsV1 (paths: Path[]): Obj {
  const root: Obj = {}
  for (const p of paths) {
    let cur = root
    for (const k of p) {
      const key = `f:${k}`
      cur[key] ??= {}
      cur = cur[key] as Obj
    }
  }
  return root
}

function fromFieldsV1 (fields: Obj): Path[] {
  const out: Path[] = []
  const walk = (node: Obj, at: Path): void => {
    const keys = Object.keys(node).filter((k) => k.startsWith('f:'))
    if (keys.length === 0 && at.length > 0) out.push(at)
    for (const k of keys) walk(node[k] as Obj, [...at, k.slice(2)])
  }
  walk(fields, [])
  return out
}

interface Owner { entry: ManagedFieldsEntry, paths: Path[] }

function owners (obj: Obj | undefined): Owner[] {
  const entries = (get(obj, ['metadata', 'managedFields']) ?? []) as ManagedFieldsEntry[]
  return entries.map((entry) => ({ entry, paths: fromFieldsV1(entry.fieldsV1 ?? {}) }))
}

function entriesOf (list: Owner[]): ManagedFieldsEntry[] {
  return list.filter((o) => o.paths.length > 0).map((o) => ({ ...o.entry, fieldsV1: toFieldsV1(o.paths) }))
}

function now (): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function deepMerge (base: unknown, over: unknown): unknown {
  if (!isObj(base) || !isObj(over)) return structuredClone(over)
  const out: Obj = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v)
  return out
}

/**
 * The managedFields after a non-apply write by `manager`: it owns every field it changed (and
 * everything, on create); the others lose those fields.
 */
export function recordUpdate (before: Obj | undefined, after: Obj, manager: string, apiVersion: string, subresource?: string): ManagedFieldsEntry[] {
  const list = owners(before)
  const afterPaths = leafPaths(after)
  const changed = before === undefined
    ? afterPaths
    : [...afterPaths, ...leafPaths(before)].filter((p) => !same(get(before, p), get(after, p)))
  if (changed.length === 0) return entriesOf(list)
  for (const o of list) o.paths = o.paths.filter((p) => !changed.some((c) => overlaps(c, p)))
  let mine = list.find((o) => o.entry.manager === manager && o.entry.operation === 'Update' && o.entry.subresource === subresource)
  if (mine === undefined) {
    mine = { entry: { manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource !== undefined ? { subresource } : {}) }, paths: [] }
    list.push(mine)
  }
  mine.entry.time = now()
  const present = changed.filter((p) => get(after, p) !== undefined)
  mine.paths = [...mine.paths.filter((p) => !present.some((c) => overlaps(c, p))), ...present]
  return entriesOf(list)
}

/**
 * Applies `config` as `manager` onto `current` (undefined: the object is created). Returns the
 * merged object (without managedFields) and the new managedFields; throws ApplyConflict.
 */
export function apply (current: Obj | undefined, config: Obj, manager: string, force: boolean, apiVersion: string): { object: Obj, managedFields: ManagedFieldsEntry[] } {
  const list = owners(current)
  const applied = leafPaths(config)
  const isMine = (o: Owner): boolean => o.entry.manager === manager && o.entry.operation === 'Apply'
  const conflicts: Array<{ owner: Owner, path: Path }> = []
  for (const o of list) {
    if (isMine(o)) continue
    for (const owned of o.paths) {
      for (const p of applied) {
        if (!overlaps(owned, p)) continue
        // applying an empty map sets the map, not the keys under it that others own
        if (owned.length > p.length && isObj(get(config, p))) continue
        const at = owned.length >= p.length ? owned : p
        if (!same(get(current, at), get(config, at))) conflicts.push({ owner: o, path: owned })
      }
    }
  }
  if (conflicts.length > 0 && !force) {
    const seen = new Set<string>()
    throw new ApplyConflict(conflicts.filter((c) => {
      const k = `${c.owner.entry.manager}\u0000${c.path.join('.')}`
      return seen.has(k) ? false : (seen.add(k), true)
    }).map((c) => ({ manager: c.owner.entry.manager, apiVersion: c.owner.entry.apiVersion, field: '.' + c.path.join('.') })))
  }
  for (const c of conflicts) c.owner.paths = c.owner.paths.filter((p) => p !== c.path)
  let mine = list.find(isMine)
  const previously = mine?.paths ?? []
  const base = structuredClone(current ?? {}) as Obj
  if (isObj(base.metadata)) delete base.metadata.managedFields
  const object = deepMerge(base, config) as Obj
  // fields this manager owned and no longer applies go, unless someone else still owns them
  for (const p of previously) {
    if (applied.some((a) => overlaps(a, p) && (a.length >= p.length || !isObj(get(config, a))))) continue
    if (list.some((o) => !isMine(o) && o.paths.some((q) => overlaps(q, p)))) continue
    remove(object, p)
  }
  if (mine === undefined) {
    mine = { entry: { manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {} }, paths: [] }
    list.push(mine)
  }
  mine.entry.time = now()
  mine.paths = applied
  return { object, managedFields: entriesOf(list) }
}
