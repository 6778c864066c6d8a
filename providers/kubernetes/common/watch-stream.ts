/*
 * One ?watch=true request: newline-delimited JSON events ({type, object}) handed to `onEvent` as
 * they arrive, then `done` once (null after a clean end — the API server ends watches at their
 * timeout — or the error: a KubeHttpError with the HTTP code, a transport error, an AbortError
 * after abort()). What informer.ts used @kubernetes/client-node's Watch for, but sent on the
 * config's bounded 'streams' pool of keep-alive connections (connections.ts) instead of a new
 * connection and TLS handshake per watch: a watch the server ended cleanly leaves its connection
 * for the next one. Watches do not share the 'calls' pool: they hold their connection for
 * minutes, and would starve short calls of sockets.
 */
import type { KubeConfig } from '@kubernetes/client-node'
import { kubeStream } from './raw-request.ts'

export type WatchEventHandler = (type: string, object: unknown) => void

/** Starts the watch; resolves once the answer's headers are in (or it failed), with its abort handle. */
export async function watchStream (config: KubeConfig, path: string, query: Record<string, string>, onEvent: WatchEventHandler, done: (err: unknown) => void): Promise<AbortController> {
  const controller = new AbortController()
  let finished = false
  const finish = (err: unknown): void => {
    if (finished) return
    finished = true
    done(err)
  }
  const aborted = (): Error => Object.assign(new Error('the watch was stopped'), { name: 'AbortError' })
  const params = new URLSearchParams({ ...query, watch: 'true' })
  // the signal given to the request aborts it only until its answer arrives; after that abort()
  // ends the answer (a request aborted after its answer reports the abort where nobody listens)
  const opening = new AbortController()
  const abortOpening = (): void => { opening.abort() }
  controller.signal.addEventListener('abort', abortOpening, { once: true })
  let res
  try {
    res = await kubeStream(config, `${path}?${params.toString()}`, opening.signal)
  } catch (err) {
    finish(controller.signal.aborted ? aborted() : err)
    return controller
  } finally {
    controller.signal.removeEventListener('abort', abortOpening)
  }
  const answer = res
  if (controller.signal.aborted) {
    answer.destroy()
    finish(aborted())
    return controller
  }
  controller.signal.addEventListener('abort', () => { finish(aborted()); answer.destroy() }, { once: true })
  res.setEncoding('utf8')
  let buffered = ''
  res.on('data', (chunk: string) => {
    buffered += chunk
    let nl = buffered.indexOf('\n')
    while (nl >= 0 && !finished) {
      const line = buffered.slice(0, nl).trim()
      buffered = buffered.slice(nl + 1)
      if (line !== '') {
        let ev: { type?: unknown, object?: unknown }
        try {
          ev = JSON.parse(line) as { type?: unknown, object?: unknown }
        } catch (err) {
          finish(err)
          res.destroy()
          return
        }
        onEvent(String(ev.type), ev.object)
      }
      nl = buffered.indexOf('\n')
    }
  })
  res.once('end', () => { finish(null) })
  res.on('error', (err) => { finish(err) })
  res.once('close', () => { finish(res.complete ? null : Object.assign(new Error('the watch was cut off'), { code: 'ECONNRESET' })) })
  return controller
}
