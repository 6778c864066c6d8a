/*
 * Start-up clean-up of what a crash (SIGKILL, OOM kill) of the provider can leave behind:
 *   - function processes: replicas run in their own process groups (detached), so they outlive a
 *     provider that dies without stopping them, keep their ports and run beside the new ones
 *     forever. Every process a backend spawns carries env FAAS_BRIDGE_OWNER (a hash of its state
 *     directory); the next start finds those left over in /proc and kills their groups. The tag is
 *     in the environment from the very first instruction, so no spawn is ever missed (a pid file
 *     written after spawn would miss a process forked just before the kill). Linux only.
 *   - in the state directory: temp files of atomic writes cut off before their rename, and the
 *     secret directories of functions whose remove was cut off after the state file went (copies
 *     of secret values that nothing uses any more).
 * Runs before the backend starts anything or writes there.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { removeTempFiles } from './atomic-file.ts'
import { signalGroup } from './process-group.ts'

/** the env var that marks a process as spawned by the local backend of one state directory */
export const OWNER_ENV = 'FAAS_BRIDGE_OWNER'
/** how long start-up waits for killed orphans to go (their ports are free then) */
export const REAP_WAIT_MS = 2000

/** The owner tag of a state directory: the same directory gives the same tag in every life. */
export function ownerTag (stateDir: string): string {
  return createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 24)
}

interface ProcInfo { pid: number, pgrp: number, state: string }

async function procStat (pid: number): Promise<ProcInfo | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'latin1')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { pid, pgrp: Number(f[2]), state: f[0] ?? '' }
  } catch {
    return undefined
  }
}

/** Live (non-zombie) processes whose environment holds OWNER_ENV=tag, this process excluded. */
export async function ownedProcesses (tag: string): Promise<ProcInfo[]> {
  if (process.platform !== 'linux') return []
  const needle = Buffer.from(`\0${OWNER_ENV}=${tag}\0`)
  const first = Buffer.from(`${OWNER_ENV}=${tag}\0`)
  const out: ProcInfo[] = []
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return []
  }
  for (const e of entries) {
    const c = e.charCodeAt(0)
    if (c < 48 || c > 57) continue
    const pid = Number(e)
    if (pid === process.pid) continue
    let environ: Buffer
    try {
      environ = await readFile(`/proc/${e}/environ`)
    } catch {
      continue // gone, or another user's
    }
    if (environ.indexOf(needle) === -1 && !environ.subarray(0, first.length).equals(first)) continue
    const info = await procStat(pid)
    if (info !== undefined && info.state !== 'Z' && info.state !== 'X') out.push(info)
  }
  return out
}

/**
 * Kills (SIGKILL, whole process group) every process an earlier life of this state directory left
 * running, and waits (bounded) until they are gone. Returns their pids.
 */
export async function reapOrphans (tag: string): Promise<number[]> {
  const found = await ownedProcesses(tag)
  const ownGroup = (await procStat(process.pid))?.pgrp
  for (const p of found) {
    if (p.pgrp > 1 && p.pgrp !== ownGroup) signalGroup(p.pgrp, 'SIGKILL')
    try {
      process.kill(p.pid, 'SIGKILL')
    } catch {}
  }
  const deadline = Date.now() + REAP_WAIT_MS
  while (found.length > 0 && Date.now() < deadline && (await ownedProcesses(tag)).length > 0) await sleep(10)
  return found.map((p) => p.pid)
}

async function subdirs (dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
}

export interface Swept {
  tempFiles: number
  staleMounts: string[]
}

/** `stored`: "namespace/name" of every function in the state. */
export async function sweepStateDir (stateDir: string, stored: ReadonlySet<string>): Promise<Swept> {
  let tempFiles = await removeTempFiles(stateDir)
  for (const top of ['functions', 'secrets']) {
    for (const ns of await subdirs(join(stateDir, top))) tempFiles += await removeTempFiles(join(stateDir, top, ns))
  }
  const staleMounts: string[] = []
  const mounts = join(stateDir, 'mounts')
  for (const ns of await subdirs(mounts)) {
    for (const fn of await subdirs(join(mounts, ns))) {
      if (stored.has(`${ns}/${fn}`)) {
        tempFiles += await removeTempFiles(join(mounts, ns, fn))
      } else {
        await rm(join(mounts, ns, fn), { recursive: true, force: true })
        staleMounts.push(`${ns}/${fn}`)
      }
    }
  }
  return { tempFiles, staleMounts }
}
