/*
 * The chart's high-availability values (replicaCount > 1): leader election on by default with
 * client-go's timing (values the provider accepts), RBAC for the Lease and the Service's
 * EndpointSlices equal to what the code calls (LEADER_ELECTION_PERMISSIONS), a PodDisruptionBudget
 * and soft pod anti-affinity by default, every example with replicaCount > 1 free of a local
 * backend, and the templates' guards for those (rendered output is checked by the helm-based chart
 * tests).
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse as parseYaml } from 'yaml'
import { LEADER_ELECTION_PERMISSIONS } from '../../providers/kubernetes/common/lease-permissions.ts'
import { loadConfig } from '../../src/config.ts'

const chart = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../charts/faas-bridge')
const read = async (f: string): Promise<string> => await readFile(path.join(chart, f), 'utf8')
const values = async (f = 'values.yaml'): Promise<any> => parseYaml(await read(f))

t.test('leader election values: on with several replicas, timing the provider accepts', async (t) => {
  const v = await values()
  t.equal(v.leaderElection.enabled, '', 'by default on exactly when replicaCount > 1')
  t.same([v.leaderElection.leaseDuration, v.leaderElection.renewDeadline, v.leaderElection.retryPeriod], ['15s', '10s', '2s'])
  const config = loadConfig({
    HOME: '/tmp',
    config_file: 'b.yaml',
    leader_election: 'true',
    leader_election_lease_duration: v.leaderElection.leaseDuration,
    leader_election_renew_deadline: v.leaderElection.renewDeadline,
    leader_election_retry_period: v.leaderElection.retryPeriod
  }, () => JSON.stringify({ backends: { k: { driver: 'kubernetes', namespaces: ['openfaas-fn'] } } }))
  t.match(config.leaderElection, { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000 })
})

t.test('RBAC for leader election equals the calls the code makes', async (t) => {
  const v = await values()
  const rules = (v.rbac.leaderElectionRules as Array<{ apiGroups: string[], resources: string[], verbs: string[] }>)
    .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => ({ apiGroup: g, resource: res, verbs: [...r.verbs].sort() }))))
  t.same(rules, LEADER_ELECTION_PERMISSIONS.map((p) => ({ ...p, verbs: [...p.verbs].sort() })))
  const role = await read('templates/rbac-leader-election.yaml')
  t.match(role, /faas-bridge\.leaderElection/, 'created only when leader election is on')
  t.match(role, /namespace: \{\{ \.Release\.Namespace \}\}/, 'in the release namespace, where the Lease and the Service are')
})

t.test('PodDisruptionBudget and anti-affinity with several replicas', async (t) => {
  const v = await values()
  t.same(v.podDisruptionBudget, { enabled: true, minAvailable: 1 })
  t.equal(v.podAntiAffinity, 'soft', 'soft by default: replicas still schedule on a one-node cluster')
  const pdb = await read('templates/pdb.yaml')
  t.match(pdb, /gt \(int \.Values\.replicaCount\) 1/, 'only with more than one replica (a PDB of 1 pod with minAvailable 1 blocks drains)')
  t.match(pdb, /kind: PodDisruptionBudget/)
  const dep = await read('templates/deployment.yaml')
  t.match(dep, /preferredDuringSchedulingIgnoredDuringExecution/)
  t.match(dep, /requiredDuringSchedulingIgnoredDuringExecution/)
  t.match(dep, /fail "replicaCount > 1 needs stateless backends/, 'replicaCount > 1 still refused with a local backend')
  t.match(dep, /name: leader_election_identity\n\s+valueFrom:\n\s+fieldRef:\n\s+fieldPath: metadata\.name/, 'identity = the pod name')
})

t.test('every example with several replicas has no local backend', async (t) => {
  for (const name of ['cloudrun', 'kubernetes', 'lambda', 'tekton']) {
    const v = await values(`examples/values-${name}.yaml`)
    t.ok(v.replicaCount > 1, `${name}: replicaCount ${String(v.replicaCount)}`)
    const drivers = Object.entries(v.backends ?? {}).map(([k, b]) => (b as { driver?: string }).driver ?? k)
    t.notOk(drivers.includes('local'), `${name}: no local backend`)
  }
})
