/*
 * How a function process sees its secrets at /var/openfaas/secrets, as on every OpenFaaS provider.
 * 'namespace': as root on Linux, the process starts in a private mount namespace
 * (util-linux `unshare --mount --propagation private`) where its secrets directory is bind-mounted
 * read-only on the mount path. 'env': no mount; the function's directory is announced in env
 * secret_mount_path (what the OpenFaaS SDKs read). secret_mount_path is set in both modes.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ensureDir } from './atomic-file.ts'
import type { SecretsMount } from './options.ts'
import type { Command } from './process-group.ts'

const run = promisify(execFile)

// $1 = function's secret dir, $2 = mount point, $3 = envProcess
const MOUNT_SCRIPT = 'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && exec /bin/sh -c "$3"'

export interface SecretMounter {
  readonly mode: 'namespace' | 'env'
  /** what the function is told in secret_mount_path */
  mountPath (functionDir: string): string
  /** the argv that runs `envProcess` with the secrets in place */
  command (envProcess: string, functionDir: string, hasSecrets: boolean): Command
}

/**
 * A simple command (words and quotes, no operators, expansions or redirections) is exec'd by the
 * shell instead of forked from it: one process less per call in fork mode.
 */
const SIMPLE_COMMAND = /^[\w\s'"./=:,@%+-]+$/
export function shellCommand (envProcess: string): string {
  const firstWord = envProcess.trim().split(/\s+/, 1)[0] ?? ''
  // `A=b cmd` would make exec run a command named "A=b"
  return SIMPLE_COMMAND.test(envProcess) && !firstWord.includes('=') ? `exec ${envProcess}` : envProcess
}

/**
 * The argv of a simple command (see SIMPLE_COMMAND: words, '…' and "…" quotes, nothing the shell
 * would expand), so it can be spawned without a shell at all; undefined when the shell is needed.
 */
export function simpleArgv (envProcess: string): string[] | undefined {
  if (!SIMPLE_COMMAND.test(envProcess)) return undefined
  const argv: string[] = []
  let word: string | undefined
  let quote: string | undefined
  for (const ch of envProcess) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
      else word += ch
    } else if (ch === "'" || ch === '"') {
      quote = ch
      word ??= ''
    } else if (/\s/.test(ch)) {
      if (word !== undefined) argv.push(word)
      word = undefined
    } else {
      word = (word ?? '') + ch
    }
  }
  if (quote !== undefined) return undefined // unbalanced: let the shell report it
  if (word !== undefined) argv.push(word)
  // `A=b cmd` sets a variable for the command: that is the shell's job
  if (argv.length === 0 || (argv[0] as string).includes('=')) return undefined
  return argv
}

/** Spawning without a shell where possible halves the exec work of a fork-mode call. */
const shell = (envProcess: string): Command => {
  const argv = simpleArgv(envProcess)
  return argv !== undefined
    ? { file: argv[0] as string, args: argv.slice(1) }
    : { file: '/bin/sh', args: ['-c', envProcess] }
}

/** Runs the real mount dance once on two temp dirs; the reason when it does not work. */
async function probeNamespaceMode (): Promise<string | undefined> {
  if (process.platform !== 'linux') return `platform is ${process.platform}, not linux`
  if (process.getuid?.() !== 0) return 'not running as root'
  const dir = await mkdtemp(join(tmpdir(), 'faas-bridge-probe-'))
  try {
    await ensureDir(join(dir, 'src'), 0o700)
    await ensureDir(join(dir, 'dst'), 0o700)
    await writeFile(join(dir, 'src', 'probe'), 'ok')
    const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', MOUNT_SCRIPT, 'sh',
      join(dir, 'src'), join(dir, 'dst'), `cat '${join(dir, 'dst', 'probe')}'; touch '${join(dir, 'dst', 'w')}' 2>/dev/null && echo writable; exit 0`],
    { timeout: 5000 })
    if (stdout.trim() !== 'ok') return `probe mount did not behave (got ${JSON.stringify(stdout.trim())})`
    return undefined
  } catch (err) {
    return `unshare probe failed: ${(err as Error).message.split('\n')[0]}`
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function createSecretMounter (
  wanted: SecretsMount, mountPath: string, warn: (msg: string) => void
): Promise<SecretMounter> {
  if (wanted !== 'env') {
    let reason = await probeNamespaceMode()
    if (reason === undefined) {
      try {
        await ensureDir(mountPath, 0o755)
      } catch (err) {
        reason = `cannot create mount point ${mountPath}: ${(err as Error).message}`
      }
    }
    if (reason === undefined) {
      return {
        mode: 'namespace',
        mountPath: () => mountPath,
        command: (envProcess, functionDir, hasSecrets) => hasSecrets
          ? { file: 'unshare', args: ['--mount', '--propagation', 'private', '/bin/sh', '-c', MOUNT_SCRIPT, 'sh', functionDir, mountPath, shellCommand(envProcess)] }
          : shell(envProcess)
      }
    }
    if (wanted === 'namespace') throw new Error(`local backend: secretsMount "namespace" is not possible here: ${reason}`)
    warn(`secrets are not mounted on ${mountPath} (${reason}); functions find them through env secret_mount_path`)
  }
  return {
    mode: 'env',
    mountPath: (functionDir) => functionDir,
    command: (envProcess) => shell(envProcess)
  }
}
