/*
 * Test preload: refuses every outbound connection that is not to loopback, so a test (or an SDK
 * probing a metadata server) can never reach the network by accident.
 */
import net from 'node:net'

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+|localhost)$/

function isAllowed (host: unknown): boolean {
  if (host === undefined || host === null || host === '') return true // defaults to localhost
  return typeof host === 'string' && LOOPBACK.test(host)
}

const originalConnect = net.Socket.prototype.connect
net.Socket.prototype.connect = function guardedConnect (this: net.Socket, ...args: unknown[]) {
  const first = args[0]
  let host: unknown
  let path: unknown
  if (Array.isArray(first)) {
    const opts = first[0] as { host?: unknown, path?: unknown }
    host = opts?.host
    path = opts?.path
  } else if (typeof first === 'object' && first !== null) {
    host = (first as { host?: unknown }).host
    path = (first as { path?: unknown }).path
  } else if (typeof first === 'string') {
    path = first // unix socket path
  } else {
    host = args[1]
  }
  if (path === undefined && !isAllowed(host)) {
    throw new Error(`loopback-guard: refused a connection to ${String(host)} (tests may only reach 127.0.0.1)`)
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args)
} as typeof net.Socket.prototype.connect
