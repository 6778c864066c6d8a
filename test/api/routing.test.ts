import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

t.test('an unknown path is 404 "404 page not found"; a trailing slash is another path', async (t) => {
  const { app } = await memoryApp(t)
  for (const url of ['/nope', '/system/functions/', '/system']) {
    const res = await app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 404, url)
    t.equal(res.body, '404 page not found\n', url)
  }
})

t.test('a known path with the wrong method is 405', async (t) => {
  const { app } = await memoryApp(t)
  for (const [method, url] of [['PATCH', '/system/functions'], ['POST', '/system/function/x'], ['GET', '/system/scale-function/x'], ['POST', '/system/info'], ['PUT', '/healthz'], ['PATCH', '/system/secrets']] as const) {
    const res = await app.inject({ method, url })
    t.equal(res.statusCode, 405, `${method} ${url}`)
  }
})
