/*
 * Replays every request recorded from the real faas-cli and gateway (test/fixtures/, see its README) against
 * the real app on the local backend, in order, and checks each gets a status that client accepts
 * (contract §3, §9), and that invocations answer what the function computes.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { localApp } from './helpers/local-app.ts'

interface Recorded {
  client: string
  command: string
  method: string
  path: string
  headers: Record<string, string>
  body: string | null
  bodyBase64?: string
}

const fixtureFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'faas-cli-gateway-requests.ndjson')
const recorded: Recorded[] = readFileSync(fixtureFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Recorded)

const USER = 'admin'
const PASSWORD = 'fixture-pass'

/** What the recording client accepts for this request, by the contract's tables. */
function accepted (req: Recorded, next: Recorded | undefined): number[] {
  const p = req.path.split('?')[0] as string
  if (p === '/system/functions' && req.method === 'PUT' && next?.method === 'POST' && next.path === '/system/functions' && next.body === req.body) {
    return [404] // a first deploy: faas-cli falls back to POST only on 404
  }
  if (p === '/system/functions' && req.method === 'DELETE' && req.body?.includes('no-such-fn') === true) return [404]
  if (p.startsWith('/function/')) return [200]
  if (req.method === 'GET') return [200]
  if (p === '/system/scale-function/' + p.split('/')[3]) return [200, 202] // the gateway accepts only these
  if (p === '/system/secrets' && req.method === 'PUT') return [200, 202] // never 201
  return [200, 202] // deploy must not be 201 either: faas-cli exits non-zero on it
}

function headersFor (req: Recorded): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(req.headers)) {
    if (['content-length', 'transfer-encoding', 'connection'].includes(k)) continue
    if (k === 'authorization') out[k] = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
    else if (k === 'x-call-id') out[k] = randomUUID()
    else if (k === 'x-start-time') out[k] = String(BigInt(Date.now()) * 1_000_000n)
    else out[k] = v
  }
  return out
}

t.test(`replay ${recorded.length} recorded faas-cli and gateway requests`, async (t) => {
  const { url } = await localApp(t, { app: { credentials: { user: USER, password: PASSWORD }, writeTimeoutMs: 300 } })
  t.ok(recorded.length > 150, 'the fixture file was read')
  for (const [i, req] of recorded.entries()) {
    const body = req.bodyBase64 !== undefined ? Buffer.from(req.bodyBase64, 'base64') : req.body === null || req.body === '' ? undefined : Buffer.from(req.body)
    const res = await fetch(url + req.path, {
      method: req.method,
      headers: headersFor(req),
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual'
    })
    const bytes = Buffer.from(await res.arrayBuffer())
    const text = bytes.toString('utf8')
    const want = accepted(req, recorded[i + 1])
    t.ok(want.includes(res.status), `#${i} ${req.method} ${req.path} (${req.command.slice(0, 60)}) → ${res.status}, want ${want.join('/')}${res.status >= 400 ? `: ${text.trim()}` : ''}`)

    // what the functions compute, where the recording tells us the input
    if (req.path.startsWith('/function/text-echo') && req.method === 'POST' && body !== undefined) {
      t.ok(bytes.equals(body), `#${i} cat echoes the body byte for byte`)
    }
    if (req.path.startsWith('/function/word-count')) t.equal(text.trim(), '4', `#${i} wc -w counts the words`)
    if (req.path.startsWith('/function/env-printer') && res.status === 200) {
      t.match(text, /GREETING=hello world/, `#${i} env shows the function's envVars`)
      t.match(text, new RegExp(`Http_Method=${req.method}`), `#${i} the watchdog's Http_Method`)
    }
    if (req.path === '/system/info') t.equal(JSON.parse(text).provider, 'faas-bridge')
  }
})
