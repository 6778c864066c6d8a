/*
 * Secrets: the SecretStore (stateDir/secrets/<namespace>/<name>, raw bytes, files 0600 in 0700
 * directories) and the per-function secret directories (stateDir/mounts/<namespace>/<function>/)
 * that functions read, bind-mounted on /var/openfaas/secrets or announced in secret_mount_path.
 * Values are never logged. Every secret in stateDir/secrets was created through this store: the
 * directory is the backend's private state (0700), not a store other tools share, so there is no
 * "secret the provider did not create" to guard against here (unlike Kubernetes, Secrets Manager
 * or Secret Manager, where the managed label or tag tells them apart).
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SecretInput, SecretStore } from '../../src/core/driver.ts'
import { conflict, invalid, notFound } from '../../src/core/errors.ts'
import type { SecretInfo } from '../../src/core/types.ts'
import { ensureDir, removeFileDurable, writeFileAtomic } from './atomic-file.ts'
import { KeyedMutex } from './mutex.ts'

const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/

/** Secret and namespace names become file names: refuse anything that could escape the dir. */
export function assertSafeName (kind: string, name: string): void {
  if (!SAFE_NAME.test(name) || name.length > 253) throw invalid(`${kind} name "${name}" is not valid here`)
}

async function exists (file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

export type SecretChanged = (namespace: string, name: string) => Promise<void>

export class LocalSecretStore implements SecretStore {
  readonly dir: string
  private readonly mutex = new KeyedMutex()
  private readonly onChange: SecretChanged

  constructor (stateDir: string, onChange: SecretChanged) {
    this.dir = join(stateDir, 'secrets')
    this.onChange = onChange
  }

  async init (): Promise<void> {
    await ensureDir(this.dir, 0o700)
  }

  private file (namespace: string, name: string): string {
    assertSafeName('namespace', namespace)
    assertSafeName('secret', name)
    return join(this.dir, namespace, name)
  }

  async list (namespace: string): Promise<SecretInfo[]> {
    assertSafeName('namespace', namespace)
    let names: string[]
    try {
      names = await readdir(join(this.dir, namespace))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    return names.filter((n) => !n.startsWith('.')).sort().map((name) => ({ name, namespace }))
  }

  async has (namespace: string, name: string): Promise<boolean> {
    return await exists(this.file(namespace, name))
  }

  /** The value, or undefined when there is no such secret. */
  async read (namespace: string, name: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.file(namespace, name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  async create (secret: SecretInput): Promise<void> {
    const file = this.file(secret.namespace, secret.name)
    await this.mutex.run(file, async () => {
      if (await exists(file)) throw conflict(`secret "${secret.name}" already exists in namespace "${secret.namespace}"`)
      await ensureDir(join(this.dir, secret.namespace), 0o700)
      await writeFileAtomic(file, secret.value, 0o600)
    })
    await this.onChange(secret.namespace, secret.name)
  }

  async update (secret: SecretInput): Promise<void> {
    const file = this.file(secret.namespace, secret.name)
    await this.mutex.run(file, async () => {
      if (!await exists(file)) throw notFound(`secret "${secret.name}" not found in namespace "${secret.namespace}"`)
      await writeFileAtomic(file, secret.value, 0o600)
    })
    await this.onChange(secret.namespace, secret.name)
  }

  async remove (namespace: string, name: string): Promise<void> {
    const file = this.file(namespace, name)
    await this.mutex.run(file, async () => {
      if (!await removeFileDurable(file)) throw notFound(`secret "${name}" not found in namespace "${namespace}"`)
    })
    // functions keep the copy they have, as a running Kubernetes pod keeps its mounted secret
  }
}

/** The per-function directories of secret files. */
export class FunctionSecretDirs {
  readonly dir: string
  private readonly store: LocalSecretStore

  constructor (stateDir: string, store: LocalSecretStore) {
    this.dir = join(stateDir, 'mounts')
    this.store = store
  }

  pathOf (namespace: string, name: string): string {
    return join(this.dir, namespace, name)
  }

  /** Names in `secrets` that do not exist in `namespace`. */
  async missing (namespace: string, secrets: readonly string[]): Promise<string[]> {
    const out: string[] = []
    for (const s of secrets) if (!await this.store.has(namespace, s)) out.push(s)
    return out
  }

  /**
   * Makes the function's directory hold exactly its secrets. Files are replaced atomically in
   * place: the directory itself is never recreated, so a running bind mount keeps seeing it.
   */
  async materialize (namespace: string, name: string, secrets: readonly string[]): Promise<void> {
    const dir = this.pathOf(namespace, name)
    await ensureDir(dir, 0o700)
    const wanted = new Set(secrets)
    for (const s of wanted) {
      const value = await this.store.read(namespace, s)
      if (value !== undefined) await writeFileAtomic(join(dir, s), value, 0o600)
    }
    for (const f of await readdir(dir)) {
      if (!f.startsWith('.') && !wanted.has(f)) await removeFileDurable(join(dir, f))
    }
  }

  /** Rewrites one secret's file in the function's directory (after a secret update). */
  async refresh (namespace: string, name: string, secret: string): Promise<void> {
    const value = await this.store.read(namespace, secret)
    if (value === undefined) return
    const dir = this.pathOf(namespace, name)
    await ensureDir(dir, 0o700)
    await writeFileAtomic(join(dir, secret), value, 0o600)
  }

  async remove (namespace: string, name: string): Promise<void> {
    await rm(this.pathOf(namespace, name), { recursive: true, force: true })
  }
}
