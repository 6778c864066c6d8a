/*
 * Durable file writes: write a temp file in the same directory, fsync it, rename it over the
 * target, fsync the directory. When the promise resolves the bytes survive a crash; readers never
 * see a half-written file. Temp files start with "." so directory listings can skip them.
 */
import { randomBytes } from 'node:crypto'
import { chmod, mkdir, open, readdir, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export async function fsyncDir (dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

/** mkdir -p with a mode; an existing directory is brought to that mode. */
export async function ensureDir (dir: string, mode: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode })
  await chmod(dir, mode)
}

export async function writeFileAtomic (file: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const dir = dirname(file)
  const tmp = join(dir, `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', mode)
  try {
    try {
      await fh.writeFile(data)
      await fh.chmod(mode) // the umask may have narrowed or the caller wants exactly this
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, file)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fsyncDir(dir)
}

/** Removes `file` durably; false when it did not exist. */
export async function removeFileDurable (file: string): Promise<boolean> {
  try {
    await unlink(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
  await fsyncDir(dirname(file))
  return true
}

/** what writeFileAtomic names its temp files: `.<name>.<12 hex>.tmp` */
const TEMP_FILE = /^\..+\.[0-9a-f]{12}\.tmp$/

/**
 * Removes the temp files a crash left in `dir` (a write cut off between open and rename). Call it
 * only while nothing writes there (start-up). Returns how many it removed; a missing dir is empty.
 */
export async function removeTempFiles (dir: string): Promise<number> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return 0
    throw err
  }
  let removed = 0
  for (const name of names) {
    if (!TEMP_FILE.test(name)) continue
    await unlink(join(dir, name)).catch(() => {})
    removed++
  }
  return removed
}
