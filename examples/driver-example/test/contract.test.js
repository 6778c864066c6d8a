/*
 * The faas-bridge driver contract, run against this driver: exactly the suite every built-in
 * faas-bridge backend passes (faas-bridge/driver-contract).
 */
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { runDriverContract, testDriverContext } from 'faas-bridge/driver-contract'
import { createDriver } from '../index.js'

const fixture = fileURLToPath(new URL('./fixtures/http-function.js', import.meta.url))
const namespace = 'openfaas-fn'

await runDriverContract(t, {
  name: 'example (processes serving HTTP)',
  namespace,
  makeDriver: async () => {
    const driver = await createDriver({ restartDelayMs: 50, stopGraceMs: 1000 }, testDriverContext({ namespaces: [namespace] }))
    return { driver, cleanup: async () => { await driver.close() } }
  },
  functionSpec: (name) => ({
    service: name,
    image: 'example/http-function:1',
    envProcess: `'${process.execPath}' '${fixture}'`
  }),
  capabilities: {
    invoke: { body: 'hello', expectBody: (b) => JSON.parse(b).body === 'hello' },
    logLine: 'listening on'
  }
})
