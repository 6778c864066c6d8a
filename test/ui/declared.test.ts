/*
 * Functions managed declaratively (a stack file the provider reconciles) are shown read-only in the
 * dashboard, with their source named: a "declared" badge in the overview, and on the function page
 * the source instead of the edit form and the delete button. A function deployed through the API
 * keeps both.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { check, eventually } from '../../src/driver-contract/eventually.ts'
import { launchBrowser, PASSWORD, startDashboard, USER } from '../helpers/ui.ts'

t.setTimeout(180_000)

t.test('a declared function is read-only in the dashboard, with its source named', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-ui-declared-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const stack = path.join(dir, 'stack.yml')
  await writeFile(stack, 'functions:\n  declared-fn:\n    image: ghcr.io/acme/declared:1\n    fprocess: cat\n')
  const { url, api } = await startDashboard(t, { stack_file: stack })
  t.equal((await api('POST', '/system/functions', { service: 'by-hand', image: 'ghcr.io/acme/hand:1', envProcess: 'cat' })).status, 202)
  await eventually(async () => {
    const fns = await (await api('GET', '/system/functions')).json() as Array<{ name: string }>
    check(fns.some((f) => f.name === 'declared-fn'), 'the reconciler deployed it')
  }, { timeoutMs: 30_000 })

  const context = await launchBrowser(t, { credentials: { username: USER, password: PASSWORD, origin: url } })
  const page = context.pages()[0] ?? await context.newPage()
  await page.goto(`${url}/ui/`)
  const declaredRow = page.locator('tr[data-function="declared-fn"]')
  await declaredRow.waitFor()
  t.equal(await declaredRow.locator('.badge-declared').textContent(), 'declared')
  t.equal(await declaredRow.locator('.badge-declared').getAttribute('title'), 'managed by stack:stack.yml')
  t.equal(await page.locator('tr[data-function="by-hand"] .badge-declared').count(), 0)

  await page.goto(`${url}/ui/#/function/openfaas-fn/declared-fn`)
  await page.getByRole('heading', { level: 2, name: 'Declared in stack:stack.yml' }).waitFor()
  t.equal(await page.getByRole('heading', { name: 'Edit and redeploy' }).count(), 0, 'no edit form')
  t.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 0, 'no delete button')

  await page.goto(`${url}/ui/#/function/openfaas-fn/by-hand`)
  await page.getByRole('heading', { name: 'Edit and redeploy' }).waitFor()
  t.equal(await page.getByRole('button', { name: /^Delete/ }).count(), 1, 'a function of the API keeps both')
})
