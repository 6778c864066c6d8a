/*
 * The shared driver contract against the Cloud Run backend over the Google fake, in both
 * scaleToZero modes: 'native' (the default: Cloud Run scales to zero by itself and stays
 * invocable) and 'gateway' (replicas 0 reads 0/0 and invocation waits for a scale-up).
 */
import t from 'tap'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { startFakeGoogle, STARTUP_LINE } from '../../fakes/cloudrun/index.ts'
import { startFunctionServer } from '../../fakes/cloudrun/function-server.ts'
import { createDriver } from '../../../providers/cloudrun/index.ts'
import { driverOptions, FakeTokens, IMAGE, NS, PROJECT } from './helpers.ts'

const silent = { info () {}, warn () {}, error () {}, debug () {}, child () { return silent } }

for (const mode of ['native', 'gateway'] as const) {
  await runDriverContract(t, {
    name: `cloudrun (${mode})`,
    namespace: NS,
    makeDriver: async () => {
      const fn = await startFunctionServer()
      const fake = await startFakeGoogle({ functionUrl: fn.url })
      const tokens = new FakeTokens()
      fn.acceptToken = (token) => tokens.minted.has(token)
      const driver = await createDriver(driverOptions(fake, tokens, { scaleToZero: mode }),
        { logger: silent, namespaces: [NS], execTimeoutMs: 5000 })
      return {
        driver,
        // Secret Manager secret with the id the driver would use, labelled by someone else
        createForeignSecret: async (ns, name, value) => {
          const path = `projects/${PROJECT}/secrets/openfaas_${ns}_${name}`
          fake.secrets.secrets.set(path, { name: path, labels: { owner: 'other-tool' }, createTime: new Date().toISOString(), versions: [Buffer.from(value)] })
          return async () => fake.secrets.secrets.get(path)?.versions.at(-1)?.toString('utf8')
        },
        cleanup: async () => {
          await driver.close()
          await fake.close()
          await fn.close()
        }
      }
    },
    functionSpec: (name) => ({ service: name, image: IMAGE, envProcess: 'cat' }),
    readyTimeoutMs: 3000,
    capabilities: {
      invoke: { body: 'hello', expectBody: (b) => JSON.parse(b).body === 'hello' },
      logLine: STARTUP_LINE,
      scaleToZero: mode === 'native' ? 'stays-available' : true
    }
  })
}
