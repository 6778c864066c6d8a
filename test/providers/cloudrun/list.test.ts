/*
 * GET /system/functions pages through listServices (pageToken) and shows only the services this
 * backend manages for the namespace: not other namespaces', not services someone else created.
 */
import t from 'tap'
import { appSetup, deployBody, PROJECT, REGION } from './helpers.ts'

t.test('list pages through services and shows only managed ones of the namespace', async (t) => {
  const s = await appSetup(t, { maxPageSize: 2, namespaces: ['gcp', 'gcp-dev'], driverOptions: { namespaces: { 'gcp-dev': { servicePrefix: 'dev-' } } } })
  const res0 = await s.call('/system/functions')
  t.equal(res0.status, 200)
  t.same(await res0.json(), [], '[] when empty')
  for (const name of ['e', 'a', 'c', 'b', 'd']) {
    t.equal((await s.call('/system/functions', { method: 'POST', json: deployBody(name) })).status, 202)
  }
  t.equal((await s.call('/system/functions?namespace=gcp-dev', { method: 'POST', json: deployBody('a', { namespace: 'gcp-dev' }) })).status, 202)
  const parent = `projects/${PROJECT}/locations/${REGION}`
  s.fake.run.seed(parent, 'not-ours', { labels: { team: 'x' } })
  const res = await s.call('/system/functions')
  t.equal(res.status, 200)
  const list = await res.json() as Array<{ name: string, namespace: string, availableReplicas: number }>
  t.same(list.map((f) => f.name), ['a', 'b', 'c', 'd', 'e'])
  t.ok(list.every((f) => f.namespace === 'gcp' && f.availableReplicas === 1))
  const pages = s.fake.run.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/services'))
  t.ok(pages.length >= 4, `several pages were read (${pages.length})`)
  t.ok(pages.some((r) => r.query.get('pageToken') !== null), 'with a pageToken')
  const dev = await (await s.call('/system/functions?namespace=gcp-dev')).json() as Array<{ name: string }>
  t.same(dev.map((f) => f.name), ['a'], 'the other namespace sees its own (service dev-a)')
  t.ok(s.fake.run.serviceById('dev-a'), 'namespaced through the service prefix')
})
