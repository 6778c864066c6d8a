/*
 * A declarative source over OpenFaaS `Function` custom resources (openfaas.com/v1) in configured
 * Kubernetes namespaces, for the reconciler (src/reconcile/). Each pass lists the resources; the
 * Kubernetes side of the contract lives here:
 *  - a finalizer (FUNCTION_FINALIZER) is put on every resource before its function is deployed, so
 *    deleting the resource is seen: a resource with a deletionTimestamp is declared for removal, and
 *    the finalizer is taken off once its function is gone (or was never ours);
 *  - after each pass, status is written back through the status subresource (merge patch):
 *    conditions Ready / Reconciling / Failed (Kubernetes API conventions: type, status, reason,
 *    message, lastTransitionTime, observedGeneration), status.observedGeneration and status.replicas,
 *    and only when it changed, so a status write's own watch event does not loop;
 *  - watch() holds a ?watch=true stream per namespace and reports any event (re-opened on end).
 * Which faas-bridge namespace (and so backend) a resource deploys into: src/reconcile/function-resource.ts.
 */
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node'
import type { DeclarativeSource, DesiredFunction, DesiredState, SourceProblem } from '../../../src/reconcile/desired.ts'
import type { FunctionReport, SourceReport } from '../../../src/reconcile/reconciler.ts'
import { EntryError } from '../../../src/reconcile/stack-file.ts'
import { declaredName, parseFunctionResource, resourceWhere, targetNamespace } from '../../../src/reconcile/function-resource.ts'
import { loadKubeConfig, type KubeConnectionOptions } from './client.ts'
import { kubeStream } from './raw-request.ts'
import { DEFAULT_KUBE_REQUEST_TIMEOUT_MS, makeKubeApi } from './transport.ts'

export const FUNCTION_GROUP = 'openfaas.com'
export const FUNCTION_VERSION = 'v1'
export const FUNCTION_PLURAL = 'functions'
/** on every Function resource this source manages: its deletion waits for the function's removal */
export const FUNCTION_FINALIZER = 'faas-bridge.dev/function'
export const DEFAULT_FUNCTION_SOURCE_ID = 'functions.openfaas.com'
/**
 * Exactly the API calls this source makes, as RBAC rules; the chart's rbac.functionResourceRules
 * is held to it (test/ship/chart.test.ts). The finalizer is added and removed by merge patch.
 */
export const FUNCTION_RESOURCE_PERMISSIONS: Array<{ apiGroup: string, resource: string, verbs: string[] }> = [
  { apiGroup: FUNCTION_GROUP, resource: FUNCTION_PLURAL, verbs: ['get', 'list', 'watch', 'patch'] },
  { apiGroup: FUNCTION_GROUP, resource: `${FUNCTION_PLURAL}/status`, verbs: ['patch'] }
]
/** a watch stream that ends is re-opened after this; one that fails, after twice as long each time in a row, up to the max */
export const REWATCH_DELAY_MS = 1_000
export const REWATCH_MAX_DELAY_MS = 30_000
/** a burst of events (kubectl apply of many resources) becomes one pass */
export const WATCH_DEBOUNCE_MS = 100

export interface FunctionObject {
  metadata?: {
    name?: string
    namespace?: string
    generation?: number
    resourceVersion?: string
    deletionTimestamp?: string
    finalizers?: string[]
    annotations?: Record<string, string>
  }
  spec?: unknown
  status?: FunctionResourceStatus
}

export interface Condition {
  type: 'Ready' | 'Reconciling' | 'Failed'
  status: 'True' | 'False'
  reason: string
  message: string
  lastTransitionTime: string
  observedGeneration?: number
}

export interface FunctionResourceStatus {
  observedGeneration?: number
  replicas?: number
  conditions?: Condition[]
}

export interface FunctionResourceSourceOptions {
  config: KubeConfig
  custom: CustomObjectsApi
  /** Kubernetes namespaces to watch */
  namespaces: string[]
  /** Kubernetes namespace → faas-bridge namespace (default: the same name) */
  map?: Record<string, string>
  id?: string
  logger: { warn: (obj: object, msg: string) => void }
  /** injectable clock (condition timestamps) */
  now?: () => Date
}

interface Seen {
  meta: { namespace: string, name: string }
  generation: number | undefined
  status: FunctionResourceStatus | undefined
  removing: boolean
}

type Outcome = { kind: 'condition', ready: boolean, reconciling: boolean, failed: boolean, reason: string, message: string, replicas?: number } | { kind: 'release' }

/** What a pass's result means for one resource. */
function outcome (seen: Seen, fn: FunctionReport | undefined, problem: SourceProblem | undefined): Outcome | undefined {
  if (seen.removing) {
    // the function is gone, was never ours, or cannot be ours (bad spec, unknown namespace): let the deletion finish
    if (problem !== undefined || fn?.state === 'removed' || fn?.state === 'conflict') return { kind: 'release' }
    // a removal that failed is said on the resource (it stays, with its finalizer, and is retried)
    if (fn?.state !== 'failed') return undefined
  }
  if (problem !== undefined) {
    const reason = /is not served by this provider/.test(problem.message) ? 'UnknownNamespace' : 'InvalidSpec'
    return { kind: 'condition', ready: false, reconciling: false, failed: true, reason, message: problem.message }
  }
  if (fn === undefined) return undefined
  switch (fn.state) {
    case 'in-sync': return { kind: 'condition', ready: true, reconciling: false, failed: false, reason: 'InSync', message: `deployed in namespace "${fn.namespace}"`, ...(fn.replicas !== undefined ? { replicas: fn.replicas } : {}) }
    case 'created': return { kind: 'condition', ready: false, reconciling: true, failed: false, reason: 'Created', message: `deployed in namespace "${fn.namespace}"; confirming` }
    case 'updated': return { kind: 'condition', ready: false, reconciling: true, failed: false, reason: 'Updated', message: `updated (${fn.message ?? 'drifted'}); confirming` }
    case 'conflict': return { kind: 'condition', ready: false, reconciling: false, failed: true, reason: 'Conflict', message: fn.message ?? 'conflict' }
    // without the countdown to the next try: a status that changed every second would be rewritten every second
    default: return { kind: 'condition', ready: false, reconciling: false, failed: true, reason: 'BackendError', message: (fn.message ?? fn.state).replace(/; next try in \d+ s\)$/, ')') }
  }
}

function conditions (prev: Condition[] | undefined, o: Extract<Outcome, { kind: 'condition' }>, generation: number | undefined, now: string): Condition[] {
  const make = (type: Condition['type'], on: boolean): Condition => {
    const status = on ? 'True' : 'False'
    const old = prev?.find((c) => c.type === type)
    return {
      type,
      status,
      reason: o.reason,
      message: o.message,
      // the time the status last changed, kept while it holds (API conventions)
      lastTransitionTime: old !== undefined && old.status === status ? old.lastTransitionTime : now,
      ...(generation !== undefined ? { observedGeneration: generation } : {})
    }
  }
  return [make('Ready', o.ready), make('Reconciling', o.reconciling), make('Failed', o.failed)]
}

export function functionResourceSource (opts: FunctionResourceSourceOptions): DeclarativeSource {
  const map = opts.map ?? {}
  const id = opts.id ?? DEFAULT_FUNCTION_SOURCE_ID
  const now = opts.now ?? (() => new Date())
  const api = (namespace: string): { group: string, version: string, plural: string, namespace: string } =>
    ({ group: FUNCTION_GROUP, version: FUNCTION_VERSION, plural: FUNCTION_PLURAL, namespace })
  /** the resources of the last read, by `where` */
  let seen = new Map<string, Seen>()

  async function patchFinalizers (meta: { namespace: string, name: string }, resourceVersion: string | undefined, finalizers: string[]): Promise<void> {
    // the resourceVersion makes it conditional: a concurrent change of the list is a 409, retried next pass
    await opts.custom.patchNamespacedCustomObject({ ...api(meta.namespace), name: meta.name, body: { metadata: { finalizers, resourceVersion } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
  }

  return {
    id,
    // removal is the deletion of a resource (its finalizer), never a prune
    prune: false,
    async read (): Promise<DesiredState> {
      const functions: DesiredFunction[] = []
      const problems: SourceProblem[] = []
      const declared = new Set<string>()
      const next = new Map<string, Seen>()
      let complete = true
      for (const ns of opts.namespaces) {
        let items: FunctionObject[]
        try {
          items = ((await opts.custom.listNamespacedCustomObject(api(ns))) as { items?: FunctionObject[] }).items ?? []
        } catch (err) {
          complete = false
          problems.push({ where: `namespace ${ns}`, message: `Function resources in namespace "${ns}": cannot list: ${(err as Error).message}` })
          continue
        }
        for (const item of items) {
          const md = item.metadata ?? {}
          const meta = { namespace: md.namespace ?? ns, name: md.name ?? '', ...(md.annotations !== undefined ? { annotations: md.annotations } : {}) }
          const where = resourceWhere(meta)
          const finalizers = md.finalizers ?? []
          const removing = md.deletionTimestamp !== undefined
          // a resource being deleted without our finalizer is not ours to act on any more
          if (removing && !finalizers.includes(FUNCTION_FINALIZER)) continue
          const name = declaredName(meta, item.spec)
          declared.add(name)
          next.set(where, { meta: { namespace: meta.namespace, name: meta.name }, generation: md.generation, status: item.status, removing })
          let fn: DesiredFunction
          try {
            fn = parseFunctionResource(meta, item.spec, map)
          } catch (err) {
            if (!(err instanceof EntryError)) throw err
            if (removing) fn = { namespace: targetNamespace(meta, map), spec: { service: name, image: '' }, where }
            else {
              problems.push({ where, message: err.message })
              continue
            }
          }
          if (removing) {
            functions.push({ ...fn, remove: true })
            continue
          }
          if (!finalizers.includes(FUNCTION_FINALIZER)) {
            try {
              await patchFinalizers(meta, md.resourceVersion, [...finalizers, FUNCTION_FINALIZER])
            } catch (err) {
              // without the finalizer a deletion would go unseen: not deployed until it is on
              problems.push({ where, message: `${where}: cannot add the finalizer ${FUNCTION_FINALIZER}: ${(err as Error).message}` })
              continue
            }
          }
          functions.push(fn)
        }
      }
      // one resource per function and faas-bridge namespace
      const byKey = new Map<string, DesiredFunction[]>()
      for (const fn of functions) byKey.set(`${fn.namespace}/${fn.spec.service}`, [...(byKey.get(`${fn.namespace}/${fn.spec.service}`) ?? []), fn])
      const unique: DesiredFunction[] = []
      for (const [key, fns] of byKey) {
        if (fns.length === 1 || fns.every((f) => f.remove === true)) { unique.push(...fns); continue }
        for (const fn of fns) {
          if (fn.remove === true) { unique.push(fn); continue }
          problems.push({ where: fn.where, message: `${fn.where}: function ${key} is declared by ${fns.length} resources (${fns.map((f) => f.where).join(', ')}); none of them is applied` })
        }
      }
      seen = next
      return { functions: unique, problems, declared, complete }
    },
    async onReport (report: SourceReport): Promise<void> {
      const byWhere = new Map(report.functions.filter((f) => f.where !== undefined).map((f) => [f.where as string, f]))
      const problemOf = new Map(report.problems.map((p) => [p.where, p]))
      const stamp = now().toISOString().replace(/\.\d{3}Z$/, 'Z')
      for (const [where, s] of seen) {
        const o = outcome(s, byWhere.get(where), problemOf.get(where))
        if (o === undefined) continue
        try {
          if (o.kind === 'release') {
            const cur = await opts.custom.getNamespacedCustomObject({ ...api(s.meta.namespace), name: s.meta.name }) as FunctionObject
            const finalizers = cur.metadata?.finalizers ?? []
            if (finalizers.includes(FUNCTION_FINALIZER)) await patchFinalizers(s.meta, cur.metadata?.resourceVersion, finalizers.filter((f) => f !== FUNCTION_FINALIZER))
            continue
          }
          const status: FunctionResourceStatus = {
            ...(s.generation !== undefined ? { observedGeneration: s.generation } : {}),
            replicas: o.replicas ?? s.status?.replicas ?? 0,
            conditions: conditions(s.status?.conditions, o, s.generation, stamp)
          }
          if (JSON.stringify(status) === JSON.stringify({ ...(s.status?.observedGeneration !== undefined ? { observedGeneration: s.status.observedGeneration } : {}), replicas: s.status?.replicas, conditions: s.status?.conditions })) continue
          await opts.custom.patchNamespacedCustomObjectStatus({ ...api(s.meta.namespace), name: s.meta.name, body: { status } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
        } catch (err) {
          // a resource deleted meanwhile, or an API server hiccup: the next pass writes it again
          opts.logger.warn({ source: id, resource: where, err: (err as Error).message }, o.kind === 'release' ? 'reconcile: cannot remove the finalizer' : 'reconcile: cannot write the status')
        }
      }
    },
    watch (onChange: () => void): () => void {
      const ac = new AbortController()
      let timer: NodeJS.Timeout | undefined
      const fire = (): void => {
        if (timer !== undefined) clearTimeout(timer)
        timer = setTimeout(() => { timer = undefined; if (!ac.signal.aborted) onChange() }, WATCH_DEBOUNCE_MS)
        timer.unref()
      }
      const follow = async (ns: string): Promise<void> => {
        const path = `/apis/${FUNCTION_GROUP}/${FUNCTION_VERSION}/namespaces/${encodeURIComponent(ns)}/${FUNCTION_PLURAL}?watch=true`
        // runs until stop(); each stream replays the current objects, so a gap between streams is covered
        let failures = 0
        while (!ac.signal.aborted) {
          try {
            const res = await kubeStream(opts.config, path, ac.signal)
            failures = 0
            res.on('error', () => {})
            for await (const line of createInterface({ input: res, crlfDelay: Infinity, signal: ac.signal })) {
              if (line !== '') fire()
            }
          } catch (err) {
            if (ac.signal.aborted) return
            failures++
            // e.g. the CRD is not installed (404) or RBAC refuses (403): said, then tried less and less often
            opts.logger.warn({ source: id, namespace: ns, err: (err as Error).message, failures }, 'reconcile: Function watch failed; re-opening')
          }
          try {
            await sleep(Math.min(REWATCH_MAX_DELAY_MS, REWATCH_DELAY_MS * 2 ** Math.max(0, failures - 1)), undefined, { signal: ac.signal })
          } catch {
            return
          }
        }
      }
      for (const ns of opts.namespaces) void follow(ns)
      return () => {
        ac.abort()
        if (timer !== undefined) clearTimeout(timer)
      }
    }
  }
}

/** The source as src/main.ts makes it from the config's declarative.functionResources. */
export function functionResourceSourceFor (cfg: KubeConnectionOptions & { namespaces: string[], map: Record<string, string> },
  logger: FunctionResourceSourceOptions['logger']): DeclarativeSource {
  const { config } = loadKubeConfig(cfg)
  const custom = makeKubeApi(config, CustomObjectsApi, { timeoutMs: DEFAULT_KUBE_REQUEST_TIMEOUT_MS })
  return functionResourceSource({ config, custom, namespaces: cfg.namespaces, map: cfg.map, logger })
}
