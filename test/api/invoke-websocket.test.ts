/*
 * WebSocket upgrades on /function/NAME are tunnelled to the function's HTTP upstream once it
 * answers 101; a refused upgrade is relayed; unknown functions are 503 on the socket; upgrade
 * requests elsewhere are left to the app.
 */
import t from 'tap'
import WebSocket, { WebSocketServer } from 'ws'
import { httpUpstream, send, startProxy, startUpstream } from './invoke-harness.ts'

function nextMessage (ws: WebSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data) => { resolve(String(data)) })
    ws.once('error', reject)
  })
}

t.test('messages flow both ways through the tunnel', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => { res.writeHead(426); res.end('websocket only') })
  const wss = new WebSocketServer({ server: upstream.server })
  let seenUrl = ''
  let seenXff: string | undefined
  wss.on('connection', (socket, req) => {
    seenUrl = req.url ?? ''
    seenXff = req.headers['x-forwarded-for'] as string | undefined
    socket.send('hello')
    socket.on('message', (data) => { socket.send(`echo:${String(data)}`) })
  })
  t.teardown(() => { wss.close() })
  const proxy = await startProxy(t, { functions: { chat: httpUpstream(upstream.url) } })

  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/function/chat/room?id=1`)
  const greeting = nextMessage(ws)
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  t.equal(await greeting, 'hello')
  const reply = nextMessage(ws)
  ws.send('ping')
  t.equal(await reply, 'echo:ping')
  const big = 'x'.repeat(200_000)
  const bigReply = nextMessage(ws)
  ws.send(big)
  t.equal(await bigReply, `echo:${big}`)
  t.equal(seenUrl, '/room?id=1')
  t.match(seenXff, /^127\.0\.0\.1:\d+$/)
  const closed = new Promise((resolve) => { ws.once('close', resolve) })
  ws.close()
  await closed
  t.same(proxy.invocations.map((i) => i.labels.code), [101])

  // a plain request to the same function is ordinary HTTP
  const res = await send(proxy.base, '/function/chat')
  t.equal(res.status, 426)
})

t.test('refused upgrades and unknown functions', async (t) => {
  const upstream = await startUpstream(t, (_req, res) => { res.writeHead(403, { 'content-type': 'text/plain' }); res.end('no') })
  const proxy = await startProxy(t, { functions: { plain: httpUpstream(upstream.url) } })
  for (const [path, status] of [['/function/plain', 403], ['/function/missing', 503]] as const) {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}${path}`)
    const got = await new Promise<number>((resolve) => {
      ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume() })
      ws.once('error', () => { resolve(-1) })
    })
    t.equal(got, status, path)
  }
  // upgrade requests outside /function/ are not ours: the app answers them as plain requests (404 here)
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/elsewhere`)
  const got = await new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); res.resume() })
    ws.once('error', () => { resolve(-1) })
  })
  t.equal(got, 404)
})
