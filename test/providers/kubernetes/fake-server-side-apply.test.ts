/*
 * The fake API server's server-side apply, held to what
 * https://kubernetes.io/docs/reference/using-api/server-side-apply/ documents (the kubernetes
 * backend's updates rely on it): apply creates or updates without a resourceVersion; a field
 * another manager owns with a different value is a 409 Conflict naming the manager and field,
 * unless forced; the same value is shared; fields a manager stops applying are removed unless
 * someone else owns them; fieldManager is required.
 */
import t from 'tap'
import { startFakeKubernetes } from '../../fakes/kubernetes/server.ts'

t.test('server-side apply in the fake', async (t) => {
  const fake = await startFakeKubernetes()
  t.teardown(async () => { await fake.close() })
  fake.createNamespace('ns')
  const path = '/api/v1/namespaces/ns/services/svc'
  const applyAs = async (manager: string | undefined, labels: Record<string, string>, force = false): Promise<{ status: number, body: any }> => {
    const q = new URLSearchParams()
    if (manager !== undefined) q.set('fieldManager', manager)
    if (force) q.set('force', 'true')
    const res = await fetch(`${fake.url}${path}?${q.toString()}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', labels }, spec: { ports: [{ port: 80 }] } })
    })
    return { status: res.status, body: await res.json() }
  }
  t.equal((await applyAs(undefined, { a: '1' })).status, 400, 'fieldManager is required for apply')
  const created = await applyAs('alice', { a: '1', shared: 'x' })
  t.equal(created.status, 201, 'apply creates')
  t.same(created.body.metadata.managedFields.map((m: any) => [m.manager, m.operation]), [['alice', 'Apply']])

  t.equal((await applyAs('bob', { shared: 'x' })).status, 200, 'the same value: shared ownership, no conflict')
  const conflict = await applyAs('bob', { a: '2' })
  t.equal(conflict.status, 409)
  t.match(conflict.body, {
    kind: 'Status',
    status: 'Failure',
    reason: 'Conflict',
    code: 409,
    message: 'Apply failed with 1 conflict: conflict with "alice" using v1: .metadata.labels.a',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "alice" using v1', field: '.metadata.labels.a' }] }
  }, 'a conflict names the owner and the field (Status as the API server sends it)')
  t.equal((await applyAs('bob', { a: '2', shared: 'x' }, true)).status, 200, 'force takes the field')

  // alice stops applying a (now bob's) and shared (also bob's): both stay; her own field goes
  const after = await applyAs('alice', { only: 'alice' })
  t.equal(after.status, 200)
  t.same(after.body.metadata.labels, { a: '2', shared: 'x', only: 'alice' }, 'fields others own stay')
  const last = await applyAs('alice', {})
  t.same(last.body.metadata.labels, { a: '2', shared: 'x' }, 'a field only the applier owned is removed when it stops applying it')
})
