/*
 * /system/logs from Cloud Logging entries of the service: since, tail, instance, and follow by
 * bounded polling; an unknown function is 404.
 */
import t from 'tap'
import { appSetup, deployBody, PROJECT, REGION } from './helpers.ts'

interface Line { name: string, namespace: string, instance: string, timestamp: string, text: string }

async function lines (res: Response): Promise<Line[]> {
  return (await res.text()).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)
}

t.test('logs: since, tail, instance, follow', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('talker') })).status, 202)
  s.fake.logging.entries.length = 0
  const base = Date.now() - 60_000
  const add = (text: string, sec: number, instanceId = 'inst-a'): void => {
    s.fake.logging.add({ project: PROJECT, region: REGION, serviceId: 'talker', text, instanceId, time: new Date(base + sec * 1000) })
  }
  add('one', 1)
  add('two', 2, 'inst-b')
  s.fake.logging.add({ project: PROJECT, region: REGION, serviceId: 'talker', json: { message: 'three', severity: 'INFO' }, instanceId: 'inst-a', time: new Date(base + 3000) })
  s.fake.logging.add({ project: PROJECT, region: REGION, serviceId: 'someone-else', text: 'not mine', time: new Date(base + 4000) })

  let res = await s.call('/system/logs?name=talker&follow=false')
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /application\/x-ndjson/)
  const all = await lines(res)
  t.same(all.map((l) => l.text), ['one', 'two', 'three'], 'oldest first; jsonPayload.message as text; other services left out')
  t.same(all[0], { name: 'talker', namespace: 'gcp', instance: 'inst-a', timestamp: new Date(base + 1000).toISOString(), text: 'one' })
  const filter = String(s.fake.logging.requests.at(-1)?.filter)
  t.match(filter, /resource.type="cloud_run_revision" AND resource.labels.service_name="talker" AND resource.labels.location="europe-west1"/)

  res = await s.call('/system/logs?name=talker&follow=false&tail=2')
  t.same((await lines(res)).map((l) => l.text), ['two', 'three'], 'tail=2: the newest two, in order')

  res = await s.call(`/system/logs?name=talker&follow=false&since=${encodeURIComponent(new Date(base + 2000).toISOString())}`)
  t.same((await lines(res)).map((l) => l.text), ['two', 'three'], 'since')

  res = await s.call('/system/logs?name=talker&follow=false&instance=inst-b')
  t.same((await lines(res)).map((l) => l.text), ['two'], 'instance')

  const ac = new AbortController()
  const followed = await fetch(`${s.url}/system/logs?name=talker&follow=true&tail=1`, { signal: ac.signal })
  t.equal(followed.status, 200)
  const reader = followed.body?.getReader()
  const decoder = new TextDecoder()
  let text = ''
  const deadline = Date.now() + 5000
  setTimeout(() => { add('four', 5) }, 100)
  while (!text.includes('four') && Date.now() < deadline && reader !== undefined) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
  }
  ac.abort()
  const got = text.split('\n').filter((l) => l !== '').map((l) => (JSON.parse(l) as Line).text)
  t.same(got, ['three', 'four'], 'follow: the backlog, then new entries once each')

  res = await s.call('/system/logs?name=ghost')
  t.equal(res.status, 404, 'unknown function')
})

t.test('a Logging failure while opening the stream is reported with a status', async (t) => {
  const s = await appSetup(t)
  t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody('quiet') })).status, 202)
  s.fake.faults.add({ path: /entries:list/, status: 'PERMISSION_DENIED', message: "Permission 'logging.logEntries.list' denied" })
  const res = await s.call('/system/logs?name=quiet&follow=false')
  t.equal(res.status, 403)
  t.match(await res.text(), /logging.logEntries.list/)
})
