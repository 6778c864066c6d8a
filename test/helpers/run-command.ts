/*
 * Runs a command to completion for tests that build or start something in a subprocess: output
 * collected, the test's Node first on PATH (npm scripts then run on it), killed after a bound.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'

export interface CommandResult {
  code: number | null
  stdout: string
  stderr: string
  /** stdout and stderr interleaved as they arrived */
  out: string
}

export async function runCommand (cmd: string, args: string[], opts: {
  cwd: string
  timeoutMs: number
  /** the whole environment (default: this process's); PATH gets the test's Node prepended */
  env?: NodeJS.ProcessEnv
}): Promise<CommandResult> {
  const env = opts.env ?? process.env
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { ...env, PATH: `${path.dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}` },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const r: CommandResult = { code: null, stdout: '', stderr: '', out: '' }
  child.stdout.on('data', (d: Buffer) => { r.stdout += d.toString(); r.out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { r.stderr += d.toString(); r.out += d.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, opts.timeoutMs)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  r.code = code
  return r
}
