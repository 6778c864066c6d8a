/*
 * GET /system/logs over the tekton backend: the `function` step's log of each TaskRun pod, one
 * NDJSON line per log line, instance = the TaskRun's name; tail and instance; follow shows runs
 * that start later; an unknown function is 404.
 */
import t from 'tap'
import { api, fnSpec, NS, tektonApp } from './helpers.ts'

async function lines (url: string, q: string): Promise<Array<Record<string, string>>> {
  const r = await api(url, 'GET', `/system/logs?name=lg${q}`)
  return r.text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l))
}

t.test('logs of TaskRuns: instance = TaskRun, tail, follow', async (t) => {
  const { url, tekton } = await tektonApp(t)
  tekton.handler = (run) => ({ stdout: 'response text', stderr: [`log of ${run.body.toString('utf8')}`] })
  await api(url, 'POST', '/system/functions', fnSpec('lg'))
  t.equal((await api(url, 'POST', '/function/lg', 'one')).status, 200)
  t.equal((await api(url, 'POST', '/function/lg', 'two')).status, 200)
  const [r1, r2] = tekton.taskRuns(NS, 'lg').map((r) => r.metadata.name)
  const all = await lines(url, '&follow=false')
  t.same(all.map((m) => m.text), ['log of one', 'log of two'], 'step function logs, merged by time; stdout is not a log line')
  t.same(all.map((m) => m.instance), [r1, r2], 'instance = the TaskRun name')
  t.same(Object.keys(all[0] ?? {}).sort(), ['instance', 'name', 'namespace', 'text', 'timestamp'])
  t.same((await lines(url, '&tail=1')).map((m) => m.text), ['log of two'], 'tail')
  t.same((await lines(url, `&instance=${String(r1)}`)).map((m) => m.text), ['log of one'], 'one TaskRun')

  const ac = new AbortController()
  const res = await fetch(`${url}/system/logs?name=lg&follow=true&tail=0`, { signal: ac.signal })
  t.equal(res.status, 200)
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  t.equal((await api(url, 'POST', '/function/lg', 'three')).status, 200)
  let buf = ''
  const deadline = Date.now() + 3000
  while (!buf.includes('log of three') && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done === true) break
    buf += Buffer.from(value).toString('utf8')
  }
  t.match(buf, /log of three/, 'a run that started later is followed')
  ac.abort()
  await reader.cancel().catch(() => {})
  t.equal((await api(url, 'GET', '/system/logs?name=ghost')).status, 404, 'unknown function 404')
})
