/*
 * Loopback ports for http-mode replicas. A port is handed out only if it can be bound on
 * 127.0.0.1 right now and is not already lent to another replica of this driver.
 */
import net from 'node:net'
import type { PortRange } from './options.ts'

function tryListen (port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.unref()
    server.once('error', () => { resolve(undefined) })
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const addr = server.address()
      const got = typeof addr === 'object' && addr !== null ? addr.port : undefined
      server.close(() => { resolve(got) })
    })
  })
}

export class PortAllocator {
  private readonly lent = new Set<number>()
  private readonly range: PortRange | undefined
  private next: number

  constructor (range: PortRange | undefined) {
    this.range = range
    this.next = range?.from ?? 0
  }

  async acquire (): Promise<number> {
    if (this.range === undefined) {
      for (let i = 0; i < 20; i++) {
        const port = await tryListen(0)
        if (port !== undefined && !this.lent.has(port)) {
          this.lent.add(port)
          return port
        }
      }
      throw new Error('no free loopback port')
    }
    const { from, to } = this.range
    const size = to - from + 1
    for (let i = 0; i < size; i++) {
      const port = this.next
      this.next = port >= to ? from : port + 1
      if (this.lent.has(port)) continue
      this.lent.add(port) // reserve before the await so concurrent acquires differ
      if (await tryListen(port) === port) return port
      this.lent.delete(port)
    }
    throw new Error(`no free port in portRange ${from}-${to}`)
  }

  release (port: number): void {
    this.lent.delete(port)
  }
}
