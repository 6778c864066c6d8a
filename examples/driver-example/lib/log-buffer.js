/*
 * The last lines each function's replicas wrote, per function, and a way to follow new ones: what
 * the driver's logs() serves. Bounded, so a chatty function cannot grow the provider's memory.
 */
import { EventEmitter, on } from 'node:events'

/** @import { LogMessage, LogQuery } from 'faas-bridge/driver' */

export const DEFAULT_MAX_LINES = 1000

export class LogBuffer {
  /** @param {number} maxLines */
  constructor (maxLines = DEFAULT_MAX_LINES) {
    this.maxLines = maxLines
    /** @type {Map<string, LogMessage[]>} */
    this.lines = new Map()
    this.events = new EventEmitter()
    this.events.setMaxListeners(0)
  }

  /** @param {LogMessage} message */
  add (message) {
    const key = `${message.namespace}/${message.name}`
    const list = this.lines.get(key) ?? []
    list.push(message)
    if (list.length > this.maxLines) list.splice(0, list.length - this.maxLines)
    this.lines.set(key, list)
    this.events.emit(key, message)
  }

  /** @param {string} namespace @param {string} name */
  forget (namespace, name) {
    this.lines.delete(`${namespace}/${name}`)
  }

  /**
   * The backlog that matches the query, then (follow) new lines until the signal aborts.
   * @param {LogQuery} query
   * @param {AbortSignal} signal
   * @returns {AsyncGenerator<LogMessage>}
   */
  async * read (query, signal) {
    const key = `${query.namespace}/${query.name}`
    /** @param {LogMessage} m */
    const wanted = (m) => (query.instance === undefined || m.instance === query.instance) &&
      (query.since === undefined || Date.parse(m.timestamp) >= query.since.getTime())
    // subscribe before reading the backlog, so no line falls between the two
    const live = query.follow && !signal.aborted ? on(this.events, key, { signal }) : undefined
    let backlog = (this.lines.get(key) ?? []).filter(wanted)
    if (query.tail !== undefined) backlog = query.tail === 0 ? [] : backlog.slice(-query.tail)
    const seen = new Set(backlog)
    yield * backlog
    if (live === undefined) return
    try {
      for await (const [m] of live) {
        const message = /** @type {LogMessage} */ (m)
        if (!seen.has(message) && wanted(message)) yield message
      }
    } catch (err) {
      if (/** @type {Error} */ (err).name !== 'AbortError') throw err
    }
  }
}
