/*
 * Regression: every function's labels in GET /system/functions and /system/function/NAME carry
 * faas_function: NAME, as faas-netes reports it (clients and OpenFaaS's conformance tests expect
 * it), and it is never stored as a user label: a status fed back as a deployment (an exported
 * stack.yml, faas-cli, a client copying the labels) neither stores nor renames it.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import t from 'tap'
import { localApp } from '../helpers/local-app.ts'

async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...await filesUnder(full))
    else out.push(full)
  }
  return out
}

t.test('list and status carry faas_function: NAME; deploy and update never store it', async (t) => {
  const { url, stateDir } = await localApp(t)
  const call = async (method: string, p: string, body?: unknown): Promise<Response> => await fetch(url + p, {
    method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {})
  })
  const fn = { service: 'figlet', image: 'ghcr.io/openfaas/figlet:latest', envProcess: 'cat', labels: { team: 'a' }, annotations: {} }
  t.equal((await call('POST', '/system/functions', fn)).status, 202)
  const status = await (await call('GET', '/system/function/figlet')).json() as { labels: Record<string, string> }
  t.same(status.labels, { team: 'a', faas_function: 'figlet' }, 'status')
  const list = await (await call('GET', '/system/functions')).json() as Array<{ labels: Record<string, string> }>
  t.same(list[0]?.labels, { team: 'a', faas_function: 'figlet' }, 'list')

  // the status's labels sent back, with a faas_function that even names another function
  t.equal((await call('PUT', '/system/functions', { ...fn, labels: { ...status.labels, faas_function: 'other', v: '2' } })).status, 202)
  const after = await (await call('GET', '/system/function/figlet')).json() as { labels: Record<string, string> }
  t.same(after.labels, { team: 'a', v: '2', faas_function: 'figlet' }, 'still the name, once')
  const stored = await Promise.all((await filesUnder(path.join(stateDir))).map(async (f) => await readFile(f, 'utf8').catch(() => '')))
  t.notOk(stored.some((text) => text.includes('faas_function')), 'not stored in the state directory')

  t.equal((await call('POST', '/system/functions', { ...fn, service: 'bare', labels: { faas_function: 'bare' } })).status, 202)
  const bare = await (await call('GET', '/system/function/bare')).json() as { labels: Record<string, string> }
  t.same(bare.labels, { faas_function: 'bare' }, 'a function deployed without labels reports it too')
})
