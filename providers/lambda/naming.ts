/*
 * OpenFaaS namespace + name → Lambda function name (the namespace's prefix + the name, at most
 * 64 characters), the tags that mark and describe a managed function, and the log group name.
 */
import { invalid } from '../../src/core/errors.ts'
import type { NamespaceSettings } from './options.ts'

export const LAMBDA_NAME_MAX = 64

/** every function this backend manages carries this tag ("true"); list shows only those */
export const TAG_MANAGED = 'faas-bridge:managed'
export const TAG_NAMESPACE = 'faas-bridge:namespace'
export const TAG_NAME = 'faas-bridge:name'
/** desired replicas (what the user asked for; Lambda itself has no such number) */
export const TAG_REPLICAS = 'faas-bridge:replicas'
/** RFC3339 creation time: Lambda only reports LastModified */
export const TAG_CREATED_AT = 'faas-bridge:created-at'
/** annotations are stored as tags under this prefix; labels are tags under their own key */
export const TAG_ANNOTATION_PREFIX = 'faas-bridge:annotation:'
export const RESERVED_TAG_PREFIX = 'faas-bridge:'

export function lambdaFunctionName (settings: NamespaceSettings, namespace: string, name: string): string {
  const full = `${settings.functionPrefix}${name}`
  if (full.length > LAMBDA_NAME_MAX) {
    const room = LAMBDA_NAME_MAX - settings.functionPrefix.length
    throw invalid(`function name "${name}" does not fit AWS Lambda's ${LAMBDA_NAME_MAX}-character limit: ` +
      `"${full}" has ${full.length} characters (namespace "${namespace}" adds the prefix "${settings.functionPrefix}", ` +
      `so names there can have at most ${room} characters)`)
  }
  return full
}

export function logGroupName (pattern: string, functionName: string): string {
  return pattern.replaceAll('{function}', functionName)
}
