/*
 * The NDJSON stream writer shared by every streaming route: 200 and headers flushed before the
 * first item, one compact JSON value and "\n" per item, back-pressure respected, ended when the
 * source ends, the client leaves or the time limit passes.
 */
import { once } from 'node:events'
import type { ServerResponse } from 'node:http'

export async function writeNdjson (
  res: ServerResponse,
  items: AsyncIterable<unknown>,
  { timeoutMs, signal }: { timeoutMs: number, signal: AbortController }
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'application/x-ndjson',
    'cache-control': 'no-cache',
    connection: 'keep-alive'
  })
  res.flushHeaders()
  const timer = setTimeout(() => { signal.abort() }, timeoutMs)
  const onClose = (): void => { signal.abort() }
  res.once('close', onClose)
  try {
    for await (const item of items) {
      if (signal.signal.aborted) break
      if (!res.write(`${JSON.stringify(item)}\n`)) {
        await Promise.race([once(res, 'drain'), once(signal.signal, 'abort')])
      }
    }
  } catch (err) {
    if (!signal.signal.aborted) throw err
  } finally {
    clearTimeout(timer)
    res.off('close', onClose)
    signal.abort()
    if (!res.writableEnded) res.end()
  }
}
