/*
 * The faas-provider API as the dashboard calls it: same origin, so the browser's Basic credentials
 * (asked for when /ui/ was loaded) go along. Errors carry the API's own plain-text message.
 */

// the wire types are the server's own (type-only: nothing of src/ reaches the bundle)
import type { FunctionDeployment, FunctionNamespace, FunctionStatus, LogMessage, SecretInfo } from '../../src/core/types.ts'
export type { FunctionDeployment, FunctionNamespace, FunctionResources, FunctionStatus, LogMessage, SecretInfo } from '../../src/core/types.ts'
import type { FunctionHistory, HistorySummary, HistoryWindow } from '../../src/history/store.ts'
export type { FunctionHistory, HistoryDecision, HistorySummary, HistoryWindow } from '../../src/history/store.ts'

export interface BackendInfo { name: string, kind: string, namespaces: string[] }

export class ApiError extends Error {
  readonly status: number
  constructor (status: number, message: string) {
    super(message)
    this.status = status
  }
}

const q = (params: Record<string, string>): string => new URLSearchParams(params).toString()

async function request (method: string, url: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, cache: 'no-store', credentials: 'same-origin' }
  if (body !== undefined) {
    init.body = JSON.stringify(body)
    init.headers = { 'content-type': 'application/json' }
  }
  let res: Response
  try {
    res = await fetch(url, init)
  } catch (err) {
    throw new ApiError(0, `faas-bridge did not answer: ${(err as Error).message}`)
  }
  if (!res.ok) {
    const text = (await res.text()).trim()
    throw new ApiError(res.status, text !== '' ? text : `${res.status} ${res.statusText}`)
  }
  return res
}

const json = async <T>(url: string): Promise<T> => await (await request('GET', url)).json() as T
const send = async (method: string, url: string, body: unknown): Promise<void> => { await request(method, url, body) }

export const api = {
  backends: async () => await json<BackendInfo[]>('/system/backends'),
  functions: async (namespace: string) => await json<FunctionStatus[]>(`/system/functions?${q({ namespace })}`),
  status: async (namespace: string, name: string) =>
    await json<FunctionStatus>(`/system/function/${encodeURIComponent(name)}?${q({ namespace })}`),
  deploy: async (fn: FunctionDeployment) => { await send('POST', '/system/functions', fn) },
  update: async (fn: FunctionDeployment) => { await send('PUT', '/system/functions', fn) },
  remove: async (namespace: string, name: string) => { await send('DELETE', '/system/functions', { functionName: name, namespace }) },
  scale: async (namespace: string, name: string, replicas: number) => {
    await send('POST', `/system/scale-function/${encodeURIComponent(name)}?${q({ namespace })}`, { serviceName: name, namespace, replicas })
  },
  secrets: async (namespace: string) => await json<SecretInfo[]>(`/system/secrets?${q({ namespace })}`),
  createSecret: async (namespace: string, name: string, value: string) => { await send('POST', '/system/secrets', { name, namespace, value }) },
  updateSecret: async (namespace: string, name: string, value: string) => { await send('PUT', '/system/secrets', { name, namespace, value }) },
  deleteSecret: async (namespace: string, name: string) => { await send('DELETE', '/system/secrets', { name, namespace }) },
  history: async (namespace: string, name: string, window: HistoryWindow) =>
    await json<FunctionHistory>(`/system/history/${encodeURIComponent(name)}?${q({ namespace, window })}`),
  historySummary: async () => await json<HistorySummary>('/system/history'),
  namespace: async (name: string) => await json<FunctionNamespace>(`/system/namespace/${encodeURIComponent(name)}`),
  createNamespace: async (ns: FunctionNamespace) => { await send('POST', '/system/namespace/', ns) },
  updateNamespace: async (ns: FunctionNamespace) => { await send('PUT', `/system/namespace/${encodeURIComponent(ns.name)}`, ns) },
  deleteNamespace: async (name: string) => { await request('DELETE', `/system/namespace/${encodeURIComponent(name)}`) }
}

/** The function's URL on this provider's invoke proxy: /function/NAME.NAMESPACE/PATH?QUERY */
export function invokeUrl (namespace: string, name: string, subPath: string, query: string): string {
  const p = subPath.replace(/^\/+/, '')
  const qs = query.replace(/^\?/, '')
  return `/function/${encodeURIComponent(name)}.${encodeURIComponent(namespace)}${p === '' ? '' : `/${p}`}${qs === '' ? '' : `?${qs}`}`
}

/**
 * Follows /system/logs as it streams (NDJSON), reconnecting when the provider ends the stream
 * (write_timeout) or fails, from the last timestamp seen; lines already shown are not repeated.
 */
export async function followLogs (namespace: string, name: string, signal: AbortSignal,
  onLine: (m: LogMessage) => void, onState: (state: string) => void): Promise<void> {
  let since: string | undefined
  let atSince = new Set<string>()
  const key = (m: LogMessage): string => `${m.instance}\0${m.text}`
  while (!signal.aborted) {
    const params: Record<string, string> = { name, namespace, follow: 'true' }
    if (since !== undefined) params.since = since
    else params.tail = '200'
    try {
      const res = await fetch(`/system/logs?${q(params)}`, { signal, cache: 'no-store' })
      if (!res.ok || res.body === null) {
        onState(`logs unavailable: ${(await res.text()).trim() || res.status} (retrying)`)
        await sleep(3000, signal)
        continue
      }
      onState('following')
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let nl: number
        while ((nl = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, nl)
          buffer = buffer.slice(nl + 1)
          if (line.trim() === '') continue
          let m: LogMessage
          try { m = JSON.parse(line) as LogMessage } catch { continue }
          if (m.timestamp === since) {
            if (atSince.has(key(m))) continue
          } else if (since !== undefined && m.timestamp < since && m.timestamp.length === since.length) {
            continue
          } else {
            since = m.timestamp
            atSince = new Set()
          }
          atSince.add(key(m))
          onLine(m)
        }
      }
      await sleep(200, signal)
    } catch (err) {
      if (signal.aborted) return
      onState(`logs interrupted: ${(err as Error).message} (retrying)`)
      await sleep(3000, signal)
    }
  }
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
  })
}
