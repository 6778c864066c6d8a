/*
 * Bodies stream without buffering: a 100 MB upload through the proxy to an upstream that only
 * counts bytes must not grow the process's RSS by anything near 100 MB. Client, proxy and
 * upstream share this process, and socket reads make 64 KiB garbage buffers faster than V8
 * collects them on its own (even a direct upload without the proxy peaks at ~80 MB), so the
 * sampler forces a GC before each sample: it measures what is retained, which is what a
 * buffering proxy would grow.
 */
import http from 'node:http'
import { Readable } from 'node:stream'
import v8 from 'node:v8'
import vm from 'node:vm'
import t from 'tap'
import { httpUpstream, startProxy, startUpstream } from './invoke-harness.ts'

const TOTAL = 100 * 1024 * 1024
const CHUNK = Buffer.alloc(64 * 1024, 0x61)

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

t.test('a 100 MB upload is streamed, not buffered', async (t) => {
  const upstream = await startUpstream(t, (req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => { res.end(String(bytes)) })
  })
  const proxy = await startProxy(t, { functions: { sink: httpUpstream(upstream.url) } })
  gc()
  const before = process.memoryUsage()
  let peak = before.rss
  let peakBuffers = before.arrayBuffers
  const sampler = setInterval(() => {
    gc()
    const m = process.memoryUsage()
    peak = Math.max(peak, m.rss)
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers)
  }, 25)
  let sent = 0
  const body = new Readable({
    read () {
      if (sent >= TOTAL) { this.push(null); return }
      sent += CHUNK.length
      this.push(CHUNK)
    }
  })
  const reply = await new Promise<string>((resolve, reject) => {
    const req = http.request(`${proxy.base}/function/sink`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) },
      agent: false
    }, (res) => {
      let text = ''
      res.on('data', (c: Buffer) => { text += c.toString() })
      res.on('end', () => { resolve(text) })
    })
    req.on('error', reject)
    body.pipe(req)
  })
  clearInterval(sampler)
  t.equal(reply, String(TOTAL), 'the upstream counted every byte')
  const growthMb = (peak - before.rss) / 1024 / 1024
  const buffersMb = (peakBuffers - before.arrayBuffers) / 1024 / 1024
  t.ok(growthMb < 50, `RSS grew by ${growthMb.toFixed(1)} MB (limit 50 MB) while 100 MB passed through`)
  t.ok(buffersMb < 50, `live buffers grew by ${buffersMb.toFixed(1)} MB (limit 50 MB)`)
})
