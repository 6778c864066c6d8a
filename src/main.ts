#!/usr/bin/env node
/*
 * Process entry: configuration → drivers → app → listen. SIGTERM/SIGINT stop accepting, drain
 * in-flight requests, stop the backends and exit. State lives on disk, so a crash loses nothing.
 */
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { loadDriverFactory } from '../providers/index.ts'
import { buildApp } from './app.ts'
import { readCredentials } from './api/auth.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { Backends, type Backend } from './core/backends.ts'
import type { DriverContext } from './core/driver.ts'

function versionInfo (): { release: string, sha: string } {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  let sha = process.env.FAAS_BRIDGE_SHA ?? ''
  if (sha === '') {
    try {
      const head = readFileSync(new URL('../.git/HEAD', import.meta.url), 'utf8').trim()
      sha = head.startsWith('ref: ')
        ? readFileSync(new URL(`../.git/${head.slice(5)}`, import.meta.url), 'utf8').trim()
        : head
    } catch {
      sha = 'unknown'
    }
  }
  return { release: pkg.version, sha }
}

async function startBackends (config: Config, logger: pino.Logger): Promise<Backends> {
  const started: Array<{ backend: Backend, namespaces: string[] }> = []
  try {
    for (const b of config.backends) {
      const createDriver = await loadDriverFactory(b.driver)
      const context: DriverContext = {
        logger: logger.child({ backend: b.name }),
        namespaces: b.namespaces,
        execTimeoutMs: config.readTimeoutMs
      }
      const driver = await createDriver(b.options, context)
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

async function main (): Promise<void> {
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
  const logger = pino({ level: config.logLevel, base: { service: 'faas-bridge' } })
  const credentials = config.basicAuth ? readCredentials(config.secretMountPath) : undefined
  const backends = await startBackends(config, logger)
  const app = await buildApp({
    backends,
    readTimeoutMs: config.readTimeoutMs,
    writeTimeoutMs: config.writeTimeoutMs,
    systemBodyLimit: config.systemBodyLimit,
    maxIdleConnsPerHost: config.maxIdleConnsPerHost,
    maxReplicas: config.maxReplicas,
    ...(credentials !== undefined ? { credentials } : {}),
    info: versionInfo(),
    logger
  })

  let stopping = false
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping: draining requests, then stopping backends')
    const force = setTimeout(() => { logger.error('shutdown took too long; exiting'); process.exit(1) }, 30_000)
    force.unref()
    await app.close()
    await backends.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => { void stop('SIGTERM') })
  process.on('SIGINT', () => { void stop('SIGINT') })

  if (!config.basicAuth && !config.hostExplicit) {
    logger.warn(`basic_auth is off, so faas-bridge listens on ${config.host} only: the local backend runs any command it is sent. ` +
      'Set basic_auth=true (or bind_address explicitly) to serve other hosts.')
  } else if (!config.basicAuth) {
    logger.warn({ host: config.host }, 'basic_auth is off and bind_address was set explicitly: anyone who reaches this address can run commands through the local backend')
  }
  await app.listen({ port: config.port, host: config.host })
  logger.info({
    port: config.port,
    host: config.host,
    basicAuth: config.basicAuth,
    backends: config.backends.map((b) => ({ name: b.name, driver: b.driver, namespaces: b.namespaces }))
  }, 'faas-bridge listening')
}

main().catch((err: unknown) => {
  process.stderr.write(`faas-bridge: ${(err as Error).stack ?? String(err)}\n`)
  process.exit(1)
})
