/*
 * The Google clients, built once per driver: Cloud Run v2 ServicesClient, Secret Manager and Cloud
 * Logging, all on the REST transport (gax "fallback" mode). auth 'adc' uses Application Default
 * Credentials (keyFilename if given); auth 'none' sends no token (emulators, tests): an auth client
 * that adds nothing, so no client ever probes the metadata server.
 */
import { Logging } from '@google-cloud/logging'
import { ServicesClient } from '@google-cloud/run'
import { SecretManagerServiceClient } from '@google-cloud/secret-manager'
import { PassThroughClient } from 'google-auth-library'
import type { CloudRunOptions, Endpoint } from './options.ts'

export interface GoogleClients {
  run: ServicesClient
  secrets: SecretManagerServiceClient
  logging: Logging
  close (): Promise<void>
}

type BaseOptions = {
  fallback: true
  keyFilename?: string
  authClient?: PassThroughClient
  apiEndpoint?: string
  port?: number
  protocol?: 'http' | 'https'
}

function base (opts: CloudRunOptions, endpoint: Endpoint | undefined): BaseOptions {
  const o: BaseOptions = { fallback: true }
  if (opts.auth === 'none') o.authClient = new PassThroughClient()
  else if (opts.keyFilename !== undefined) o.keyFilename = opts.keyFilename
  if (endpoint !== undefined) {
    o.apiEndpoint = endpoint.apiEndpoint
    o.port = endpoint.port
    o.protocol = endpoint.protocol
  }
  return o
}

export function createClients (opts: CloudRunOptions, loggingProject: string): GoogleClients {
  const run = new ServicesClient(base(opts, opts.endpoints.run))
  const secrets = new SecretManagerServiceClient(base(opts, opts.endpoints.secretManager))
  // projectId only keeps the Logging wrapper from looking one up; every request names its resources
  const logging = new Logging({ ...base(opts, opts.endpoints.logging), projectId: loggingProject })
  return {
    run,
    secrets,
    logging,
    async close (): Promise<void> {
      await Promise.allSettled([run.close(), secrets.close(), logging.loggingService.close(), logging.configService.close()])
    }
  }
}
