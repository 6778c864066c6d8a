/*
 * How the loader checks a driver package before faas-bridge uses it: its driverApiVersion, that
 * it exports createDriver, and that what createDriver returns is a Driver. Every refusal names
 * the package and what is wrong; a rejected driver is closed.
 */
import t from 'tap'
import { loadDriverFactory } from '../../providers/index.ts'
import { DRIVER_API_VERSION } from '../../src/driver/index.ts'
import { testDriverContext } from '../../src/driver-contract/index.ts'
import { FakeDriver } from '../helpers/fake-driver.ts'

const load = async (name: string, mod: unknown) => await loadDriverFactory(name, async (id) => {
  t.equal(id, name, 'imported by its package name')
  return mod
})

/** load, then create: a rejected creation */
const create = async (name: string, mod: unknown) => { await (await load(name, mod))({}, testDriverContext()) }

t.test('a well-formed package loads, with or without driverApiVersion', async (t) => {
  for (const mod of [{ createDriver: () => new FakeDriver() }, { createDriver: async () => new FakeDriver(), driverApiVersion: DRIVER_API_VERSION }]) {
    const driver = await (await load('good-driver', mod))({}, testDriverContext())
    t.equal(driver.kind, 'fake')
  }
})

t.test('another driverApiVersion is refused before createDriver is looked at', async (t) => {
  await t.rejects(load('@acme/faas-driver-nomad', { driverApiVersion: 2, createDriver: () => new FakeDriver() }),
    { message: `driver package "@acme/faas-driver-nomad" declares driverApiVersion 2, but this faas-bridge implements driver API version ${DRIVER_API_VERSION}: use a release of "@acme/faas-driver-nomad" written for version ${DRIVER_API_VERSION}` })
  await t.rejects(load('odd', { driverApiVersion: '1', createDriver: () => new FakeDriver() }), { message: /"odd" declares driverApiVersion "1"/ }, 'a string is not the number')
})

t.test('no createDriver export', async (t) => {
  await t.rejects(load('empty-driver', { default: {} }), { message: 'driver package "empty-driver" does not export a createDriver(options, context) function' })
})

t.test('a package that cannot be imported', async (t) => {
  await t.rejects(loadDriverFactory('no-such-driver-package-xyz'), { message: /driver "no-such-driver-package-xyz" is not built in \(local, .*\) and could not be imported as a package: .*no-such-driver-package-xyz/ })
})

t.test('createDriver returning something that is not a Driver: every missing member named, the object closed', async (t) => {
  let closed = 0
  const partial = { kind: 'partial', deploy: async () => {}, list: async () => [], close: async () => { closed++ } }
  const factory = await load('partial-driver', { createDriver: () => partial })
  await t.rejects(async () => await factory({}, testDriverContext()), {
    message: 'driver package "partial-driver" is not a faas-bridge driver: update() is missing; remove() is missing; status() is missing; ' +
      'scale() is missing; logs() is missing; upstream() is missing'
  })
  t.equal(closed, 1, 'closed, so whatever it started stops')

  const badStores = Object.assign(new FakeDriver(), { secrets: { list: async () => [] }, namespaces: 'yes', park: true })
  await t.rejects(create('stores', { createDriver: () => badStores }), {
    message: 'driver package "stores" is not a faas-bridge driver: park is not a function; secrets.create() is missing; ' +
      'secrets.update() is missing; secrets.remove() is missing; namespaces is not an object'
  })
  await t.rejects(create('nothing', { createDriver: () => undefined }),
    { message: 'driver package "nothing" is not a faas-bridge driver: it returned undefined, not a Driver object' })
  await t.rejects(create('nameless', { createDriver: () => Object.assign(new FakeDriver(), { kind: '' }) }),
    { message: /"nameless" is not a faas-bridge driver: kind is missing/ })
})

t.test('createDriver throwing: the package is named, the reason kept', async (t) => {
  const factory = await load('picky-driver', { createDriver: () => { throw new Error('options.endpoint is required') } })
  await t.rejects(async () => await factory({}, testDriverContext()), { message: 'driver package "picky-driver": createDriver failed: options.endpoint is required' })
})
