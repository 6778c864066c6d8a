/*
 * An https remote with a self-signed certificate (made with openssl for 127.0.0.1): without caFile
 * the certificate is refused (502 that says so); with caFile, or insecure, /system calls and
 * invocations (which then run through the driver's own client) work.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { api, frontFor } from './helpers.ts'

const run = promisify(execFile)

t.test('self-signed https remote', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fb-openfaas-tls-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  // openssl ships with Debian and is on every machine this runs on: a missing one is a failure, not a skip
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { timeout: 20_000 })
  const server = https.createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.url?.startsWith('/system/function/secure') === true) {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ name: 'secure', image: 'i', replicas: 1, availableReplicas: 1 }))
      return
    }
    if (req.url?.startsWith('/function/secure.openfaas-fn/') === true) {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => { chunks.push(c) })
      req.on('end', () => { res.end(`tls echo ${req.url}: ${Buffer.concat(chunks).toString()}`) })
      return
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  })
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`

  const untrusted = await frontFor(t, url)
  const refused = await api(untrusted.url, 'GET', '/system/function/secure?namespace=edge')
  t.equal(refused.status, 502, 'an untrusted certificate is a bad gateway')
  t.match(refused.text, /unreachable while reading function "secure".*(certificate|self-signed|SELF_SIGNED)/i, 'saying why')

  for (const options of [{ caFile: join(dir, 'cert.pem') }, { insecure: true }]) {
    const front = await frontFor(t, url, options)
    const status = await api(front.url, 'GET', '/system/function/secure?namespace=edge')
    t.equal(status.status, 200, `${Object.keys(options)[0]}: status works`)
    t.equal(JSON.parse(status.text).namespace, 'edge')
    const inv = await api(front.url, 'POST', '/function/secure.edge/sub?q=1', 'hi')
    t.equal(inv.status, 200, `${Object.keys(options)[0]}: invocation works`)
    t.equal(inv.text, 'tls echo /function/secure.openfaas-fn/sub?q=1: "hi"', 'through the driver, path and query kept')
  }
})
