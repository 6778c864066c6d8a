/*
 * An upstream that cannot be reached (connection refused, or it drops the connection before
 * answering) is 500 `Can't reach service for: NAME.` with X-OpenFaaS-Internal: proxy.
 */
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { httpUpstream, send, startProxy } from './invoke-harness.ts'

async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => { server.close(resolve) })
  return port
}

t.test('500 when the upstream refuses or drops the connection', async (t) => {
  const dropper = net.createServer((socket) => { socket.destroy() })
  await new Promise<void>((resolve) => { dropper.listen(0, '127.0.0.1', resolve) })
  t.teardown(() => { dropper.close() })
  const refused = new URL(`http://127.0.0.1:${await closedPort()}/`)
  const dropped = new URL(`http://127.0.0.1:${(dropper.address() as AddressInfo).port}/`)
  const proxy = await startProxy(t, { functions: { refused: httpUpstream(refused), dropped: httpUpstream(dropped) } })
  for (const name of ['refused', 'dropped']) {
    const res = await send(proxy.base, `/function/${name}`)
    t.equal(res.status, 500, name)
    t.equal(res.headers['x-openfaas-internal'], 'proxy')
    t.equal(res.body.toString(), `Can't reach service for: ${name}.`)
  }
  t.same(proxy.invocations.map((i) => i.labels.code), [500, 500])
})
