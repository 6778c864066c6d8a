/*
 * Persistence of deployments under stateDir/functions/<namespace>/<name>.json: the spec as
 * deployed, the desired replica count and the creation time. Every write is atomic and durable
 * before its promise resolves; a file that cannot be read back is an error naming the file.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { FunctionDeployment } from '../../src/core/types.ts'
import { ensureDir, removeFileDurable, writeFileAtomic } from './atomic-file.ts'

export type Deployment = FunctionDeployment & { namespace: string }

export interface StoredFunction {
  spec: Deployment
  replicas: number
  createdAt: string
}

const FILE_VERSION = 1

function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reads and parses a JSON state file; the error names the file and says what is wrong. */
export async function readJsonFile (file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8')
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`local backend: state file ${file} is corrupt (${(err as Error).message}); fix or remove it`, { cause: err })
  }
}

export class StateStore {
  readonly dir: string

  constructor (stateDir: string) {
    this.dir = join(stateDir, 'functions')
  }

  async init (): Promise<void> {
    await ensureDir(this.dir, 0o700)
  }

  private file (namespace: string, name: string): string {
    return join(this.dir, namespace, `${name}.json`)
  }

  async save (fn: StoredFunction): Promise<void> {
    const nsDir = join(this.dir, fn.spec.namespace)
    await ensureDir(nsDir, 0o700)
    const body = JSON.stringify({ version: FILE_VERSION, ...fn }, null, 2) + '\n'
    await writeFileAtomic(this.file(fn.spec.namespace, fn.spec.service), body, 0o600)
  }

  async delete (namespace: string, name: string): Promise<void> {
    await removeFileDurable(this.file(namespace, name))
  }

  /** Every stored deployment; throws naming the file when one is corrupt. */
  async loadAll (): Promise<StoredFunction[]> {
    const out: StoredFunction[] = []
    for (const ns of await readdir(this.dir, { withFileTypes: true })) {
      if (!ns.isDirectory() || ns.name.startsWith('.')) continue
      for (const entry of await readdir(join(this.dir, ns.name))) {
        if (entry.startsWith('.') || !entry.endsWith('.json')) continue
        const file = join(this.dir, ns.name, entry)
        out.push(parseStoredFunction(file, await readJsonFile(file)))
      }
    }
    return out
  }
}

function parseStoredFunction (file: string, data: unknown): StoredFunction {
  const bad = (what: string): Error => new Error(`local backend: state file ${file} is corrupt: ${what}; fix or remove it`)
  if (!isRecord(data)) throw bad('not a JSON object')
  const { spec, replicas, createdAt } = data
  if (!isRecord(spec) || typeof spec.service !== 'string' || typeof spec.namespace !== 'string' || typeof spec.image !== 'string') {
    throw bad('"spec" must hold service, namespace and image')
  }
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) throw bad('"replicas" must be an integer >= 0')
  if (typeof createdAt !== 'string' || Number.isNaN(Date.parse(createdAt))) throw bad('"createdAt" must be an RFC3339 time')
  return { spec: spec as unknown as Deployment, replicas, createdAt }
}
