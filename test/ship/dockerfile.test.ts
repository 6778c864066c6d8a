/*
 * The Dockerfile, statically (no container engine here): a build stage with dev dependencies that
 * runs `npm run build`, a runtime stage on a Node >= 24 slim image with production dependencies
 * only, a non-root numeric USER, the state volume, EXPOSE 8080, a HEALTHCHECK on /healthz done
 * with node, and the CMD the bundle test runs. And .dockerignore keeps local trees out.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

interface Stage { base: string, name: string, lines: string[] }

function parseDockerfile (text: string): { args: Map<string, string>, stages: Stage[] } {
  // join continuation lines, drop comments
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const args = new Map<string, string>()
  const stages: Stage[] = []
  for (const line of lines) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line)
    if (from !== null) {
      const base = (from[1] as string).replace(/\$\{(\w+)\}/g, (_m, k: string) => args.get(k) ?? '')
      stages.push({ base, name: from[2] ?? String(stages.length), lines: [] })
      continue
    }
    const arg = /^ARG\s+(\w+)=(\S*)$/.exec(line)
    if (arg !== null && stages.length === 0) args.set(arg[1] as string, (arg[2] as string).replace(/^"|"$/g, ''))
    stages.at(-1)?.lines.push(line)
  }
  return { args, stages }
}

t.test('multi-stage: build with dev dependencies, run with production ones only', async (t) => {
  const { stages } = parseDockerfile(await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8'))
  t.ok(stages.length >= 2, 'at least a build and a runtime stage')
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } }
  const minMajor = Number(/\d+/.exec(pkg.engines.node)?.[0])
  for (const s of stages) {
    const m = /^node:(\d+)(?:\.\d+)*-(slim|bookworm-slim|trixie-slim)$/.exec(s.base)
    t.ok(m !== null && Number(m[1]) >= minMajor, `stage ${s.name}: ${s.base} is a Node >= ${minMajor} slim image`)
  }
  const build = stages.find((s) => s.lines.some((l) => /npm run build/.test(l)))
  t.ok(build !== undefined, 'a stage runs npm run build')
  t.ok(build?.lines.some((l) => /^RUN npm ci\b(?!.*--omit=dev)/.test(l)), 'the build stage installs dev dependencies (npm ci)')

  const runtime = stages.at(-1) as Stage
  t.not(runtime, build, 'the runtime stage is not the build stage')
  t.notOk(runtime.lines.some((l) => /npm (ci|install)\b/.test(l) && !/--omit=dev/.test(l)), 'no dev dependencies installed in the runtime stage')
  const copies = runtime.lines.filter((l) => /^COPY --from=/.test(l))
  for (const c of copies) {
    const from = /--from=(\S+)/.exec(c)?.[1]
    const src = stages.find((s) => s.name === from)
    t.ok(src !== undefined, `${c}: copies from a stage of this file`)
    if (/node_modules/.test(c)) {
      t.ok(src?.lines.some((l) => /npm ci\b.*--omit=dev/.test(l)), `${c}: node_modules come from a production-only install`)
    }
  }
  t.ok(copies.some((c) => /\/app\/dist\b/.test(c)), 'the runtime gets the compiled dist/')
  t.notOk(runtime.lines.some((l) => /^COPY\s+(?!--from)(?:--\S+\s+)*(src|providers|test|\.)\b/.test(l)), 'no sources copied into the runtime stage')

  const user = runtime.lines.filter((l) => /^USER\s/.test(l)).at(-1)
  t.ok(user !== undefined && /^USER\s+[1-9]\d*(:\d+)?$/.test(user), `numeric non-root user (${user ?? 'none'}), verifiable by runAsNonRoot`)
  t.ok(runtime.lines.includes('EXPOSE 8080'), 'EXPOSE 8080')
  const env = runtime.lines.filter((l) => l.startsWith('ENV ')).join(' ')
  const stateDir = /state_dir=(\S+)/.exec(env)?.[1]
  t.equal(stateDir, '/var/lib/faas-bridge', 'state_dir set in the image')
  t.ok(runtime.lines.some((l) => /^VOLUME\s/.test(l) && l.includes(String(stateDir))), 'the state dir is a volume')
  t.match(env, /NODE_ENV=production/)

  const health = runtime.lines.find((l) => l.startsWith('HEALTHCHECK'))
  t.ok(health !== undefined, 'HEALTHCHECK')
  t.match(health, /CMD \["node", "-e", .*\/healthz/, 'asks /healthz with node')
  t.notMatch(health, /curl|wget/, 'no curl/wget: slim images have neither')
  t.equal(runtime.lines.at(-1), 'CMD ["node", "--max-semi-space-size=8", "dist/src/main.js"]', 'the entrypoint the bundle test runs; node handles SIGTERM itself')
})

t.test('.dockerignore keeps node_modules, dist, .git and state out of the context', async (t) => {
  const lines = (await readFile(path.join(repoRoot, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))
  const ignoresAll = lines[0] === '*'
  const reincluded = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''))
  for (const p of ['node_modules', 'dist', '.git', '.faas-bridge', 'state', 'coverage', 'test', 'charts']) {
    t.ok((ignoresAll && !reincluded.includes(p)) || lines.includes(p), `${p} is not sent to the builder`)
  }
  for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'providers']) {
    t.ok(!ignoresAll || reincluded.includes(p), `${p} reaches the build`)
  }
  // every path the Dockerfile copies from the context is in the context (scripts/ and ui/ once were not)
  const { stages } = parseDockerfile(await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8'))
  const sources = stages.flatMap((s) => s.lines).filter((l) => /^COPY\s/.test(l) && !/--from=/.test(l))
    .flatMap((l) => l.split(/\s+/).slice(1).filter((w) => !w.startsWith('--')).slice(0, -1)).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''))
  t.ok(sources.length >= 6, `COPY sources found (${sources.join(', ')})`)
  for (const p of sources) t.ok(!ignoresAll || reincluded.includes(p), `${p}, copied by the Dockerfile, reaches the build`)
})

t.test('the build stage has what `npm ci` runs (the prepare script builds the dashboard from scripts/ and ui/)', async (t) => {
  const { stages } = parseDockerfile(await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8'))
  const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.match(pkg.scripts.prepare, /scripts\/build-ui\.ts/, 'npm ci builds the dashboard')
  for (const s of stages) {
    const ci = s.lines.findIndex((l) => /^RUN npm ci\b/.test(l))
    if (ci < 0) continue
    if (/--ignore-scripts/.test(s.lines[ci] as string)) {
      t.pass(`stage ${s.name}: npm ci --ignore-scripts runs no prepare`)
      continue
    }
    const before = s.lines.slice(0, ci).filter((l) => /^COPY\s/.test(l)).join(' ')
    for (const dir of ['scripts', 'ui']) t.match(before, new RegExp(`\\b${dir}\\b`), `stage ${s.name}: ${dir}/ is copied before npm ci`)
  }
})
