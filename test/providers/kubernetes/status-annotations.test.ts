/*
 * faas-bridge's status annotations (faas-cli describe prints them): pods and phases, nodes,
 * restart count, the last restart's reason, why a container waits — under faas-bridge.dev/.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('where the function runs', async (t) => {
  const { url, fake } = await kubeApp(t)
  await api(url, 'POST', '/system/functions', figlet('desc'))
  const pod = await eventually(() => {
    const p = fake.pods(NS, 'desc').find((x) => x.status.phase === 'Running')
    check(p !== undefined, 'running')
    return p?.metadata.name as string
  }, { timeoutMs: 3000 })
  fake.crash(NS, pod, { reason: 'OOMKilled', exitCode: 137 })
  const a = (await api(url, 'GET', '/system/function/desc')).json().annotations
  t.equal(a['faas-bridge.dev/pods'], `${pod} (Running)`)
  t.equal(a['faas-bridge.dev/nodes'], 'fake-node-1')
  t.equal(a['faas-bridge.dev/restarts'], '1')
  t.match(a['faas-bridge.dev/last-restart'], new RegExp(`^OOMKilled \\(exit code 137\\) in ${pod} at \\d{4}-`))
  t.notOk(Object.keys(a).some((k) => k.startsWith('faas-bridge.dev/updated')), 'internal template keys hidden')

  fake.holdPods(NS, 'wait', true)
  await api(url, 'POST', '/system/functions', figlet('wait'))
  await eventually(() => { check(fake.pods(NS, 'wait').length === 1, 'pod') }, { timeoutMs: 3000 })
  const w = (await api(url, 'GET', '/system/function/wait')).json().annotations
  t.match(w['faas-bridge.dev/pods'], /\(Pending\)$/)
  const listed = (await api(url, 'GET', '/system/functions')).json()
  t.ok(listed.every((f: { annotations: Record<string, string> }) => f.annotations['faas-bridge.dev/pods'] !== undefined), 'list carries them too')
})
