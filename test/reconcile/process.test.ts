/*
 * The provider process with a stack directory in its config file: functions declared there appear
 * at start, a file edited while it runs is applied (the directory is watched; the resync period is
 * long, so the watch is what applies it), and a new file adds its functions.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { check, eventually } from '../../src/driver-contract/eventually.ts'
import { kube } from '../helpers/function-resources.ts'
import { startProvider } from '../helpers/provider-process.ts'
import type { FunctionStatus } from '../../src/core/types.ts'

t.test('a stack directory edited while the provider runs', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-declared-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const stacks = path.join(dir, 'functions')
  await import('node:fs/promises').then(async (fs) => { await fs.mkdir(stacks) })
  await writeFile(path.join(stacks, 'stack.yml'), 'functions:\n  hello:\n    image: ghcr.io/acme/hello:1\n    fprocess: echo hello\n')
  await writeFile(path.join(dir, 'config.yml'), [
    'backends:',
    '  local: { driver: local, namespaces: [openfaas-fn] }',
    'declarative:',
    '  resync: 10m',
    '  stackFiles:',
    '    - { path: functions, prune: true }'
  ].join('\n'))
  const p = await startProvider(t, { config_file: path.join(dir, 'config.yml'), state_dir: path.join(dir, 'state') }, 60_000)
  const list = async (): Promise<FunctionStatus[]> => await (await fetch(`${p.url}/system/functions`)).json() as FunctionStatus[]

  await eventually(async () => { check((await list()).some((f) => f.name === 'hello'), 'hello deployed at start') }, { timeoutMs: 30_000 })
  t.equal((await list()).find((f) => f.name === 'hello')?.annotations?.['reconcile.faas-bridge.dev/source'], 'stack:functions')
  const res = await fetch(`${p.url}/function/hello`)
  t.equal((await res.text()).trim(), 'hello')

  await writeFile(path.join(stacks, 'stack.yml'), 'functions:\n  hello:\n    image: ghcr.io/acme/hello:2\n    fprocess: echo hello again\n')
  await writeFile(path.join(stacks, 'more.yaml'), 'functions:\n  second:\n    image: ghcr.io/acme/second:1\n    fprocess: cat\n')
  await eventually(async () => {
    const fns = await list()
    check(fns.find((f) => f.name === 'hello')?.image === 'ghcr.io/acme/hello:2', 'hello updated')
    check(fns.some((f) => f.name === 'second'), 'second deployed')
  }, { timeoutMs: 30_000 })
  t.equal((await (await fetch(`${p.url}/function/hello`)).text()).trim(), 'hello again')
  t.match(p.output(), /reconcile: drift corrected|reconcile: function created/)
})

t.test('the provider process with declarative.functionResources: a Function resource applied while it runs', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-declared-crs-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const k = await kube(t, ['apps'])
  await writeFile(path.join(dir, 'kube.yaml'), k.fake.kubeconfig(), { mode: 0o600 })
  await writeFile(path.join(dir, 'config.yml'), [
    'backends:',
    '  local: { driver: local, namespaces: [openfaas-fn] }',
    'declarative:',
    '  resync: 10m',
    '  functionResources:',
    '    namespaces: [apps]',
    '    map: { apps: openfaas-fn }',
    '    kubeconfig: ./kube.yaml'
  ].join('\n'))
  const p = await startProvider(t, { config_file: path.join(dir, 'config.yml'), state_dir: path.join(dir, 'state') }, 60_000)
  const list = async (): Promise<FunctionStatus[]> => await (await fetch(`${p.url}/system/functions`)).json() as FunctionStatus[]
  await k.apply('apps', 'hello', { name: 'hello', image: 'ghcr.io/acme/hello:1', handler: 'echo hello' })
  // the resync is ten minutes away: the watch applies it
  await eventually(async () => { check((await list()).some((f) => f.name === 'hello'), 'hello deployed') }, { timeoutMs: 30_000 })
  t.equal((await (await fetch(`${p.url}/function/hello`)).text()).trim(), 'hello')
  await eventually(async () => {
    check((await k.get('apps', 'hello'))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true, 'Ready')
  }, { timeoutMs: 30_000 })
})
