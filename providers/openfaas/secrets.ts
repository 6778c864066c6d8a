/*
 * Secrets on the remote's /system/secrets, in the remote namespace; names come back with the
 * local one. The remote's codes carry through the client (409 exists, 404 missing). The namespace
 * goes in the body (faas-netes, faasd read it there) and, for DELETE, in the query as well.
 */
import type { SecretInput, SecretStore } from '../../src/core/driver.ts'
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

  async update (secret: SecretInput): Promise<void> {
    await this.client.call({
      method: 'PUT',
      path: 'system/secrets',
      body: secretBody(secret.name, this.remoteNs(secret.namespace), secret.value),
      what: `updating secret "${secret.name}" in namespace "${secret.namespace}"`,
      notFoundMessage: `secret "${secret.name}" not found in namespace "${secret.namespace}"`
    })
  }

  async remove (namespace: string, name: string): Promise<void> {
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
