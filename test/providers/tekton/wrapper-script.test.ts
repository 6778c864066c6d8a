/*
 * The step scripts run for real under /bin/sh, with the variables Tekton substitutes before it
 * runs a step (workspace and result paths) pointed at temporary files: the fake controller only
 * imitates them, so this is where a shell mistake in them would show.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import {
  BODY_KEY, FUNCTION_SCRIPT, HEADERS_KEY, OUTPUT_DIR, RESPONSE_SCRIPT, RESULT_BODY, RESULT_DELIVERY,
  RESULT_LIMIT_ENV, RESULT_SIZE, REQUEST_WORKSPACE
} from '../../../providers/tekton/mapping.ts'

const run = promisify(execFile)

interface Step { stdout: string, stderr: string, code: number, results: Record<string, string | undefined> }

async function setup (t: Test, headers: string, body: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fb-tekton-step-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const req = path.join(dir, 'request')
  const out = path.join(dir, 'output')
  const results = path.join(dir, 'results')
  await Promise.all([mkdir(req), mkdir(out), mkdir(results)])
  await writeFile(path.join(req, HEADERS_KEY), headers)
  await writeFile(path.join(req, BODY_KEY), body)
  /** what Tekton does to a step's script before running it */
  const substitute = (script: string): string => script
    .replaceAll(`$(workspaces.${REQUEST_WORKSPACE}.path)`, req)
    .replace(/\$\(results\.([a-z]+)\.path\)/g, (_m, name: string) => path.join(results, name))
    .replaceAll(OUTPUT_DIR, out)
  const step = async (script: string, env: Record<string, string>): Promise<Step> => {
    const file = path.join(dir, `step-${Math.random().toString(36).slice(2)}.sh`)
    await writeFile(file, substitute(script))
    let stdout = ''
    let stderr = ''
    let code = 0
    try {
      ({ stdout, stderr } = await run('/bin/sh', [file], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 10_000 }))
    } catch (err) {
      const e = err as { stdout: string, stderr: string, code: number }
      stdout = e.stdout
      stderr = e.stderr
      code = e.code
    }
    const read = async (name: string): Promise<string | undefined> =>
      existsSync(path.join(results, name)) ? await readFile(path.join(results, name), 'utf8') : undefined
    return { stdout, stderr, code, results: { body: await read(RESULT_BODY), size: await read(RESULT_SIZE), delivery: await read(RESULT_DELIVERY) } }
  }
  return { step, dir }
}

t.test('a small answer is the body result; headers arrive as Http_* without shell evaluation', async (t) => {
  const { step, dir } = await setup(t,
    `Http_Method=POST\nHttp_X_Call_Id=abc 123\nHttp_X_Evil=$(touch ${'PWNED'})\nHttp_Path=/sub`, 'hello world')
  const r = await step(FUNCTION_SCRIPT, {
    fprocess: 'cat; printf " %s %s %s|%s" "$Http_Method" "$Http_Path" "$Http_X_Call_Id" "$Http_X_Evil"',
    [RESULT_LIMIT_ENV]: '3072'
  })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.results.body, 'hello world POST /sub abc 123|$(touch PWNED)')
  t.equal(r.results.size, String(Buffer.byteLength(r.results.body ?? '')))
  t.equal(r.results.delivery, 'inline')
  t.notOk(existsSync(path.join(dir, 'PWNED')) || existsSync('PWNED'), 'a header value is never run')
  const resp = await step(RESPONSE_SCRIPT, {})
  t.equal(resp.stdout, '', 'the response step prints nothing for an inline answer')
})

t.test('an answer over the result limit is delivered through the response step log, byte for byte', async (t) => {
  const big = 'x'.repeat(5000) + '\n'
  const { step } = await setup(t, 'Http_Method=GET', big)
  const r = await step(FUNCTION_SCRIPT, { fprocess: 'cat', [RESULT_LIMIT_ENV]: '3072' })
  t.equal(r.code, 0, r.stderr)
  t.equal(r.results.delivery, 'log')
  t.equal(r.results.size, String(big.length))
  t.equal(r.results.body, undefined, 'no body result')
  const resp = await step(RESPONSE_SCRIPT, {})
  t.equal(resp.stdout, big)
})

t.test('a failing fprocess fails the step with its code and says so; no fprocess is exit 127', async (t) => {
  const { step } = await setup(t, '', '')
  const r = await step(FUNCTION_SCRIPT, { fprocess: 'echo partial; echo broken >&2; exit 3', [RESULT_LIMIT_ENV]: '3072' })
  t.equal(r.code, 3)
  t.match(r.stderr, /broken/)
  t.match(r.stderr, /fprocess exited with code 3/)
  const none = await step(FUNCTION_SCRIPT, { [RESULT_LIMIT_ENV]: '3072' })
  t.equal(none.code, 127)
  t.match(none.stderr, /fprocess is not set/)
})
