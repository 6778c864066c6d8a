/*
 * GET /system/logs over the kubernetes backend: one NDJSON line per pod log line, instance = pod
 * name, timestamp from the kubelet; tail, since, instance; follow streams new lines (and pods that
 * start later); unknown function 404.
 */
import t from 'tap'
import { check, eventually } from '../../../src/driver-contract/eventually.ts'
import { api, figlet, kubeApp, NS } from './helpers.ts'

t.test('logs: tail, since, instance, follow', async (t) => {
  const { url, fake } = await kubeApp(t)
  await api(url, 'POST', '/system/functions', figlet('lg'))
  await api(url, 'POST', '/system/scale-function/lg', { replicas: 2 })
  const pods = await eventually(() => {
    const p = fake.pods(NS, 'lg').filter((x) => x.status.phase === 'Running')
    check(p.length === 2, `${p.length} running`)
    return p.map((x) => x.metadata.name).sort()
  }, { timeoutMs: 3000 })
  const [a, b] = pods as [string, string]
  const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000
  fake.appendLog(NS, a, 'a1', new Date(t0))
  fake.appendLog(NS, b, 'b1', new Date(t0 + 1000))
  fake.appendLog(NS, a, 'a2', new Date(t0 + 2000))
  fake.appendLog(NS, b, 'b2', new Date(t0 + 3000))
  const lines = async (q: string): Promise<Array<Record<string, string>>> => {
    const r = await api(url, 'GET', `/system/logs?name=lg${q}`)
    t.equal(r.status, 200)
    t.match(r.headers.get('content-type'), /application\/x-ndjson/)
    return r.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
  }
  const all = await lines('&follow=false&tail=-1')
  t.same(all.map((m) => m.text), ['a1', 'b1', 'a2', 'b2'], 'merged by time across pods')
  t.same(all.map((m) => m.instance), [a, b, a, b], 'instance = pod name')
  t.same(Object.keys(all[0] ?? {}).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp'])
  t.equal(all[0]?.name, 'lg')
  t.equal(all[0]?.namespace, NS)
  t.equal(Date.parse(all[0]?.timestamp ?? ''), t0, 'timestamp from the kubelet prefix')
  t.same((await lines('&tail=2')).map((m) => m.text), ['a2', 'b2'], 'tail over the merged lines')
  t.same((await lines(`&since=${new Date(t0 + 1500).toISOString()}`)).map((m) => m.text), ['a2', 'b2'], 'since')
  t.same((await lines(`&instance=${b}`)).map((m) => m.text), ['b1', 'b2'], 'instance')
  t.same(await lines('&instance=not-a-pod'), [], 'unknown instance: nothing')

  // follow: backlog, then lines as they are written, then a pod that starts later
  const ac = new AbortController()
  const res = await fetch(`${url}/system/logs?name=lg&follow=true&tail=1&instance=`, { signal: ac.signal })
  t.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const seen: string[] = []
  let buf = ''
  const readUntil = async (want: string): Promise<void> => {
    const deadline = Date.now() + 3000
    while (!seen.includes(want)) {
      if (Date.now() > deadline) throw new Error(`no "${want}" in ${JSON.stringify(seen)}`)
      const { value, done } = await reader.read()
      if (done === true) throw new Error('stream ended')
      buf += Buffer.from(value).toString('utf8')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        seen.push(JSON.parse(buf.slice(0, i)).text)
        buf = buf.slice(i + 1)
      }
    }
  }
  await readUntil('b2')
  fake.appendLog(NS, a, 'live-a')
  await readUntil('live-a')
  t.pass('a new line arrives while following')
  await api(url, 'POST', '/system/scale-function/lg', { replicas: 3 })
  const third = await eventually(() => {
    const p = fake.pods(NS, 'lg').find((x) => !pods.includes(x.metadata.name) && x.status.phase === 'Running')
    check(p !== undefined, 'third pod running')
    return p?.metadata.name as string
  }, { timeoutMs: 3000 })
  // the new pod's log is read from its start, so a line written before the watch sees it still arrives
  fake.appendLog(NS, third, 'from-the-new-pod')
  await readUntil('from-the-new-pod')
  t.pass('a pod that started later is followed too')
  ac.abort()
  await reader.cancel().catch(() => {})
})

t.test('logs of an unknown function: 404', async (t) => {
  const { url } = await kubeApp(t)
  t.equal((await api(url, 'GET', '/system/logs?name=ghost')).status, 404)
})

t.test('a pod still starting is skipped, not an error', async (t) => {
  const { url, fake } = await kubeApp(t)
  fake.holdPods(NS, 'slow', true)
  await api(url, 'POST', '/system/functions', figlet('slow'))
  await eventually(() => { check(fake.pods(NS, 'slow').length === 1, 'pod created') }, { timeoutMs: 3000 })
  const r = await api(url, 'GET', '/system/logs?name=slow&follow=false')
  t.equal(r.status, 200)
  t.equal(r.text, '')
})
