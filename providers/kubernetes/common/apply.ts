/*
 * Server-side apply (https://kubernetes.io/docs/reference/using-api/server-side-apply/) of the
 * objects the Kubernetes-based backends own: a PATCH with content type
 * application/apply-patch+yaml (the body is JSON, which is YAML), fieldManager=faas-bridge and,
 * where asked, force=true. No resourceVersion is sent, so another writer (the Deployment
 * controller's status, a scaler) never makes it fail with 409; fields other managers own are
 * kept; fields this manager applied before and omits now are removed by the API server.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node'
import type { V1Deployment, V1Service } from '@kubernetes/client-node'
import type { KubeClients } from './client.ts'

/** The field manager of everything these backends write (managedFields[].manager). */
export const FIELD_MANAGER = 'faas-bridge'

export interface ApplyOptions {
  /** take fields another manager owns with a different value instead of failing with 409 */
  force: boolean
}

const APPLY = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)

function named (obj: { metadata?: { name?: string, namespace?: string } }): { name: string, namespace: string } {
  const name = obj.metadata?.name
  const namespace = obj.metadata?.namespace
  if (name === undefined || namespace === undefined) throw new Error('server-side apply needs metadata.name and metadata.namespace')
  return { name, namespace }
}

export class ServerSideApply {
  private readonly clients: Pick<KubeClients, 'apps' | 'core'>

  constructor (clients: Pick<KubeClients, 'apps' | 'core'>) {
    this.clients = clients
  }

  async deployment (body: V1Deployment, opts: ApplyOptions): Promise<V1Deployment> {
    return await this.clients.apps.patchNamespacedDeployment({ ...named(body), body, fieldManager: FIELD_MANAGER, ...(opts.force ? { force: true } : {}) }, APPLY)
  }

  async service (body: V1Service, opts: ApplyOptions): Promise<V1Service> {
    return await this.clients.core.patchNamespacedService({ ...named(body), body, fieldManager: FIELD_MANAGER, ...(opts.force ? { force: true } : {}) }, APPLY)
  }
}
