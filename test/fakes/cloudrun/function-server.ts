/*
 * The function behind a fake Cloud Run service: a real HTTP server on 127.0.0.1 that echoes what
 * it received as JSON. With `acceptToken` it answers 401 unless `X-Serverless-Authorization:
 * Bearer <token>` (or, failing that, `Authorization`) carries a token it accepts: what Cloud Run's
 * IAM check does with an ID token. Cloud Run strips X-Serverless-Authorization before the
 * container sees the request and leaves Authorization alone.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface EchoReply {
  method: string
  path: string
  authorization: string | null
  body: string
}

export interface FunctionServer {
  url: string
  /** when set, requests need `Authorization: Bearer <token>` with a token it accepts, else 401 */
  acceptToken: ((token: string) => boolean) | undefined
  calls: EchoReply[]
  close (): Promise<void>
}

export async function startFunctionServer (): Promise<FunctionServer> {
  const fn: FunctionServer = { url: '', acceptToken: undefined, calls: [], close: async () => {} }
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const serverless = req.headers['x-serverless-authorization']
      const credential = typeof serverless === 'string' ? serverless : req.headers.authorization
      const reply: EchoReply = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization ?? null,
        body: Buffer.concat(chunks).toString('utf8')
      }
      fn.calls.push(reply)
      const token = /^Bearer (.+)$/.exec(credential ?? '')?.[1]
      if (fn.acceptToken !== undefined && (token === undefined || !fn.acceptToken(token))) {
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer error="invalid_token"' })
        res.end('Your client does not have permission to the requested URL.')
        return
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-function': 'fake' })
      res.end(JSON.stringify(reply))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fn.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  fn.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  }
  return fn
}
