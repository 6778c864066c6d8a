/*
 * An OpenFaaS `Function` custom resource (openfaas.com/v1, the schema `faas-cli generate` writes)
 * read as the declaration of one function: spec.name, image, handler (the fprocess), environment,
 * labels, annotations, secrets, constraints, limits, requests, readOnlyRootFilesystem. spec.replicas
 * (deprecated in OpenFaaS) is ignored: scaling stays with the autoscaler and the scale API. The
 * faas-bridge namespace is the resource's annotation NAMESPACE_ANNOTATION, else the configured
 * mapping of its Kubernetes namespace, else the Kubernetes namespace's own name. Knows no
 * Kubernetes client: the source (providers/kubernetes/common/function-resources.ts) reads the objects.
 */
import type { DesiredFunction } from './desired.ts'
import { declaredSpec, EntryError, isRecord, scalar, stringMap } from './stack-file.ts'

/** on a Function resource: the faas-bridge namespace (and so the backend) it deploys into */
export const NAMESPACE_ANNOTATION = 'faas-bridge.dev/namespace'

const SPEC_KEYS = new Set(['name', 'image', 'handler', 'environment', 'labels', 'annotations', 'secrets', 'constraints',
  'limits', 'requests', 'readOnlyRootFilesystem', 'replicas'])

export interface FunctionResourceMeta {
  /** the Kubernetes namespace and name of the resource */
  namespace: string
  name: string
  annotations?: Record<string, string>
}

/** "Function openfaas-fn/echo": the `where` of its declaration and its problems */
export function resourceWhere (meta: { namespace: string, name: string }): string {
  return `Function ${meta.namespace}/${meta.name}`
}

/** The faas-bridge namespace a resource deploys into (annotation, mapping, or the same name). */
export function targetNamespace (meta: FunctionResourceMeta, map: Readonly<Record<string, string>>): string {
  const a = meta.annotations?.[NAMESPACE_ANNOTATION]
  if (a !== undefined && a !== '') return a
  return map[meta.namespace] ?? meta.namespace
}

/** The function name a resource declares (spec.name, else metadata.name), for prune and removal. */
export function declaredName (meta: FunctionResourceMeta, spec: unknown): string {
  return isRecord(spec) && typeof spec.name === 'string' && spec.name !== '' ? spec.name : meta.name
}

/** Parses one resource's spec; throws EntryError naming the field. */
export function parseFunctionResource (meta: FunctionResourceMeta, spec: unknown, map: Readonly<Record<string, string>>): DesiredFunction {
  const where = resourceWhere(meta)
  if (!isRecord(spec)) throw new EntryError(`${where}: spec: expected a mapping`)
  for (const key of Object.keys(spec)) {
    if (!SPEC_KEYS.has(key)) throw new EntryError(`${where}: spec.${key}: unknown field`)
  }
  if (spec.name === undefined || spec.name === null || spec.name === '') throw new EntryError(`${where}: spec.name: required`)
  const name = scalar(`${where}: spec.name`, spec.name)
  return {
    namespace: targetNamespace(meta, map),
    spec: declaredSpec(`${where}: spec`, {
      name,
      image: spec.image,
      fprocess: spec.handler,
      envVars: stringMap(`${where}: spec.environment`, spec.environment) ?? {},
      secrets: spec.secrets,
      constraints: spec.constraints,
      labels: spec.labels,
      annotations: spec.annotations,
      limits: spec.limits,
      requests: spec.requests,
      readOnlyRootFilesystem: spec.readOnlyRootFilesystem
    }, { fprocess: 'handler', readOnlyRootFilesystem: 'readOnlyRootFilesystem' }),
    where
  }
}
