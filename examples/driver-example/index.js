/*
 * faas-bridge-driver-example: a faas-bridge driver that lives outside faas-bridge. Each replica
 * of a function is a child process (the deployment's envProcess, run by /bin/sh) serving HTTP on
 * the port in $PORT; faas-bridge proxies invocations to it (an `http` upstream). Replica counts
 * are the truth: `replicas` is what was asked for, `availableReplicas` counts processes that are
 * running and accept connections. A replica that exits is started again after a pause, and is
 * unavailable meanwhile. Deployments and secrets are kept in memory: a restart of faas-bridge
 * forgets them (a real driver keeps them in its backend).
 *
 *   backends:
 *     example:
 *       driver: faas-bridge-driver-example
 *       namespaces: [openfaas-fn]
 *       options: { restartDelayMs: 500, stopGraceMs: 2000 }
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { conflict, invalid, notFound, unavailable, withFunctionLabel } from 'faas-bridge/driver'
import { LogBuffer } from './lib/log-buffer.js'
import { Replica } from './lib/replica.js'
import { MemorySecretStore } from './lib/secret-store.js'

/** @import { Driver, DriverContext, FunctionDeployment, FunctionStatus, LogQuery, Upstream } from 'faas-bridge/driver' */

/** The faas-bridge driver API this package is written for; faas-bridge refuses to start with another. */
export const driverApiVersion = 1

export const DEFAULT_RESTART_DELAY_MS = 500
export const DEFAULT_STOP_GRACE_MS = 2000

/**
 * @typedef {object} Fn
 * @property {FunctionDeployment & { namespace: string }} spec
 * @property {string} createdAt
 * @property {number} replicas
 * @property {Map<string, Replica>} running
 * @property {number} started how many replicas were ever started (instance ids)
 * @property {number} next round-robin position
 * @property {NodeJS.Timeout | undefined} restart
 */

/** @param {Record<string, unknown>} options @param {string} key @param {number} fallback */
function nonNegativeInt (options, key, fallback) {
  const v = options[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new Error(`options.${key} must be a whole number ≥ 0, got ${JSON.stringify(v)}`)
  return v
}

/** @implements {Driver} */
class ExampleDriver {
  /** @param {Record<string, unknown>} options @param {DriverContext} context @param {string} secretsDir */
  constructor (options, context, secretsDir) {
    this.kind = 'example'
    this.log = context.logger
    this.restartDelayMs = nonNegativeInt(options, 'restartDelayMs', DEFAULT_RESTART_DELAY_MS)
    this.stopGraceMs = nonNegativeInt(options, 'stopGraceMs', DEFAULT_STOP_GRACE_MS)
    this.secretsDir = secretsDir
    /** @type {Map<string, Fn>} */
    this.functions = new Map()
    this.logBuffer = new LogBuffer()
    this.secrets = new MemorySecretStore()
    this.closed = false
  }

  /** @param {string} namespace @param {string} name */
  get (namespace, name) {
    const fn = this.functions.get(`${namespace}/${name}`)
    if (fn === undefined) throw notFound(`function ${name} not found in ${namespace}`)
    return fn
  }

  /** Nothing changes when the spec cannot run. @param {FunctionDeployment & { namespace: string }} spec */
  validate (spec) {
    if (typeof spec.envProcess !== 'string' || spec.envProcess.trim() === '') {
      throw invalid(`function ${spec.service}: envProcess (the command that serves HTTP on $PORT) is required by the example driver`)
    }
    for (const s of spec.secrets ?? []) {
      if (this.secrets.value(spec.namespace, s) === undefined) throw invalid(`function ${spec.service}: secret ${s} does not exist in ${spec.namespace}`)
    }
  }

  /** @param {FunctionDeployment & { namespace: string }} spec */
  async deploy (spec) {
    this.validate(spec)
    const key = `${spec.namespace}/${spec.service}`
    if (this.functions.has(key)) throw conflict(`function ${spec.service} already exists in ${spec.namespace}`)
    /** @type {Fn} */
    const fn = { spec, createdAt: new Date().toISOString(), replicas: 1, running: new Map(), started: 0, next: 0, restart: undefined }
    this.functions.set(key, fn)
    await this.reconcile(fn)
  }

  /** @param {FunctionDeployment & { namespace: string }} spec */
  async update (spec) {
    const fn = this.get(spec.namespace, spec.service)
    this.validate(spec)
    fn.spec = spec
    // replace every replica: the new ones run the new command, env and secrets
    await this.stopAll(fn)
    await this.reconcile(fn)
  }

  /** @param {string} namespace @param {string} name */
  async remove (namespace, name) {
    const fn = this.get(namespace, name)
    this.functions.delete(`${namespace}/${name}`)
    await this.stopAll(fn)
    this.logBuffer.forget(namespace, name)
    await rm(join(this.secretsDir, namespace, name), { recursive: true, force: true })
  }

  /** @param {string} namespace @returns {Promise<FunctionStatus[]>} */
  async list (namespace) {
    return [...this.functions.values()].filter((f) => f.spec.namespace === namespace).map((f) => this.describe(f))
  }

  /** @param {string} namespace @param {string} name */
  async status (namespace, name) {
    return this.describe(this.get(namespace, name))
  }

  /** @param {string} namespace @param {string} name @param {number} replicas */
  async scale (namespace, name, replicas) {
    const fn = this.get(namespace, name)
    fn.replicas = replicas
    await this.reconcile(fn)
  }

  /** @param {LogQuery} query @param {AbortSignal} signal */
  async logs (query, signal) {
    this.get(query.namespace, query.name)
    return this.logBuffer.read(query, signal)
  }

  /** @param {string} namespace @param {string} name @returns {Promise<Upstream>} */
  async upstream (namespace, name) {
    const fn = this.get(namespace, name)
    const ready = [...fn.running.values()].filter((r) => r.ready)
    if (ready.length === 0) throw unavailable(`function ${name} in ${namespace} has no available replica (${fn.replicas} wanted)`)
    const replica = /** @type {Replica} */ (ready[fn.next++ % ready.length])
    return { kind: 'http', url: new URL(`http://127.0.0.1:${replica.port}/`) }
  }

  async close () {
    this.closed = true
    await Promise.all([...this.functions.values()].map(async (fn) => { await this.stopAll(fn) }))
    await rm(this.secretsDir, { recursive: true, force: true })
  }

  /** @param {Fn} fn @returns {FunctionStatus} */
  describe (fn) {
    const { spec } = fn
    return {
      name: spec.service,
      namespace: spec.namespace,
      image: spec.image,
      ...(spec.envProcess !== undefined ? { envProcess: spec.envProcess } : {}),
      envVars: { ...(spec.envVars ?? {}) },
      labels: withFunctionLabel(spec.service, spec.labels),
      annotations: { ...(spec.annotations ?? {}) },
      secrets: [...(spec.secrets ?? [])],
      replicas: fn.replicas,
      availableReplicas: [...fn.running.values()].filter((r) => r.ready).length,
      createdAt: fn.createdAt
    }
  }

  /** Start or stop replicas until as many run as were asked for. @param {Fn} fn */
  async reconcile (fn) {
    if (this.closed || this.functions.get(`${fn.spec.namespace}/${fn.spec.service}`) !== fn) return
    while (fn.running.size > fn.replicas) {
      const newest = /** @type {Replica} */ ([...fn.running.values()].at(-1))
      fn.running.delete(newest.id)
      await newest.stop(this.stopGraceMs)
    }
    while (fn.running.size < fn.replicas) await this.startReplica(fn)
  }

  /** @param {Fn} fn */
  async startReplica (fn) {
    const { spec } = fn
    const id = `${spec.service}-${++fn.started}`
    const mount = join(this.secretsDir, spec.namespace, spec.service)
    await mkdir(mount, { recursive: true, mode: 0o700 })
    for (const s of spec.secrets ?? []) {
      await writeFile(join(mount, s), this.secrets.value(spec.namespace, s) ?? Buffer.alloc(0), { mode: 0o600 })
    }
    const replica = new Replica({
      id,
      command: /** @type {string} */ (spec.envProcess),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(spec.envVars ?? {}), secret_mount_path: mount },
      onLine: (_stream, text) => {
        this.logBuffer.add({ name: spec.service, namespace: spec.namespace, instance: id, timestamp: new Date().toISOString(), text })
      },
      onExit: (code, signal) => {
        if (fn.running.get(id) !== replica) return // stopped on purpose
        fn.running.delete(id)
        this.log.warn({ function: spec.service, namespace: spec.namespace, instance: id, code, signal }, 'replica exited; starting another')
        clearTimeout(fn.restart)
        fn.restart = setTimeout(() => {
          this.reconcile(fn).catch((err) => { this.log.error({ err, function: spec.service }, 'restart failed') })
        }, this.restartDelayMs)
      }
    })
    fn.running.set(id, replica)
    await replica.start()
  }

  /** @param {Fn} fn */
  async stopAll (fn) {
    clearTimeout(fn.restart)
    const replicas = [...fn.running.values()]
    fn.running.clear()
    await Promise.all(replicas.map(async (r) => { await r.stop(this.stopGraceMs) }))
  }
}

/**
 * faas-bridge calls this once per configured backend that names this package.
 * @param {Record<string, unknown>} options the backend's `options` from the configuration file
 * @param {DriverContext} context
 * @returns {Promise<Driver>}
 */
export async function createDriver (options, context) {
  const secretsDir = await mkdtemp(join(tmpdir(), 'faas-bridge-driver-example-'))
  try {
    return new ExampleDriver(options, context, secretsDir)
  } catch (err) {
    await rm(secretsDir, { recursive: true, force: true })
    throw err
  }
}
