/*
 * JSON schemas of the request bodies (faas-provider types). Fastify validates with them before a
 * handler runs; type coercion is off (see app.ts), so `"replicas": "3"` is a 400, not a 3.
 * Unknown keys are accepted and ignored, as Go decoders do (old clients send `network`, `registryAuth`).
 */
const stringMap = { type: ['object', 'null'], additionalProperties: { type: 'string' } } as const
const stringList = { type: ['array', 'null'], items: { type: 'string' } } as const
const resources = {
  type: ['object', 'null'],
  properties: {
    memory: { type: 'string' },
    cpu: { type: 'string' },
    'nvidia.com/gpu': { type: 'string' },
    'amd.com/gpu': { type: 'string' },
    'intel.com/gpu': { type: 'string' }
  }
} as const

export const functionDeploymentSchema = {
  type: 'object',
  required: ['service', 'image'],
  properties: {
    service: { type: 'string' },
    image: { type: 'string' },
    namespace: { type: 'string' },
    envProcess: { type: 'string' },
    envVars: stringMap,
    constraints: stringList,
    secrets: stringList,
    labels: stringMap,
    annotations: stringMap,
    limits: resources,
    requests: resources,
    readOnlyRootFilesystem: { type: 'boolean' }
  }
} as const

export const deleteFunctionSchema = {
  type: 'object',
  required: ['functionName'],
  properties: {
    functionName: { type: 'string', minLength: 1 },
    namespace: { type: 'string' }
  }
} as const

export const scaleSchema = {
  type: 'object',
  required: ['replicas'],
  properties: {
    serviceName: { type: 'string' },
    replicas: { type: 'integer', minimum: 0 },
    namespace: { type: 'string' }
  }
} as const

export const secretSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    namespace: { type: 'string' },
    value: { type: 'string' },
    rawValue: { type: 'string' }
  }
} as const

export const namespaceSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string' },
    labels: stringMap,
    annotations: stringMap
  }
} as const
