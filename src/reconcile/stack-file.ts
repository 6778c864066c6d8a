/*
 * A faas-cli stack file (stack.yml) read as the declaration of the functions it lists: the deploy-time
 * fields of faas-cli's schema (image, fprocess, environment, environment_file, secrets, labels,
 * annotations, constraints, limits, requests, readonly_root_filesystem, namespace). Build-time fields
 * (lang, handler, build_options, ...) are ignored, as `faas-cli deploy` ignores them. The file is
 * applied as written: no ${VAR} substitution from the provider's environment (it holds credentials).
 * Every entry is checked on its own; a bad one becomes a problem naming its key, the others stand.
 */
import path from 'node:path'
import { isProviderError } from '../core/errors.ts'
import { lazyRequire } from '../core/lazy-require.ts'
import type { FunctionDeployment, FunctionResources } from '../core/types.ts'
import { normaliseDeployment } from '../core/validate.ts'
import type { DesiredFunction, SourceProblem } from './desired.ts'

const yaml = lazyRequire<typeof import('yaml')>('yaml')

/** keys of a function entry faas-cli knows at build time only */
const BUILD_KEYS = new Set(['lang', 'handler', 'skip_build', 'build_options', 'build_args', 'platforms', 'registry_auth'])
const DEPLOY_KEYS = new Set(['image', 'fprocess', 'environment', 'environment_file', 'secrets', 'labels', 'annotations',
  'constraints', 'limits', 'requests', 'readonly_root_filesystem', 'namespace'])

export interface StackFileResult {
  functions: DesiredFunction[]
  problems: SourceProblem[]
  /** every entry's name, good or bad */
  declared: string[]
  /** false when the file itself could not be read or parsed */
  readable: boolean
}

export interface StackFileContext {
  /** the namespace of entries that name none */
  defaultNamespace: string
  /** reads an environment_file (relative to the stack file) */
  readFile: (file: string) => Promise<string>
}

/** a bad entry: its message names the key (shared with the Function resource source) */
export class EntryError extends Error {}

export function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** YAML scalars become strings, as faas-cli's map[string]string does (numbers, booleans) */
export function scalar (where: string, v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  throw new EntryError(`${where}: expected a string, got ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}`)
}

export function stringMap (where: string, v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined
  if (!isRecord(v)) throw new EntryError(`${where}: expected a mapping of names to strings`)
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scalar(`${where}.${k}`, x)]))
}

export function stringList (where: string, v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) throw new EntryError(`${where}: expected a list of strings`)
  return v.map((x, i) => scalar(`${where}[${i}]`, x))
}

export function resources (where: string, v: unknown): FunctionResources | undefined {
  if (v === undefined || v === null) return undefined
  if (!isRecord(v)) throw new EntryError(`${where}: expected a mapping with memory and/or cpu`)
  const out: FunctionResources = {}
  for (const [k, x] of Object.entries(v)) {
    if (k !== 'memory' && k !== 'cpu') throw new EntryError(`${where}.${k}: unknown key (expected memory, cpu)`)
    const s = scalar(`${where}.${k}`, x)
    if (s !== '') out[k] = s
  }
  return Object.keys(out).length > 0 ? out : undefined
}

async function environmentFiles (where: string, v: unknown, stackFile: string, ctx: StackFileContext): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [i, name] of (stringList(where, v) ?? []).entries()) {
    const file = path.resolve(path.dirname(stackFile), name)
    let doc: unknown
    try {
      doc = yaml().parse(await ctx.readFile(file))
    } catch (err) {
      throw new EntryError(`${where}[${i}]: cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    if (!isRecord(doc) || !isRecord(doc.environment)) throw new EntryError(`${where}[${i}]: ${name} has no "environment" mapping`)
    Object.assign(out, stringMap(`${name}: environment`, doc.environment))
  }
  return out
}

async function entry (name: string, raw: unknown, where: string, file: string, ctx: StackFileContext): Promise<DesiredFunction> {
  if (!isRecord(raw)) throw new EntryError(`${where}: expected a mapping`)
  for (const key of Object.keys(raw)) {
    if (!DEPLOY_KEYS.has(key) && !BUILD_KEYS.has(key)) throw new EntryError(`${where}.${key}: unknown key`)
  }
  // environment_file entries first, then environment (faas-cli: the files override in order, inline wins)
  const fromFiles = await environmentFiles(`${where}.environment_file`, raw.environment_file, file, ctx)
  const env = { ...fromFiles, ...stringMap(`${where}.environment`, raw.environment) }
  const namespace = raw.namespace === undefined || raw.namespace === null || raw.namespace === '' ? ctx.defaultNamespace : scalar(`${where}.namespace`, raw.namespace)
  return {
    namespace,
    spec: declaredSpec(where, {
      name, image: raw.image, fprocess: raw.fprocess, envVars: env, secrets: raw.secrets, constraints: raw.constraints, labels: raw.labels,
      annotations: raw.annotations, limits: raw.limits, requests: raw.requests, readOnlyRootFilesystem: raw.readonly_root_filesystem
    }, { fprocess: 'fprocess', readOnlyRootFilesystem: 'readonly_root_filesystem' }),
    where
  }
}

/** The deploy-time fields of a declaration, as parsed YAML/JSON, under their schema-neutral names. */
export interface DeclaredFields {
  name: string
  image: unknown
  fprocess: unknown
  envVars: Record<string, string>
  secrets: unknown
  constraints: unknown
  labels: unknown
  annotations: unknown
  limits: unknown
  requests: unknown
  readOnlyRootFilesystem: unknown
}

/**
 * The FunctionDeployment the fields declare, checked as the API checks a deploy body; `keys` gives
 * the schema's own names of the fields whose name differs (for messages). Throws EntryError.
 */
export function declaredSpec (where: string, f: DeclaredFields, keys: { fprocess: string, readOnlyRootFilesystem: string }): FunctionDeployment {
  if (f.image === undefined || f.image === null || f.image === '') throw new EntryError(`${where}.image: required`)
  const ro = f.readOnlyRootFilesystem
  if (ro !== undefined && ro !== null && typeof ro !== 'boolean') throw new EntryError(`${where}.${keys.readOnlyRootFilesystem}: expected true or false`)
  const spec: FunctionDeployment = {
    service: f.name,
    image: scalar(`${where}.image`, f.image),
    ...(f.fprocess !== undefined && f.fprocess !== null ? { envProcess: scalar(`${where}.${keys.fprocess}`, f.fprocess) } : {}),
    ...(Object.keys(f.envVars).length > 0 ? { envVars: f.envVars } : {})
  }
  const secrets = stringList(`${where}.secrets`, f.secrets)
  if (secrets !== undefined && secrets.length > 0) spec.secrets = secrets
  const constraints = stringList(`${where}.constraints`, f.constraints)
  if (constraints !== undefined && constraints.length > 0) spec.constraints = constraints
  const labels = stringMap(`${where}.labels`, f.labels)
  if (labels !== undefined && Object.keys(labels).length > 0) spec.labels = labels
  const annotations = stringMap(`${where}.annotations`, f.annotations)
  if (annotations !== undefined && Object.keys(annotations).length > 0) spec.annotations = annotations
  const limits = resources(`${where}.limits`, f.limits)
  if (limits !== undefined) spec.limits = limits
  const requests = resources(`${where}.requests`, f.requests)
  if (requests !== undefined) spec.requests = requests
  if (ro === true) spec.readOnlyRootFilesystem = true
  try {
    // the checks the API makes on a deploy body (name, image, scale labels, secret names)
    return normaliseDeployment(spec)
  } catch (err) {
    if (isProviderError(err)) throw new EntryError(`${where}: ${err.message}`)
    throw err
  }
}

/** Parses one stack file's text; `file` names it in messages and anchors environment_file paths. */
export async function parseStackFile (file: string, text: string, ctx: StackFileContext): Promise<StackFileResult> {
  const label = path.basename(file)
  let doc: unknown
  try {
    doc = yaml().parse(text)
  } catch (err) {
    return { functions: [], problems: [{ where: label, message: `${label}: not valid YAML: ${(err as Error).message}` }], declared: [], readable: false }
  }
  if (doc === null || doc === undefined) return { functions: [], problems: [], declared: [], readable: true } // an empty file declares nothing
  if (!isRecord(doc)) return { functions: [], problems: [{ where: label, message: `${label}: expected a stack file (a mapping with "functions")` }], declared: [], readable: false }
  const fns = doc.functions ?? {}
  if (!isRecord(fns)) return { functions: [], problems: [{ where: `${label}: functions`, message: `${label}: functions: expected a mapping of function name → function` }], declared: [], readable: false }
  const functions: DesiredFunction[] = []
  const problems: SourceProblem[] = []
  for (const [name, raw] of Object.entries(fns)) {
    const where = `${label}: functions.${name}`
    try {
      functions.push(await entry(name, raw, where, file, ctx))
    } catch (err) {
      if (!(err instanceof EntryError)) throw err
      problems.push({ where, message: err.message })
    }
  }
  return { functions, problems, declared: Object.keys(fns), readable: true }
}
