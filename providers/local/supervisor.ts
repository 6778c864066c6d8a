/*
 * http mode: each replica is a long-running process (an HTTP server on the loopback port given in
 * env PORT). A replica is available once its port accepts TCP connections. A replica that exits
 * on its own is restarted with exponential backoff and is unavailable meanwhile; the backoff
 * resets once a run stays up for restartResetMs.
 *
 * Parking (scale to zero): a ready replica's process group is suspended (SIGSTOP) instead of
 * stopped, and leaves the set; the next scale up resumes it (SIGCONT) and it serves at once. A
 * parked process that dies is not restarted: the scale up starts a fresh one in its place. The
 * ParkingLot bounds how many processes stay parked across the backend (oldest evicted first).
 */
import type { ChildProcess } from 'node:child_process'
import net from 'node:net'
import type { Upstream } from '../../src/core/driver.ts'
import { instanceName, type RunSpec } from './function-env.ts'
import { lineSplitter, type FunctionLog } from './log-buffer.ts'
import type { PortAllocator } from './ports.ts'
import { processDead, signalGroup, spawnGroup, stopGroup } from './process-group.ts'
import type { Runtime } from './runtime.ts'

export interface SupervisorSettings {
  ports: PortAllocator
  stopGraceMs: number
  restartBackoffMs: number
  restartBackoffMaxMs: number
  restartResetMs: number
  readyPollMs: number
  onError: (err: unknown, msg: string) => void
  /** bounds the parked processes of every function together */
  parking: ParkingLot
}

/** Suspended replicas of all functions, oldest first; past the limit the oldest is stopped. */
export class ParkingLot {
  private readonly parked = new Map<object, () => void>()
  private readonly limit: number

  constructor (limit: number) {
    this.limit = limit
  }

  /** `evict` stops the replica when the lot is full */
  add (replica: object, evict: () => void): void {
    this.parked.set(replica, evict)
    while (this.parked.size > this.limit) {
      const [oldest, stop] = this.parked.entries().next().value as [object, () => void]
      this.parked.delete(oldest)
      stop()
    }
  }

  remove (replica: object): void {
    this.parked.delete(replica)
  }

  get size (): number {
    return this.parked.size
  }
}

function probe (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

class Replica {
  readonly instance: string
  port = 0
  ready = false
  /** where the running process listens; one object per launch, so the proxy's per-URL caches hit */
  upstream: Upstream | undefined
  private child: ChildProcess | undefined
  private stopped = false
  private parked = false
  private crashes = 0
  private restartTimer: NodeJS.Timeout | undefined
  private pollTimer: NodeJS.Timeout | undefined
  private probing = false
  private startedAt = 0
  private readonly spec: RunSpec
  private readonly log: FunctionLog
  private readonly settings: SupervisorSettings

  constructor (spec: RunSpec, log: FunctionLog, settings: SupervisorSettings) {
    this.spec = spec
    this.log = log
    this.settings = settings
    this.instance = instanceName(spec.name)
  }

  /** pid of the running process (tests and diagnostics) */
  get pid (): number | undefined {
    return this.child?.pid
  }

  start (): void {
    this.settings.ports.acquire().then((port) => {
      if (this.stopped) {
        this.settings.ports.release(port)
        return
      }
      this.launch(port)
    }, (err: unknown) => {
      this.settings.onError(err, `${this.spec.name}: no port for ${this.instance}`)
      this.scheduleRestart()
    })
  }

  private launch (port: number): void {
    this.port = port
    this.upstream = { kind: 'http', url: new URL(`http://127.0.0.1:${port}`) }
    this.startedAt = Date.now()
    const child = spawnGroup(this.spec.command, { ...this.spec.env, PORT: String(port) }, 'ignore')
    this.child = child
    const out = lineSplitter((line) => { this.log.append(this.instance, line) })
    const err = lineSplitter((line) => { this.log.append(this.instance, line) })
    child.stdout?.on('data', (chunk: Buffer) => {
      out.write(chunk)
      if (!this.ready) this.poll(0) // servers often print "listening": look at once
    })
    child.stderr?.on('data', (chunk: Buffer) => { err.write(chunk) })
    let gone = false
    const onGone = (why: string): void => {
      if (gone) return
      gone = true
      out.flush()
      err.flush()
      this.ready = false
      this.clearPoll()
      this.child = undefined
      this.settings.ports.release(port)
      if (this.stopped) return
      if (this.parked) {
        // not restarted while parked: the next scale up starts a fresh replica instead
        this.stopped = true
        this.log.append(this.instance, `${why} while parked`)
        return
      }
      this.log.append(this.instance, `${why}; restarting`)
      if (Date.now() - this.startedAt >= this.settings.restartResetMs) this.crashes = 0
      this.scheduleRestart()
    }
    child.once('error', (e) => {
      this.log.append(this.instance, `process error: ${e.message}`)
      if (child.pid === undefined) onGone('process failed to start')
    })
    child.once('exit', (code, signal) => {
      onGone(`process exited (${signal ?? `code ${String(code)}`})`)
    })
    this.poll(0)
  }

  private scheduleRestart (): void {
    if (this.stopped) return
    const delay = Math.min(this.settings.restartBackoffMs * 2 ** this.crashes, this.settings.restartBackoffMaxMs)
    this.crashes++
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined
      if (!this.stopped) this.start()
    }, delay)
  }

  private clearPoll (): void {
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer)
    this.pollTimer = undefined
  }

  /** Probes the port after `delayMs`, then keeps probing until it answers or the process exits. */
  private poll (delayMs: number): void {
    if (this.ready || this.stopped || this.child === undefined) return
    if (delayMs > 0) {
      if (this.pollTimer !== undefined) return
      this.pollTimer = setTimeout(() => { this.pollTimer = undefined; this.poll(0) }, delayMs)
      return
    }
    if (this.probing) return
    this.probing = true
    const child = this.child
    probe(this.port).then((ok) => {
      this.probing = false
      if (this.child !== child || this.stopped) return
      if (ok) {
        this.ready = true
        this.clearPoll()
        return
      }
      // fast at first (scale-from-zero latency), slower for a server that takes its time
      const age = Date.now() - this.startedAt
      const interval = age < 1000 ? Math.min(5, this.settings.readyPollMs) : age < 10_000 ? this.settings.readyPollMs : 200
      this.poll(interval)
    }, () => { this.probing = false })
  }

  /** Suspends a ready replica's processes; false (nothing done) when it is not serving. */
  park (): boolean {
    const pid = this.child?.pid
    if (!this.ready || this.stopped || pid === undefined) return false
    this.parked = true
    signalGroup(pid, 'SIGSTOP')
    this.log.append(this.instance, 'parked (suspended while the function sleeps)')
    return true
  }

  /** Resumes a parked replica; false when its process died meanwhile (start a fresh one). */
  unpark (): boolean {
    this.parked = false
    const pid = this.child?.pid
    // a process killed while suspended may not be reaped yet: resuming it would hand out a dead port
    if (this.stopped || !this.ready || pid === undefined || processDead(pid)) return false
    signalGroup(pid, 'SIGCONT')
    this.log.append(this.instance, 'resumed')
    return true
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.ready = false
    this.clearPoll()
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer)
    const child = this.child
    if (child?.pid !== undefined && this.parked) {
      // a suspended process would only see SIGTERM once resumed: queue it, then resume
      signalGroup(child.pid, 'SIGTERM')
      signalGroup(child.pid, 'SIGCONT')
    }
    this.parked = false
    if (child !== undefined) await stopGroup(child, this.settings.stopGraceMs)
  }
}

export class HttpReplicaSet implements Runtime {
  private replicas: Replica[] = []
  /** suspended replicas, resumed first (most recently parked last) */
  private parked: Replica[] = []
  private readonly stopping = new Set<Promise<void>>()
  private next = 0
  private readonly spec: RunSpec
  private readonly log: FunctionLog
  private readonly settings: SupervisorSettings

  constructor (spec: RunSpec, log: FunctionLog, settings: SupervisorSettings) {
    this.spec = spec
    this.log = log
    this.settings = settings
  }

  setReplicas (n: number): void {
    while (this.replicas.length < n) {
      const p = this.parked.pop()
      if (p !== undefined) {
        this.settings.parking.remove(p)
        if (p.unpark()) this.replicas.push(p)
        else this.track(p.stop())
        continue
      }
      const r = new Replica(this.spec, this.log, this.settings)
      this.replicas.push(r)
      r.start()
    }
    // an explicit scale to 0 stops parked processes too
    if (n === 0) this.stopParked()
    if (this.replicas.length > n) {
      // stop the ones not serving first
      const order = [...this.replicas].sort((a, b) => Number(a.ready) - Number(b.ready))
      const victims = new Set(order.slice(0, this.replicas.length - n))
      this.replicas = this.replicas.filter((r) => !victims.has(r))
      for (const v of victims) this.track(v.stop())
    }
  }

  /**
   * Scale to zero, keeping processes: ready replicas are suspended (resumed by the next
   * setReplicas), the others (starting, restarting) are stopped.
   */
  park (): void {
    const current = this.replicas
    this.replicas = []
    for (const r of current) {
      if (r.park()) {
        this.parked.push(r)
        this.settings.parking.add(r, () => { this.evict(r) })
      } else {
        this.track(r.stop())
      }
    }
  }

  private evict (r: Replica): void {
    const i = this.parked.indexOf(r)
    if (i >= 0) this.parked.splice(i, 1)
    this.log.append(r.instance, 'evicted from the parked set')
    this.track(r.stop())
  }

  private stopParked (): void {
    for (const p of this.parked) {
      this.settings.parking.remove(p)
      this.track(p.stop())
    }
    this.parked = []
  }

  private track (p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => { this.settings.onError(err, `${this.spec.name}: stopping a replica failed`) })
      .finally(() => { this.stopping.delete(tracked) })
    this.stopping.add(tracked)
  }

  available (): number {
    let n = 0
    for (const r of this.replicas) if (r.ready) n++
    return n
  }

  pick (): Upstream | undefined {
    const count = this.replicas.length
    for (let i = 0; i < count; i++) {
      const r = this.replicas[(this.next + i) % count] as Replica
      if (r.ready && r.upstream !== undefined) {
        this.next = (this.next + i + 1) % count
        return r.upstream
      }
    }
    return undefined
  }

  instances (): string[] {
    return this.replicas.map((r) => r.instance)
  }

  /** pids of the running replica processes */
  pids (): number[] {
    return this.replicas.map((r) => r.pid).filter((p): p is number => p !== undefined)
  }

  /** pids of the parked (suspended) replica processes */
  parkedPids (): number[] {
    return this.parked.map((r) => r.pid).filter((p): p is number => p !== undefined)
  }

  async stop (): Promise<void> {
    this.setReplicas(0)
    while (this.stopping.size > 0) await Promise.all([...this.stopping])
  }
}
