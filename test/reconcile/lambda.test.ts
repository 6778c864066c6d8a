/*
 * The reconciler is backend-neutral: the same stack file onto the Lambda backend (real AWS SDK
 * against the wire-level fake). The marker annotations survive Lambda's tag rules, so drift is
 * detected and corrected there too, and prune removes what the file stops declaring.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Backends } from '../../src/core/backends.ts'
import { Reconciler } from '../../src/reconcile/reconciler.ts'
import { SOURCE_ANNOTATION } from '../../src/reconcile/desired.ts'
import { stackSource } from '../../src/reconcile/stack-source.ts'
import { fakeAws, image, makeDriver, NS, NS2, registerEcho } from '../providers/lambda/helpers.ts'

t.test('a stack file onto the lambda fake: create, drift corrected, prune', async (t) => {
  const fake = await fakeAws(t)
  registerEcho(fake)
  const driver = await makeDriver(t, fake)
  const backends = new Backends([{ backend: { name: 'lambda', driver }, namespaces: [NS, NS2] }], NS)
  await backends.init()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-stack-aws-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const file = path.join(dir, 'stack.yml')
  const logged: string[] = []
  const reconciler = new Reconciler({
    backends,
    sources: [stackSource({ path: file, id: 'stack:aws', prune: true, defaultNamespace: NS })],
    resyncMs: 60_000,
    logger: { info: (_o, m) => { logged.push(m) }, warn: (_o, m) => { logged.push(m) } },
    sleep: async () => {}
  })
  await writeFile(file, `functions:\n  echo:\n    image: ${image('echo')}\n    labels: { team: core }\n  other:\n    image: ${image('echo', '2')}\n`)
  await reconciler.pass()
  const echo = await driver.status(NS, 'echo')
  t.equal(echo.image, image('echo'))
  t.equal(echo.annotations?.[SOURCE_ANNOTATION], 'stack:aws', 'the marker survives as a Lambda tag')
  t.ok(await driver.status(NS, 'other'))

  // changed behind the reconciler's back (what a faas-cli deploy through the API would do)
  await driver.update({ service: 'echo', namespace: NS, image: image('echo', 'hotfix') })
  await reconciler.pass()
  t.equal((await driver.status(NS, 'echo')).image, image('echo'), 'drift corrected on Lambda')
  t.ok(logged.includes('reconcile: drift corrected'))

  await writeFile(file, `functions:\n  echo:\n    image: ${image('echo')}\n    labels: { team: core }\n`)
  await reconciler.pass()
  await t.rejects(driver.status(NS, 'other'), { code: 'NOT_FOUND' }, 'pruned')
  t.same(reconciler.report()[0]?.functions.map((f) => `${f.name}:${f.state}`).sort(), ['echo:in-sync', 'other:removed'])
})
