/*
 * Function resources are backend-neutral: a resource whose namespace maps to a Lambda-backed
 * faas-bridge namespace is deployed there (real AWS SDK against the wire-level fake), drift on
 * Lambda is corrected, and deleting the resource removes the Lambda function before the finalizer.
 */
import t from 'tap'
import { Backends } from '../../src/core/backends.ts'
import { Reconciler } from '../../src/reconcile/reconciler.ts'
import { SOURCE_ANNOTATION } from '../../src/reconcile/desired.ts'
import { kube } from '../helpers/function-resources.ts'
import { fakeAws, image, makeDriver, NS, registerEcho } from '../providers/lambda/helpers.ts'

t.test('a Function resource onto the lambda fake: create, Ready, drift corrected, delete', async (t) => {
  const aws = await fakeAws(t)
  registerEcho(aws)
  const driver = await makeDriver(t, aws)
  const backends = new Backends([{ backend: { name: 'lambda', driver }, namespaces: [NS] }], NS)
  await backends.init()
  const k = await kube(t, ['apps'])
  let clock = 1_000_000
  const reconciler = new Reconciler({
    now: () => clock,
    backends,
    sources: [k.source(['apps'], { apps: NS })],
    resyncMs: 60_000,
    logger: { info: () => {}, warn: () => {} },
    sleep: async (ms) => { clock += ms }
  })
  await k.apply('apps', 'echo', { name: 'echo', image: image('echo'), labels: { team: 'core' }, environment: { MODE: 'a' } })
  await reconciler.pass()
  const echo = await driver.status(NS, 'echo')
  t.equal(echo.image, image('echo'))
  t.equal(echo.annotations?.[SOURCE_ANNOTATION], 'functions.openfaas.com', 'the marker survives as a Lambda tag')
  await reconciler.pass()
  const cr = await k.get('apps', 'echo')
  t.match(cr?.status?.conditions?.find((c) => c.type === 'Ready'), { status: 'True', reason: 'InSync', message: `deployed in namespace "${NS}"` })

  await driver.update({ service: 'echo', namespace: NS, image: image('echo', 'hotfix') })
  await reconciler.pass()
  t.equal((await driver.status(NS, 'echo')).image, image('echo'), 'drift corrected on Lambda')

  // Lambda refuses the removal once: the resource stays, with its finalizer, and says why
  aws.faults.add({ kind: 'status', match: 'Lambda.DeleteFunction', status: 500, message: 'lambda is having a bad day' })
  await k.kubectl('DELETE', '/apis/openfaas.com/v1/namespaces/apps/functions/echo')
  await reconciler.pass()
  t.ok((await driver.status(NS, 'echo')).image, 'still there')
  const held = await k.get('apps', 'echo')
  t.ok(held?.metadata?.deletionTimestamp)
  t.match(held?.status?.conditions?.find((c) => c.type === 'Failed'), { status: 'True', reason: 'BackendError', message: /remove failed: .*bad day/ })
  await reconciler.pass()
  t.ok(await k.get('apps', 'echo'), 'not retried before the backoff')
  clock += 1_000
  await reconciler.pass()
  await t.rejects(driver.status(NS, 'echo'), { code: 'NOT_FOUND' }, 'removed from Lambda')
  t.equal(await k.get('apps', 'echo'), undefined, 'then the resource went')
})
