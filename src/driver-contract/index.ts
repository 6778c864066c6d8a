/*
 * faas-bridge/driver-contract: the contract suite every built-in backend passes, for drivers
 * written outside this repository. It is tap-based (tap is what faas-bridge's own tests use, and
 * the suite leans on its subtests, teardown and error matching): a driver's test file is
 *
 *   import t from 'tap'
 *   import { runDriverContract, testDriverContext } from 'faas-bridge/driver-contract'
 *   await runDriverContract(t, { name, namespace, makeDriver, functionSpec, capabilities })
 *
 * plus the helpers the suite itself waits and invokes with.
 */
export { runDriverContract, type DriverContractOptions } from './suite.ts'
export { check, eventually, type EventuallyOptions } from './eventually.ts'
export { invokeUpstream, type InvokeRequest, type InvokeResult } from './invoke.ts'
export { testDriverContext } from './context.ts'
