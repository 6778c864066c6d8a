/*
 * Child processes in their own process group: spawned detached so that stopping one signals the
 * whole tree (SIGTERM, then SIGKILL after a grace period) and waits for it to go away.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'

/** A command line (argv) that runs `envProcess` the way the function expects. */
export interface Command {
  file: string
  args: string[]
}

export function spawnGroup (cmd: Command, env: NodeJS.ProcessEnv, stdin: 'pipe' | 'ignore'): ChildProcess {
  const options: SpawnOptions = { env, detached: true, stdio: [stdin, 'pipe', 'pipe'] }
  return spawn(cmd.file, cmd.args, options)
}

function groupSignalable (pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Whether the group still has a member that is not a zombie. kill(-pgid, 0) alone also counts
 * zombies, and orphans reparented to an init that reaps lazily stay zombies for a while; on Linux
 * /proc tells the states apart.
 */
async function groupAlive (pid: number): Promise<boolean> {
  if (!groupSignalable(pid)) return false
  if (process.platform !== 'linux') return true
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return true
  }
  for (const e of entries) {
    if (e.charCodeAt(0) < 48 || e.charCodeAt(0) > 57) continue
    let stat: string
    try {
      stat = await readFile(`/proc/${e}/stat`, 'latin1')
    } catch {
      continue
    }
    // pid (comm) state ppid pgrp ...; comm may contain spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(fields[2]) === pid && fields[0] !== 'Z' && fields[0] !== 'X') return true
  }
  return false
}

/**
 * Whether a process has died, including the moment between its death and Node reaping it (a
 * zombie still answers kill(pid, 0)); on Linux /proc tells, elsewhere kill(pid, 0) is all there is.
 */
export function processDead (pid: number): boolean {
  if (process.platform === 'linux') {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    } catch {
      return true
    }
    const state = stat.charAt(stat.lastIndexOf(')') + 2)
    return state === 'Z' || state === 'X'
  }
  try {
    process.kill(pid, 0)
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM'
  }
}

export function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // the group is gone already
  }
}

/** Resolves when `child` has exited (at once if it already has). */
export function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => { child.once('exit', () => { resolve() }) })
}

/** Resolves when `child` exits or after `ms`, whichever is first (the timer never lingers). */
function exitedWithin (child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    exited(child).then(() => { clearTimeout(timer); resolve() }, () => {})
  })
}

/**
 * SIGTERM to the group, SIGKILL after `graceMs`, then wait (bounded) until the group is empty.
 * Orphaned members that nobody reaps stay zombies; the final wait is bounded for that reason.
 */
export async function stopGroup (child: ChildProcess, graceMs: number): Promise<void> {
  const pid = child.pid
  if (pid === undefined) return
  signalGroup(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  await exitedWithin(child, graceMs)
  while (await groupAlive(pid) && Date.now() < deadline) await sleep(20)
  if (await groupAlive(pid) || (child.exitCode === null && child.signalCode === null)) {
    signalGroup(pid, 'SIGKILL')
    await exitedWithin(child, 1000)
    for (let i = 0; i < 25 && await groupAlive(pid); i++) await sleep(20)
  }
}
