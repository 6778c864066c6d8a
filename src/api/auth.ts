/*
 * Basic auth exactly as faas-provider does it: credentials read once at start-up from
 * ${secret_mount_path}/basic-auth-user and basic-auth-password (trimmed), username compared by
 * equality, password in constant time, 401 with WWW-Authenticate: Basic realm="Restricted".
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { FastifyReply, FastifyRequest } from 'fastify'

export interface Credentials {
  user: string
  password: string
}

export function readCredentials (secretMountPath: string): Credentials {
  const read = (file: string): string => {
    const full = path.join(secretMountPath, file)
    try {
      return readFileSync(full, 'utf8').trim()
    } catch (err) {
      throw new Error(`basic_auth=true but ${full} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}): ` +
        'create basic-auth-user and basic-auth-password there, or set secret_mount_path')
    }
  }
  return { user: read('basic-auth-user'), password: read('basic-auth-password') }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest()

/** An onRequest hook that lets a request through only with the right Basic credentials. */
export function basicAuthGuard (creds: Credentials) {
  const expectedPassword = digest(creds.password)
  return async function checkBasicAuth (request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization
    if (header !== undefined && /^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon !== -1) {
        const user = decoded.slice(0, colon)
        // hash both so the comparison is constant-time whatever the lengths
        const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), expectedPassword)
        if (passwordOk && user === creds.user) return
      }
    }
    await reply
      .code(401)
      .header('www-authenticate', 'Basic realm="Restricted"')
      .header('content-type', 'text/plain; charset=utf-8')
      .send('invalid credentials')
  }
}
