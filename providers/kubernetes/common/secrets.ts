/*
 * The SecretStore over Kubernetes Opaque Secrets (shared by the kubernetes and tekton backends):
 * one Secret per OpenFaaS secret, data key = secret name (so it appears as
 * /var/openfaas/secrets/NAME when projected), labelled as managed by faas-bridge. List shows only
 * managed Secrets; update and remove refuse Secrets faas-bridge did not create (404), so the API
 * cannot rewrite a cluster's other Secrets. Values never appear in messages.
 */
import type { CoreV1Api, V1Secret } from '@kubernetes/client-node'
import type { SecretInput, SecretStore } from '../../../src/core/driver.ts'
import { notFound } from '../../../src/core/errors.ts'
import type { SecretInfo } from '../../../src/core/types.ts'
import { isKubeCode, kubeCall, toProviderError } from './errors.ts'

export interface Label {
  key: string
  value: string
}

export interface SecretStoreConfig {
  /** the label that marks Secrets as ours, e.g. app.kubernetes.io/managed-by=faas-bridge */
  managedBy: Label
}

/** Replace attempts when a concurrent writer changes a Secret between read and write. */
export const SECRET_UPDATE_ATTEMPTS = 3
const RESOURCE = 'secrets'

export class KubernetesSecretStore implements SecretStore {
  private readonly core: CoreV1Api
  private readonly managedBy: Label

  constructor (core: CoreV1Api, config: SecretStoreConfig) {
    this.core = core
    this.managedBy = config.managedBy
  }

  private isManaged (s: V1Secret): boolean {
    return s.metadata?.labels?.[this.managedBy.key] === this.managedBy.value
  }

  async list (namespace: string): Promise<SecretInfo[]> {
    const res = await kubeCall({ verb: 'list', resource: RESOURCE, namespace },
      async () => await this.core.listNamespacedSecret({ namespace, labelSelector: `${this.managedBy.key}=${this.managedBy.value}` }))
    return res.items.map((s) => s.metadata?.name ?? '').filter((n) => n !== '').sort().map((name) => ({ name, namespace }))
  }

  async create (secret: SecretInput): Promise<void> {
    const { name, namespace } = secret
    await kubeCall({ verb: 'create', resource: RESOURCE, namespace, name }, async () => await this.core.createNamespacedSecret({
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name, namespace, labels: { [this.managedBy.key]: this.managedBy.value } },
        data: { [name]: secret.value.toString('base64') }
      }
    }))
  }

  /** The managed Secret, or NOT_FOUND. */
  private async readManaged (namespace: string, name: string): Promise<V1Secret> {
    const s = await kubeCall({ verb: 'get', resource: RESOURCE, namespace, name },
      async () => await this.core.readNamespacedSecret({ name, namespace }))
    if (!this.isManaged(s)) throw notFound(`secret "${name}" in namespace "${namespace}" is not managed by faas-bridge`)
    return s
  }

  async update (secret: SecretInput): Promise<void> {
    const { name, namespace } = secret
    for (let attempt = 1; ; attempt++) {
      const cur = await this.readManaged(namespace, name)
      try {
        await kubeCall({ verb: 'update', resource: RESOURCE, namespace, name }, async () => await this.core.replaceNamespacedSecret({
          name,
          namespace,
          body: { ...cur, data: { [name]: secret.value.toString('base64') }, stringData: undefined }
        }))
        return
      } catch (err) {
        if (!(err instanceof Error && 'code' in err && err.code === 'CONFLICT') || attempt >= SECRET_UPDATE_ATTEMPTS) throw err
      }
    }
  }

  async remove (namespace: string, name: string): Promise<void> {
    await this.readManaged(namespace, name)
    await kubeCall({ verb: 'delete', resource: RESOURCE, namespace, name },
      async () => await this.core.deleteNamespacedSecret({ name, namespace }))
  }

  /**
   * The type of each named Secret in `namespace` ("Opaque", "kubernetes.io/dockerconfigjson"...),
   * undefined for those that do not exist. Functions may mount any Secret, managed or not.
   */
  async lookup (namespace: string, names: readonly string[]): Promise<Map<string, string | undefined>> {
    const out = new Map<string, string | undefined>()
    for (const name of names) {
      try {
        const s = await this.core.readNamespacedSecret({ name, namespace })
        out.set(name, s.type ?? 'Opaque')
      } catch (err) {
        if (!isKubeCode(err, 404)) throw toProviderError(err, { verb: 'get', resource: RESOURCE, namespace, name })
        out.set(name, undefined)
      }
    }
    return out
  }
}
