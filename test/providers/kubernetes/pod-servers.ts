/*
 * "Pods" that really answer on their own IPs: HTTP servers on 8080 (the functions' port) at
 * addresses of one random 127.x.y.0/24 loopback network, handed to the fake API server as its
 * pod IPs (FakeKubernetesOptions.podIp), so the endpoints invoke mode reaches them. Each counts
 * the requests it served; stop(ip) closes one (connections to it are then refused).
 */
import http from 'node:http'
import type { Test } from 'tap'
import { FUNCTION_PORT } from '../../../providers/kubernetes/mapping.ts'

export interface PodServers {
  /** the n-th pod's IP (pass as the fake's podIp) */
  ip: (n: number) => string
  hits: Map<string, number>
  stop: (ip: string) => Promise<void>
}

async function listen (server: http.Server, host: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    server.once('error', () => { resolve(false) })
    server.listen(FUNCTION_PORT, host, () => { resolve(true) })
  })
}

/** `answering(ip)` false: that pod's server is still starting and answers 503 (a watchdog before its function is up) */
export async function podServers (t: Test, count: number, opts: { answering?: (ip: string) => boolean } = {}): Promise<PodServers> {
  const hits = new Map<string, number>()
  const servers = new Map<string, http.Server>()
  let base = ''
  for (let attempt = 0; attempt < 20 && servers.size < count; attempt++) {
    for (const s of servers.values()) s.close()
    servers.clear()
    base = `127.${1 + Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}.`
    for (let i = 0; i < count; i++) {
      const ip = `${base}${i + 2}`
      const server = http.createServer((req, res) => {
        hits.set(ip, (hits.get(ip) ?? 0) + 1)
        req.resume()
        req.on('end', () => {
          if (opts.answering?.(ip) === false) {
            res.writeHead(503, { 'content-type': 'text/plain', 'x-pod': ip })
            res.end('starting')
            return
          }
          res.writeHead(200, { 'content-type': 'text/plain', 'x-pod': ip })
          res.end(`pod ${ip} ${req.method ?? ''} ${req.url ?? ''}`)
        })
      })
      if (!await listen(server, ip)) break
      servers.set(ip, server)
    }
  }
  if (servers.size < count) throw new Error('could not bind pod servers on a loopback network')
  const stop = async (ip: string): Promise<void> => {
    const s = servers.get(ip)
    if (s === undefined) return
    servers.delete(ip)
    s.closeAllConnections()
    await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
  }
  t.teardown(async () => { await Promise.all([...servers.keys()].map(stop)) })
  return { ip: (n) => `${base}${(n % count) + 2}`, hits, stop }
}
