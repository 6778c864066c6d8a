#!/usr/bin/env node
/*
 * Process entry: configuration → drivers → app → listen. SIGTERM/SIGINT stop accepting, drain
 * in-flight requests, stop the backends and exit. State lives on disk, so a crash loses nothing.
 */
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import os from 'node:os'
import { loadDriverFactory, loadLeaseCoordination } from '../providers/index.ts'
import { buildApp } from './app.ts'
import { readCredentials } from './api/auth.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { runCheck } from './check.ts'
import { createMetrics, type Metrics } from './api/metrics.ts'
import { Backends, type Backend } from './core/backends.ts'
import { instrumentDriver } from './core/instrumented-driver.ts'
import type { DriverContext } from './core/driver.ts'
import { Reconciler } from './reconcile/reconciler.ts'
import { stackSource } from './reconcile/stack-source.ts'
import { SingleProcess, type Coordination } from './core/coordination.ts'
import type { Credentials } from './api/auth.ts'

/** SIGTERM: in-flight requests get this long to finish before the process gives up and exits 1
 * (the chart's terminationGracePeriodSeconds is a little longer) */
export const SHUTDOWN_TIMEOUT_MS = 30_000
/** How often idle keep-alive connections are closed while SIGTERM drains requests. */
const SHUTDOWN_SWEEP_MS = 50
/** Bound on one backend's start-up and check in `--check` mode. */
export const CHECK_TIMEOUT_MS = 20_000
/** How long deep ancestors are searched for package.json / .git. */
const MAX_ANCESTORS = 8

/**
 * The directory holding faas-bridge's package.json: the repository when run from src/ (.ts), the
 * image's /app when run from dist/src/ (.js). Walks up from this file instead of assuming a depth.
 */
function packageRoot (): { dir: string, version: string } | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < MAX_ANCESTORS; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (pkg.name === 'faas-bridge' && typeof pkg.version === 'string') return { dir, version: pkg.version }
    } catch {}
    const parent = path.dirname(dir)
    if (parent === dir) break
    dir = parent
  }
  return undefined
}

/** The commit checked out in `root` (a .git directory, or a .git file of a worktree); undefined when unknown. */
function gitSha (root: string): string | undefined {
  try {
    let gitDir = path.join(root, '.git')
    if (statSync(gitDir).isFile()) {
      const m = /^gitdir: (.+)$/m.exec(readFileSync(gitDir, 'utf8'))
      if (m === null) return undefined
      gitDir = path.resolve(root, (m[1] as string).trim())
    }
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim()
    if (!head.startsWith('ref: ')) return head
    const ref = head.slice(5)
    let common = gitDir
    try {
      common = path.resolve(gitDir, readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim())
    } catch {}
    for (const dir of [gitDir, common]) {
      try {
        return readFileSync(path.join(dir, ref), 'utf8').trim()
      } catch {}
    }
    const packed = readFileSync(path.join(common, 'packed-refs'), 'utf8')
    return packed.split('\n').find((l) => l.endsWith(` ${ref}`))?.split(' ')[0]
  } catch {
    return undefined
  }
}

function versionInfo (): { release: string, sha: string } {
  const root = packageRoot()
  let sha = process.env.FAAS_BRIDGE_SHA ?? ''
  if (sha === '') sha = (root !== undefined ? gitSha(root.dir) : undefined) ?? 'unknown'
  return { release: root?.version ?? 'unknown', sha }
}

async function startBackends (config: Config, logger: pino.Logger, metrics: Metrics): Promise<Backends> {
  const started: Array<{ backend: Backend, namespaces: string[] }> = []
  try {
    for (const b of config.backends) {
      const createDriver = await loadDriverFactory(b.driver)
      const context: DriverContext = {
        logger: logger.child({ backend: b.name }),
        namespaces: b.namespaces,
        execTimeoutMs: config.readTimeoutMs
      }
      // every call into the backend is timed and its outcome counted in /metrics
      const driver = instrumentDriver(await createDriver(b.options, context), (operation, seconds, outcome) => {
        metrics.observeBackendCall({ backend: b.name, operation, outcome }, seconds)
      })
      started.push({ backend: { name: b.name, driver }, namespaces: b.namespaces })
    }
    const backends = new Backends(started, config.defaultNamespace)
    await backends.init()
    return backends
  } catch (err) {
    await Promise.allSettled(started.map(async ({ backend }) => { await backend.driver.close() }))
    throw err
  }
}

/** where a pod's service account names its namespace */
const POD_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace'

/** One process leads itself; with leader election, a Lease in the pod's own cluster decides. */
async function startCoordination (config: Config, logger: pino.Logger, credentials: Credentials | undefined): Promise<Coordination> {
  const le = config.leaderElection
  if (le === undefined) return new SingleProcess(os.hostname())
  let namespace = le.namespace
  if (namespace === undefined) {
    try {
      namespace = readFileSync(POD_NAMESPACE_FILE, 'utf8').trim()
    } catch {
      throw new ConfigError(`leader_election_namespace: not set, and ${POD_NAMESPACE_FILE} cannot be read (not in a pod)`)
    }
  }
  const identity = le.identity ?? os.hostname()
  const { createLeaseCoordination } = await loadLeaseCoordination()
  const coordination = createLeaseCoordination({
    connection: le.kubeconfig !== undefined ? { inCluster: false, kubeconfig: le.kubeconfig } : { inCluster: true },
    lease: { name: le.leaseName, namespace, identity, leaseDurationMs: le.leaseDurationMs, renewDeadlineMs: le.renewDeadlineMs, retryPeriodMs: le.retryPeriodMs },
    peers: {
      service: le.peerService,
      namespace,
      portName: le.peerPortName,
      timeoutMs: le.peerTimeoutMs,
      ...(credentials !== undefined ? { authorization: `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}` } : {})
    },
    logger: logger.child({ component: 'leader-election' })
  })
  await coordination.start()
  logger.info({ identity, lease: `${namespace}/${le.leaseName}`, peers: `${namespace}/${le.peerService}` }, 'leader election on: only the leader scales functions')
  return coordination
}

const USAGE = 'usage: faas-bridge [--check]\n' +
  '  (no flag)  serve the faas-provider API; configuration comes from the environment (see README)\n' +
  '  --check    validate the configuration, load every backend and check it can be reached; exit 0 when all are fine\n'

/** `--check`: one line per item on stdout, the verdict last; exit 0, or 1 naming what failed. */
async function check (config: Config): Promise<never> {
  // drivers' own log lines go to stderr, at warn and above: stdout is the report
  const logger = pino({ level: 'warn', base: { service: 'faas-bridge' } }, pino.destination(2))
  const result = await runCheck(config, {
    loadDriverFactory: async (name) => await loadDriverFactory(name),
    logger,
    print: (line) => { process.stdout.write(`${line}\n`) },
    timeoutMs: CHECK_TIMEOUT_MS
  })
  if (result.ok) {
    process.stdout.write(`faas-bridge: check passed: ${config.backends.length} backend(s) ready\n`)
    process.exit(0)
  }
  process.stderr.write(`faas-bridge: check failed: ${result.failed.join('; ')}\n`)
  process.exit(1)
}

async function main (argv: string[]): Promise<void> {
  let checkOnly = false
  for (const arg of argv) {
    if (arg === '--check') {
      checkOnly = true
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write(USAGE)
      process.exit(0)
    } else {
      process.stderr.write(`faas-bridge: unknown argument "${arg}"\n${USAGE}`)
      process.exit(2)
    }
  }
  let config: Config
  try {
    config = loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`faas-bridge: configuration error: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  if (checkOnly) await check(config)
  const logger = pino({ level: config.logLevel, base: { service: 'faas-bridge' } })
  const credentials = config.basicAuth ? readCredentials(config.secretMountPath) : undefined
  const metrics = createMetrics()
  const backends = await startBackends(config, logger, metrics)
  let coordination: Coordination
  try {
    coordination = await startCoordination(config, logger, credentials)
  } catch (err) {
    await backends.close()
    if (err instanceof ConfigError) {
      process.stderr.write(`faas-bridge: configuration error: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const app = await buildApp({
    backends,
    metrics,
    coordination,
    readTimeoutMs: config.readTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    systemBodyLimit: config.systemBodyLimit,
    maxIdleConnsPerHost: config.maxIdleConnsPerHost,
    invokeThreads: config.invokeThreads,
    maxReplicas: config.maxReplicas,
    ...(credentials !== undefined ? { credentials } : {}),
    info: versionInfo(),
    logger,
    autoscale: {
      intervalMs: config.autoscale.intervalMs,
      zeroDurationMs: config.autoscale.zeroDurationMs,
      // backends the config file sets explicitly; the others go by driver (local, kubernetes: scale)
      modes: Object.fromEntries(config.backends.flatMap((b) => b.autoscale !== undefined ? [[b.name, b.autoscale]] : []))
    }
  })

  const reconciler = config.declarative !== undefined
    ? new Reconciler({
      backends,
      sources: [
        ...config.declarative.stackFiles.map((f) => stackSource({ path: f.path, id: f.id, prune: f.prune, defaultNamespace: config.defaultNamespace })),
        ...(config.declarative.functionResources !== undefined
          ? [(await import('../providers/kubernetes/common/function-resources.ts')).functionResourceSourceFor(config.declarative.functionResources, logger.child({ component: 'reconcile' }))]
          : [])
      ],
      resyncMs: config.declarative.resyncMs,
      logger: logger.child({ component: 'reconcile' }),
      // with several replicas only the leader reconciles; a follower's passes do nothing
      isLeader: () => coordination.isLeader(),
      onAction: (labels) => { metrics.observeReconcileAction(labels) }
    })
    : undefined
  if (reconciler !== undefined) metrics.setReconcileSource(() => reconciler.report())
  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: draining requests, then stopping backends')
    const force = setTimeout(() => { logger.error('shutdown took too long; exiting'); process.exit(1) }, SHUTDOWN_TIMEOUT_MS)
    force.unref()
    // no declarative writes while the backends drain (a pass under way stops at its next write)
    await reconciler?.stop()
    // Keep-alive clients (the gateway's pool) hold connections open: close each one as soon as
    // its in-flight request has been answered, or the drain would wait for the keep-alive timeout.
    const sweep = setInterval(() => { app.server.closeIdleConnections() }, SHUTDOWN_SWEEP_MS)
    sweep.unref()
    await app.close()
    clearInterval(sweep)
    // after the autoscaler stopped (app.close): the Lease is released with no decision after it
    await coordination.stop()
    await backends.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })

  if (!config.basicAuth) logger.warn({ host: config.host }, openApiWarning(config))
  // invoke threads join this port with SO_REUSEPORT, which the first socket must have set too
  await app.listen({ port: config.port, host: config.host, ...(config.invokeThreads.count > 0 ? { reusePort: true } : {}) })
  if (reconciler !== undefined) {
    reconciler.start()
    logger.info({
      sources: config.declarative?.stackFiles.map((f) => ({ id: f.id, path: f.path, prune: f.prune })),
      ...(config.declarative?.functionResources !== undefined ? { functionResources: { namespaces: config.declarative.functionResources.namespaces, map: config.declarative.functionResources.map } } : {})
    }, 'declarative functions: reconciling')
  }
  logger.info({
    port: config.port,
    host: config.host,
    basicAuth: config.basicAuth,
    backends: config.backends.map((b) => ({ name: b.name, driver: b.driver, namespaces: b.namespaces }))
  }, 'faas-bridge listening')
}

/**
 * The start-up warning for an API without basic_auth: anyone who reaches it can deploy, invoke and
 * remove functions, and where a local backend is served that means running any command on this host.
 */
function openApiWarning (config: Config): string {
  const local = config.backends.filter((b) => b.driver === 'local').map((b) => b.name)
  const what = local.length > 0
    ? `anyone who reaches it can run any command on this host through the local backend (${local.join(', ')})`
    : 'anyone who reaches it can deploy, invoke and remove functions'
  return config.hostExplicit
    ? `basic_auth is off and bind_address was set explicitly to ${config.host}: ${what}`
    : `basic_auth is off, so faas-bridge listens on ${config.host} only: ${what}. Set basic_auth=true (or bind_address explicitly) to serve other hosts.`
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`faas-bridge: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
