/*
 * What the tekton backend caches (../kubernetes/common/informer.ts), per served namespace: the
 * Tasks that are its functions and the TaskRuns of their calls, both selected by the same
 * faas_function + app.kubernetes.io/managed-by labels the API lists use, so a cached read
 * answers exactly what the LIST it replaces would.
 */
import type { CustomObjectsApi } from '@kubernetes/client-node'
import type { CachedResource } from '../kubernetes/common/cache-set.ts'
import { kubeCall } from '../kubernetes/common/errors.ts'
import { TASKRUNS_RESOURCE } from './runs.ts'
import { TASKRUNS, TASKS, TEKTON_GROUP, TEKTON_VERSION, type Task, type TaskRun } from './tekton-types.ts'

export const TASKS_RESOURCE = `${TASKS}.${TEKTON_GROUP}`

function collection<T> (plural: string, resource: string, custom: CustomObjectsApi, selector: string): CachedResource<T> {
  return {
    resource,
    path: (ns) => `/apis/${TEKTON_GROUP}/${TEKTON_VERSION}/namespaces/${encodeURIComponent(ns)}/${plural}`,
    labelSelector: selector,
    list: async (namespace) => {
      const res = await kubeCall({ verb: 'list', resource, namespace },
        async () => await custom.listNamespacedCustomObject({ group: TEKTON_GROUP, version: TEKTON_VERSION, namespace, plural, labelSelector: selector }) as { metadata?: { resourceVersion?: string }, items?: T[] })
      return { ...(res.metadata !== undefined ? { metadata: res.metadata } : {}), items: res.items ?? [] }
    }
  }
}

export function tasksCache (custom: CustomObjectsApi, selector: string): CachedResource<Task> {
  return collection<Task>(TASKS, TASKS_RESOURCE, custom, selector)
}

export function taskRunsCache (custom: CustomObjectsApi, selector: string): CachedResource<TaskRun> {
  return collection<TaskRun>(TASKRUNS, TASKRUNS_RESOURCE, custom, selector)
}
