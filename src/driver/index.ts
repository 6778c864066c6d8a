/*
 * faas-bridge/driver: the public surface for a driver written outside this repository — the
 * Driver contract and its parts, the wire types a driver reads and returns, and the error
 * constructors it throws (each carries the HTTP status the API answers with). Nothing else of
 * faas-bridge is public; docs/writing-a-driver.md describes the contract in prose.
 */
export {
  DRIVER_API_VERSION,
  type CreateDriver, type Driver, type DriverContext, type DriverModule, type HeaderMap,
  type InvocationRequest, type InvocationResponse, type LogQuery, type NamespaceStore,
  type SecretInput, type SecretStore, type Upstream
} from '../core/driver.ts'
export {
  backendError, badGateway, conflict, forbidden, invalid, isProviderError, notFound, ProviderError,
  STATUS_BY_CODE, timeout, tooManyRequests, unavailable, unprocessable, unsupported, type ErrorCode
} from '../core/errors.ts'
/** every status carries faas_function: NAME (as faas-netes reports it); the contract suite checks it */
export { FUNCTION_LABEL, withFunctionLabel } from '../core/function-label.ts'
export type {
  FunctionDeployment, FunctionNamespace, FunctionResources, FunctionStatus, FunctionUsage,
  LogMessage, SecretInfo
} from '../core/types.ts'
