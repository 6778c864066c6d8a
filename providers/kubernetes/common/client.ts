/*
 * Kubernetes client set-up shared by the kubernetes and tekton backends: a KubeConfig from the
 * in-cluster service account or a kubeconfig file (+ context), and the typed API clients made
 * from it. Knows nothing about functions.
 */
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node'
import { DEFAULT_KUBE_REQUEST_TIMEOUT_MS, makeKubeApi, type KubeRetryPolicy } from './transport.ts'

export interface KubeConnectionOptions {
  /** 'auto': in cluster when KUBERNETES_SERVICE_HOST is set and no kubeconfig is given */
  inCluster: boolean | 'auto'
  /** path of a kubeconfig file; undefined = $KUBECONFIG or ~/.kube/config */
  kubeconfig?: string
  /** context in the kubeconfig; undefined = its current-context */
  context?: string
  /** the bound on one API call, retries included (DEFAULT_KUBE_REQUEST_TIMEOUT_MS) */
  requestTimeoutMs?: number
}

export interface KubeClients {
  config: KubeConfig
  core: CoreV1Api
  apps: AppsV1Api
  discovery: DiscoveryV1Api
  /** true when the credentials are the pod's service account */
  inCluster: boolean
  /** the API server's base URL */
  server: string
  /** timeout and retries of every typed call (transport.ts); make other typed clients with makeKubeApi(config, Api, policy) */
  policy: Partial<KubeRetryPolicy>
}

export function loadKubeConfig (opts: KubeConnectionOptions, env: NodeJS.ProcessEnv = process.env): { config: KubeConfig, inCluster: boolean } {
  const config = new KubeConfig()
  const inCluster = opts.inCluster === 'auto'
    ? opts.kubeconfig === undefined && env.KUBERNETES_SERVICE_HOST !== undefined && env.KUBERNETES_SERVICE_HOST !== ''
    : opts.inCluster
  if (inCluster) {
    config.loadFromCluster()
  } else if (opts.kubeconfig !== undefined) {
    config.loadFromFile(opts.kubeconfig)
  } else {
    config.loadFromDefault()
  }
  if (opts.context !== undefined) {
    if (config.getContextObject(opts.context) === null) {
      const known = config.getContexts().map((c) => c.name).join(', ')
      throw new Error(`kubernetes: context "${opts.context}" is not in the kubeconfig (known: ${known === '' ? 'none' : known})`)
    }
    config.setCurrentContext(opts.context)
  }
  if (config.getCurrentCluster() === null) {
    throw new Error('kubernetes: no cluster configured: set "kubeconfig" (and "context") or run in a pod with a service account')
  }
  return { config, inCluster }
}

export function createKubeClients (opts: KubeConnectionOptions, env: NodeJS.ProcessEnv = process.env): KubeClients {
  const { config, inCluster } = loadKubeConfig(opts, env)
  const policy: Partial<KubeRetryPolicy> = { timeoutMs: opts.requestTimeoutMs ?? DEFAULT_KUBE_REQUEST_TIMEOUT_MS }
  return {
    config,
    core: makeKubeApi(config, CoreV1Api, policy),
    apps: makeKubeApi(config, AppsV1Api, policy),
    discovery: makeKubeApi(config, DiscoveryV1Api, policy),
    inCluster,
    server: (config.getCurrentCluster()?.server ?? '').replace(/\/+$/, ''),
    policy
  }
}
