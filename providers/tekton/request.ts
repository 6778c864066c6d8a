/*
 * A call's request as the step sees it: the body read into memory up to maxBodyBytes (413 above
 * it, before anything is created in the cluster) and the headers as headers.env, one
 * `Http_Name=value` line per header as the classic watchdog names them, plus Http_Method,
 * Http_Path, Http_Query and Http_ContentLength. The wrapper exports each line as it is (no shell
 * evaluation); headers whose names cannot be variable names are left out.
 */
import type { HeaderMap, InvocationRequest } from '../../src/core/driver.ts'
import { ProviderError } from '../../src/core/errors.ts'
import { watchdogHeaderName } from '../../src/core/watchdog-env.ts'
import { MAX_HEADER_BYTES } from './options.ts'

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export function firstHeader (headers: HeaderMap, name: string): string | undefined {
  const v = headers[name.toLowerCase()]
  return Array.isArray(v) ? v[0] : v
}

export const payloadTooLarge = (message: string): ProviderError => new ProviderError('PAYLOAD_TOO_LARGE', message)

export function headersEnv (req: Pick<InvocationRequest, 'method' | 'path' | 'query' | 'headers'>, bodyLength: number): string {
  const vars = new Map<string, string>()
  for (const key of Object.keys(req.headers)) {
    const name = 'Http_' + watchdogHeaderName(key)
    const value = firstHeader(req.headers, key)
    if (value === undefined || !ENV_NAME.test(name)) continue
    vars.set(name, value.replace(/[\r\n]/g, ' '))
  }
  vars.set('Http_Method', req.method)
  vars.set('Http_Path', req.path)
  if (req.query !== '') vars.set('Http_Query', req.query)
  vars.set('Http_ContentLength', String(bodyLength))
  let text = ''
  for (const [k, v] of vars) text += `${k}=${v}\n`
  if (Buffer.byteLength(text) > MAX_HEADER_BYTES) throw payloadTooLarge(`request headers are larger than ${MAX_HEADER_BYTES} bytes, the most a Tekton call can carry`)
  return text
}

/**
 * The whole body, or PAYLOAD_TOO_LARGE (413) as soon as it passes `max` bytes. The rest of a
 * refused body is drained, not destroyed, so the caller still gets the answer.
 */
export async function readBody (req: InvocationRequest, max: number): Promise<Buffer> {
  const tooLarge = (): ProviderError => payloadTooLarge(`request body is larger than ${max} bytes, the most the tekton backend passes to a run (option maxBodyBytes)`)
  const body = req.body
  const declared = Number(firstHeader(req.headers, 'content-length') ?? '')
  if (Number.isFinite(declared) && declared > max) {
    body.resume()
    throw tooLarge()
  }
  return await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (c: Buffer | string): void => {
      const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c)
      size += chunk.length
      if (size > max) {
        body.off('data', onData)
        body.resume()
        cleanup()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => { cleanup(); resolve(Buffer.concat(chunks)) }
    const onError = (err: Error): void => { cleanup(); reject(err) }
    const cleanup = (): void => {
      body.off('end', onEnd)
      body.off('error', onError)
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
  })
}
