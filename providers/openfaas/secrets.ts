/*
 * Secrets on the remote's /system/secrets, in the remote namespace; names come back with the
 * local one. The remote's codes carry through the client (409 exists, 404 missing). The namespace
 * goes in the body (faas-netes, faasd read it there) and, for DELETE, in the query as well.
 * Which secrets are the provider's is the remote's own notion, and its list says it (faas-netes
 * lists only Secrets labelled managed-by=openfaas, yet its PUT and DELETE act on any Secret of the
 * namespace): update and remove first check that the remote lists the name, and answer 404
 * without sending anything when it does not.
 */
import type { SecretInput, SecretStore } from '../../src/core/driver.ts'
import { notFound } from '../../src/core/errors.ts'
import type { SecretInfo } from '../../src/core/types.ts'
import type { RemoteClient } from './client.ts'
import { fromRemoteSecrets, secretBody } from './mapping.ts'

export class RemoteSecretStore implements SecretStore {
  private readonly client: RemoteClient
  private readonly remoteNs: (local: string) => string

  constructor (client: RemoteClient, remoteNs: (local: string) => string) {
    this.client = client
    this.remoteNs = remoteNs
  }

  async list (namespace: string): Promise<SecretInfo[]> {
    const what = `listing secrets of namespace "${namespace}"`
    const raw = await this.client.json({ method: 'GET', path: 'system/secrets', query: { namespace: this.remoteNs(namespace) }, what })
    return fromRemoteSecrets(raw, namespace, what)
  }

  async create (secret: SecretInput): Promise<void> {
    await this.client.call({
      method: 'POST',
      path: 'system/secrets',
      body: secretBody(secret.name, this.remoteNs(secret.namespace), secret.value),
      what: `creating secret "${secret.name}" in namespace "${secret.namespace}"`
    })
  }

  /** NOT_FOUND unless the remote lists the secret as one of its own. */
  private async assertListed (namespace: string, name: string): Promise<void> {
    const listed = await this.list(namespace)
    if (!listed.some((s) => s.name === name)) throw notFound(`secret "${name}" not found in namespace "${namespace}"`)
  }

  async update (secret: SecretInput): Promise<void> {
    await this.assertListed(secret.namespace, secret.name)
    await this.client.call({
      method: 'PUT',
      path: 'system/secrets',
      body: secretBody(secret.name, this.remoteNs(secret.namespace), secret.value),
      what: `updating secret "${secret.name}" in namespace "${secret.namespace}"`,
      notFoundMessage: `secret "${secret.name}" not found in namespace "${secret.namespace}"`
    })
  }

  async remove (namespace: string, name: string): Promise<void> {
    await this.assertListed(namespace, name)
    const remote = this.remoteNs(namespace)
    await this.client.call({
      method: 'DELETE',
      path: 'system/secrets',
      query: { namespace: remote },
      body: { name, namespace: remote },
      what: `removing secret "${name}" from namespace "${namespace}"`,
      notFoundMessage: `secret "${name}" not found in namespace "${namespace}"`
    })
  }
}
