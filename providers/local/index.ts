/*
 * The local backend: functions run as child processes on this machine with OpenFaaS watchdog
 * semantics. env `mode=http` → long-running HTTP servers on loopback ports (supervisor.ts);
 * otherwise fork-per-request inside the provider (watchdog.ts). Deployments, secrets and
 * namespaces persist under stateDir and come back, processes included, when the driver restarts.
 * The container image is recorded, never run.
 */
import type { ChildProcess } from 'node:child_process'
import { rm } from 'node:fs/promises'
import path from 'node:path'
import type { CreateDriver, Driver, DriverContext, LogQuery, Upstream } from '../../src/core/driver.ts'
import { backendError, conflict, invalid, notFound, unavailable } from '../../src/core/errors.ts'
import { withFunctionLabel } from '../../src/core/function-label.ts'
import type { FunctionStatus, LogMessage } from '../../src/core/types.ts'
import { ensureDir, writeFileAtomic } from './atomic-file.ts'
import { buildRunSpec, validateSpec, type RunSpec } from './function-env.ts'
import { FunctionLog } from './log-buffer.ts'
import { KeyedMutex } from './mutex.ts'
import { LocalNamespaceStore } from './namespaces.ts'
import { validateOptions, type LocalOptions } from './options.ts'
import { PortAllocator } from './ports.ts'
import { signalGroup } from './process-group.ts'
import type { Runtime } from './runtime.ts'
import { createSecretMounter, type SecretMounter } from './secret-mount.ts'
import { assertSafeName, FunctionSecretDirs, LocalSecretStore } from './secrets.ts'
import { StateStore, type Deployment, type StoredFunction } from './state-store.ts'
import { HttpReplicaSet, ParkingLot, type SupervisorSettings } from './supervisor.ts'
import { ForkSlots } from './watchdog.ts'
import { OWNER_ENV, ownerTag, reapOrphans, sweepStateDir } from './recovery.ts'

export type { LocalOptions } from './options.ts'

/** How long a rolling update waits for the new replicas before stopping the old ones anyway. */
export const ROLLOUT_TIMEOUT_MS = 30_000
const SCALE_MIN_LABEL = 'com.openfaas.scale.min'

interface FunctionEntry {
  stored: StoredFunction
  run: RunSpec
  runtime: Runtime
  /** the previous spec's replicas while a rolling update brings the new ones up */
  retiring: Set<Runtime>
  log: FunctionLog
}

/** Initial replicas: label com.openfaas.scale.min when it is an integer > 0, else 1 (as faas-netes). */
export function initialReplicas (spec: Deployment): number {
  const raw = spec.labels?.[SCALE_MIN_LABEL]
  if (raw !== undefined && /^\s*\d+\s*$/.test(raw)) {
    const n = Number(raw)
    if (n > 0) return n
  }
  return 1
}

function clone<T> (v: T): T {
  return v === undefined ? v : structuredClone(v)
}

export class LocalDriver implements Driver {
  readonly kind = 'local'
  readonly secrets: LocalSecretStore
  readonly namespaces: LocalNamespaceStore
  readonly options: LocalOptions
  private readonly context: DriverContext
  private readonly logger: DriverContext['logger']
  private readonly state: StateStore
  private readonly secretDirs: FunctionSecretDirs
  private readonly fns = new Map<string, FunctionEntry>()
  private readonly mutex = new KeyedMutex()
  /** keys of functions whose deploy is in progress (see secretChanged) */
  private readonly deploying = new Set<string>()
  private readonly inflight = new Set<ChildProcess>()
  private readonly rollouts = new Set<Promise<void>>()
  private readonly supervisor: SupervisorSettings
  /** env FAAS_BRIDGE_OWNER of every process spawned here, so a start after a crash finds the ones left behind */
  private readonly owner: string
  private mounter: SecretMounter | undefined
  private closed = false

  constructor (options: LocalOptions, context: DriverContext) {
    this.options = options
    this.context = context
    this.logger = context.logger
    this.state = new StateStore(options.stateDir)
    this.owner = ownerTag(options.stateDir)
    this.secrets = new LocalSecretStore(options.stateDir, async (ns, name) => { await this.secretChanged(ns, name) })
    this.secretDirs = new FunctionSecretDirs(options.stateDir, this.secrets)
    this.namespaces = new LocalNamespaceStore(options.stateDir, context.namespaces,
      (ns) => { for (const e of this.fns.values()) if (e.stored.spec.namespace === ns) return true; return false })
    this.supervisor = {
      ports: new PortAllocator(options.portRange),
      stopGraceMs: options.stopGraceMs,
      restartBackoffMs: options.restartBackoffMs,
      restartBackoffMaxMs: options.restartBackoffMaxMs,
      restartResetMs: options.restartResetMs,
      readyPollMs: options.readyPollMs,
      onError: (err, msg) => { this.logger.error({ err }, msg) },
      parking: new ParkingLot(options.maxParkedReplicas)
    }
  }

  /**
   * Loads the state directory and starts every stored function's replicas. With
   * context.checkOnly it only loads (proving the state parses): a live provider may own it.
   */
  async init (): Promise<void> {
    await ensureDir(this.options.stateDir, 0o700)
    if (this.context.checkOnly === true) {
      await this.state.init()
      await this.state.loadAll()
      return
    }
    const orphans = await reapOrphans(this.owner)
    if (orphans.length > 0) this.logger.warn({ pids: orphans }, 'stopped function processes left running by an earlier provider that did not shut down')
    await this.state.init()
    await this.secrets.init()
    await this.namespaces.init()
    this.mounter = await createSecretMounter(this.options.secretsMount, this.options.secretsMountPath,
      (msg) => { this.logger.warn({}, msg) })
    const stored = await this.state.loadAll()
    const swept = await sweepStateDir(this.options.stateDir, new Set(stored.map((fn) => this.key(fn.spec.namespace, fn.spec.service))))
    if (swept.tempFiles > 0 || swept.staleMounts.length > 0) {
      this.logger.info({ tempFiles: swept.tempFiles, staleMounts: swept.staleMounts }, 'removed what an interrupted write or remove left in the state directory')
    }
    for (const fn of stored) {
      const { namespace, service } = fn.spec
      const missing = await this.secretDirs.missing(namespace, fn.spec.secrets ?? [])
      if (missing.length > 0) {
        this.logger.warn({ function: service, namespace, missing }, 'secrets of a stored function no longer exist; starting without them')
      }
      await this.secretDirs.materialize(namespace, service, fn.spec.secrets ?? [])
      this.start(fn)
    }
    if (stored.length > 0) this.logger.info({ functions: stored.length }, 'local backend restored its functions')
  }

  /** Which way functions see their secrets (tests and diagnostics). */
  get secretsMode (): 'namespace' | 'env' {
    return this.mounter?.mode ?? 'env'
  }

  private key (namespace: string, name: string): string {
    return `${namespace}/${name}`
  }

  private assertOpen (): void {
    if (this.closed) throw backendError('the local backend is closed')
  }

  private get (namespace: string, name: string): FunctionEntry {
    const entry = this.fns.get(this.key(namespace, name))
    if (entry === undefined) throw notFound(`function "${name}" not found in namespace "${namespace}"`)
    return entry
  }

  private runtimeFor (run: RunSpec, log: FunctionLog): Runtime {
    return run.mode === 'http'
      ? new HttpReplicaSet(run, log, this.supervisor)
      : new ForkSlots(run, log, this.inflight)
  }

  private runSpec (spec: Deployment): RunSpec {
    const dir = this.secretDirs.pathOf(spec.namespace, spec.service)
    const run = buildRunSpec(spec, this.mounter as SecretMounter, dir, this.context.execTimeoutMs)
    run.env[OWNER_ENV] = this.owner
    return run
  }

  private start (stored: StoredFunction): FunctionEntry {
    const { namespace, service } = stored.spec
    const run = this.runSpec(stored.spec)
    const log = new FunctionLog(service, namespace, this.options.logMaxLines, this.options.logMaxBytes)
    const entry: FunctionEntry = { stored, run, runtime: this.runtimeFor(run, log), retiring: new Set(), log }
    this.fns.set(this.key(namespace, service), entry)
    entry.runtime.setReplicas(stored.replicas)
    return entry
  }

  private normalize (fn: Deployment): Deployment {
    const spec = clone(fn)
    for (const [k, v] of Object.entries(spec)) if (v === undefined || v === null) delete (spec as unknown as Record<string, unknown>)[k]
    assertSafeName('namespace', spec.namespace)
    assertSafeName('function', spec.service)
    validateSpec(spec)
    return spec
  }

  private async assertSecretsExist (spec: Deployment): Promise<void> {
    const missing = await this.secretDirs.missing(spec.namespace, spec.secrets ?? [])
    if (missing.length > 0) {
      throw invalid(`unable to fetch secrets: secret "${missing[0] as string}" not found in namespace "${spec.namespace}"`)
    }
  }

  async deploy (fn: Deployment): Promise<void> {
    this.assertOpen()
    const spec = this.normalize(fn)
    const { namespace, service } = spec
    const key = this.key(namespace, service)
    await this.mutex.run(key, async () => {
      this.assertOpen()
      if (this.fns.has(key)) throw conflict(`function "${service}" already exists in namespace "${namespace}"`)
      this.deploying.add(key)
      try {
        await this.assertSecretsExist(spec)
        const stored: StoredFunction = { spec, replicas: initialReplicas(spec), createdAt: new Date().toISOString() }
        try {
          await this.secretDirs.materialize(namespace, service, spec.secrets ?? [])
          await this.state.save(stored)
        } catch (err) {
          await this.secretDirs.remove(namespace, service).catch(() => {})
          throw backendError(`could not store function "${service}": ${(err as Error).message}`, err)
        }
        this.start(stored)
      } finally {
        this.deploying.delete(key)
      }
    })
  }

  async update (fn: Deployment): Promise<void> {
    this.assertOpen()
    const spec = this.normalize(fn)
    const { namespace, service } = spec
    await this.mutex.run(this.key(namespace, service), async () => {
      this.assertOpen()
      const entry = this.get(namespace, service)
      await this.assertSecretsExist(spec)
      const stored: StoredFunction = { spec, replicas: entry.stored.replicas, createdAt: entry.stored.createdAt }
      try {
        await this.state.save(stored)
      } catch (err) {
        throw backendError(`could not store function "${service}": ${(err as Error).message}`, err)
      }
      await this.secretDirs.materialize(namespace, service, spec.secrets ?? [])
      const old = entry.runtime
      entry.stored = stored
      entry.run = this.runSpec(spec)
      entry.runtime = this.runtimeFor(entry.run, entry.log)
      entry.runtime.setReplicas(stored.replicas)
      this.retire(entry, old)
    })
  }

  /** Rolling update: the old replicas serve until the new ones are ready (bounded), then stop. */
  private retire (entry: FunctionEntry, old: Runtime): void {
    if (old.available() === 0 || entry.stored.replicas === 0) {
      this.track(old.stop())
      return
    }
    entry.retiring.add(old)
    const current = entry.runtime
    const rollout = (async () => {
      const deadline = Date.now() + ROLLOUT_TIMEOUT_MS
      while (!this.closed && entry.runtime === current && entry.retiring.has(old) &&
        current.available() < entry.stored.replicas && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      entry.retiring.delete(old)
      await old.stop()
    })()
    this.track(rollout)
  }

  private track (p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => { this.logger.error({ err }, 'stopping replicas failed') })
      .finally(() => { this.rollouts.delete(tracked) })
    this.rollouts.add(tracked)
  }

  private async stopEntry (entry: FunctionEntry): Promise<void> {
    const all = [entry.runtime, ...entry.retiring]
    entry.retiring.clear()
    await Promise.all(all.map(async (r) => { await r.stop() }))
  }

  async remove (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    await this.mutex.run(this.key(namespace, name), async () => {
      const entry = this.get(namespace, name)
      await this.state.delete(namespace, name)
      this.fns.delete(this.key(namespace, name))
      entry.log.end()
      await this.stopEntry(entry)
      await this.secretDirs.remove(namespace, name)
    })
  }

  async list (namespace: string): Promise<FunctionStatus[]> {
    this.assertOpen()
    const out: FunctionStatus[] = []
    for (const entry of this.fns.values()) {
      if (entry.stored.spec.namespace === namespace) out.push(this.toStatus(entry))
    }
    // names are DNS-1123 labels ([a-z0-9-]): code-unit order is the collation order, without ICU
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  }

  async status (namespace: string, name: string): Promise<FunctionStatus> {
    this.assertOpen()
    return this.toStatus(this.get(namespace, name))
  }

  /** The status as reported: fresh copies of the spec's (flat) maps and lists, never the stored ones. */
  private toStatus (entry: FunctionEntry): FunctionStatus {
    const { spec, replicas, createdAt } = entry.stored
    let available = entry.runtime.available()
    for (const r of entry.retiring) available += r.available()
    const status: FunctionStatus = {
      name: spec.service,
      image: spec.image,
      namespace: spec.namespace,
      replicas,
      availableReplicas: Math.min(available, replicas),
      createdAt
    }
    if (spec.envProcess !== undefined) status.envProcess = spec.envProcess
    if (spec.envVars !== undefined) status.envVars = { ...spec.envVars }
    if (spec.constraints !== undefined) status.constraints = [...spec.constraints]
    if (spec.secrets !== undefined) status.secrets = [...spec.secrets]
    status.labels = withFunctionLabel(spec.service, spec.labels)
    if (spec.annotations !== undefined) status.annotations = { ...spec.annotations }
    if (spec.limits !== undefined) status.limits = { ...spec.limits }
    if (spec.requests !== undefined) status.requests = { ...spec.requests }
    if (spec.readOnlyRootFilesystem !== undefined) status.readOnlyRootFilesystem = spec.readOnlyRootFilesystem
    return status
  }

  async scale (namespace: string, name: string, replicas: number): Promise<void> {
    this.assertOpen()
    if (!Number.isInteger(replicas) || replicas < 0) throw invalid(`replicas must be an integer >= 0, got ${replicas}`)
    await this.mutex.run(this.key(namespace, name), async () => {
      const entry = this.get(namespace, name)
      const previous = entry.stored
      const stored = { ...previous, replicas }
      // Start (or stop) the processes while the new count is made durable, not after: a scale
      // from zero then costs the process's own start, not an fsync plus the start. The API still
      // acknowledges only once the state is on disk; a failed write puts the old count back.
      entry.stored = stored
      entry.runtime.setReplicas(replicas)
      try {
        await this.state.save(stored)
      } catch (err) {
        if (entry.stored === stored) {
          entry.stored = previous
          entry.runtime.setReplicas(previous.replicas)
        }
        throw err
      }
      if (replicas === 0) {
        for (const r of entry.retiring) this.track(r.stop())
        entry.retiring.clear()
      }
    })
  }

  /**
   * Scale to zero for the autoscaler: reported as 0 replicas (and persisted so), but http-mode
   * processes are suspended rather than stopped, so the next scale up resumes them in
   * milliseconds. Fork mode has nothing to keep: its slots are simply removed.
   */
  async park (namespace: string, name: string): Promise<void> {
    this.assertOpen()
    await this.mutex.run(this.key(namespace, name), async () => {
      const entry = this.get(namespace, name)
      const previous = entry.stored
      const stored = { ...previous, replicas: 0 }
      entry.stored = stored
      if (entry.runtime.park !== undefined) entry.runtime.park()
      else entry.runtime.setReplicas(0)
      for (const r of entry.retiring) this.track(r.stop())
      entry.retiring.clear()
      try {
        await this.state.save(stored)
      } catch (err) {
        if (entry.stored === stored) {
          entry.stored = previous
          entry.runtime.setReplicas(previous.replicas)
        }
        throw err
      }
    })
  }

  async upstream (namespace: string, name: string): Promise<Upstream> {
    this.assertOpen()
    const entry = this.get(namespace, name)
    const up = entry.runtime.pick() ?? [...entry.retiring].map((r) => r.pick()).find((u) => u !== undefined)
    if (up === undefined) throw unavailable(`No endpoints available for: ${name}.`)
    return up
  }

  async logs (query: LogQuery, signal: AbortSignal): Promise<AsyncIterable<LogMessage>> {
    this.assertOpen()
    return this.get(query.namespace, query.name).log.query(query, signal)
  }

  /** Instance names and pids of a function's replicas (tests and diagnostics). */
  replicaInfo (namespace: string, name: string): { instances: string[], pids: number[], parkedPids: number[] } {
    const entry = this.get(namespace, name)
    const http = entry.runtime instanceof HttpReplicaSet ? entry.runtime : undefined
    return { instances: entry.runtime.instances(), pids: http?.pids() ?? [], parkedPids: http?.parkedPids() ?? [] }
  }

  /**
   * A secret's value changed: rewrite it in the directory of every function that uses it. Each
   * function is refreshed under its own lock, so a refresh never races a remove (which deletes the
   * directory) or a deploy (which materialises it); deploys in progress are waited for too, or
   * one that read the old value just before the change would keep it.
   */
  private async secretChanged (namespace: string, secret: string): Promise<void> {
    const keys = new Set(this.deploying)
    for (const [key, entry] of this.fns) if (entry.stored.spec.namespace === namespace) keys.add(key)
    for (const key of keys) {
      await this.mutex.run(key, async () => {
        const entry = this.fns.get(key)
        if (entry === undefined || this.closed) return
        const { spec } = entry.stored
        if (spec.namespace === namespace && (spec.secrets ?? []).includes(secret)) {
          await this.secretDirs.refresh(namespace, spec.service, secret)
        }
      })
    }
  }

  /** `--check`: the state directory takes a durable write (a probe file, written and removed). */
  async check (): Promise<void> {
    const probe = path.join(this.options.stateDir, `.check-${process.pid}`)
    try {
      await writeFileAtomic(probe, 'ok\n')
      await rm(probe, { force: true })
    } catch (err) {
      throw new Error(`local backend: state directory ${this.options.stateDir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const child of this.inflight) if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL')
    const entries = [...this.fns.values()]
    for (const e of entries) e.log.end()
    await Promise.all(entries.map(async (e) => { await this.stopEntry(e) }))
    while (this.rollouts.size > 0) await Promise.all([...this.rollouts])
  }
}

export async function createDriver (options: Record<string, unknown>, context: DriverContext): Promise<LocalDriver> {
  const driver = new LocalDriver(validateOptions(options), context)
  await driver.init()
  return driver
}
createDriver satisfies CreateDriver
