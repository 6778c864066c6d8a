/*
 * stack.yml entries → the FunctionDeployment the API would receive from `faas-cli deploy -f`, and
 * every bad entry reported by its key while the good ones stand.
 */
import t from 'tap'
import { parseStackFile } from '../../src/reconcile/stack-file.ts'

const files: Record<string, string> = {
  '/stacks/common.env.yml': 'environment:\n  LEVEL: info\n  SHARED: from-file\n',
  '/stacks/override.yml': 'environment:\n  LEVEL: debug\n'
}
const ctx = {
  defaultNamespace: 'openfaas-fn',
  readFile: async (f: string): Promise<string> => {
    const text = files[f]
    if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' })
    return text
  }
}

t.test('deploy-time fields map as faas-cli deploy sends them; build-time fields are ignored', async (t) => {
  const text = `
version: 1.0
provider: { name: openfaas, gateway: http://127.0.0.1:8080 }
functions:
  api:
    lang: node20
    handler: ./api
    image: ghcr.io/acme/api:1
    fprocess: node index.js
    environment_file: [common.env.yml, override.yml]
    environment: { SHARED: inline, RETRIES: 3, DEBUG: false }
    secrets: [db-password]
    labels: { com.openfaas.scale.min: "2", team: core }
    annotations: { topic: orders }
    constraints: ["node.platform.os == linux"]
    limits: { memory: 128Mi, cpu: 500m }
    requests: { memory: 64Mi }
    readonly_root_filesystem: true
    namespace: staging-fn
  plain:
    image: ghcr.io/acme/plain:1
`
  const r = await parseStackFile('/stacks/stack.yml', text, ctx)
  t.same(r.problems, [])
  t.same(r.declared, ['api', 'plain'])
  t.equal(r.readable, true)
  t.same(r.functions.map((f) => f.namespace), ['staging-fn', 'openfaas-fn'])
  t.same(r.functions[0]?.spec, {
    service: 'api',
    image: 'ghcr.io/acme/api:1',
    envProcess: 'node index.js',
    // files in order (override.yml wins over common), then inline environment wins; scalars as strings
    envVars: { LEVEL: 'debug', SHARED: 'inline', RETRIES: '3', DEBUG: 'false' },
    secrets: ['db-password'],
    labels: { 'com.openfaas.scale.min': '2', team: 'core' },
    annotations: { topic: 'orders' },
    constraints: ['node.platform.os == linux'],
    limits: { memory: '128Mi', cpu: '500m' },
    requests: { memory: '64Mi' },
    readOnlyRootFilesystem: true
  })
  t.same(r.functions[1]?.spec, { service: 'plain', image: 'ghcr.io/acme/plain:1' })
  t.equal(r.functions[0]?.where, 'stack.yml: functions.api')
})

t.test('each bad entry is a problem naming its key; the good entries stand', async (t) => {
  const text = `
functions:
  good:
    image: ghcr.io/acme/good:1
  no-image:
    fprocess: cat
  Bad_Name:
    image: x
  bad-label:
    image: x
    labels: { com.openfaas.scale.min: "many" }
  bad-env:
    image: x
    environment: [A, B]
  typo:
    image: x
    enviroment: { A: b }
  missing-env-file:
    image: x
    environment_file: [nowhere.yml]
  bad-limits:
    image: x
    limits: { memory: 1Gi, gpu: 1 }
  bad-ro:
    image: x
    readonly_root_filesystem: "yes"
`
  const r = await parseStackFile('/stacks/stack.yml', text, ctx)
  t.same(r.functions.map((f) => f.spec.service), ['good'])
  t.same(r.declared, ['good', 'no-image', 'Bad_Name', 'bad-label', 'bad-env', 'typo', 'missing-env-file', 'bad-limits', 'bad-ro'])
  const byEntry = Object.fromEntries(r.problems.map((p) => [p.where.replace('stack.yml: functions.', ''), p.message]))
  t.match(byEntry['no-image'], /^stack\.yml: functions\.no-image\.image: required$/)
  t.match(byEntry.Bad_Name, /functions\.Bad_Name: .*service/)
  t.match(byEntry['bad-label'], /functions\.bad-label: .*com\.openfaas\.scale\.min/)
  t.match(byEntry['bad-env'], /functions\.bad-env\.environment: expected a mapping/)
  t.match(byEntry.typo, /functions\.typo\.enviroment: unknown key/)
  t.match(byEntry['missing-env-file'], /functions\.missing-env-file\.environment_file\[0\]: cannot read nowhere\.yml: ENOENT/)
  t.match(byEntry['bad-limits'], /functions\.bad-limits\.limits\.gpu: unknown key/)
  t.match(byEntry['bad-ro'], /readonly_root_filesystem: expected true or false/)
  t.equal(r.problems.length, 8)
})

t.test('a file that is not a stack file is unreadable (nothing pruned on its account); an empty one declares nothing', async (t) => {
  const bad = await parseStackFile('/stacks/a.yml', 'functions: [1, 2', ctx)
  t.equal(bad.readable, false)
  t.match(bad.problems[0]?.message, /^a\.yml: not valid YAML/)
  const list = await parseStackFile('/stacks/b.yml', '- a\n- b\n', ctx)
  t.equal(list.readable, false)
  t.match(list.problems[0]?.message, /expected a stack file/)
  const empty = await parseStackFile('/stacks/c.yml', '', ctx)
  t.same(empty, { functions: [], problems: [], declared: [], readable: true })
})
