/*
 * The tekton backend's options: defaults, and validateOptions messages that name the wrong option.
 */
import t from 'tap'
import {
  DEFAULT_IMAGE_PULL_POLICY, DEFAULT_KEEP_TASKRUNS, DEFAULT_MAX_BODY_BYTES, DEFAULT_RESULT_LIMIT_BYTES, MAX_BODY_BYTES_LIMIT, validateOptions
} from '../../../providers/tekton/options.ts'

t.test('defaults', async (t) => {
  const o = validateOptions({})
  t.equal(o.inCluster, 'auto')
  t.equal(o.maxBodyBytes, DEFAULT_MAX_BODY_BYTES)
  t.equal(DEFAULT_MAX_BODY_BYTES, 1024 * 1024 - 16 * 1024, 'a ConfigMap less the headers')
  t.equal(o.resultLimitBytes, DEFAULT_RESULT_LIMIT_BYTES)
  t.equal(o.keepTaskRuns, DEFAULT_KEEP_TASKRUNS)
  t.equal(o.maxQueue, 100)
  t.equal(o.imagePullPolicy, DEFAULT_IMAGE_PULL_POLICY)
  t.same(o.managedBy, { key: 'app.kubernetes.io/managed-by', value: 'faas-bridge' })
  t.same(o.namespaceLabel, { key: 'openfaas', value: '1' })
  t.notOk('serviceAccountName' in o)
})

t.test('wrong options are named', async (t) => {
  t.throws(() => validateOptions({ maxBodyBytes: MAX_BODY_BYTES_LIMIT + 1 }), /tekton backend: option "maxBodyBytes" must be an integer from 0 to 1032192/)
  t.throws(() => validateOptions({ keepTaskRuns: -1 }), /option "keepTaskRuns"/)
  t.throws(() => validateOptions({ maxQueue: 1.5 }), /option "maxQueue"/)
  t.throws(() => validateOptions({ resultLimitBytes: '4k' }), /option "resultLimitBytes"/)
  t.throws(() => validateOptions({ imagePullPolicy: 'Sometimes' }), /option "imagePullPolicy"/)
  t.throws(() => validateOptions({ serviceAccountName: 'Not Valid' }), /option "serviceAccountName"/)
  t.throws(() => validateOptions({ inCluster: 'yes' }), /tekton backend: option "inCluster"/)
  t.throws(() => validateOptions({ inCluster: true, kubeconfig: '/x' }), /exclude each other/)
  t.throws(() => validateOptions({ managedBy: 'not valid!' }), /option "managedBy"/)
})
