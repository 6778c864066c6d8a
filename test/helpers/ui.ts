/*
 * Test set-up for the dashboard: builds dist/ui when it is missing or was built from other inputs
 * (so `npm test` on a fresh clone works; a lock keeps parallel test files from building at once),
 * installs Debian's chromium when /usr/bin/chromium is missing, and starts it headless through
 * playwright-core with the flags a sandboxed root machine needs and a new empty profile.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Test } from 'tap'
import { chromium, type BrowserContext } from 'playwright-core'
import { ensureUiBuilt, UI_OUT, type UiBuildInfo } from '../../scripts/build-ui.ts'
import { startProvider } from './provider-process.ts'

const LOCK = `${UI_OUT}.lock`
const LOCK_STALE_MS = 120_000

export async function ensureUi (): Promise<UiBuildInfo> {
  await mkdir(path.dirname(UI_OUT), { recursive: true })
  const deadline = Date.now() + LOCK_STALE_MS
  for (;;) {
    try {
      await mkdir(LOCK)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const age = Date.now() - (await stat(LOCK).then((s) => s.mtimeMs, () => Date.now()))
      if (age > LOCK_STALE_MS || Date.now() > deadline) { await rm(LOCK, { recursive: true, force: true }); continue }
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  try {
    return await ensureUiBuilt()
  } finally {
    await rm(LOCK, { recursive: true, force: true })
  }
}

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/** Debian's chromium, installed with apt-get when it is not there yet (as root, as CI runs). */
export function ensureChromium (): void {
  if (existsSync(CHROMIUM)) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update'], { stdio: 'pipe', env, timeout: 300_000 })
    execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'pipe', env, timeout: 600_000 })
  } catch (err) {
    throw new Error(`${CHROMIUM} is missing and \`apt-get install -y chromium\` failed (run it as root): ${(err as Error).message}`)
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`)
}

export interface BrowserOptions {
  credentials?: { username: string, password: string, origin: string }
  viewport?: { width: number, height: number }
}

/** A headless Chromium with a new empty --user-data-dir; closed (and the profile removed) when the test ends. */
export async function launchBrowser (t: Test, opts: BrowserOptions = {}): Promise<BrowserContext> {
  ensureChromium()
  const profile = await mkdtemp(path.join(os.tmpdir(), 'fb-chromium-'))
  let context: BrowserContext | undefined
  t.teardown(async () => {
    await context?.close().catch(() => {})
    await rm(profile, { recursive: true, force: true })
  })
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 30_000,
    acceptDownloads: true,
    viewport: opts.viewport ?? { width: 1200, height: 800 },
    colorScheme: 'light',
    ...(opts.credentials !== undefined ? { httpCredentials: opts.credentials } : {})
  })
  context.setDefaultTimeout(10_000)
  return context
}

export const USER = 'admin'
export const PASSWORD = 'dashboard-pass'

export interface Dashboard {
  url: string
  /** the provider's API with the dashboard's credentials */
  api: (method: string, p: string, body?: unknown) => Promise<Response>
}

/** The built UI and the real provider process (src/main.ts) on the local backend with basic auth, 127.0.0.1 only. */
export async function startDashboard (t: Test, env: Record<string, string> = {}): Promise<Dashboard> {
  await ensureUi()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-ui-e2e-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const secrets = path.join(dir, 'secrets')
  await mkdir(secrets)
  await writeFile(path.join(secrets, 'basic-auth-user'), USER)
  await writeFile(path.join(secrets, 'basic-auth-password'), PASSWORD)
  const provider = await startProvider(t, {
    basic_auth: 'true',
    secret_mount_path: secrets,
    bind_address: '127.0.0.1',
    state_dir: path.join(dir, 'state'),
    write_timeout: '3s',
    read_timeout: '5s',
    ...env
  })
  const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
  const api = async (method: string, p: string, body?: unknown): Promise<Response> => await fetch(`${provider.url}${p}`, {
    method,
    headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {})
  })
  return { url: provider.url, api }
}
