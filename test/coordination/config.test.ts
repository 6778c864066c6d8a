/*
 * Leader election settings (src/config.ts): off for one process outside a cluster, on in a pod
 * without a local backend, refused with a local backend, client-go's defaults, and timing
 * mistakes named by the key that is wrong.
 */
import t from 'tap'
import { ConfigError, loadConfig } from '../../src/config.ts'

const kubeFile = JSON.stringify({ backends: { k8s: { driver: 'kubernetes', namespaces: ['openfaas-fn'] } } })
const mixedFile = JSON.stringify({ backends: { k8s: { driver: 'kubernetes', namespaces: ['openfaas-fn'] }, here: { driver: 'local', namespaces: ['local-fn'] } } })
const load = (env: Record<string, string>, file = kubeFile): ReturnType<typeof loadConfig> =>
  loadConfig({ HOME: '/tmp', config_file: 'backends.yaml', ...env }, () => file)

t.test('auto: off outside a pod and with the default local backend; on in a pod', async (t) => {
  t.equal(load({}).leaderElection, undefined, 'no KUBERNETES_SERVICE_HOST: one process, its own leader')
  t.equal(loadConfig({ HOME: '/tmp', KUBERNETES_SERVICE_HOST: '10.0.0.1' }).leaderElection, undefined, 'the local backend: off even in a pod')
  t.equal(load({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, mixedFile).leaderElection, undefined, 'a local backend among others: off')
  t.same(load({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }).leaderElection, {
    kubeconfig: undefined,
    leaseName: 'faas-bridge',
    namespace: undefined,
    identity: undefined,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2000,
    peerService: 'faas-bridge',
    peerPortName: 'http',
    peerTimeoutMs: 1000
  }, "client-go's defaults; the peers are the Service named like the Lease")
  t.equal(load({ KUBERNETES_SERVICE_HOST: '10.0.0.1', leader_election: 'false' }).leaderElection, undefined, 'false: off')
})

t.test('true: settings read; a local backend refused; timing checked', async (t) => {
  const le = load({
    leader_election: 'true',
    leader_election_lease_name: 'fb',
    leader_election_namespace: 'openfaas',
    leader_election_identity: 'pod-a',
    leader_election_kubeconfig: '/k/config',
    leader_election_lease_duration: '2s',
    leader_election_renew_deadline: '1s',
    leader_election_retry_period: '250ms',
    peer_service: 'fb-svc',
    peer_port_name: 'api',
    peer_timeout: '500ms'
  }).leaderElection
  t.match(le, { kubeconfig: '/k/config', leaseName: 'fb', namespace: 'openfaas', identity: 'pod-a', leaseDurationMs: 2000, renewDeadlineMs: 1000, retryPeriodMs: 250, peerService: 'fb-svc', peerPortName: 'api', peerTimeoutMs: 500 })
  t.throws(() => load({ leader_election: 'true' }, mixedFile), new ConfigError('leader_election: true cannot be used with the local backend "here" (its functions are processes of one replica)'))
  t.throws(() => load({ leader_election: 'yes' }), /leader_election: expected auto, true or false/)
  t.throws(() => load({ leader_election: 'true', leader_election_renew_deadline: '15s' }), /leader_election_renew_deadline: must be shorter than leader_election_lease_duration/)
  t.throws(() => load({ leader_election: 'true', leader_election_retry_period: '10s' }), /leader_election_retry_period: must be shorter than leader_election_renew_deadline/)
  t.throws(() => load({ leader_election: 'true', leader_election_lease_duration: '500ms', leader_election_renew_deadline: '400ms', leader_election_retry_period: '100ms' }), /at least 1s/)
  t.throws(() => load({ leader_election: 'true', leader_election_lease_name: 'Not_A_Name' }), /leader_election_lease_name: "Not_A_Name"/)
})
