/*
 * Secrets in AWS Secrets Manager: OpenFaaS secret NAME in namespace NS is the secret
 * `<namespace secretsPrefix>NAME` (default "openfaas/NS/NAME"), tagged faas-bridge:managed.
 * Values go in as SecretString when they are UTF-8, else SecretBinary. list returns names only;
 * remove deletes at once (no recovery window), so the name can be used again. Update and remove
 * act only on a secret this backend created (the managed tag) and that exists: they look it up
 * first (DescribeSecret), since PutSecretValue and DeleteSecret work on any secret under the
 * prefix, and a forced DeleteSecret of a nonexistent secret succeeds ("does not return
 * ResourceNotFoundException"), so its answer alone can never be the 404 faas-cli expects.
 * Functions cannot mount files on Lambda: a deployed function gets the ARNs of its secrets in
 * env FAAS_BRIDGE_SECRETS and reads the values itself (docs/backends/lambda.md).
 */
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, ListSecretsCommand, PutSecretValueCommand,
  type SecretsManagerClient
} from '@aws-sdk/client-secrets-manager'
import type { SecretInput, SecretStore } from '../../src/core/driver.ts'
import { invalid, isProviderError, notFound } from '../../src/core/errors.ts'
import type { SecretInfo } from '../../src/core/types.ts'
import { withRetry } from './aws-errors.ts'
import { TAG_MANAGED, TAG_NAMESPACE } from './naming.ts'

export interface SecretScope {
  client: SecretsManagerClient
  /** e.g. "openfaas/openfaas-fn/" */
  prefix: string
}

export interface SecretSettings {
  scope: (namespace: string) => SecretScope
  requestTimeoutMs: number
  retryBaseMs: number
  maxPages: number
}

const LIST_PAGE = 100

function value (v: Buffer): { SecretString: string } | { SecretBinary: Uint8Array } {
  const text = v.toString('utf8')
  return Buffer.from(text, 'utf8').equals(v) ? { SecretString: text } : { SecretBinary: new Uint8Array(v) }
}

export class LambdaSecretStore implements SecretStore {
  private readonly s: SecretSettings

  constructor (settings: SecretSettings) {
    this.s = settings
  }

  private call<T> (what: string, fn: (signal: AbortSignal) => Promise<T>, idempotent = false): Promise<T> {
    return withRetry(fn, { timeoutMs: this.s.requestTimeoutMs, baseMs: this.s.retryBaseMs, idempotent, what })
  }

  async list (namespace: string): Promise<SecretInfo[]> {
    const { client, prefix } = this.s.scope(namespace)
    const names = new Set<string>()
    let token: string | undefined
    for (let pages = 0; pages < this.s.maxPages; pages++) {
      const out = await this.call('ListSecrets', (signal) => client.send(new ListSecretsCommand({
        Filters: [{ Key: 'name', Values: [prefix] }, { Key: 'tag-key', Values: [TAG_MANAGED] }],
        MaxResults: LIST_PAGE,
        ...(token !== undefined ? { NextToken: token } : {})
      }), { abortSignal: signal }), true)
      for (const s of out.SecretList ?? []) {
        const full = s.Name ?? ''
        const managed = (s.Tags ?? []).some((t) => t.Key === TAG_MANAGED && t.Value === 'true')
        if (managed && full.startsWith(prefix) && !full.slice(prefix.length).includes('/')) names.add(full.slice(prefix.length))
      }
      token = out.NextToken
      if (token === undefined || token === '') break
    }
    return [...names].sort().map((name) => ({ name, namespace }))
  }

  async create (secret: SecretInput): Promise<void> {
    const { client, prefix } = this.s.scope(secret.namespace)
    await this.call('CreateSecret', (signal) => client.send(new CreateSecretCommand({
      Name: prefix + secret.name,
      ...value(secret.value),
      Tags: [{ Key: TAG_MANAGED, Value: 'true' }, { Key: TAG_NAMESPACE, Value: secret.namespace }]
    }), { abortSignal: signal }))
  }

  /**
   * The ARN of the namespace's secret NAME when faas-bridge manages it; NOT_FOUND when it does not
   * exist, is scheduled for deletion, or is someone else's (no managed tag): not among ours.
   */
  private async managedArn (namespace: string, name: string): Promise<string> {
    const { client, prefix } = this.s.scope(namespace)
    const missing = notFound(`secret "${name}" not found in namespace "${namespace}"`)
    let d
    try {
      d = await this.call('DescribeSecret', (signal) => client.send(new DescribeSecretCommand({ SecretId: prefix + name }), { abortSignal: signal }), true)
    } catch (err) {
      throw isProviderError(err, 'NOT_FOUND') ? missing : err
    }
    const managed = (d.Tags ?? []).some((t) => t.Key === TAG_MANAGED && t.Value === 'true')
    if (!managed || d.DeletedDate !== undefined) throw missing
    return d.ARN ?? prefix + name
  }

  async update (secret: SecretInput): Promise<void> {
    const { client } = this.s.scope(secret.namespace)
    const arn = await this.managedArn(secret.namespace, secret.name)
    await this.call('PutSecretValue', (signal) => client.send(new PutSecretValueCommand({
      SecretId: arn,
      ...value(secret.value)
    }), { abortSignal: signal }))
  }

  async remove (namespace: string, name: string): Promise<void> {
    const { client } = this.s.scope(namespace)
    const arn = await this.managedArn(namespace, name)
    await this.call('DeleteSecret', (signal) => client.send(new DeleteSecretCommand({
      SecretId: arn,
      ForceDeleteWithoutRecovery: true
    }), { abortSignal: signal }))
  }

  /** The ARN of each named secret; INVALID naming the first one that does not exist. */
  async arns (namespace: string, names: string[]): Promise<Record<string, string>> {
    const { client, prefix } = this.s.scope(namespace)
    const out: Record<string, string> = {}
    for (const name of names) {
      try {
        const d = await this.call('DescribeSecret', (signal) => client.send(new DescribeSecretCommand({ SecretId: prefix + name }), { abortSignal: signal }), true)
        if (d.DeletedDate !== undefined) throw invalid(`unable to fetch secrets: secret "${name}" is scheduled for deletion`)
        out[name] = d.ARN ?? prefix + name
      } catch (err) {
        if (isProviderError(err, 'NOT_FOUND')) throw invalid(`unable to fetch secrets: secret "${name}" not found in namespace "${namespace}"`)
        throw err
      }
    }
    return out
  }
}
