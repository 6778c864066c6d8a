/*
 * Builds the dashboard: ui/src/main.ts and ui/styles.css bundled and minified by esbuild into
 * dist/ui/assets/ with content hashes in their names, and ui/index.html with those names filled
 * in. The build goes to a temporary directory that then replaces dist/ui, so a reader never sees
 * half a build. dist/ui/build.json records a hash of the inputs (tests rebuild when it differs) and
 * the asset sizes. Run: `npm run build:ui` (node scripts/build-ui.ts).
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import * as esbuild from 'esbuild'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const UI_SOURCE = path.join(repoRoot, 'ui')
export const UI_OUT = path.join(repoRoot, 'dist', 'ui')
const THIS_SCRIPT = fileURLToPath(import.meta.url)

export interface UiBuildInfo {
  inputsHash: string
  assets: Array<{ file: string, bytes: number, gzipBytes: number }>
}

async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await filesUnder(full))
    else if (entry.isFile()) out.push(full)
  }
  return out.sort()
}

/** A hash of everything the build reads that can change between checkouts: ui/**, this script, the lock file. */
export async function uiInputsHash (): Promise<string> {
  const h = createHash('sha256')
  for (const file of [...await filesUnder(UI_SOURCE), THIS_SCRIPT, path.join(repoRoot, 'package-lock.json')]) {
    h.update(path.relative(repoRoot, file)).update('\0').update(await readFile(file)).update('\0')
  }
  return h.digest('hex')
}

export async function readUiBuildInfo (): Promise<UiBuildInfo | undefined> {
  try {
    return JSON.parse(await readFile(path.join(UI_OUT, 'build.json'), 'utf8')) as UiBuildInfo
  } catch {
    return undefined
  }
}

export async function buildUi (): Promise<UiBuildInfo> {
  const inputsHash = await uiInputsHash()
  const tmp = `${UI_OUT}.tmp-${process.pid}-${Date.now()}`
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp, { recursive: true })
  try {
    const result = await esbuild.build({
      absWorkingDir: repoRoot,
      entryPoints: { app: 'ui/src/main.ts', styles: 'ui/styles.css' },
      outdir: path.join(tmp, 'assets'),
      entryNames: '[name]-[hash]',
      bundle: true,
      minify: true,
      format: 'esm',
      target: ['chrome109', 'firefox115', 'safari16'],
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      define: { 'process.env.NODE_ENV': '"production"' }
    })
    const outputs = Object.entries(result.metafile.outputs)
    const named = (entry: string): string => {
      const found = outputs.find(([, o]) => o.entryPoint === entry)
      if (found === undefined) throw new Error(`esbuild produced no output for ${entry}`)
      return path.relative(tmp, path.join(repoRoot, found[0])).split(path.sep).join('/')
    }
    const html = (await readFile(path.join(UI_SOURCE, 'index.html'), 'utf8'))
      .replace('%APP_JS%', named('ui/src/main.ts'))
      .replace('%STYLES_CSS%', named('ui/styles.css'))
    await writeFile(path.join(tmp, 'index.html'), html)
    const assets: UiBuildInfo['assets'] = []
    for (const file of await filesUnder(tmp)) {
      const body = await readFile(file)
      assets.push({ file: path.relative(tmp, file).split(path.sep).join('/'), bytes: body.length, gzipBytes: gzipSync(body, { level: 9 }).length })
    }
    const info: UiBuildInfo = { inputsHash, assets }
    await writeFile(path.join(tmp, 'build.json'), `${JSON.stringify(info, null, 2)}\n`)
    await rm(UI_OUT, { recursive: true, force: true })
    await rename(tmp, UI_OUT)
    return info
  } catch (err) {
    await rm(tmp, { recursive: true, force: true })
    throw err
  }
}

/** Builds unless dist/ui was built from exactly these inputs. */
export async function ensureUiBuilt (): Promise<UiBuildInfo> {
  const [info, hash] = await Promise.all([readUiBuildInfo(), uiInputsHash()])
  const indexThere = await stat(path.join(UI_OUT, 'index.html')).then(() => true, () => false)
  if (info !== undefined && info.inputsHash === hash && indexThere) return info
  return await buildUi()
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === THIS_SCRIPT) {
  const info = await buildUi()
  let total = 0
  let totalGzip = 0
  for (const a of info.assets.filter((x) => x.file !== 'build.json')) {
    total += a.bytes
    totalGzip += a.gzipBytes
    console.log(`${`dist/ui/${a.file}`.padEnd(44)} ${String(a.bytes).padStart(7)} B  ${String(a.gzipBytes).padStart(6)} B gzip`)
  }
  console.log(`${'total'.padEnd(44)} ${String(total).padStart(7)} B  ${String(totalGzip).padStart(6)} B gzip`)
}
