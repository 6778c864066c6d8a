/*
 * OpenFaaS secrets in Secret Manager: one secret per OpenFaaS secret, id PREFIX_NAMESPACE_NAME in
 * the namespace's project, labelled managed-by=faas-bridge and openfaas-namespace=NS. The value is
 * a secret version: create adds the first, update adds a new one (functions mount "latest"), delete
 * removes the secret with all its versions. list reads names only, never a payload.
 */
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager'
import type { SecretInput, SecretStore } from '../../src/core/driver.ts'
import { notFound } from '../../src/core/errors.ts'
import type { SecretInfo } from '../../src/core/types.ts'
import { isNotFound, mapGoogleError, withRetry, type AttemptOptions } from './errors.ts'
import {
  isManagedIn, lastSegment, MANAGED_BY_LABEL, MANAGED_BY_VALUE, NAMESPACE_LABEL, secretId, secretNameOf
} from './naming.ts'
import type { CloudRunOptions, NamespaceTarget } from './options.ts'

export class CloudRunSecretStore implements SecretStore {
  private readonly client: SecretManagerServiceClient
  private readonly opts: CloudRunOptions
  private readonly target: (namespace: string) => NamespaceTarget

  constructor (client: SecretManagerServiceClient, opts: CloudRunOptions, target: (namespace: string) => NamespaceTarget) {
    this.client = client
    this.opts = opts
    this.target = target
  }

  /** One API call within requestTimeoutMs, retried (bounded) as errors.ts says; reads are idempotent. */
  private retrying<T> (fn: (call: AttemptOptions) => Promise<T>, idempotent: boolean): Promise<T> {
    return withRetry(fn, { timeoutMs: this.opts.requestTimeoutMs, baseMs: this.opts.retryBaseMs, idempotent })
  }

  private path (namespace: string, name: string): string {
    return `projects/${this.target(namespace).project}/secrets/${secretId(this.opts.secretPrefix, namespace, name)}`
  }

  async list (namespace: string): Promise<SecretInfo[]> {
    const parent = `projects/${this.target(namespace).project}`
    const filter = `labels.${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE} AND labels.${NAMESPACE_LABEL}=${namespace}`
    const out: SecretInfo[] = []
    let pageToken: string | undefined
    for (let page = 0; page < this.opts.maxListPages; page++) {
      let secrets, next
      try {
        const request = { parent, filter, pageSize: 250, ...(pageToken !== undefined ? { pageToken } : {}) };
        [secrets, next] = await this.retrying(async (call) => await this.client.listSecrets(request, { ...call, autoPaginate: false }), true)
      } catch (err) {
        throw mapGoogleError(err, `listing secrets of namespace "${namespace}"`)
      }
      for (const s of secrets) {
        if (!isManagedIn(s.labels as Record<string, string> | undefined, namespace)) continue
        const name = secretNameOf(this.opts.secretPrefix, namespace, lastSegment(s.name ?? ''))
        if (name !== undefined) out.push({ name, namespace })
      }
      pageToken = next?.pageToken ?? undefined
      if (pageToken === undefined || pageToken === '') break
    }
    return out.sort((a, b) => a.name.localeCompare(b.name))
  }

  /** NOT_FOUND unless the secret exists and is this namespace's. */
  async assertExists (namespace: string, name: string): Promise<void> {
    let labels: Record<string, string> | undefined
    try {
      const [s] = await this.retrying(async (call) => await this.client.getSecret({ name: this.path(namespace, name) }, call), true)
      labels = s.labels as Record<string, string> | undefined
    } catch (err) {
      if (isNotFound(err)) throw notFound(`secret "${name}" not found in namespace "${namespace}"`)
      throw mapGoogleError(err, `reading secret "${name}"`)
    }
    if (!isManagedIn(labels, namespace)) throw notFound(`secret "${name}" not found in namespace "${namespace}" (the Secret Manager secret is not managed by faas-bridge)`)
  }

  private async addVersion (namespace: string, name: string, value: Buffer): Promise<void> {
    await this.retrying(async (call) => await this.client.addSecretVersion({ parent: this.path(namespace, name), payload: { data: value } }, call), false)
  }

  async create (secret: SecretInput): Promise<void> {
    const { namespace, name, value } = secret
    const t = this.target(namespace)
    try {
      await this.retrying(async (call) => await this.client.createSecret({
        parent: `projects/${t.project}`,
        secretId: secretId(this.opts.secretPrefix, namespace, name),
        secret: {
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [NAMESPACE_LABEL]: namespace },
          replication: { automatic: {} }
        }
      }, call), false)
    } catch (err) {
      throw mapGoogleError(err, `creating secret "${name}"`)
    }
    try {
      await this.addVersion(namespace, name, value)
    } catch (err) {
      // a secret without a version would mount nothing: take it away again
      await this.retrying(async (call) => await this.client.deleteSecret({ name: this.path(namespace, name) }, call), false).catch(() => {})
      throw mapGoogleError(err, `storing the value of secret "${name}"`)
    }
  }

  async update (secret: SecretInput): Promise<void> {
    await this.assertExists(secret.namespace, secret.name)
    try {
      await this.addVersion(secret.namespace, secret.name, secret.value)
    } catch (err) {
      throw mapGoogleError(err, `updating secret "${secret.name}"`)
    }
  }

  async remove (namespace: string, name: string): Promise<void> {
    await this.assertExists(namespace, name)
    try {
      await this.retrying(async (call) => await this.client.deleteSecret({ name: this.path(namespace, name) }, call), false)
    } catch (err) {
      throw mapGoogleError(err, `deleting secret "${name}"`)
    }
  }
}
