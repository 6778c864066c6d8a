/*
 * One replica: the function's command (envProcess) run by /bin/sh with PORT set to a free port.
 * It counts as available once that port accepts a connection (a TCP readiness probe, as
 * Kubernetes would do), and stops being available the moment the process exits.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'

export const PROBE_INTERVAL_MS = 50

/** A port nobody listens on right now (the replica binds it a moment later). */
async function freePort () {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = /** @type {import('node:net').AddressInfo} */ (server.address())
  server.close()
  await once(server, 'close')
  return address.port
}

/** @param {number} port */
async function accepts (port) {
  return await new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
}

export class Replica {
  /**
   * @param {object} opts
   * @param {string} opts.id
   * @param {string} opts.command
   * @param {Record<string, string>} opts.env
   * @param {(stream: 'stdout' | 'stderr', line: string) => void} opts.onLine
   * @param {(code: number | null, signal: string | null) => void} opts.onExit
   */
  constructor (opts) {
    this.id = opts.id
    this.opts = opts
    this.port = 0
    this.ready = false
    this.exited = false
    /** @type {import('node:child_process').ChildProcess | undefined} */
    this.child = undefined
  }

  async start () {
    this.port = await freePort()
    const child = spawn('/bin/sh', ['-c', this.opts.command], {
      env: { ...this.opts.env, PORT: String(this.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so that stop() also reaches what the shell started
      detached: true
    })
    this.child = child
    for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
      createInterface({ input: child[stream] }).on('line', (line) => { this.opts.onLine(stream, line) })
    }
    child.once('exit', (code, signal) => {
      this.exited = true
      this.ready = false
      this.opts.onExit(code, signal)
    })
    child.once('error', (err) => { this.opts.onLine('stderr', `cannot start: ${err.message}`) })
    void this.probe()
  }

  async probe () {
    while (!this.exited && !this.ready) {
      if (await accepts(this.port)) {
        this.ready = !this.exited
        return
      }
      await sleep(PROBE_INTERVAL_MS)
    }
  }

  /** SIGTERM to the process group, SIGKILL after graceMs. @param {number} graceMs */
  async stop (graceMs) {
    this.ready = false
    const child = this.child
    if (child === undefined || this.exited || child.pid === undefined) return
    const pid = child.pid
    const exited = once(child, 'exit')
    const signal = (/** @type {NodeJS.Signals} */ sig) => { try { process.kill(-pid, sig) } catch {} }
    signal('SIGTERM')
    const timer = setTimeout(() => { signal('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
}
