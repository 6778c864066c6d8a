/*
 * The dashboard's live charts in Debian's headless Chromium (playwright-core) against the real
 * provider process on the local backend (127.0.0.1 only): a bounded load of 2xx, 4xx and 5xx
 * answers at a function shows in GET /system/history and in the chart series the page draws
 * (read from uPlot itself through window.faasBridgeCharts), the canvases hold pixels, the
 * autoscaler's park and wake are marked on the replica chart, and the overview shows a sparkline,
 * p99 and the backend's call figures. Screenshots as in dashboard.test.ts.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import type { Page } from 'playwright-core'
import type { FunctionHistory, HistorySummary } from '../../src/history/store.ts'
import { launchBrowser, PASSWORD, startDashboard, USER } from '../helpers/ui.ts'

t.setTimeout(240_000)

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(repoRoot, 'docs', 'screenshots') : path.join(repoRoot, 'test-output', 'screenshots')
const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'http-function.mjs')
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

async function waitFor<T> (what: string, get: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await get()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

const total = (xs: number[]): number => Math.round(xs.reduce((a, b) => a + b, 0) * 5)

// these run in the page (the test's tsconfig has no DOM types: they are passed as source text)
/** what uPlot holds for a chart: its data arrays (x first) and its marks */
async function chartData (page: Page, id: string): Promise<{ data: Array<Array<number | null>>, marks: Array<{ label: string }> } | undefined> {
  return await page.evaluate(`(() => {
    const h = window.faasBridgeCharts?.get(${JSON.stringify(id)})
    return h === undefined ? undefined : { data: h.plot.data.map((s) => Array.from(s)), marks: h.marks.map((m) => ({ label: m.label })) }
  })()`)
}

/** how many pixels of a chart's canvas are not transparent */
async function paintedPixels (page: Page, id: string): Promise<number> {
  return await page.evaluate(`(() => {
    const canvas = document.querySelector('[data-chart=' + ${JSON.stringify(JSON.stringify(id))} + '] canvas')
    if (canvas === null || canvas.width === 0 || canvas.height === 0) return 0
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data
    let n = 0
    for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++
    return n
  })()`)
}

t.test('load at a function shows in the route and in the charts, with the autoscaler marked', async (t) => {
  const { url, api } = await startDashboard(t, { autoscale_interval: '250ms' })
  const deploy = await api('POST', '/system/functions', {
    service: 'loaded', image: 'example/http-function:latest', envProcess: `'${process.execPath}' '${FIXTURE}'`, envVars: { mode: 'http' },
    labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '3s' }
  })
  t.equal(deploy.status, 202)
  await waitFor('loaded ready', async () => ((await (await api('GET', '/system/function/loaded')).json()) as { availableReplicas: number }).availableReplicas > 0 ? true : undefined)

  // a bounded load, four at a time: 60 × 200, 12 × 404, 8 × 503
  const paths = [...Array(60).fill('/echo'), ...Array(12).fill('/env?name=NOT_SET'), ...Array(8).fill('/status?code=503')] as string[]
  const codes: number[] = []
  for (let i = 0; i < paths.length; i += 4) {
    codes.push(...await Promise.all(paths.slice(i, i + 4).map(async (p) => (await fetch(`${url}/function/loaded${p}`, { method: 'GET' })).status)))
  }
  t.same([codes.filter((c) => c === 200).length, codes.filter((c) => c === 404).length, codes.filter((c) => c === 503).length], [60, 12, 8])

  const route = await waitFor('the load in /system/history', async () => {
    const h = await (await api('GET', '/system/history/loaded')).json() as FunctionHistory
    return total(h.series.rps2xx) === 60 && total(h.series.rps4xx) === 12 && total(h.series.rps5xx) === 8 ? h : undefined
  })
  t.ok(route.series.p99Ms.some((v) => v !== null && v > 0), 'latency recorded')

  const context = await launchBrowser(t, { credentials: { username: USER, password: PASSWORD, origin: url }, viewport: { width: 1280, height: 900 } })
  const page = context.pages()[0] ?? await context.newPage()
  const consoleErrors: string[] = []
  page.on('pageerror', (e) => { consoleErrors.push(e.message) })
  await page.goto(`${url}/ui/#/function/openfaas-fn/loaded`)
  await page.getByRole('heading', { level: 2, name: 'Load, latency and scaling' }).waitFor()

  await t.test('the chart series are the route\'s values', async (t) => {
    const rps = await waitFor('the rps chart', async () => await chartData(page, 'rps'))
    t.equal(rps.data.length, 4, 'x and three series')
    t.same([total(rps.data[1] as number[]), total(rps.data[2] as number[]), total(rps.data[3] as number[])], [60, 12, 8], '2xx, 4xx, 5xx as the route counts them')
    const now = await (await api('GET', '/system/history/loaded')).json() as FunctionHistory
    // the page polls every 5 s: wait for the poll that has the same last bucket as this read of the route
    const lastT = (now.series.t.at(-1) ?? 0) / 1000
    const latency = await waitFor('the latency chart at the same bucket', async () => {
      const c = await chartData(page, 'latency')
      return c !== undefined && c.data[0]?.at(-1) === lastT ? c : undefined
    }, 20_000)
    t.same(latency.data[0], now.series.t.map((x) => x / 1000), 'x: the buckets of the route, in seconds')
    t.same(latency.data[2], now.series.p99Ms, 'p99: the route values')
    t.same(latency.data[1], now.series.p50Ms, 'p50: the route values')
    for (const id of ['rps', 'latency', 'inflight', 'replicas']) t.ok(await paintedPixels(page, id) > 500, `the ${id} canvas is drawn on`)
  })

  await t.test('park and wake are marked on the replica chart and listed', async (t) => {
    const parked = await waitFor('a park mark', async () => {
      const c = await chartData(page, 'replicas')
      return c?.marks.some((m) => m.label.startsWith('park')) === true ? c : undefined
    })
    t.match(parked.marks.find((m) => m.label.startsWith('park')), { label: 'park 1→0' })
    t.equal((await fetch(`${url}/function/loaded/echo`)).status, 200, 'woken by a request')
    const woken = await waitFor('a wake mark', async () => {
      const c = await chartData(page, 'replicas')
      return c?.marks.some((m) => m.label.startsWith('wake')) === true ? c : undefined
    }, 20_000)
    t.ok(woken.marks.some((m) => m.label === 'wake 0→1'))
    const h = await (await api('GET', '/system/history/loaded')).json() as FunctionHistory
    t.same(woken.marks.map((m) => m.label.split(' ')[0]), h.decisions.map((d) => ({ zero: 'park', up: 'scale', down: 'scale', wake: 'wake' })[d.action]), 'one mark per decision of the route')
    await page.locator('[data-testid="decisions"] summary').click()
    const row = page.locator('[data-testid="decisions"] tr[data-action="zero"]').first()
    t.match(await row.textContent(), /park.*1 → 0.*idle for/)
    await page.screenshot({ path: path.join(SHOTS, 'function-charts.png'), fullPage: true })
  })

  await t.test('the overview: sparkline, p99, backend calls', async (t) => {
    await page.goto(`${url}/ui/#/`)
    const row = page.locator('[data-namespace="openfaas-fn"] tr[data-function="loaded"]')
    await row.waitFor()
    const summary = await (await api('GET', '/system/history')).json() as HistorySummary
    const mine = summary.functions.find((f) => f.name === 'loaded')
    t.ok(mine !== undefined && mine.rps.some((v) => v > 0), 'the summary route has the load')
    const spark = await waitFor('the sparkline', async () => await chartData(page, 'spark:openfaas-fn/loaded'))
    t.ok((spark.data[1] as number[]).some((v) => v > 0), 'the sparkline draws the load')
    t.ok(await paintedPixels(page, 'spark:openfaas-fn/loaded') > 20, 'the sparkline canvas is drawn on')
    t.match(await row.locator('[data-testid="p99"]').textContent(), /^\d+(\.\d)? ms$/, 'p99 over the last minute')
    const calls = page.locator('section.backend [data-testid="backend-calls"]').first()
    await calls.waitFor()
    t.match(await calls.textContent(), /^Backend calls, last minute: \d+\.\d\/s · errors \d+\.\d+ % · p50 \d+(\.\d)? ms · p99 \d+(\.\d)? ms$/)
    await page.screenshot({ path: path.join(SHOTS, 'overview-live.png') })
  })

  t.same(consoleErrors, [], 'no script errors')
})
