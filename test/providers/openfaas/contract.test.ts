/*
 * The shared driver contract, run against the openfaas backend whose remote is a real faas-bridge
 * (local backend, basic auth) on another loopback port; the local namespace `edge` is the remote's
 * `openfaas-fn`. The upstream is the remote's /function/NAME.NS, which the contract invokes.
 */
import t from 'tap'
import { createDriver } from '../../../providers/openfaas/index.ts'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { BASIC, FIXTURE, NAMESPACES, startRemote, testContext } from './helpers.ts'

await runDriverContract(t, {
  name: 'openfaas (remote faas-bridge, edge → openfaas-fn)',
  namespace: 'edge',
  makeDriver: async () => {
    const remote = await startRemote()
    const driver = await createDriver({ url: remote.url, auth: BASIC, namespaces: NAMESPACES, statusCacheMs: 0 }, testContext())
    return {
      driver,
      cleanup: async () => {
        await driver.close()
        await remote.close()
      }
    }
  },
  functionSpec: (name) => ({
    service: name,
    image: 'example/http-function:latest',
    envProcess: `'${process.execPath}' '${FIXTURE}'`,
    envVars: { mode: 'http' }
  }),
  capabilities: {
    invoke: { body: 'hello' },
    logLine: 'listening on'
  }
})
