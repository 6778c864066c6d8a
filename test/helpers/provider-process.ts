/*
 * Starts the real provider process (src/main.ts, as `npm start` does, or another entry such as the
 * built bundle) on 127.0.0.1 with a free port, waits until it listens, and stops it when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/**
 * A generous bound on the start: loading a cloud SDK on a machine whose cores are busy with other
 * work has been seen to take over 15 s; a start that hangs still fails, only later.
 */
export const START_TIMEOUT_MS = 60_000

export interface ProviderProcess {
  url: string
  child: ChildProcess
  output: () => string
  /** resolves with the exit code (or signal) */
  exited: Promise<number | string>
}

export async function startProvider (t: Test, env: Record<string, string>, timeoutMs = START_TIMEOUT_MS): Promise<ProviderProcess> {
  return await startProviderProcess(t, {
    args: [path.join(repoRoot, 'src/main.ts')],
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', port: '0', ...env },
    timeoutMs
  })
}

/** Any provider entry (src/main.ts, or the bundle's dist/src/main.js) with exactly this env. */
export async function startProviderProcess (t: Test, opts: {
  args: string[]
  cwd: string
  env: Record<string, string>
  /** run as this uid and gid */
  uid?: number
  timeoutMs?: number
}): Promise<ProviderProcess> {
  const timeoutMs = opts.timeoutMs ?? START_TIMEOUT_MS
  const child = spawn(process.execPath, opts.args, {
    cwd: opts.cwd,
    env: opts.env,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
  })
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
    if (m !== null) return { url: m[1] as string, child, output: () => out, exited }
    if (child.exitCode !== null) throw new Error(`provider exited with ${child.exitCode} before listening:\n${out}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  child.kill('SIGKILL')
  throw new Error(`provider did not listen within ${timeoutMs} ms:\n${out}`)
}
