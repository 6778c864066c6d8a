/*
 * Bench upstream: a plain node:http server answering every request with a fixed 1 KiB body
 * (draining any request body first). Listens on env PORT (as a `mode=http` function of the local
 * backend does) or on a free port, on env HOST or 127.0.0.1 (the kubernetes bench gives it a pod's
 * loopback IP); prints `READY <port>` once it listens.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const SIZE = Number(process.env.BENCH_REPLY_BYTES ?? 1024)
const body = Buffer.alloc(SIZE, 'x')
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) }

const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, headers)
    res.end(body)
  })
})
server.keepAliveTimeout = 65_000
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  console.log(`READY ${(server.address() as AddressInfo).port}`)
})
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)) })
