/*
 * The shared driver contract suite against the kubernetes backend over the fake API server
 * (real @kubernetes/client-node, invoke through the API server's service proxy).
 */
import t from 'tap'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { foreignSecretIn, functionServer, NS, startKube } from './helpers.ts'

await runDriverContract(t, {
  name: 'kubernetes',
  namespace: NS,
  readyTimeoutMs: 3000,
  makeDriver: async () => {
    const setup = await startKube({ driver: { invoke: 'proxy' } })
    const servers = [
      await functionServer(undefined, setup.fake, NS, 'caller'),
      await functionServer(undefined, setup.fake, NS, 'logger')
    ]
    return {
      driver: setup.driver,
      createForeignSecret: foreignSecretIn(setup.fake),
      cleanup: async () => {
        for (const s of servers) await s.close()
        await setup.cleanup()
      }
    }
  },
  functionSpec: (name) => ({ service: name, image: 'ghcr.io/openfaas/alpine:latest', envProcess: 'cat' }),
  capabilities: {
    invoke: { body: 'hello', expectBody: (b) => JSON.parse(b).body === 'hello' },
    logLine: 'handled POST / hello'
  }
})
