/*
 * The AWS event-stream binary framing (application/vnd.amazon.eventstream), as Lambda's
 * InvokeWithResponseStream sends it and the SDK's decoder expects:
 *   [total length u32][headers length u32][prelude CRC32][headers][payload][message CRC32]
 * headers: [name length u8][name][type u8 = 7 (string)][value length u16][value].
 */
import { crc32 } from 'node:zlib'

export function encodeHeaders (headers: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name, 'utf8')
    const v = Buffer.from(value, 'utf8')
    const head = Buffer.alloc(1 + n.length + 1 + 2)
    head.writeUInt8(n.length, 0)
    n.copy(head, 1)
    head.writeUInt8(7, 1 + n.length)
    head.writeUInt16BE(v.length, 2 + n.length)
    parts.push(head, v)
  }
  return Buffer.concat(parts)
}

export function encodeMessage (headers: Record<string, string>, payload: Buffer): Buffer {
  const h = encodeHeaders(headers)
  const total = 12 + h.length + payload.length + 4
  const msg = Buffer.alloc(total)
  msg.writeUInt32BE(total, 0)
  msg.writeUInt32BE(h.length, 4)
  msg.writeUInt32BE(crc32(msg.subarray(0, 8)), 8)
  h.copy(msg, 12)
  payload.copy(msg, 12 + h.length)
  msg.writeUInt32BE(crc32(msg.subarray(0, total - 4)), total - 4)
  return msg
}

/** An `event` message of the given type (PayloadChunk carries raw bytes, others JSON). */
export function eventMessage (eventType: string, payload: Buffer, contentType: string): Buffer {
  return encodeMessage({ ':message-type': 'event', ':event-type': eventType, ':content-type': contentType }, payload)
}

/** A modelled exception inside the stream. */
export function exceptionMessage (exceptionType: string, message: string): Buffer {
  return encodeMessage({ ':message-type': 'exception', ':exception-type': exceptionType, ':content-type': 'application/json' },
    Buffer.from(JSON.stringify({ message })))
}
