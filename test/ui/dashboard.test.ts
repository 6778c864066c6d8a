/*
 * The dashboard end to end, in Debian's headless Chromium driven by playwright-core, against the
 * real provider process (src/main.ts) on the local backend with basic auth on, on 127.0.0.1 only:
 * deploy from the form (client-side and API errors shown at their fields), see the function in the
 * overview, invoke it, see its logs arrive live, scale to 0 and back, edit and redeploy, export
 * stack.yml (parsed, names every function), create/update/delete a secret whose value is never
 * shown, delete the function after confirming. Saves screenshots to test-output/screenshots/ on
 * every run, and refreshes the committed docs/screenshots/ when UPDATE_SCREENSHOTS=1.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { parse } from 'yaml'
import type { Page } from 'playwright-core'
import { launchBrowser, PASSWORD, startDashboard as setUp, USER } from '../helpers/ui.ts'

t.setTimeout(240_000)

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1'
  ? path.join(repoRoot, 'docs', 'screenshots')
  : path.join(repoRoot, 'test-output', 'screenshots')
const SECRET_VALUE = 'never-shown-s3cret'

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true })
const text = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? ''

t.test('the dashboard in a real browser', async (t) => {
  const { url, api } = await setUp(t)
  // a second namespace on the same backend, and a function there, so the overview has groups
  t.equal((await api('POST', '/system/namespace/', { name: 'staging-fn', labels: { openfaas: '1' } })).status, 201)
  t.equal((await api('POST', '/system/functions', { service: 'nightly', image: 'ghcr.io/acme/nightly:2', namespace: 'staging-fn', envProcess: 'cat' })).status, 202)

  const context = await launchBrowser(t, { credentials: { username: USER, password: PASSWORD, origin: url } })
  const page = context.pages()[0] ?? await context.newPage()
  const consoleErrors: string[] = []
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()) })
  page.on('pageerror', (e) => { consoleErrors.push(e.message) })

  await t.test('the overview groups namespaces by backend', async (t) => {
    const res = await page.goto(`${url}/ui`)
    t.equal(res?.status(), 200)
    t.equal(new URL(page.url()).pathname, '/ui/', '/ui redirects to /ui/')
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await page.locator('section.backend h2', { hasText: 'local' }).waitFor()
    t.match(await text(page, 'section.backend h2'), /local\s*local/, 'backend name and kind')
    await page.locator('[data-namespace="staging-fn"] tr[data-function="nightly"]').waitFor()
    t.match(await text(page, '[data-namespace="openfaas-fn"]'), /No functions/)
  })

  await t.test('deploy from the form: errors at their fields, then success', async (t) => {
    await page.getByRole('link', { name: 'Deploy a function' }).click()
    await page.getByRole('heading', { level: 1, name: 'Deploy a function' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill('Bad_Name')
    await page.getByLabel('Image', { exact: true }).fill('ghcr.io/acme/echo:1')
    await page.getByLabel('Process (fprocess)').fill('cat')
    await page.getByRole('button', { name: 'Deploy', exact: true }).click()
    const serviceError = page.locator('#service-error')
    await serviceError.waitFor()
    t.match(await serviceError.textContent(), /DNS-1123/, 'the client-side check names the service field')
    t.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true')
    t.equal(await page.evaluate('document.activeElement?.id'), 'service', 'focus moves to the field in error')
    t.same(await (await api('GET', '/system/functions')).json(), [], 'nothing was sent')

    await page.getByLabel('Name', { exact: true }).fill('echo')
    await page.getByLabel('Secrets', { exact: true }).fill('nope')
    await page.getByRole('button', { name: 'Deploy', exact: true }).click()
    const secretsError = page.locator('#secrets-error')
    await secretsError.waitFor()
    t.match(await secretsError.textContent(), /secret "nope" not found/, "the API's 400 is shown next to the field it names")
    t.equal(await page.locator('#service-error').count(), 0, 'the fixed field has no error any more')

    await page.getByLabel('Secrets', { exact: true }).fill('')
    await page.getByLabel('Variable 1 name').fill('greeting')
    await page.getByLabel('Variable 1 value').fill('hi')
    await page.getByRole('button', { name: 'Deploy', exact: true }).click()
    await page.waitForURL(/#\/function\/openfaas-fn\/echo$/)
    await page.getByRole('heading', { level: 1, name: /echo/ }).waitFor()
    await page.locator('[data-testid="status-badge"]', { hasText: 'Ready' }).waitFor()
    const status = await (await api('GET', '/system/function/echo')).json() as { envProcess: string, envVars: Record<string, string> }
    t.equal(status.envProcess, 'cat')
    t.same(status.envVars, { greeting: 'hi' })
  })

  await t.test('the overview lists it', async (t) => {
    await nav(page, 'Overview').click()
    const row = page.locator('[data-namespace="openfaas-fn"] tr[data-function="echo"]')
    await row.waitFor()
    t.match(await row.textContent(), /ghcr\.io\/acme\/echo:1/)
    t.match(await row.textContent(), /1 \/ 1/)
    await row.getByText('Ready').waitFor()
    await page.locator('[data-namespace="staging-fn"] tr[data-function="nightly"]').getByText('Ready').waitFor()
    await page.screenshot({ path: path.join(SHOTS, 'overview.png') })
    await page.setViewportSize({ width: 390, height: 760 })
    await page.screenshot({ path: path.join(SHOTS, 'overview-narrow.png'), fullPage: true })
    const overflow = await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth') as number
    t.ok(overflow <= 0, 'no horizontal scrolling on a 390 px wide screen', { overflow })
    await page.setViewportSize({ width: 1200, height: 800 })
  })

  await t.test('invoke it and see the body; its logs arrive live', async (t) => {
    await page.locator('tr[data-function="echo"] a', { hasText: 'echo' }).click()
    await page.getByRole('heading', { level: 2, name: 'Invoke' }).waitFor()
    await page.locator('[data-testid="logs-state"]', { hasText: 'following' }).waitFor()
    await page.getByLabel('Body', { exact: true }).fill('hello from the browser')
    await page.getByLabel('Query', { exact: true }).fill('lang=en')
    await page.getByRole('button', { name: 'Invoke', exact: true }).click()
    await page.locator('[data-testid="invoke-body"]').waitFor()
    t.equal(await text(page, '[data-testid="invoke-body"]'), 'hello from the browser')
    t.match(await text(page, '[data-testid="invoke-status"]'), /^200/)
    t.match(await text(page, '[data-testid="invoke-ms"]'), /^\d+\.\d ms$/)
    t.match(await text(page, '[data-testid="invoke-result"] details'), /content-type/i, 'response headers are listed')

    const logs = page.locator('[data-testid="logs"]')
    await logs.getByText(/Wrote 22 Bytes/).first().waitFor()
    const before = await logs.locator('.line').count()
    await page.getByLabel('Body', { exact: true }).fill('the second call, seven!')
    await page.getByRole('button', { name: 'Invoke', exact: true }).click()
    await logs.getByText(/Wrote 23 Bytes/).first().waitFor()
    t.ok(await logs.locator('.line').count() > before, 'new lines appear while following, without a reload')
    // the provider ends each stream after write_timeout (3 s); the page reconnects without repeating lines
    await page.waitForTimeout(3500)
    await page.getByLabel('Body', { exact: true }).fill('after the reconnect')
    await page.getByRole('button', { name: 'Invoke', exact: true }).click()
    await logs.getByText(/Wrote 19 Bytes/).first().waitFor()
    t.equal(await logs.getByText(/Wrote 22 Bytes/).count(), 1, 'lines seen before the reconnect are not repeated')
    await page.screenshot({ path: path.join(SHOTS, 'function.png'), fullPage: true })
  })

  await t.test('scale to 0 and back', async (t) => {
    await page.getByRole('button', { name: 'Scale to zero' }).click()
    await page.locator('[data-testid="replicas"]', { hasText: '0 available / 0 desired' }).waitFor()
    await page.locator('[data-testid="status-badge"]', { hasText: 'Scaled to zero' }).waitFor()
    t.match(await (await api('GET', '/system/function/echo')).json(), { replicas: 0, availableReplicas: 0 })
    await page.getByRole('button', { name: 'Invoke', exact: true }).click()
    await page.locator('[data-testid="invoke-status"]', { hasText: /^503/ }).waitFor()
    t.pass('an invocation at zero replicas is 503')

    await page.getByLabel('Replicas', { exact: true }).fill('1')
    await page.getByRole('button', { name: 'Set replicas' }).click()
    await page.locator('[data-testid="replicas"]', { hasText: '1 available / 1 desired' }).waitFor()
    await page.locator('[data-testid="status-badge"]', { hasText: 'Ready' }).waitFor()
    await page.getByRole('button', { name: 'Invoke', exact: true }).click()
    await page.locator('[data-testid="invoke-status"]', { hasText: /^200/ }).waitFor()
    t.pass('back at one replica it answers again')
  })

  await t.test('edit env vars, labels and annotations and redeploy', async (t) => {
    await page.getByText('Edit and redeploy').click()
    t.equal(await page.locator('#edit-env').inputValue(), 'greeting', 'the form starts from the deployed values')
    t.equal(await page.getByLabel('Variable 1 value').inputValue(), 'hi')
    t.notMatch(await page.locator('#edit-labels').inputValue(), /faas_function/, "the provider's faas_function label is not offered as a user label")
    await page.getByLabel('Variable 1 value').fill('hello')
    await page.getByRole('button', { name: 'Add variable' }).click()
    await page.getByLabel('Variable 2 name').fill('colour')
    await page.getByLabel('Variable 2 value').fill('blue')
    // a value with newlines (a PEM block) is typed as it is and arrives as it is
    await page.getByRole('button', { name: 'Add variable' }).click()
    await page.getByLabel('Variable 3 name').fill('CERT')
    await page.getByLabel('Variable 3 value').fill('-----BEGIN X-----\nAAAA\n-----END X-----')
    await page.locator('#edit-labels').fill('team=web')
    await page.locator('#edit-annotations').fill('topic=orders')
    await page.getByRole('button', { name: 'Redeploy' }).click()
    await t.resolves(async () => {
      for (let i = 0; i < 50; i++) {
        const s = await (await api('GET', '/system/function/echo')).json() as { envVars?: Record<string, string> }
        if (s.envVars?.colour === 'blue') return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error('the update never arrived')
    })
    const s = await (await api('GET', '/system/function/echo')).json() as Record<string, unknown>
    t.match(s, { envProcess: 'cat', envVars: { greeting: 'hello', colour: 'blue', CERT: '-----BEGIN X-----\nAAAA\n-----END X-----' }, labels: { team: 'web' }, annotations: { topic: 'orders' } })
  })

  await t.test('export stack.yml: it parses and names every function', async (t) => {
    await nav(page, 'Export').click()
    await page.getByRole('heading', { level: 1, name: 'Export stack.yml' }).waitFor()
    await page.locator('[data-testid="stack-yaml"]').waitFor()
    const shown = await text(page, '[data-testid="stack-yaml"]')
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="download"]').click()])
    t.equal(download.suggestedFilename(), 'stack.yml')
    const file = await readFile(await download.path(), 'utf8')
    t.equal(file, shown, 'the download is what the page shows')
    const stack = parse(file) as { version: number, provider: { name: string, gateway: string }, functions: Record<string, Record<string, unknown>> }
    t.equal(stack.version, 1)
    t.same(stack.provider, { name: 'openfaas', gateway: url })
    t.same(Object.keys(stack.functions).sort(), ['echo', 'nightly'], 'every function is named')
    t.match(stack.functions.echo, {
      image: 'ghcr.io/acme/echo:1', namespace: 'openfaas-fn', fprocess: 'cat',
      environment: { greeting: 'hello', colour: 'blue' }, labels: { team: 'web' }, annotations: { topic: 'orders' }
    })
    t.same(stack.functions.echo?.labels, { team: 'web' }, 'faas_function (every status carries it) is not exported as a user label')
    t.match(stack.functions.nightly, { image: 'ghcr.io/acme/nightly:2', namespace: 'staging-fn' })

    await page.getByLabel('Namespace').selectOption('staging-fn')
    await page.locator('[data-testid="stack-yaml"]', { hasText: 'nightly' }).waitFor()
    const one = parse(await text(page, '[data-testid="stack-yaml"]')) as { functions: Record<string, unknown> }
    t.same(Object.keys(one.functions), ['nightly'], 'one namespace exports only its functions')
  })

  await t.test('secrets: create, update and delete; the value is never shown', async (t) => {
    await nav(page, 'Secrets').click()
    await page.getByRole('heading', { level: 1, name: 'Secrets' }).waitFor()
    await page.getByLabel('Namespace').selectOption('openfaas-fn')
    await page.getByLabel('Name', { exact: true }).fill('Not_Valid')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.locator('#secret-name-error', { hasText: 'DNS-1123' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill('api-token')
    await page.getByLabel('Value', { exact: true }).fill(SECRET_VALUE)
    t.equal(await page.getByLabel('Value', { exact: true }).getAttribute('type'), 'password', 'typed into a password field')
    await page.getByRole('button', { name: 'Create' }).click()
    await page.locator('li[data-secret="api-token"]').waitFor()
    t.equal(await page.getByLabel('Value', { exact: true }).inputValue(), '', 'the value field is cleared after sending')
    t.same(await (await api('GET', '/system/secrets')).json(), [{ name: 'api-token', namespace: 'openfaas-fn' }])
    const html = await page.content()
    t.notOk(html.includes(SECRET_VALUE), 'the value is nowhere in the page')

    await page.getByLabel('New value for api-token').fill('rotated-value')
    await page.getByRole('button', { name: 'Update' }).click()
    await page.getByText('Secret api-token updated.').waitFor()
    t.notOk((await page.content()).includes('rotated-value'), 'nor is the new value')

    // a function that reads it proves the value arrived
    t.equal((await api('POST', '/system/functions', { service: 'reader', image: 'i:1', secrets: ['api-token'], envProcess: 'cat "${secret_mount_path:-/var/openfaas/secrets}/api-token"' })).status, 202)
    const auth = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`
    let body = ''
    for (let i = 0; i < 50 && body !== 'rotated-value'; i++) {
      const r = await fetch(`${url}/function/reader`, { method: 'POST', headers: { authorization: auth }, body: '' })
      body = await r.text()
      if (body !== 'rotated-value') await new Promise((resolve) => setTimeout(resolve, 100))
    }
    t.equal(body, 'rotated-value', 'the updated value reaches a function')
    t.equal((await api('DELETE', '/system/functions', { functionName: 'reader' })).status, 202)

    await page.locator('li[data-secret="api-token"]').getByRole('button', { name: 'Delete' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete secret api-token?' })
    await dialog.waitFor()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await page.locator('li[data-secret="api-token"]').waitFor({ state: 'detached' })
    t.same(await (await api('GET', '/system/secrets')).json(), [])
  })

  await t.test('namespaces: create with labels and annotations, edit, delete; the API\'s refusals shown', async (t) => {
    await nav(page, 'Namespaces').click()
    await page.getByRole('heading', { level: 1, name: 'Namespaces' }).waitFor()
    await page.locator('[data-ns="staging-fn"]').waitFor()
    const form = page.getByRole('form', { name: 'Create a namespace' })
    await form.getByLabel('Name', { exact: true }).fill('Bad_Name')
    await form.getByRole('button', { name: 'Create' }).click()
    await form.locator('.error', { hasText: 'DNS-1123' }).waitFor()
    await form.getByLabel('Name', { exact: true }).fill('team-ui')
    await form.getByLabel('Labels').fill('openfaas=1\ntier=gold')
    await form.getByLabel('Annotations').fill('owner=web')
    await form.getByRole('button', { name: 'Create' }).click()
    await page.getByText('Created namespace team-ui.').waitFor()
    t.same(await (await api('GET', '/system/namespace/team-ui')).json(), { name: 'team-ui', labels: { openfaas: '1', tier: 'gold' }, annotations: { owner: 'web' } })
    const row = page.locator('[data-ns="team-ui"]')
    await row.locator('[data-testid="ns-labels"]', { hasText: 'tier=gold' }).waitFor()

    await form.getByLabel('Name', { exact: true }).fill('team-ui')
    await form.getByRole('button', { name: 'Create' }).click()
    await page.getByRole('alert').filter({ hasText: 'already exists' }).waitFor()
    t.pass('a second create shows the API\'s 409 message')

    await row.getByRole('button', { name: 'Edit team-ui' }).click()
    t.equal(await page.locator('#ns-team-ui-labels').inputValue(), 'openfaas=1\ntier=gold', 'the editor starts from the stored labels')
    await page.locator('#ns-team-ui-labels').fill('openfaas=1\ntier=silver')
    await row.getByRole('button', { name: 'Save' }).click()
    await row.locator('[data-testid="ns-labels"]', { hasText: 'tier=silver' }).waitFor()
    t.same((await (await api('GET', '/system/namespace/team-ui')).json() as { labels: unknown }).labels, { openfaas: '1', tier: 'silver' })

    // refusals come back with the API's own words: the default namespace, one that holds functions
    const home = page.locator('[data-ns="openfaas-fn"]')
    await home.getByRole('button', { name: 'Delete openfaas-fn' }).click()
    await page.getByRole('dialog', { name: 'Delete namespace openfaas-fn?' }).getByRole('button', { name: 'Delete' }).click()
    await home.getByRole('alert').filter({ hasText: 'default namespace' }).waitFor()
    t.equal((await api('GET', '/system/namespace/openfaas-fn')).status, 200, 'still there')

    await row.getByRole('button', { name: 'Delete team-ui' }).click()
    await page.getByRole('dialog', { name: 'Delete namespace team-ui?' }).getByRole('button', { name: 'Delete' }).click()
    await row.waitFor({ state: 'detached' })
    t.equal((await api('GET', '/system/namespace/team-ui')).status, 404, 'gone from the provider')
    await page.screenshot({ path: path.join(SHOTS, 'namespaces.png'), fullPage: true })
  })

  await t.test('delete the function after confirming', async (t) => {
    await page.goto(`${url}/ui/#/function/openfaas-fn/echo`)
    await page.getByRole('button', { name: 'Delete echo…' }).click()
    const dialog = page.getByRole('dialog', { name: 'Delete echo?' })
    await dialog.waitFor()
    t.equal(await page.evaluate('document.activeElement?.textContent'), 'Cancel', 'focus starts on Cancel')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    t.equal((await api('GET', '/system/function/echo')).status, 200, 'Escape cancels')
    await page.getByRole('button', { name: 'Delete echo…' }).click()
    await dialog.getByRole('button', { name: 'Delete' }).click()
    await page.waitForURL(/#\/$/)
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    t.equal((await api('GET', '/system/function/echo')).status, 404, 'gone from the provider')
    await page.locator('[data-namespace="openfaas-fn"]', { hasText: 'No functions' }).waitFor()
  })

  t.same(consoleErrors.filter((e) => !/^Failed to load resource: the server responded with a status of (400|404|409|503)/.test(e)), [], 'no errors in the browser console')
})
