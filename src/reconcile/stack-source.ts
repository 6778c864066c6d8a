/*
 * A declarative source over stack files: one file, or every *.yml / *.yaml file of a directory (not
 * recursive, in name order). Re-read on each pass; watch() reports changes (fs.watch on the
 * directory, debounced) so an edit is applied without waiting for the resync period. A function
 * declared twice in one namespace is a problem on both entries, and neither is applied.
 */
import { watch as fsWatch, type FSWatcher } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import type { DeclarativeSource, DesiredFunction, DesiredState, SourceProblem } from './desired.ts'
import { parseStackFile } from './stack-file.ts'

/** a burst of writes (an editor's save, a git checkout) becomes one pass */
export const WATCH_DEBOUNCE_MS = 200

export interface StackSourceOptions {
  /** a stack file or a directory of them */
  path: string
  /** short id stored on the functions (default: stack:BASENAME) */
  id?: string
  prune: boolean
  defaultNamespace: string
}

const isStackFile = (name: string): boolean => /\.ya?ml$/.test(name) && !name.startsWith('.')

export function stackSource (opts: StackSourceOptions): DeclarativeSource {
  const target = path.resolve(opts.path)
  const id = opts.id ?? `stack:${path.basename(target)}`
  const ctx = { defaultNamespace: opts.defaultNamespace, readFile: async (f: string) => await readFile(f, 'utf8') }

  async function files (): Promise<{ files: string[], dir: string }> {
    const info = await stat(target)
    if (!info.isDirectory()) return { files: [target], dir: path.dirname(target) }
    const names = (await readdir(target)).filter(isStackFile).sort()
    return { files: names.map((n) => path.join(target, n)), dir: target }
  }

  return {
    id,
    prune: opts.prune,
    async read (): Promise<DesiredState> {
      let list: string[]
      try {
        list = (await files()).files
      } catch (err) {
        const message = `${opts.path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
        return { functions: [], problems: [{ where: opts.path, message }], declared: new Set(), complete: false }
      }
      const functions: DesiredFunction[] = []
      const problems: SourceProblem[] = []
      const declared = new Set<string>()
      let complete = true
      for (const file of list) {
        let text: string
        try {
          text = await readFile(file, 'utf8')
        } catch (err) {
          problems.push({ where: path.basename(file), message: `${path.basename(file)}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
          complete = false
          continue
        }
        const r = await parseStackFile(file, text, ctx)
        functions.push(...r.functions)
        problems.push(...r.problems)
        for (const name of r.declared) declared.add(name)
        if (!r.readable) complete = false
      }
      // one declaration per function and namespace
      const byKey = new Map<string, DesiredFunction[]>()
      for (const fn of functions) {
        const key = `${fn.namespace}/${fn.spec.service}`
        byKey.set(key, [...(byKey.get(key) ?? []), fn])
      }
      const unique: DesiredFunction[] = []
      for (const [key, fns] of byKey) {
        if (fns.length === 1) { unique.push(fns[0] as DesiredFunction); continue }
        for (const fn of fns) {
          problems.push({ where: fn.where, message: `${fn.where}: function ${key} is declared ${fns.length} times (${fns.map((f) => f.where).join(', ')}); none of them is applied` })
        }
      }
      return { functions: unique, problems, declared, complete }
    },
    watch (onChange: () => void): () => void {
      let watcher: FSWatcher | undefined
      let timer: NodeJS.Timeout | undefined
      let stopped = false
      const fire = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        timer = setTimeout(() => { timer = undefined; if (!stopped) onChange() }, WATCH_DEBOUNCE_MS)
        timer.unref()
      }
      files().then(({ dir }) => {
        if (stopped) return
        try {
          watcher = fsWatch(dir, { persistent: false }, fire)
          watcher.on('error', () => { watcher?.close() }) // the resync still re-reads
        } catch {}
      }, () => {})
      return () => {
        stopped = true
        watcher?.close()
        if (timer !== undefined) clearTimeout(timer)
      }
    }
  }
}
