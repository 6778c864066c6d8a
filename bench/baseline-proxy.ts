/*
 * Benchmark baseline: what @fastify/http-proxy does for `/function/:name/*` (it is a thin route
 * over @fastify/reply-from, which is installed), in its shortest form. argv[2] = upstream URL.
 */
import Fastify from 'fastify'
import replyFrom from '@fastify/reply-from'

const app = Fastify({ logger: false })
await app.register(replyFrom, { base: process.argv[2], undici: { connections: 1024, pipelining: 1 } })
app.addContentTypeParser('*', (_req, payload, done) => { done(null, payload) }) // http-proxy: pass bodies through
app.all('/function/:name', (_req, reply) => { reply.from('/') })
app.all('/function/:name/*', (req, reply) => { reply.from(`/${(req.params as Record<string, string>)['*']}`) })
await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`READY ${(app.server.address() as { port: number }).port}`)
process.on('SIGTERM', () => { void app.close().then(() => process.exit(0)) })
