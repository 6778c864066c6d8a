/*
 * Invoke threads: the invoke data path on more than one core. One Node thread spends most of an
 * invocation in the kernel's loopback/TCP work and the HTTP parsers (bench/invoke-proxy.ts), so on
 * a machine with spare cores the proxy is bounded by that one thread. When invocations pass a
 * rate (or at once, with startRps 0) this starts `count` worker threads (invoke-thread.ts) that
 * listen on the provider's own port with SO_REUSEPORT; the kernel spreads new connections over
 * them and the main thread. Everything stateful stays here: a thread asks the main thread to
 * resolve each invocation (Invoker.resolveRemote: lookup, wake, load counters) and reports its
 * outcome (metrics, history), and relays every non-invocation request to the main thread's own
 * server over an internal Unix socket. So the API answers exactly as without threads.
 * An idle provider starts none (idle memory); once started they stay until the provider stops.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Invoker, RemoteResolution } from './invoker.ts'
import { batcher } from './thread-protocol.ts'
import type { InvocationToMain, InvocationToThread, ThreadConfig, ToMain, ToThread, WireResolution } from './thread-protocol.ts'

export interface InvokeThreadsOptions {
  count: number
  readTimeoutMs: number
  maxIdleConnsPerHost: number
  invoker: Invoker
  logger?: { info (obj: unknown, msg?: string): void, warn (obj: unknown, msg?: string): void, error (obj: unknown, msg?: string): void }
}

export interface ThreadStats {
  threads: number
  /** invocations the threads served (resolved here, streamed there) */
  invocations: number
}

export interface InvokeThreads {
  /**
   * Starts the threads on `listen` (default: the address `server` listens on, which must then
   * listen with reusePort). Resolves the port they serve, or undefined when they could not start
   * (the main thread goes on serving alone; the reason is logged).
   */
  start (server: http.Server, listen?: { host: string, port: number }): Promise<number | undefined>
  readonly started: boolean
  /** the port the threads serve once start() has settled (undefined: not started, or could not) */
  listening (): Promise<number | undefined>
  stats (): ThreadStats
  closing (): void
  close (): Promise<void>
}

/** how long a closing thread may finish its in-flight invocations */
const CLOSE_GRACE_MS = 10_000

function threadScript (): URL {
  // the same extension this module runs with: .ts from source (type stripping), .js from dist/
  return new URL(`./invoke-thread${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url)
}

function toWire (r: RemoteResolution): WireResolution {
  if (r.kind === 'refused') return { kind: 'refused', status: r.status, message: r.message }
  if (r.kind === 'call') return { kind: 'call' }
  return {
    kind: 'http',
    origin: r.origin,
    path: r.path,
    base: r.base,
    ...(r.headers !== undefined ? { headers: r.headers } : {}),
    retry: r.retry !== undefined
  }
}

interface Pending {
  done: (status: number, err?: unknown) => void
  retry: (() => { origin: string, path: string } | undefined) | undefined
}

export function createInvokeThreads (options: InvokeThreadsOptions): InvokeThreads {
  const { invoker, logger } = options
  const workers: Worker[] = []
  let internal: net.Server | undefined
  let socketDir: string | undefined
  let shuttingDown = false
  let invocations = 0
  let starting: Promise<number | undefined> | undefined

  function serve (worker: Worker): void {
    const pending = new Map<number, Pending>()
    const send = batcher<InvocationToThread>((m) => { worker.postMessage({ t: 'batch', m } satisfies ToThread) })
    const receive = (m: InvocationToMain): void => {
      switch (m.t) {
        case 'resolve':
          void invoker.resolveRemote(m.url).then((r) => {
            if (r.kind === 'http') pending.set(m.id, { done: r.done, retry: r.retry })
            send({ t: 'resolved', id: m.id, r: toWire(r) })
          })
          break
        case 'done': {
          const p = pending.get(m.id)
          if (p === undefined) break
          pending.delete(m.id)
          invocations++
          p.done(m.status, m.err === undefined ? undefined : Object.assign(new Error(m.err.message), { code: m.err.code }))
          break
        }
        case 'retry': {
          const next = pending.get(m.id)?.retry?.()
          send(next === undefined ? { t: 'retried', id: m.id } : { t: 'retried', id: m.id, next })
          break
        }
      }
    }
    worker.on('message', (m: ToMain) => {
      if (m.t === 'batch') for (const a of m.m) receive(a)
    })
    worker.once('exit', (code) => {
      const i = workers.indexOf(worker)
      if (i !== -1) workers.splice(i, 1)
      if (!shuttingDown) logger?.error({ code }, 'invoke thread exited; its connections were cut')
      // what it had in flight ended with it: count it, never leave it "in flight" for the autoscaler
      for (const p of pending.values()) p.done(500, new Error('the invoke thread serving it exited'))
      pending.clear()
    })
  }

  async function startOne (config: ThreadConfig): Promise<{ worker: Worker, port: number }> {
    const worker = new Worker(threadScript(), { workerData: config })
    return await new Promise((resolve, reject) => {
      const onMessage = (m: ToMain): void => {
        if (m.t !== 'listening') return
        worker.off('message', onMessage)
        worker.off('error', reject)
        resolve({ worker, port: m.port })
      }
      worker.on('message', onMessage)
      worker.once('error', reject)
    })
  }

  async function listenInternal (server: http.Server): Promise<string> {
    socketDir = mkdtempSync(path.join(os.tmpdir(), 'faas-bridge-'))
    const socketPath = path.join(socketDir, 'main.sock')
    // connections relayed by the threads are served by the main thread's own server, as if accepted there
    internal = net.createServer((socket) => { server.emit('connection', socket) })
    await new Promise<void>((resolve, reject) => {
      internal?.once('error', reject)
      internal?.listen(socketPath, () => { internal?.off('error', reject); resolve() })
    })
    return socketPath
  }

  async function start (server: http.Server, listen?: { host: string, port: number }): Promise<number | undefined> {
    if (starting !== undefined || shuttingDown || options.count <= 0) return undefined
    starting = startThreads(server, listen)
    return await starting
  }

  async function startThreads (server: http.Server, listen?: { host: string, port: number }): Promise<number | undefined> {
    const address = server.address()
    if (listen === undefined && (address === null || typeof address === 'string')) return undefined
    const where = listen ?? { host: (address as net.AddressInfo).address, port: (address as net.AddressInfo).port }
    try {
      const socketPath = await listenInternal(server)
      const config: ThreadConfig = {
        host: where.host,
        port: where.port,
        socketPath,
        readTimeoutMs: options.readTimeoutMs,
        maxIdleConnsPerHost: options.maxIdleConnsPerHost,
        server: {
          keepAliveTimeout: server.keepAliveTimeout,
          headersTimeout: server.headersTimeout,
          // Node keeps the option on the server; headersTimeout is enforced only this often
          connectionsCheckingInterval: (server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval,
          requestTimeout: server.requestTimeout,
          maxHeaderSize: http.maxHeaderSize
        }
      }
      // the first thread picks the port when asked for a new one (0); the others join it
      const first = await startOne(config)
      const started = [first]
      for (let i = 1; i < options.count; i++) started.push(await startOne({ ...config, port: first.port }))
      for (const { worker } of started) {
        workers.push(worker)
        serve(worker)
        if (shuttingDown) worker.postMessage({ t: 'closing' } satisfies ToThread)
      }
      logger?.info({ threads: started.length, port: first.port }, 'invoke threads: serving /function/ on more cores')
      return first.port
    } catch (err) {
      logger?.warn({ err }, 'invoke threads could not start; the main thread serves invocations alone')
      for (const w of workers.splice(0)) void w.terminate()
      await closeInternal()
      return undefined
    }
  }

  async function closeInternal (): Promise<void> {
    if (internal !== undefined) await new Promise((resolve) => { internal?.close(resolve) })
    internal = undefined
    if (socketDir !== undefined) rmSync(socketDir, { recursive: true, force: true })
    socketDir = undefined
  }

  return {
    start,
    get started () { return workers.length > 0 },
    listening: async () => await (starting ?? Promise.resolve(undefined)),
    stats: () => ({ threads: workers.length, invocations }),
    closing (): void {
      shuttingDown = true
      for (const w of workers) w.postMessage({ t: 'closing' } satisfies ToThread)
    },
    async close (): Promise<void> {
      shuttingDown = true
      await Promise.all(workers.slice().map(async (w) => {
        const closed = new Promise<void>((resolve) => {
          w.on('message', (m: ToMain) => { if (m.t === 'closed') resolve() })
          w.once('exit', () => { resolve() })
        })
        w.postMessage({ t: 'close', graceMs: CLOSE_GRACE_MS } satisfies ToThread)
        const timer = setTimeout(() => { void w.terminate() }, CLOSE_GRACE_MS + 2_000)
        await closed
        clearTimeout(timer)
        await w.terminate()
      }))
      await closeInternal()
    }
  }
}
