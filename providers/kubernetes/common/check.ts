/*
 * `--check` reads for the Kubernetes-based backends (kubernetes, tekton): one bounded GET with the
 * kube client's own credentials (raw-request.ts, so it can be aborted), whose failure says which
 * backend, what was read, from which API server, and why: unreachable (with the server URL), no
 * answer in time, credentials refused (401), RBAC refused (403, with the verb and resource to
 * grant), or not found (with a hint the caller gives: the namespace or the API that is missing).
 */
import type { KubeClients } from './client.ts'
import { kubeStatusOf } from './errors.ts'
import { kubeRawRequest, throwForStatus } from './raw-request.ts'

/** The bound on one check read when the backend has no request timeout of its own. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000

export interface CheckRead {
  /** "kubernetes", "tekton": the start of every message */
  backend: string
  /** path and query below the server URL */
  path: string
  /** in RBAC terms, for messages: verb on resource (with group), e.g. get "namespaces" */
  verb: string
  resource: string
  /** what is read, e.g. 'namespace "openfaas-fn"' */
  what: string
  /** the message when the API server answers 404 */
  notFound: string
  /** the docs page that lists the RBAC rules */
  docs: string
  timeoutMs: number
}

function reasonOf (err: unknown): string {
  const e = err as { code?: string, message?: string, cause?: { code?: string, message?: string } }
  const code = e.cause?.code ?? e.code
  const message = e.cause?.message ?? e.message ?? String(err)
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message
}

/** One GET; resolves on a 2xx answer, rejects with a message that says what is wrong. */
export async function checkRead (clients: KubeClients, read: CheckRead): Promise<void> {
  const server = clients.server
  const prefix = `${read.backend} backend: reading ${read.what} (${read.verb} ${read.resource}) from the Kubernetes API server at ${server}`
  const signal = AbortSignal.timeout(read.timeoutMs)
  try {
    const res = await kubeRawRequest(clients.config, { method: 'GET', path: read.path, headers: { accept: 'application/json' }, signal })
    const code = res.statusCode ?? 500
    if (code < 200 || code > 299) await throwForStatus(res)
    for await (const _chunk of res) { /* drained; the answer itself is not needed */ }
  } catch (err) {
    const status = kubeStatusOf(err)
    if (status === undefined) {
      if (signal.aborted) throw new Error(`${prefix}: no answer within ${read.timeoutMs} ms`, { cause: err })
      throw new Error(`${prefix}: the API server could not be reached (${reasonOf(err)})`, { cause: err })
    }
    const said = status.message !== undefined && status.message !== '' ? `: ${status.message}` : ''
    switch (status.code) {
      case 401:
        throw new Error(`${prefix}: the credentials were not accepted (401); check the kubeconfig user or the service account token`, { cause: err })
      case 403:
        throw new Error(`${prefix} was refused (403): RBAC does not allow verb "${read.verb}" on resource "${read.resource}"; ` +
          `grant it to the provider's service account (${read.docs})${said}`, { cause: err })
      case 404:
        throw new Error(`${read.backend} backend: ${read.notFound} (the API server at ${server} answered 404${said})`, { cause: err })
    }
    throw new Error(`${prefix}: the API server answered ${String(status.code)}${said}`, { cause: err })
  }
}

/** GET /api/v1/namespaces/NAME: the namespace exists and the credentials may read it. */
export async function checkNamespace (clients: KubeClients, backend: string, namespace: string, timeoutMs: number, docs: string): Promise<void> {
  await checkRead(clients, {
    backend,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
    verb: 'get',
    resource: 'namespaces',
    what: `namespace "${namespace}"`,
    notFound: `the configured namespace "${namespace}" does not exist in the cluster; create it (kubectl create namespace ${namespace}) or remove it from the backend's namespaces`,
    docs,
    timeoutMs
  })
}
