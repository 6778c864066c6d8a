/*
 * `--check`: validates what start-up would use without serving anything. The configuration has
 * already parsed (a mistake there exits 2 before this runs); here the basic-auth files are read and
 * every configured backend is created — creating a driver is its configuration check — and asked
 * for one cheap read through Driver.check() when it has one, and, when it keeps local caches
 * (Driver.caches()), their state after that check. One line per item, then a verdict.
 */
import { readCredentials } from './api/auth.ts'
import type { Config } from './config.ts'
import type { CreateDriver, Driver, DriverContext } from './core/driver.ts'

export interface CheckDeps {
  loadDriverFactory: (name: string) => Promise<CreateDriver>
  logger: DriverContext['logger']
  /** one line, without the newline */
  print: (line: string) => void
  timeoutMs: number
}

export interface CheckResult {
  ok: boolean
  /** names of the items that failed */
  failed: string[]
}

class CheckTimeout extends Error {
  override name = 'CheckTimeout'
}

async function within<T> (ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new CheckTimeout(`${what} did not answer within ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}

function oneLine (err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.replace(/\s*\n\s*/g, ' ').trim()
}

export async function runCheck (config: Config, deps: CheckDeps): Promise<CheckResult> {
  const failed: string[] = []
  const ok = (item: string, detail: string): void => { deps.print(`ok    ${item}: ${detail}`) }
  const fail = (item: string, detail: string): void => {
    failed.push(item)
    deps.print(`FAIL  ${item}: ${detail}`)
  }

  if (config.basicAuth) {
    try {
      readCredentials(config.secretMountPath)
      ok('basic_auth', `credentials read from ${config.secretMountPath}`)
    } catch (err) {
      fail('basic_auth', oneLine(err))
    }
  }

  const owner = new Map<string, string>()
  for (const b of config.backends) {
    for (const ns of b.namespaces) {
      const other = owner.get(ns)
      if (other !== undefined) fail(`backend ${b.name}`, `namespace "${ns}" is also claimed by backend "${other}"`)
      else owner.set(ns, b.name)
    }
  }

  for (const b of config.backends) {
    const item = `backend ${b.name} (driver ${b.driver}, namespaces ${b.namespaces.join(',')})`
    let driver: Driver | undefined
    try {
      const createDriver = await deps.loadDriverFactory(b.driver)
      const context: DriverContext = {
        logger: deps.logger.child({ backend: b.name }),
        namespaces: b.namespaces,
        execTimeoutMs: config.readTimeoutMs,
        checkOnly: true
      }
      driver = await within(deps.timeoutMs, `creating the ${b.driver} driver`, Promise.resolve(createDriver(b.options, context)))
      if (driver.check !== undefined) {
        await within(deps.timeoutMs, `the ${b.driver} backend`, driver.check())
        ok(item, 'configured and reachable')
        const caches = driver.caches?.() ?? []
        if (caches.length > 0) {
          const text = caches.map((c) => `${c.resource} in "${c.namespace}" ${c.state} (${c.objects} objects)`).join(', ')
          if (caches.every((c) => c.state === 'synced')) ok(`backend ${b.name} caches`, text)
          else fail(`backend ${b.name} caches`, text)
        }
      } else {
        ok(item, 'configured (this driver has no reachability check)')
      }
    } catch (err) {
      fail(item, oneLine(err))
    } finally {
      if (driver !== undefined) {
        const d = driver
        await within(deps.timeoutMs, `closing the ${b.driver} driver`, d.close()).catch(() => {})
      }
    }
  }
  return { ok: failed.length === 0, failed }
}
