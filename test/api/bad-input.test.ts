/*
 * Bad input gets a clear 4xx whose message names what is wrong, and changes nothing.
 */
import t from 'tap'
import { memoryApp } from '../helpers/app.ts'

const good = { service: 'word-count', image: 'ghcr.io/acme/word-count:0.2.0', envProcess: 'wc -w' }

const cases: Array<{ name: string, method: 'POST' | 'PUT' | 'DELETE', url: string, body: string, headers?: Record<string, string>, status: number, message: RegExp, refusedByDriver?: boolean }> = [
  { name: 'malformed JSON', method: 'POST', url: '/system/functions', body: '{"service": "x",', status: 400, message: /not valid JSON/ },
  { name: 'service of the wrong type', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, service: 5 }), status: 400, message: /body\.service must be string/ },
  { name: 'envVars values of the wrong type', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, envVars: { A: 1 } }), status: 400, message: /body\.envVars\.A must be string/ },
  { name: 'missing service', method: 'POST', url: '/system/functions', body: JSON.stringify({ image: good.image }), status: 400, message: /body\.service is required/ },
  { name: 'missing image', method: 'POST', url: '/system/functions', body: JSON.stringify({ service: 'x' }), status: 400, message: /body\.image is required/ },
  { name: 'empty image', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, image: ' ' }), status: 400, message: /image is required/ },
  { name: 'upper-case name', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, service: 'WordCount' }), status: 400, message: /service "WordCount" must be a DNS-1123 label/ },
  { name: 'dotted name', method: 'PUT', url: '/system/functions', body: JSON.stringify({ ...good, service: 'word.count' }), status: 400, message: /DNS-1123/ },
  { name: 'too long a name', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, service: 'a'.repeat(64) }), status: 400, message: /at most 63/ },
  { name: 'a non-numeric scale label', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.min': 'two' } }), status: 400, message: /com\.openfaas\.scale\.min must be a whole number/ },
  { name: 'scale.min above scale.max', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '2' } }), status: 400, message: /com\.openfaas\.scale\.min \(5\) is above com\.openfaas\.scale\.max \(2\)/ },
  { name: 'an unknown scale.type', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.type': 'memory' } }), status: 400, message: /com\.openfaas\.scale\.type must be one of rps, capacity, cpu/ },
  { name: 'scale.zero not a boolean', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.zero': 'yes' } }), status: 400, message: /com\.openfaas\.scale\.zero must be "true" or "false"/ },
  { name: 'scale.zero-duration not a duration', method: 'PUT', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.zero-duration': 'later' } }), status: 400, message: /com\.openfaas\.scale\.zero-duration must be a positive duration/ },
  { name: 'scale.factor 0 (the gateway would 404 every call)', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.factor': '0' } }), status: 400, message: /com\.openfaas\.scale\.factor must be between 1 and 100/ },
  { name: 'scale.target-proportion above 1', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.target-proportion': '1.2' } }), status: 400, message: /target-proportion must be a number above 0 and at most 1/ },
  { name: 'scale.target not positive', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, labels: { 'com.openfaas.scale.target': '0' } }), status: 400, message: /com\.openfaas\.scale\.target must be between 1/ },
  { name: 'unknown namespace on deploy', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, namespace: 'nowhere' }), status: 400, message: /namespace "nowhere" is not served/ },
  { name: 'an unknown secret referenced by a deploy', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, secrets: ['no-such-secret'] }), status: 400, message: /unable to fetch secrets: "no-such-secret" not found/, refusedByDriver: true },
  { name: 'negative replicas', method: 'POST', url: '/system/scale-function/word-count', body: '{"replicas":-1}', status: 400, message: /body\.replicas must be >= 0/ },
  { name: 'fractional replicas', method: 'POST', url: '/system/scale-function/word-count', body: '{"replicas":1.5}', status: 400, message: /body\.replicas must be integer/ },
  { name: 'replicas as a string', method: 'POST', url: '/system/scale-function/word-count', body: '{"replicas":"3"}', status: 400, message: /body\.replicas must be integer/ },
  { name: 'replicas above max_replicas', method: 'POST', url: '/system/scale-function/word-count', body: '{"replicas":100000}', status: 400, message: /above this provider's limit/ },
  { name: 'scale in an unknown namespace', method: 'POST', url: '/system/scale-function/word-count?namespace=nowhere', body: '{"replicas":1}', status: 400, message: /nowhere/ },
  { name: 'delete without functionName', method: 'DELETE', url: '/system/functions', body: '{}', status: 400, message: /functionName is required/ },
  { name: 'secret with a bad name', method: 'POST', url: '/system/secrets', body: '{"name":"Bad_Name","value":"x"}', status: 400, message: /DNS-1123 subdomain/ },
  { name: 'secret with rawValue that is not base64', method: 'POST', url: '/system/secrets', body: '{"name":"s","rawValue":"***"}', status: 400, message: /rawValue must be standard base64/ },
  { name: 'a body over the /system limit', method: 'POST', url: '/system/functions', body: JSON.stringify({ ...good, envVars: { BIG: 'x'.repeat(70 * 1024) } }), status: 413, message: /larger than the limit of 65536 bytes/ }
]

for (const c of cases) {
  t.test(`${c.name} → ${c.status}, nothing changes`, async (t) => {
    const { app, driver } = await memoryApp(t)
    await app.inject({ method: 'POST', url: '/system/functions', payload: good })
    const before = JSON.stringify([...driver.functions.entries()]) + JSON.stringify([...driver.secretValues.keys()])
    const callsBefore = driver.calls.filter((c) => !c.endsWith('list') && c !== 'status').length
    const res = await app.inject({ method: c.method, url: c.url, body: c.body, headers: { 'content-type': 'application/json', ...c.headers } })
    t.equal(res.statusCode, c.status)
    t.match(res.body, c.message)
    t.match(res.headers['content-type'], /text\/plain/)
    t.equal(JSON.stringify([...driver.functions.entries()]) + JSON.stringify([...driver.secretValues.keys()]), before, 'state unchanged')
    if (c.refusedByDriver !== true) {
      t.equal(driver.calls.filter((c) => !c.endsWith('list') && c !== 'status').length, callsBefore, 'refused before any mutating driver call')
    }
  })
}

t.test('bad log parameters → 422 (what the gateway and faas-cli expect)', async (t) => {
  const { app } = await memoryApp(t)
  await app.inject({ method: 'POST', url: '/system/functions', payload: good })
  for (const q of ['name=word-count&tail=ten', 'name=word-count&since=yesterday', 'name=word-count&since=2026-01-02', 'tail=5']) {
    const res = await app.inject({ method: 'GET', url: `/system/logs?${q}` })
    t.equal(res.statusCode, 422, q)
    t.match(res.body, /could not parse the log request/, q)
  }
})
