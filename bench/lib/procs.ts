/*
 * Child processes for benchmarks: each server under test runs in its own Node process (its own
 * event loop and CPU), announces `READY <port>` on stdout, and is killed when the bench ends,
 * however it ends (normal exit, error, Ctrl-C).
 */
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'

export interface Child {
  port: number
  process: ChildProcess
  /** user+system CPU seconds the process has used so far (Linux /proc; NaN elsewhere) */
  cpuSeconds (): number
  stop (): Promise<void>
}

const CLOCK_TICKS = 100 // USER_HZ on Linux

/** utime+stime of a process from /proc/PID/stat, in seconds. */
export function cpuSecondsOf (pid: number | undefined): number {
  if (pid === undefined) return Number.NaN
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return Number.NaN
  }
}

const running = new Set<ChildProcess>()

/** Kills `child` (SIGKILL) if it is still running when the bench process exits, however it exits. */
export function track (child: ChildProcess): () => void {
  running.add(child)
  return () => { running.delete(child) }
}

let taskset: boolean | undefined
/** taskset (util-linux) pins processes to CPUs so that servers and load generator do not trade cores. */
export function hasTaskset (): boolean {
  if (taskset === undefined) {
    try {
      execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
      taskset = true
    } catch {
      taskset = false
    }
  }
  return taskset
}

function killAll (): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}
process.once('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(130)
  })
}

/** Starts `node script args...` and resolves once it prints `READY <port>`. */
export async function startChild (
  script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}, cpus?: string
): Promise<Child> {
  const argv = [process.execPath, script, ...args]
  if (cpus !== undefined && hasTaskset()) argv.unshift('taskset', '-c', cpus)
  const child = spawn(argv[0] as string, argv.slice(1), {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env }
  })
  running.add(child)
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const timer = setTimeout(() => { reject(new Error(`${script} did not start within 15 s`)) }, 15_000)
    lines.on('line', (line) => {
      const m = /^READY (\d+)$/.exec(line)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${script} exited with ${String(code)} before it was ready`))
    })
  })
  return {
    port,
    process: child,
    cpuSeconds: () => cpuSecondsOf(child.pid),
    async stop (): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) {
        running.delete(child)
        return
      }
      const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
      child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 3_000)
      await exited
      clearTimeout(timer)
      running.delete(child)
    }
  }
}
