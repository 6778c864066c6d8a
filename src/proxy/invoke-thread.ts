/*
 * One invoke thread (a worker_thread started by invoke-threads.ts): a second event loop that
 * accepts connections on the provider's own port (SO_REUSEPORT: the kernel spreads new
 * connections over the main thread and its invoke threads) and serves /function/ requests there,
 * streaming to the function's HTTP upstream itself. Only the resolution (function lookup, wake,
 * load counters, metrics) happens on the main thread, one message each way per invocation and
 * one when it is done. Every other request (the API, the dashboard, metrics, `call` upstreams)
 * is relayed verbatim to the main thread's internal server on a Unix socket.
 */
import http from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { parentPort, workerData } from 'node:worker_threads'
import { scanRequestHeaders } from './headers.ts'
import { createHttpForwarder } from './http-forwarder.ts'
import type { RetryTarget } from './http-forwarder.ts'
import { INVOKE_PREFIX, isInvokeUrl, parseInvokeUrl } from './invoke-path.ts'
import { admit } from './invoker.ts'
import { CLIENT_CLOSED, sendProxyError } from './replies.ts'
import { batcher } from './thread-protocol.ts'
import type { InvocationToMain, ThreadConfig, ToMain, ToThread, WireResolution } from './thread-protocol.ts'
import { rejectUpgrade, tunnelWebSocket } from './websocket.ts'


const port = parentPort
if (port === null) throw new Error('invoke-thread.ts runs only as a worker thread')
const config = workerData as ThreadConfig
const post = (m: ToMain): void => { port.postMessage(m) }
const send = batcher<InvocationToMain>((m) => { post({ t: 'batch', m }) })

const upstreams = createHttpForwarder({ readTimeoutMs: config.readTimeoutMs, connections: config.maxIdleConnsPerHost })
// the main thread's API answers as slowly as it answers (log streams): no read timeout of ours
const mainThread = createHttpForwarder({ readTimeoutMs: 0, connections: 256, socketPath: config.socketPath })

let nextId = 0
const resolving = new Map<number, (r: WireResolution) => void>()
const retrying = new Map<number, (next: RetryTarget | undefined) => void>()
let shuttingDown = false

async function resolveOnMain (url: string): Promise<{ id: number, r: WireResolution }> {
  const id = ++nextId
  return await new Promise((resolve) => {
    resolving.set(id, (r) => { resolve({ id, r }) })
    send({ t: 'resolve', id, url })
  })
}

function reportDone (id: number, status: number, err?: Error & { code?: string }): void {
  send(err === undefined
    ? { t: 'done', id, status }
    : { t: 'done', id, status, err: { message: err.message, ...(err.code !== undefined ? { code: err.code } : {}) } })
}

/** Everything that is not an invocation, and `call` invocations: the main thread serves them. */
function relay (req: IncomingMessage, res: ServerResponse): void {
  const scan = scanRequestHeaders(req, undefined, true)
  mainThread.forward({
    origin: 'http://localhost',
    path: req.url as string,
    method: req.method as string,
    headers: scan.headers,
    body: scan.hasBody ? req : null,
    contentType: scan.contentType,
    name: 'faas-bridge',
    verbatim: true,
    done: () => {}
  }, res)
}

function invoke (req: IncomingMessage, res: ServerResponse): void {
  if (!admit(req, res, shuttingDown)) return
  void resolveOnMain(req.url as string).then(({ id, r }) => {
    if (r.kind === 'refused') {
      sendProxyError(res, r.status as number, r.message as string)
      return
    }
    if (r.kind === 'call') {
      relay(req, res)
      return
    }
    if (res.destroyed) {
      reportDone(id, CLIENT_CLOSED)
      return
    }
    const scan = scanRequestHeaders(req, r.headers)
    upstreams.forward({
      origin: r.origin as string,
      path: r.path as string,
      method: req.method as string,
      headers: scan.headers,
      body: scan.hasBody ? req : null,
      contentType: scan.contentType,
      name: parseInvokeUrl(req.url as string).segment,
      done: (status, err) => { reportDone(id, status, err) },
      ...(r.retry === true
        ? {
            retry: async () => await new Promise<RetryTarget | undefined>((resolve) => {
              retrying.set(id, resolve)
              send({ t: 'retry', id })
            })
          }
        : {})
    }, res)
  })
}

function upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (req.method !== 'GET') {
    rejectUpgrade(socket, 405, '')
    return
  }
  void resolveOnMain(req.url as string).then(({ id, r }) => {
    if (r.kind === 'refused') {
      rejectUpgrade(socket, r.status as number, r.message as string)
      return
    }
    const target = parseInvokeUrl(req.url as string)
    if (r.kind === 'call') {
      // as on the main thread: a `call` upstream has no socket to tunnel to (the main thread
      // counted nothing for it, see resolveRemote)
      rejectUpgrade(socket, 501, `WebSocket is not supported by the backend of: ${target.segment}.`)
      return
    }
    const scan = scanRequestHeaders(req, r.headers)
    tunnelWebSocket(req, socket, head, {
      url: new URL(r.base as string),
      path: target.pathAndQuery,
      headers: scan.headers,
      name: target.segment,
      readTimeoutMs: config.readTimeoutMs
    }, (status) => { reportDone(id, status) })
  })
}

/** `shouldUpgradeCallback` (Node ≥ 24.9) is not in @types/node's Server yet. */
type UpgradeAwareServer = http.Server & { shouldUpgradeCallback?: (req: IncomingMessage) => boolean }

const server = http.createServer({ maxHeaderSize: config.server.maxHeaderSize, connectionsCheckingInterval: config.server.connectionsCheckingInterval }, (req, res) => {
  if ((req.url as string).startsWith(INVOKE_PREFIX)) invoke(req, res)
  else relay(req, res)
}) as UpgradeAwareServer
server.keepAliveTimeout = config.server.keepAliveTimeout
server.headersTimeout = config.server.headersTimeout
server.requestTimeout = config.server.requestTimeout
// only WebSockets under /function/ are upgrades; any other Upgrade request is an ordinary request (relayed)
server.shouldUpgradeCallback = (req) => isInvokeUrl(req.url) && (req.headers.upgrade ?? '').toLowerCase() === 'websocket'
server.on('upgrade', upgrade)

let sweep: NodeJS.Timeout | undefined
let drained: Promise<void> | undefined
/** answer 503 to new invocations, stop accepting, close keep-alive connections as they go idle */
function startClosing (): Promise<void> {
  if (drained !== undefined) return drained
  shuttingDown = true
  drained = new Promise((resolve) => { server.close(() => { resolve() }) })
  sweep = setInterval(() => { server.closeIdleConnections() }, 100)
  sweep.unref()
  return drained
}

port.on('message', (m: ToThread) => {
  switch (m.t) {
    case 'batch':
      for (const a of m.m) {
        if (a.t === 'resolved') {
          const k = resolving.get(a.id)
          resolving.delete(a.id)
          k?.(a.r)
        } else {
          const k = retrying.get(a.id)
          retrying.delete(a.id)
          k?.(a.next)
        }
      }
      break
    case 'closing':
      void startClosing()
      break
    case 'close': {
      let grace: NodeJS.Timeout | undefined
      void Promise.race([startClosing(), new Promise((resolve) => { grace = setTimeout(resolve, m.graceMs) })]).then(async () => {
        clearTimeout(grace)
        clearInterval(sweep)
        server.closeAllConnections()
        await Promise.allSettled([upstreams.close(), mainThread.close()])
        post({ t: 'closed' })
        port.close()
      })
      break
    }
  }
})

server.listen({ host: config.host, port: config.port, reusePort: true }, () => {
  post({ t: 'listening', port: (server.address() as AddressInfo).port })
})
