/*
 * The shared driver contract suite against the tekton backend over the fake API server and the
 * fake Tekton controller (real @kubernetes/client-node). replicas are the maximum of concurrent
 * runs: always "available" while the Task exists; 0 makes upstream() UNAVAILABLE.
 */
import t from 'tap'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { foreignSecretIn } from '../kubernetes/helpers.ts'
import { NS, startTekton } from './helpers.ts'

await runDriverContract(t, {
  name: 'tekton',
  namespace: NS,
  readyTimeoutMs: 3000,
  makeDriver: async () => {
    const setup = await startTekton()
    return { driver: setup.driver, cleanup: setup.cleanup, createForeignSecret: foreignSecretIn(setup.fake) }
  },
  functionSpec: (name) => ({ service: name, image: 'ghcr.io/openfaas/alpine:latest', envProcess: 'cat' }),
  capabilities: {
    invoke: { body: 'hello', expectBody: (b) => b === 'hello' },
    logLine: 'handled POST / hello'
  }
})
