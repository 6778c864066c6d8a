/*
 * README's first commands on a fresh clone, `npm ci && npm start`, give a dashboard: the tree git
 * hands a new user has no dist/, `npm ci` ends by running the package's `prepare` script, and that
 * builds dist/ui. Faithful and cheap: the tracked files are copied to a temporary directory (no
 * dist/), the already installed node_modules stand in for npm ci's install step, npm itself runs
 * `prepare` there with a PATH that has only the system's node (as a user's shell would, where that
 * node may be too old for .ts: npm puts node_modules/.bin, and so the Node 24 dev dependency,
 * first), and the provider started from that copy answers /ui/ with the page and its assets.
 */
import { execFile, execFileSync } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, stat, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { startProviderProcess } from '../helpers/provider-process.ts'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** PATH without any node_modules/.bin (npm test puts ours first): what a user's shell has */
const userPath = (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter).filter((p) => !p.includes(`node_modules${path.sep}.bin`)).join(path.delimiter)

t.test('a clone without dist/: npm ci\'s prepare step builds the dashboard, and the provider serves /ui/', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-clone-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // what `git clone` gives: the tracked files (and new ones not ignored, so the working tree is what is tested)
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\0').filter((f) => f !== '')
  for (const f of files) {
    const from = path.join(repoRoot, f)
    if (!(await stat(from).then((s) => s.isFile(), () => false))) continue
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true })
    await copyFile(from, path.join(dir, f))
  }
  t.notOk(await stat(path.join(dir, 'dist')).then(() => true, () => false), 'the clone has no dist/')
  await symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir')

  // npm ci runs `prepare` after installing; run it the same way, through npm, with the user's PATH
  const prepared = await new Promise<{ code: number, out: string }>((resolve) => {
    execFile('npm', ['run', 'prepare'], { cwd: dir, env: { PATH: userPath, HOME: process.env.HOME ?? os.tmpdir() }, timeout: 240_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, out: stdout + stderr })
    })
  })
  t.equal(prepared.code, 0, `npm run prepare succeeded:\n${prepared.out}`)
  t.ok(await stat(path.join(dir, 'dist', 'ui', 'index.html')).then(() => true, () => false), 'dist/ui/index.html was built')

  const p = await startProviderProcess(t, {
    args: [path.join(dir, 'src', 'main.ts')],
    cwd: dir,
    env: { PATH: userPath, HOME: process.env.HOME ?? os.tmpdir(), port: '0', state_dir: path.join(dir, 'state') }
  })
  t.notMatch(p.output(), /dashboard is not built/, 'no "not built" warning at start')
  const res = await fetch(`${p.url}/ui/`)
  t.equal(res.status, 200, 'GET /ui/ → 200')
  const html = await res.text()
  t.match(res.headers.get('content-type') ?? '', /text\/html/)
  const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1]
  const styles = /<link[^>]+href="([^"]+\.css)"/.exec(html)?.[1]
  t.ok(script !== undefined && styles !== undefined, 'the page names its script and styles')
  for (const asset of [script, styles]) {
    if (asset === undefined) continue
    const a = await fetch(new URL(asset, `${p.url}/ui/`))
    t.equal(a.status, 200, `${asset} is served`)
    t.ok((await a.arrayBuffer()).byteLength > 100, `${asset} has content`)
  }
})
