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
    return {
      driver,
      cleanup: async () => { await driver.close(); await fake.close() },
      // under the namespace's prefix, tagged by someone else but not faas-bridge:managed
      createForeignSecret: async (ns, name, value) => {
        const id = `openfaas/${ns}/${name}`
        fake.state.secrets.set(id, { name: id, arn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-f0f0f0`, tags: [{ Key: 'owner', Value: 'other-tool' }], created: 0, string: value })
        return async () => fake.state.secrets.get(id)?.string
      }
    }
  },
  functionSpec: (name) => ({ service: name, image: image('echo') }),
  readyTimeoutMs: 3000,
  capabilities: {
    invoke: { body: 'hello', expectBody: (body) => body.includes('"body":"hello"') },
    logLine: 'echo invoked: "hello"'
  }
})
