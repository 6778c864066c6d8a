/*
 * The repository is self-contained: a plain clone runs `npm ci && npm test`, so no test, script,
 * build step or CI file reads from beside or above the checkout (as a recorded-fixture test once read
 * the fixtures of a sibling "shared" directory only CI had). Scans every file git tracks for paths that leave it.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const THIS_FILE = path.relative(repoRoot, fileURLToPath(import.meta.url))

/* built from parts so that this file does not match itself */
const OUTSIDE = [
  { what: 'a sibling "shared" directory', re: new RegExp(['\\.\\.', 'shared'].join('[\\\\/]')) },
  { what: "path.join(root, '..', …) out of the repository root", re: new RegExp(["(?:repoRoot|root), '\\.\\.'", ''].join('')) },
  { what: 'the machine\'s /work directory', re: new RegExp(['(?:^|[\\s\'"`(=])', '/work/'].join('')) },
  { what: 'a FIXTURES_DIR override', re: new RegExp(['FIXTURES', '_DIR'].join('')) }
]

t.test('no tracked file points outside the checkout', async (t) => {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: repoRoot, encoding: 'utf8' }).split('\0')
    .filter((f) => f !== '' && f !== THIS_FILE && f !== 'package-lock.json' && !/\.(png|ico|woff2?)$/.test(f))
  t.ok(files.length > 100, `the tracked files were listed (${files.length})`)
  const found: string[] = []
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(path.join(repoRoot, file), 'utf8')
    } catch {
      continue // listed by git but not on disk (deleted in the working tree)
    }
    for (const [i, line] of text.split('\n').entries()) {
      for (const { what, re } of OUTSIDE) if (re.test(line)) found.push(`${file}:${i + 1}: ${what}: ${line.trim()}`)
    }
  }
  t.same(found, [], 'nothing reads from beside or above the repository')
})

t.test('the recorded faas-cli and gateway requests are in the repository', async (t) => {
  const tracked = execFileSync('git', ['ls-files', 'test/fixtures'], { cwd: repoRoot, encoding: 'utf8' }).split('\n')
  t.ok(tracked.includes('test/fixtures/faas-cli-gateway-requests.ndjson'), 'the fixture file is tracked')
  t.ok(tracked.includes('test/fixtures/README.md'), 'with the README that says how it was recorded')
})
