/*
 * Invocation: the core proxies straight to the service's URL (Upstream kind 'http'). When the
 * service checks IAM on invocations (the default on Cloud Run), the request carries a Google ID
 * token whose audience is the service URL. One google-auth-library IdTokenClient per audience keeps
 * the token and fetches a new one when it is within five minutes of expiring.
 */
import { GoogleAuth, IdTokenClient } from 'google-auth-library'
import { backendError } from '../../src/core/errors.ts'
import type { CloudRunOptions, IdTokenProvider } from './options.ts'

export class IdTokens {
  private readonly clients = new Map<string, IdTokenClient>()
  private provider: Promise<IdTokenProvider> | undefined
  private readonly opts: CloudRunOptions

  constructor (opts: CloudRunOptions) {
    this.opts = opts
  }

  private async tokenProvider (): Promise<IdTokenProvider> {
    if (this.opts.idTokenProvider !== undefined) return this.opts.idTokenProvider
    this.provider ??= (async () => {
      const auth = new GoogleAuth(this.opts.keyFilename !== undefined ? { keyFilename: this.opts.keyFilename } : {})
      const client = await auth.getClient()
      if (!('fetchIdToken' in client) || typeof client.fetchIdToken !== 'function') {
        throw new Error('these credentials cannot mint Google ID tokens (use a service account key, workload identity or the metadata server)')
      }
      return client as unknown as IdTokenProvider
    })()
    try {
      return await this.provider
    } catch (err) {
      this.provider = undefined
      throw err
    }
  }

  /** "Bearer <ID token>" for the audience; cached by the IdTokenClient until it nears expiry. */
  async authorization (audience: string): Promise<string> {
    let client = this.clients.get(audience)
    if (client === undefined) {
      client = new IdTokenClient({ targetAudience: audience, idTokenProvider: await this.tokenProvider() })
      this.clients.set(audience, client)
    }
    try {
      const headers = await client.getRequestHeaders()
      const value = headers.get('authorization')
      if (value === null) throw new Error('no authorization header')
      return value
    } catch (err) {
      throw backendError(`could not obtain a Google ID token for ${audience}: ${(err as Error).message}`, err)
    }
  }
}

/** The ID token audience for a service: its URL's origin (what Cloud Run accepts by default). */
export function audienceOf (uri: string): string {
  return new URL(uri).origin
}
