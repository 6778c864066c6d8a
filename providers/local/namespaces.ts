/*
 * Namespaces created at run time (POST /system/namespace/), persisted in stateDir/namespaces.json.
 * Configured namespaces (context.namespaces) are not listed here; the router merges both. Updating
 * a configured namespace stores its labels and annotations.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { NamespaceStore } from '../../src/core/driver.ts'
import { conflict, invalid, notFound } from '../../src/core/errors.ts'
import type { FunctionNamespace } from '../../src/core/types.ts'
import { writeFileAtomic } from './atomic-file.ts'
import { KeyedMutex } from './mutex.ts'
import { assertSafeName } from './secrets.ts'
import { readJsonFile } from './state-store.ts'

function copy (ns: FunctionNamespace): FunctionNamespace {
  const out: FunctionNamespace = { name: ns.name }
  if (ns.labels !== undefined) out.labels = { ...ns.labels }
  if (ns.annotations !== undefined) out.annotations = { ...ns.annotations }
  return out
}

export class LocalNamespaceStore implements NamespaceStore {
  readonly file: string
  private readonly byName = new Map<string, FunctionNamespace>()
  private readonly configured: ReadonlySet<string>
  private readonly holdsFunctions: (namespace: string) => boolean
  private readonly mutex = new KeyedMutex()

  constructor (stateDir: string, configured: readonly string[], holdsFunctions: (namespace: string) => boolean) {
    this.file = join(stateDir, 'namespaces.json')
    this.configured = new Set(configured)
    this.holdsFunctions = holdsFunctions
  }

  async init (): Promise<void> {
    try {
      await stat(this.file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const data = await readJsonFile(this.file)
    if (!Array.isArray(data) || !data.every((n) => typeof n === 'object' && n !== null && typeof n.name === 'string')) {
      throw new Error(`local backend: state file ${this.file} is corrupt: expected an array of { name, labels?, annotations? }; fix or remove it`)
    }
    for (const ns of data as FunctionNamespace[]) this.byName.set(ns.name, copy(ns))
  }

  private async persist (): Promise<void> {
    const all = [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name))
    await writeFileAtomic(this.file, JSON.stringify(all, null, 2) + '\n', 0o600)
  }

  /** Serialises mutations and rolls the map back when the write fails. */
  private async mutate (change: () => (() => void)): Promise<void> {
    await this.mutex.run('all', async () => {
      const undo = change()
      try {
        await this.persist()
      } catch (err) {
        undo()
        throw err
      }
    })
  }

  has (name: string): boolean {
    return this.byName.has(name) || this.configured.has(name)
  }

  async list (): Promise<FunctionNamespace[]> {
    return [...this.byName.values()].filter((n) => !this.configured.has(n.name)).map(copy)
  }

  async get (name: string): Promise<FunctionNamespace> {
    const ns = this.byName.get(name)
    if (ns === undefined) throw notFound(`namespace "${name}" not found`)
    return copy(ns)
  }

  async create (ns: FunctionNamespace): Promise<void> {
    assertSafeName('namespace', ns.name)
    await this.mutate(() => {
      if (this.has(ns.name)) throw conflict(`namespace "${ns.name}" already exists`)
      this.byName.set(ns.name, copy(ns))
      return () => { this.byName.delete(ns.name) }
    })
  }

  async update (ns: FunctionNamespace): Promise<void> {
    await this.mutate(() => {
      if (!this.has(ns.name)) throw notFound(`namespace "${ns.name}" not found`)
      const before = this.byName.get(ns.name)
      this.byName.set(ns.name, copy(ns))
      return () => { if (before === undefined) this.byName.delete(ns.name); else this.byName.set(ns.name, before) }
    })
  }

  async remove (name: string): Promise<void> {
    await this.mutate(() => {
      const before = this.byName.get(name)
      if (before === undefined) {
        if (this.configured.has(name)) throw invalid(`namespace "${name}" comes from the configuration and cannot be removed here`)
        throw notFound(`namespace "${name}" not found`)
      }
      if (this.holdsFunctions(name)) throw invalid(`namespace "${name}" still holds functions; remove them first`)
      this.byName.delete(name)
      return () => { this.byName.set(name, before) }
    })
  }
}
