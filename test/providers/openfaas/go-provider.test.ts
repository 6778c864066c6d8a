/*
 * A backend need not be written in TypeScript: any faas-provider plugs in through the `openfaas`
 * driver. Here the remote is an independent stand-in that answers as the Go providers do
 * (test/fakes/go-faas-provider.ts: nil lists, omitted zero counts, 500 for a duplicate deploy or an
 * unknown scale, empty 404 bodies), not another faas-bridge. The shared driver contract passes
 * over it, and faas-bridge's HTTP API deploys, invokes, reads logs and scales through it.
 */
import t from 'tap'
import { createDriver } from '../../../providers/openfaas/index.ts'
import { runDriverContract } from '../../../src/driver-contract/suite.ts'
import { startGoProvider } from '../../fakes/go-faas-provider.ts'
import { api, BASIC, CREDS, frontFor, NAMESPACES, testContext, waitAvailable } from './helpers.ts'

await runDriverContract(t, {
  name: 'openfaas (a Go-style faas-provider stand-in, edge → openfaas-fn)',
  namespace: 'edge',
  makeDriver: async () => {
    const remote = await startGoProvider(CREDS)
    const driver = await createDriver({ url: remote.url, auth: BASIC, namespaces: NAMESPACES, statusCacheMs: 0, retryBaseMs: 5 }, testContext(['edge']))
    return {
      driver,
      cleanup: async () => {
        await driver.close()
        await remote.close()
      }
    }
  },
  functionSpec: (name) => ({ service: name, image: 'ghcr.io/acme/echo:1' }),
  capabilities: {
    invoke: { body: 'hello', expectBody: (b) => (JSON.parse(b) as { body: string }).body === 'hello' },
    logLine: 'POST / 5 bytes'
  }
})

t.test('through the HTTP API: deploy, invoke, logs, scale to zero on a faas-provider that is not faas-bridge', async (t) => {
  const remote = await startGoProvider(CREDS)
  t.teardown(remote.close)
  const front = await frontFor(t, remote.url)
  t.equal((await api(front.url, 'POST', '/system/functions', { service: 'echo', image: 'ghcr.io/acme/echo:1', namespace: 'edge' })).status, 202, 'deploy')
  t.ok(remote.requests.includes('POST /system/functions'), 'the deploy went to the remote provider')
  await waitAvailable(front, 'echo', 'edge', 1)

  const invoked = await api(front.url, 'POST', '/function/echo.edge/orders?id=7', 'hello')
  t.equal(invoked.status, 200, 'invoke')
  t.same(JSON.parse(invoked.text), { method: 'POST', path: '/orders?id=7', body: '"hello"' }, 'answered by the remote function')
  t.ok(remote.requests.includes('POST /function/echo.openfaas-fn/orders?id=7'), 'at /function/NAME.REMOTE_NS')

  const logs = await api(front.url, 'GET', '/system/logs?name=echo&namespace=edge&follow=false')
  t.equal(logs.status, 200)
  t.match(JSON.parse(logs.text.trim().split('\n').at(-1) ?? '{}'), { name: 'echo', namespace: 'edge', text: 'POST /orders?id=7 7 bytes' }, 'its log line, in the local namespace')

  t.equal((await api(front.url, 'POST', '/system/scale-function/echo?namespace=edge', { replicas: 0 })).status, 202, 'scale to 0')
  await waitAvailable(front, 'echo', 'edge', 0)
  t.equal((await api(front.url, 'POST', '/function/echo.edge', 'x')).status, 503, 'no replica: 503 from faas-bridge')
  const dup = await api(front.url, 'POST', '/system/functions', { service: 'echo', image: 'ghcr.io/acme/echo:1', namespace: 'edge' })
  t.equal(dup.status, 409, "the Go provider's 500 \"already exists\" is a 409")
})
