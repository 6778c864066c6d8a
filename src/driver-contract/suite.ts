/*
 * The driver contract suite: the behaviour every backend (local, kubernetes, lambda, cloudrun,
 * tekton, plugins) shows through the Driver interface. A backend runs it against its own fake:
 *
 *   runDriverContract(t, { name: 'local', makeDriver, functionSpec: (name) => ({ ... }) })
 *
 * deploy → status → list → scale (truthful replica counts) → update → logs → secrets → remove,
 * and the error cases (CONFLICT, NOT_FOUND, INVALID). Every wait is bounded (eventually()).
 * A backend whose platform can hold secrets it did not create implements createForeignSecret, and
 * the suite checks that such a secret is never listed, changed or deleted.
 */
import type { Test } from 'tap'
import type { Driver } from '../core/driver.ts'
import type { FunctionDeployment, LogMessage } from '../core/types.ts'
import { check, eventually } from './eventually.ts'
import { invokeUpstream } from './invoke.ts'

/**
 * Writes secret `name` with `value` straight into the backend's fake (never through the driver),
 * as another tool would: where the driver would keep namespace `ns`'s secret of that name, but
 * without the mark (label, tag) the backend puts on the secrets it creates. Resolves to a reader
 * of that secret's value as the fake holds it then (undefined once it is gone).
 */
export type CreateForeignSecret = (ns: string, name: string, value: string) => Promise<() => Promise<string | undefined>>

export interface MadeDriver {
  driver: Driver
  cleanup: () => Promise<void>
  /**
   * Omit where every secret in the backend's store is its own (local: its private state
   * directory; a federated remote: the remote decides which secrets are its own).
   */
  createForeignSecret?: CreateForeignSecret
}

export interface DriverContractOptions {
  /** shown in test names */
  name: string
  /** a fresh driver (over a fresh fake) per subtest; cleanup closes it and the fake */
  makeDriver: () => Promise<MadeDriver>
  /** the namespace the driver serves */
  namespace: string
  /** a deployable spec for this backend (local needs a command, cloud backends an image) */
  functionSpec: (name: string) => FunctionDeployment
  /** how long replicas may take to become available */
  readyTimeoutMs?: number
  capabilities?: {
    /** the driver has a SecretStore (default: driver.secrets !== undefined) */
    secrets?: boolean
    /**
     * scale to 0: true (default) = no replica is left and upstream() is UNAVAILABLE until scaled
     * up; 'stays-available' = the platform scales to zero by itself and still serves calls
     * (Cloud Run); false = the backend refuses it
     */
    scaleToZero?: boolean | 'stays-available'
    /** scaling above 1 is supported (default true) */
    scaleUp?: boolean
    /**
     * invoke the function through upstream() and expect a 2xx whose body passes `expectBody`
     * (body is `invokeBody`); omit to skip invocation
     */
    invoke?: { body?: string, expectBody?: (body: string) => boolean }
    /** a text that eventually appears in the function's logs (after an invocation if any) */
    logLine?: string
  }
}

async function collect (stream: Promise<AsyncIterable<LogMessage>>, max = 10_000): Promise<LogMessage[]> {
  const out: LogMessage[] = []
  for await (const m of await stream) {
    out.push(m)
    if (out.length >= max) break
  }
  return out
}

export function runDriverContract (t: Test, opts: DriverContractOptions): Promise<void> {
  const ns = opts.namespace
  const readyMs = opts.readyTimeoutMs ?? 10_000
  const caps = opts.capabilities ?? {}
  const spec = (name: string): FunctionDeployment & { namespace: string } => ({ ...opts.functionSpec(name), service: name, namespace: ns })

  const withDriverOn = (parent: Test, name: string, body: (t: Test, driver: Driver, made: MadeDriver) => Promise<void>): Promise<void> =>
    parent.test(name, async (t) => {
      const made = await opts.makeDriver()
      t.teardown(made.cleanup)
      await body(t, made.driver, made)
    }).then(() => {})

  const waitAvailable = async (driver: Driver, name: string, n: number): Promise<void> => {
    await eventually(async () => {
      const s = await driver.status(ns, name)
      check(s.availableReplicas === n && s.replicas === n, `replicas ${s.replicas}, available ${s.availableReplicas}, want ${n}`)
    }, { timeoutMs: readyMs, what: `${name} with ${n} available replicas` })
  }

  return t.test(`driver contract: ${opts.name}`, async (t) => {
    const withDriver = (name: string, body: (t: Test, driver: Driver, made: MadeDriver) => Promise<void>): Promise<void> => withDriverOn(t, name, body)
    await withDriver('deploy → status → list', async (t, driver) => {
      t.same(await driver.list(ns), [], 'list is [] when there are no functions')
      await driver.deploy({ ...spec('alpha'), labels: { team: 'a' }, annotations: { note: 'x' }, envVars: { ...spec('alpha').envVars, extra: '1' } })
      const s = await driver.status(ns, 'alpha')
      t.equal(s.name, 'alpha')
      t.equal(s.namespace, ns)
      t.equal(s.image, spec('alpha').image, 'image as deployed')
      t.equal(s.labels?.team, 'a', 'labels as deployed')
      t.equal(s.labels?.faas_function, 'alpha', 'status carries faas_function: NAME, as faas-netes reports it')
      t.equal(s.annotations?.note, 'x', 'annotations as deployed')
      t.equal(s.replicas, 1, 'one replica by default')
      t.ok(s.availableReplicas <= s.replicas, 'available never exceeds desired')
      t.ok(!Number.isNaN(Date.parse(s.createdAt)), 'createdAt is a time')
      await waitAvailable(driver, 'alpha', 1)
      const list = await driver.list(ns)
      t.same(list.map((f) => f.name), ['alpha'], 'list shows the function')
      t.equal(list[0]?.availableReplicas, 1)
      t.equal(list[0]?.labels?.faas_function, 'alpha', 'list carries faas_function: NAME')
    })

    await withDriver('deploy twice → CONFLICT', async (t, driver) => {
      await driver.deploy(spec('twice'))
      await t.rejects(driver.deploy(spec('twice')), { code: 'CONFLICT' })
    })

    await withDriver('unknown functions → NOT_FOUND', async (t, driver) => {
      await t.rejects(driver.status(ns, 'nope'), { code: 'NOT_FOUND' }, 'status')
      await t.rejects(driver.upstream(ns, 'nope'), { code: 'NOT_FOUND' }, 'upstream')
      await t.rejects(driver.update(spec('nope')), { code: 'NOT_FOUND' }, 'update')
      await t.rejects(driver.remove(ns, 'nope'), { code: 'NOT_FOUND' }, 'remove')
      await t.rejects(driver.scale(ns, 'nope', 1), { code: 'NOT_FOUND' }, 'scale')
      await t.rejects(collect(driver.logs({ name: 'nope', namespace: ns, follow: false }, AbortSignal.timeout(5000))),
        { code: 'NOT_FOUND' }, 'logs')
    })

    await withDriver('scale: replica counts are the truth', async (t, driver) => {
      await driver.deploy(spec('scaler'))
      await waitAvailable(driver, 'scaler', 1)
      if (caps.scaleUp !== false) {
        await driver.scale(ns, 'scaler', 2)
        t.equal((await driver.status(ns, 'scaler')).replicas, 2, 'desired follows scale at once')
        await waitAvailable(driver, 'scaler', 2)
      }
      if (caps.scaleToZero === false) {
        await t.rejects(driver.scale(ns, 'scaler', 0), 'scale to 0 refused')
        return
      }
      await driver.scale(ns, 'scaler', 0)
      if (caps.scaleToZero === 'stays-available') {
        const up = await driver.upstream(ns, 'scaler')
        t.ok(up.kind === 'http' || up.kind === 'call', 'still invocable at scale 0: the platform starts an instance on demand')
        t.ok((await driver.status(ns, 'scaler')).availableReplicas > 0, 'reported available, so the gateway does not wait for a scale-up')
      } else {
        await waitAvailable(driver, 'scaler', 0)
        await t.rejects(driver.upstream(ns, 'scaler'), { code: 'UNAVAILABLE' }, 'no replica → UNAVAILABLE')
      }
      await driver.scale(ns, 'scaler', 1)
      await waitAvailable(driver, 'scaler', 1)
      const up = await driver.upstream(ns, 'scaler')
      t.ok(up.kind === 'http' || up.kind === 'call', 'an upstream once scaled back up')
    })

    await withDriver('update replaces the spec and keeps the count', async (t, driver) => {
      await driver.deploy(spec('upd'))
      if (caps.scaleUp !== false) await driver.scale(ns, 'upd', 2)
      const want = caps.scaleUp !== false ? 2 : 1
      const created = (await driver.status(ns, 'upd')).createdAt
      const next = spec('upd')
      await driver.update({ ...next, labels: { ...(next.labels ?? {}), version: '2' } })
      const s = await driver.status(ns, 'upd')
      t.equal(s.labels?.version, '2', 'new spec visible')
      t.equal(s.labels?.faas_function, 'upd', 'faas_function still there after an update')
      t.equal(s.replicas, want, 'replica count kept')
      t.equal(s.createdAt, created, 'createdAt kept')
      await waitAvailable(driver, 'upd', want)
    })

    if (caps.invoke !== undefined) {
      const inv = caps.invoke
      await withDriver('upstream invokes the function', async (t, driver) => {
        await driver.deploy(spec('caller'))
        await waitAvailable(driver, 'caller', 1)
        const res = await invokeUpstream(await driver.upstream(ns, 'caller'), { body: inv.body ?? '' })
        t.ok(res.status >= 200 && res.status < 300, `2xx (got ${res.status}: ${res.body})`)
        if (inv.expectBody !== undefined) t.ok(inv.expectBody(res.body), `body as expected (got ${JSON.stringify(res.body)})`)
      })
    }

    await withDriver('logs', async (t, driver) => {
      await driver.deploy(spec('logger'))
      await waitAvailable(driver, 'logger', 1)
      if (caps.invoke !== undefined) {
        await invokeUpstream(await driver.upstream(ns, 'logger'), { body: caps.invoke.body ?? '' })
      }
      const done = await collect(driver.logs({ name: 'logger', namespace: ns, follow: false }, AbortSignal.timeout(5000)))
      t.pass('follow=false ends by itself')
      for (const m of done) {
        t.same(Object.keys(m).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp'], 'every key present')
        t.equal(m.name, 'logger')
      }
      if (caps.logLine !== undefined) {
        const line = caps.logLine
        const found = await eventually(async () => {
          const msgs = await collect(driver.logs({ name: 'logger', namespace: ns, follow: false }, AbortSignal.timeout(5000)))
          const hit = msgs.find((m) => m.text.includes(line))
          check(hit !== undefined, `no line contains ${JSON.stringify(line)} in ${msgs.length} lines`)
          return hit as LogMessage
        }, { timeoutMs: readyMs, what: 'the log line' })
        t.equal(found.namespace, ns)
        t.ok(!Number.isNaN(Date.parse(found.timestamp)), 'timestamp is a time')
        const tail = await collect(driver.logs({ name: 'logger', namespace: ns, follow: false, tail: 1 }, AbortSignal.timeout(5000)))
        t.equal(tail.length, 1, 'tail=1 gives one line')
        // aborted once the backlog's line has arrived (not after a fixed 200 ms, which a slow
        // machine can spend before the first line), or after a generous bound
        const ac = new AbortController()
        const fallback = setTimeout(() => { ac.abort() }, 30_000)
        const got: LogMessage[] = []
        for await (const m of await driver.logs({ name: 'logger', namespace: ns, follow: true, tail: 1 }, ac.signal)) {
          got.push(m)
          ac.abort()
        }
        clearTimeout(fallback)
        t.ok(got.length >= 1, 'follow yields the backlog and ends when the signal aborts')
      }
    })

    const hasSecrets = caps.secrets ?? true
    await withDriver('secrets', async (t, driver) => {
      const store = driver.secrets
      if (store === undefined || !hasSecrets) {
        t.pass('no secret store')
        return
      }
      t.same(await store.list(ns), [], 'none at first')
      await store.create({ name: 's1', namespace: ns, value: Buffer.from('v1') })
      await t.rejects(store.create({ name: 's1', namespace: ns, value: Buffer.from('again') }), { code: 'CONFLICT' })
      await t.rejects(store.update({ name: 'missing', namespace: ns, value: Buffer.from('x') }), { code: 'NOT_FOUND' })
      await t.rejects(store.remove(ns, 'missing'), { code: 'NOT_FOUND' })
      const listed = await store.list(ns)
      t.same(listed, [{ name: 's1', namespace: ns }], 'names only in list')
      t.notMatch(JSON.stringify(listed), /v1/, 'no value leaks into list')
      await store.update({ name: 's1', namespace: ns, value: Buffer.from('v2') })
      await t.rejects(driver.deploy({ ...spec('needs'), secrets: ['absent'] }), { code: 'INVALID' }, 'missing secret → INVALID')
      await t.rejects(driver.status(ns, 'needs'), { code: 'NOT_FOUND' }, 'and nothing deployed')
      await driver.deploy({ ...spec('needs'), secrets: ['s1'] })
      t.same((await driver.status(ns, 'needs')).secrets, ['s1'], 'secrets as deployed')
      await store.remove(ns, 's1')
      t.same(await store.list(ns), [], 'removed')
    })

    await withDriver('secrets the backend did not create are not its own', async (t, driver, made) => {
      const store = driver.secrets
      if (store === undefined || !hasSecrets || made.createForeignSecret === undefined) {
        t.pass('every secret in this backend\'s store is its own')
        return
      }
      const current = await made.createForeignSecret(ns, 'foreign', 'theirs')
      t.same(await store.list(ns), [], 'not listed')
      await t.rejects(store.update({ name: 'foreign', namespace: ns, value: Buffer.from('mine') }), { code: 'NOT_FOUND' }, 'update → NOT_FOUND')
      await t.rejects(store.remove(ns, 'foreign'), { code: 'NOT_FOUND' }, 'remove → NOT_FOUND')
      await t.rejects(store.create({ name: 'foreign', namespace: ns, value: Buffer.from('mine') }), { code: 'CONFLICT' }, 'create over it → CONFLICT')
      t.equal(await current(), 'theirs', 'unchanged on the platform')
      t.same(await store.list(ns), [], 'still not listed')
    })

    await withDriver('remove', async (t, driver) => {
      await driver.deploy(spec('gone'))
      await driver.remove(ns, 'gone')
      await t.rejects(driver.status(ns, 'gone'), { code: 'NOT_FOUND' }, 'status after remove')
      await t.rejects(driver.remove(ns, 'gone'), { code: 'NOT_FOUND' }, 'second remove')
      t.same(await driver.list(ns), [], 'list empty again')
      await driver.deploy(spec('gone'))
      t.pass('the name can be deployed again')
    })
  }).then(() => {})
}
