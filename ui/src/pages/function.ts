/* One function: status (polled), scale, invoke, live logs, edit and redeploy, delete. */
import { html } from 'htm/preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import { api, ApiError, followLogs, invokeUrl, type BackendInfo, type FunctionStatus, type LogMessage } from '../api.ts'
import { Badge, Confirm, Details, ErrorBox, href } from '../components.ts'
import { ago, managedBy } from '../status.ts'
import { FunctionCharts } from './function-charts.ts'
import { FunctionForm } from './form.ts'

const POLL_MS = 2000

export function FunctionPage ({ namespace, name, backends }: { namespace: string, name: string, backends: BackendInfo[] }) {
  const [fn, setFn] = useState<FunctionStatus | undefined>(undefined)
  const [error, setError] = useState<{ status: number, message: string } | undefined>(undefined)
  const [tick, setTick] = useState(0)
  const backend = backends.find((b) => b.namespaces.includes(namespace))
  const refresh = (): void => { setTick((n) => n + 1) }

  useEffect(() => {
    let stop = false
    const load = async (): Promise<void> => {
      try {
        const s = await api.status(namespace, name)
        if (!stop) { setFn(s); setError(undefined) }
      } catch (err) {
        if (!stop) setError({ status: err instanceof ApiError ? err.status : 0, message: (err as Error).message })
      }
    }
    void load()
    const timer = setInterval(() => { void load() }, POLL_MS)
    return () => { stop = true; clearInterval(timer) }
  }, [namespace, name, tick])

  const head = html`<nav aria-label="Breadcrumb" class="crumbs"><a href=${href.overview}>Overview</a> / ${namespace} / ${name}</nav>
    <h1 tabindex="-1">${name} <span class="muted ns">${namespace}</span></h1>`
  if (fn === undefined) {
    return html`${head}${error !== undefined
      ? html`<p class="error-box" role="alert">${error.status === 404 ? `There is no function "${name}" in namespace "${namespace}".` : error.message}</p>`
      : html`<p class="loading" role="status">Loading…</p>`}`
  }
  const source = managedBy(fn)
  return html`${head}
    ${error !== undefined ? html`<p class="error-box" role="alert">Status could not be refreshed: ${error.message}</p>` : null}
    <div class="cards">
      <section class="card" aria-labelledby="status-h">
        <h2 id="status-h">Status</h2>
        <dl class="kv">
          <div><dt>Status</dt><dd><${Badge} fn=${fn} /></dd></div>
          <div><dt>Replicas</dt><dd data-testid="replicas">${fn.availableReplicas} available / ${fn.replicas} desired</dd></div>
          <div><dt>Image</dt><dd><code>${fn.image}</code></dd></div>
          ${fn.envProcess !== undefined ? html`<div><dt>Process</dt><dd><code>${fn.envProcess}</code></dd></div>` : null}
          <div><dt>Backend</dt><dd>${backend !== undefined ? `${backend.name} (${backend.kind})` : 'unknown'}</dd></div>
          ${source !== undefined ? html`<div><dt>Managed by</dt><dd><code>${source}</code> (read-only here)</dd></div>` : null}
          <div><dt>Created</dt><dd><time datetime=${fn.createdAt} title=${fn.createdAt}>${ago(fn.createdAt)}</time></dd></div>
          ${fn.invocationCount !== undefined ? html`<div><dt>Invocations</dt><dd>${fn.invocationCount}</dd></div>` : null}
          ${(fn.secrets ?? []).length > 0 ? html`<div><dt>Secrets</dt><dd>${(fn.secrets ?? []).join(', ')}</dd></div>` : null}
        </dl>
        <h3>Backend details</h3>
        <${Details} fn=${fn} />
      </section>
      <${Scale} fn=${fn} onChange=${refresh} />
    </div>
    <${FunctionCharts} namespace=${namespace} name=${name} />
    <${Invoke} fn=${fn} />
    <${Logs} namespace=${namespace} name=${name} />
    ${source !== undefined
      ? html`<section class="card" aria-labelledby="declared-h" data-testid="declared">
          <h2 id="declared-h">Declared in ${source}</h2>
          <p>This function is managed declaratively: its spec comes from <code>${source}</code>, and an edit or a
            delete made here would be put back on the next reconcile pass. Change the source instead.</p>
        </section>`
      : html`<section class="card" aria-labelledby="edit-h">
          <details>
            <summary><h2 id="edit-h">Edit and redeploy</h2></summary>
            <${FunctionForm} key=${fn.createdAt} mode="edit" namespaces=${[namespace]} namespace=${namespace} fn=${fn}
              onDone=${refresh} />
          </details>
        </section>
        <${Delete} fn=${fn} />`}`
}

function Scale ({ fn, onChange }: { fn: FunctionStatus, onChange: () => void }) {
  const [replicas, setReplicas] = useState(String(fn.replicas))
  const [message, setMessage] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const scale = async (n: number): Promise<void> => {
    setError(undefined)
    try {
      await api.scale(fn.namespace, fn.name, n)
      setMessage(`Scaled to ${n} ${n === 1 ? 'replica' : 'replicas'}.`)
      setReplicas(String(n))
      onChange()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const submit = (e: Event): void => {
    e.preventDefault()
    const n = Number(replicas)
    if (!/^\d+$/.test(replicas.trim()) || !Number.isSafeInteger(n)) { setError('replicas must be a whole number, 0 or more'); return }
    void scale(n)
  }
  return html`<section class="card" aria-labelledby="scale-h">
    <h2 id="scale-h">Scale</h2>
    <form class="inline" onSubmit=${submit} novalidate>
      <label for="replicas">Replicas</label>
      <input id="replicas" type="number" min="0" step="1" inputmode="numeric" value=${replicas}
        onInput=${(e: Event) => { setReplicas((e.currentTarget as HTMLInputElement).value) }}
        aria-invalid=${error !== undefined ? 'true' : undefined} aria-describedby=${error !== undefined ? 'scale-error' : undefined} />
      <button type="submit">Set replicas</button>
      <button type="button" onClick=${() => { void scale(0) }} disabled=${fn.replicas === 0}>Scale to zero</button>
    </form>
    ${error !== undefined ? html`<p class="error" id="scale-error" role="alert">${error}</p>` : null}
    <p class="muted" role="status">${message}</p>
  </section>`
}

interface InvokeResult { status: number, statusText: string, ms: number, headers: Array<[string, string]>, body: string, bytes: number }

function parseHeaders (text: string): { headers: Array<[string, string]>, error?: string } {
  const headers: Array<[string, string]> = []
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (line === '') continue
    const colon = line.indexOf(':')
    if (colon <= 0) return { headers, error: `line ${i + 1}: write each header as Name: value` }
    headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()])
  }
  return { headers }
}

function Invoke ({ fn }: { fn: FunctionStatus }) {
  const [method, setMethod] = useState('POST')
  const [path, setPath] = useState('')
  const [query, setQuery] = useState('')
  const [headers, setHeaders] = useState('Content-Type: text/plain')
  const [body, setBody] = useState('')
  const [result, setResult] = useState<InvokeResult | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const noBody = method === 'GET' || method === 'HEAD'

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const parsed = parseHeaders(headers)
    if (parsed.error !== undefined) { setError(parsed.error); return }
    setError(undefined)
    setBusy(true)
    const started = performance.now()
    try {
      const res = await fetch(invokeUrl(fn.namespace, fn.name, path, query), {
        method, headers: parsed.headers, cache: 'no-store', ...(noBody ? {} : { body })
      })
      const buf = await res.arrayBuffer()
      const ms = performance.now() - started
      const type = res.headers.get('content-type') ?? ''
      const textual = type === '' || /^text\/|json|xml|javascript|x-www-form-urlencoded|yaml/i.test(type)
      const text = new TextDecoder().decode(buf)
      setResult({
        status: res.status,
        statusText: res.statusText,
        ms,
        headers: [...res.headers.entries()],
        body: textual || !text.includes('\uFFFD') ? text : `(${buf.byteLength} bytes of ${type})`,
        bytes: buf.byteLength
      })
    } catch (err) {
      setError(`the request failed: ${(err as Error).message}`)
    } finally {
      setBusy(false)
    }
  }
  const on = (set: (s: string) => void) => (e: Event) => { set((e.currentTarget as HTMLInputElement).value) }
  return html`<section class="card" aria-labelledby="invoke-h">
    <h2 id="invoke-h">Invoke</h2>
    <form class="invoke" onSubmit=${submit} novalidate>
      <div class="grid">
        <div class="field"><label for="inv-method">Method</label>
          <select id="inv-method" value=${method} onChange=${on(setMethod)}>
            ${['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'].map((m) => html`<option key=${m}>${m}</option>`)}
          </select></div>
        <div class="field"><label for="inv-path">Path</label>
          <input id="inv-path" type="text" value=${path} onInput=${on(setPath)} placeholder="/" autocomplete="off" aria-describedby="inv-url" /></div>
        <div class="field"><label for="inv-query">Query</label>
          <input id="inv-query" type="text" value=${query} onInput=${on(setQuery)} placeholder="a=1&b=2" autocomplete="off" /></div>
      </div>
      <p class="hint" id="inv-url">Sends to <code>${invokeUrl(fn.namespace, fn.name, path, query)}</code></p>
      <div class="grid">
        <div class="field"><label for="inv-headers">Headers</label>
          <textarea id="inv-headers" rows="3" value=${headers} onInput=${on(setHeaders)} aria-describedby="inv-headers-hint" spellcheck=${false}></textarea>
          <p class="hint" id="inv-headers-hint">one "Name: value" per line</p></div>
        <div class="field"><label for="inv-body">Body</label>
          <textarea id="inv-body" rows="3" value=${body} onInput=${on(setBody)} disabled=${noBody} spellcheck=${false}></textarea>
          ${noBody ? html`<p class="hint">${method} requests have no body</p>` : null}</div>
      </div>
      <div class="actions"><button type="submit" class="primary" disabled=${busy}>${busy ? 'Invoking…' : 'Invoke'}</button></div>
    </form>
    <${ErrorBox} error=${error} />
    ${result !== undefined ? html`<div class="result" aria-live="polite" data-testid="invoke-result">
      <p><span class=${`http-status s${String(result.status)[0] ?? ''}`} data-testid="invoke-status">${result.status} ${result.statusText}</span>
        <span class="muted"> · <span data-testid="invoke-ms">${result.ms.toFixed(1)} ms</span> · ${result.bytes} bytes</span></p>
      <details><summary>Response headers (${result.headers.length})</summary>
        <dl class="kv small">${result.headers.map(([k, val]) => html`<div key=${k}><dt>${k}</dt><dd>${val}</dd></div>`)}</dl></details>
      <pre class="body" data-testid="invoke-body" tabindex="0" aria-label="Response body">${result.body}</pre>
    </div>` : null}
  </section>`
}

const MAX_LINES = 500

function Logs ({ namespace, name }: { namespace: string, name: string }) {
  const [lines, setLines] = useState<Array<LogMessage & { n: number }>>([])
  const [state, setState] = useState('connecting')
  const [paused, setPaused] = useState(false)
  const box = useRef<HTMLDivElement>(null)
  const counter = useRef(0)

  useEffect(() => {
    if (paused) { setState('paused'); return }
    const abort = new AbortController()
    void followLogs(namespace, name, abort.signal, (m) => {
      const n = ++counter.current
      setLines((old) => [...old.slice(-(MAX_LINES - 1)), { ...m, n }])
    }, setState)
    return () => { abort.abort() }
  }, [namespace, name, paused])

  useEffect(() => {
    const el = box.current
    if (el !== null && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight
  }, [lines])

  return html`<section class="card" aria-labelledby="logs-h">
    <div class="page-head">
      <h2 id="logs-h">Logs</h2>
      <div class="actions">
        <span class="muted" data-testid="logs-state">${state}</span>
        <button type="button" aria-pressed=${paused} onClick=${() => { setPaused(!paused) }}>${paused ? 'Resume' : 'Pause'}</button>
        <button type="button" onClick=${() => { setLines([]) }}>Clear</button>
      </div>
    </div>
    <div class="logs" ref=${box} role="log" aria-live="polite" aria-label="Function logs" tabindex="0" data-testid="logs">
      ${lines.length === 0 ? html`<p class="muted">No log lines yet.</p>` : lines.map((l) => html`<div class="line" key=${l.n}>
        <time datetime=${l.timestamp}>${l.timestamp.slice(11, 23)}</time> <span class="inst">${l.instance}</span> <span class="text">${l.text.replace(/\n$/, '')}</span></div>`)}
    </div>
  </section>`
}

function Delete ({ fn }: { fn: FunctionStatus }) {
  const [open, setOpen] = useState(false)
  const [error, setError] = useState<string | undefined>(undefined)
  const remove = async (): Promise<void> => {
    try {
      await api.remove(fn.namespace, fn.name)
      setOpen(false)
      location.hash = href.overview
    } catch (err) {
      setOpen(false)
      setError((err as Error).message)
    }
  }
  return html`<section class="card danger-zone" aria-labelledby="delete-h">
    <h2 id="delete-h">Delete</h2>
    <p>Removes the function and its replicas from ${fn.namespace}. This cannot be undone.</p>
    <button type="button" class="danger" onClick=${() => { setOpen(true) }}>Delete ${fn.name}…</button>
    <${ErrorBox} error=${error} />
    <${Confirm} open=${open} title=${`Delete ${fn.name}?`} confirmText="Delete" onConfirm=${() => { void remove() }} onCancel=${() => { setOpen(false) }}>
      <p>The function <strong>${fn.name}</strong> in namespace <strong>${fn.namespace}</strong> will be removed.</p>
    </${Confirm}>
  </section>`
}
