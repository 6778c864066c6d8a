/*
 * The shared driver contract suite against the Lambda backend over the fake AWS.
 */
import t from 'tap'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { startFakeAws } from '../../fakes/lambda/server.ts'
import { createDriver } from '../../../providers/lambda/index.ts'
import { fakeOptions, image, NS, registerEcho, testContext } from './helpers.ts'

await runDriverContract(t, {
  name: 'lambda',
  namespace: NS,
  makeDriver: async () => {
    const fake = await startFakeAws()
    registerEcho(fake)
    const driver = await createDriver(fakeOptions(fake), testContext())
    return { driver, cleanup: async () => { await driver.close(); await fake.close() } }
  },
  functionSpec: (name) => ({ service: name, image: image('echo') }),
  readyTimeoutMs: 3000,
  capabilities: {
    invoke: { body: 'hello', expectBody: (body) => body.includes('"body":"hello"') },
    logLine: 'echo invoked: "hello"'
  }
})
