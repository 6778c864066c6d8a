/*
 * faas-provider wire types, field for field as the Go SDK (openfaas/faas-provider types/) defines
 * them. Optional fields are the ones Go marks omitempty.
 */

export interface FunctionResources {
  memory?: string
  cpu?: string
  'nvidia.com/gpu'?: string
  'amd.com/gpu'?: string
  'intel.com/gpu'?: string
}

/** Body of POST/PUT /system/functions. */
export interface FunctionDeployment {
  service: string
  image: string
  namespace?: string
  envProcess?: string
  envVars?: Record<string, string>
  constraints?: string[]
  secrets?: string[]
  labels?: Record<string, string>
  annotations?: Record<string, string>
  limits?: FunctionResources
  requests?: FunctionResources
  readOnlyRootFilesystem?: boolean
}

export interface FunctionUsage {
  cpu?: number
  totalMemoryBytes?: number
}

/** Items of GET /system/functions and the body of GET /system/function/{name}. */
export interface FunctionStatus {
  name: string
  image: string
  namespace: string
  envProcess?: string
  envVars?: Record<string, string>
  constraints?: string[]
  secrets?: string[]
  labels?: Record<string, string>
  annotations?: Record<string, string>
  limits?: FunctionResources
  requests?: FunctionResources
  readOnlyRootFilesystem?: boolean
  invocationCount?: number
  /** desired replicas */
  replicas: number
  /** ready replicas: the gateway's scale-from-zero waits for this to be > 0 */
  availableReplicas: number
  /** RFC3339; always present (Go never omits a time.Time) */
  createdAt: string
  usage?: FunctionUsage
}

export interface ScaleServiceRequest {
  serviceName?: string
  replicas: number
  namespace?: string
}

export interface DeleteFunctionRequest {
  functionName: string
  namespace?: string
}

/** A secret as it crosses the wire; list responses carry only name and namespace. */
export interface Secret {
  name: string
  namespace?: string
  value?: string
  /** standard base64 with padding (Go []byte) */
  rawValue?: string
}

export interface SecretInfo {
  name: string
  namespace: string
}

export interface VersionInfo {
  commit_message?: string
  sha: string
  release: string
}

export interface ProviderInfo {
  provider: string
  version: VersionInfo
  orchestration: string
  /** faas-bridge's own field (the gateway ignores it): who leads among the provider's replicas */
  coordination?: { identity: string, leader: string | null, leading: boolean, mode: string }
}

export interface FunctionNamespace {
  name: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}

/** One line of the /system/logs NDJSON stream; every key is always present. */
export interface LogMessage {
  name: string
  namespace: string
  instance: string
  /** RFC3339Nano */
  timestamp: string
  text: string
}
