/*
 * The AWS SDK v3 clients, one set per region: Lambda for control calls, Lambda for invocations
 * (its socket timeout is the invocation timeout), CloudWatch Logs and Secrets Manager. The SDK's
 * own retries are off (maxAttempts 1): aws-errors.ts retries throttles within the request timeout.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { CredentialsSource, Endpoints, StaticCredentials } from './options.ts'

export interface RegionClients {
  lambda: LambdaClient
  invoke: LambdaClient
  logs: CloudWatchLogsClient
  secrets: SecretsManagerClient
}

export interface ClientSettings {
  endpoints: Endpoints
  credentials: CredentialsSource
  requestTimeoutMs: number
  invokeTimeoutMs: number
}

function resolveCredentials (source: CredentialsSource): StaticCredentials | undefined {
  if (source === 'default') return undefined
  if (source === 'env') {
    const accessKeyId = process.env.AWS_ACCESS_KEY_ID ?? ''
    const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY ?? ''
    if (accessKeyId === '' || secretAccessKey === '') {
      throw new Error('lambda backend: credentials "env" needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
    }
    const sessionToken = process.env.AWS_SESSION_TOKEN
    return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && sessionToken !== '' ? { sessionToken } : {}) }
  }
  return source
}

export class ClientPool {
  private readonly settings: ClientSettings
  private readonly credentials: StaticCredentials | undefined
  private readonly byRegion = new Map<string, RegionClients>()

  constructor (settings: ClientSettings) {
    this.settings = settings
    this.credentials = resolveCredentials(settings.credentials)
  }

  for (region: string): RegionClients {
    let clients = this.byRegion.get(region)
    if (clients === undefined) {
      const { endpoints, requestTimeoutMs, invokeTimeoutMs } = this.settings
      const common = (endpoint: string | undefined, timeoutMs: number): Record<string, unknown> => ({
        region,
        maxAttempts: 1,
        ...(endpoint !== undefined ? { endpoint } : {}),
        ...(this.credentials !== undefined ? { credentials: this.credentials } : {}),
        requestHandler: { requestTimeout: timeoutMs, connectionTimeout: Math.min(timeoutMs, 5000), throwOnRequestTimeout: true }
      })
      clients = {
        lambda: new LambdaClient(common(endpoints.lambda, requestTimeoutMs)),
        invoke: new LambdaClient(common(endpoints.lambda, invokeTimeoutMs)),
        logs: new CloudWatchLogsClient(common(endpoints.logs, requestTimeoutMs)),
        secrets: new SecretsManagerClient(common(endpoints.secretsManager, requestTimeoutMs))
      }
      this.byRegion.set(region, clients)
    }
    return clients
  }

  destroy (): void {
    for (const c of this.byRegion.values()) {
      c.lambda.destroy()
      c.invoke.destroy()
      c.logs.destroy()
      c.secrets.destroy()
    }
    this.byRegion.clear()
  }
}
