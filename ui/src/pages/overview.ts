/*
 * Overview: every backend (with its backend call latency and error rate over the last minute),
 * its namespaces, and each namespace's functions with a req/s sparkline and the last minute's
 * p99 from GET /system/history; refreshed every 5 s.
 */
import { html } from 'htm/preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, type BackendInfo, type FunctionStatus, type HistorySummary } from '../api.ts'
import { Chart } from '../chart.ts'
import { Badge, Details, href } from '../components.ts'
import { ago, health, managedBy } from '../status.ts'

type NsState = { functions: FunctionStatus[] } | { error: string }

const REFRESH_MS = 5000

export function Overview ({ backends, onRefresh }: { backends: BackendInfo[], onRefresh: () => Promise<void> }) {
  const [byNs, setByNs] = useState<Record<string, NsState>>({})
  const [loadedAt, setLoadedAt] = useState<number | undefined>(undefined)
  const [history, setHistory] = useState<HistorySummary | undefined>(undefined)

  const load = useCallback(async () => {
    const namespaces = backends.flatMap((b) => b.namespaces)
    const results = await Promise.all(namespaces.map(async (ns): Promise<[string, NsState]> => {
      try {
        const fns = await api.functions(ns)
        return [ns, { functions: fns.sort((a, b) => a.name.localeCompare(b.name)) }]
      } catch (err) {
        return [ns, { error: (err as Error).message }]
      }
    }))
    setByNs(Object.fromEntries(results))
    // the charts are extra: the overview works without them
    setHistory(await api.historySummary().catch(() => undefined))
    setLoadedAt(Date.now())
  }, [backends])

  useEffect(() => {
    void load()
    const timer = setInterval(() => { void load() }, REFRESH_MS)
    return () => { clearInterval(timer) }
  }, [load])

  const all = Object.values(byNs).flatMap((s) => ('functions' in s ? s.functions : []))
  const ready = all.filter((f) => health(f) === 'ready').length
  const nsCount = backends.reduce((n, b) => n + b.namespaces.length, 0)

  return html`
    <div class="page-head">
      <h1 tabindex="-1">Overview</h1>
      <div class="actions">
        <a class="button primary" href=${href.deploy()}>Deploy a function</a>
        <button type="button" onClick=${() => { void onRefresh().then(load) }}>Refresh</button>
      </div>
    </div>
    <p class="summary" role="status">
      ${backends.length} ${backends.length === 1 ? 'backend' : 'backends'} · ${nsCount} ${nsCount === 1 ? 'namespace' : 'namespaces'} ·
      ${' '}${all.length} ${all.length === 1 ? 'function' : 'functions'} (${ready} ready)
      ${loadedAt !== undefined ? html`<span class="muted"> · updated ${new Date(loadedAt).toLocaleTimeString()}</span>` : null}
    </p>
    ${backends.map((b) => html`
      <section class="backend" key=${b.name} aria-labelledby=${`backend-${b.name}`}>
        <h2 id=${`backend-${b.name}`}>${b.name} <span class=${`kind kind-${b.kind}`}>${b.kind}</span></h2>
        <${BackendCalls} summary=${history} backend=${b.name} />
        ${b.namespaces.length === 0 ? html`<p class="muted">No namespaces.</p>` : null}
        ${b.namespaces.map((ns) => html`<${Namespace} key=${ns} ns=${ns} state=${byNs[ns]} history=${history} />`)}
      </section>`)}`
}

const fmtMs = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`)
const fmtPct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(v < 0.01 && v > 0 ? 2 : 1)} %`)

function BackendCalls ({ summary, backend }: { summary: HistorySummary | undefined, backend: string }) {
  const b = summary?.backends.find((x) => x.backend === backend)
  if (b === undefined) return null
  const text = `Backend calls, last minute: ${b.callsPerSecond.toFixed(1)}/s · errors ${fmtPct(b.errorRate)} · p50 ${fmtMs(b.p50Ms)} · p99 ${fmtMs(b.p99Ms)}`
  return html`<p class="backend-calls muted" data-testid="backend-calls">${text}</p>`
}

function Spark ({ ns, name, rps, seconds }: { ns: string, name: string, rps: number[], seconds: number }) {
  const now = rps.at(-1) ?? 0
  const x = rps.map((_, i) => i * seconds)
  return html`<span class="spark-cell"><${Chart} id=${`spark:${ns}/${name}`} title=${`Requests per second, last ${Math.round((rps.length * seconds) / 60)} minutes`}
    sparkline=${true} height=${28} data=${[x, rps]} series=${[{ label: 'req/s', color: '#0b5cad', fill: 'rgba(11,92,173,.15)' }]} />
    <span class="muted"> ${now.toFixed(1)}/s</span></span>`
}

function Namespace ({ ns, state, history }: { ns: string, state: NsState | undefined, history: HistorySummary | undefined }) {
  const headingId = `ns-${ns}`
  return html`
    <div class="namespace" data-namespace=${ns}>
      <div class="ns-head">
        <h3 id=${headingId}>${ns}</h3>
        <span class="ns-links">
          <a href=${href.deploy(ns)}>Deploy here</a>
          <a href=${href.secrets(ns)}>Secrets</a>
          <a href=${href.export(ns)}>Export</a>
        </span>
      </div>
      ${state === undefined
        ? html`<p class="loading">Loading…</p>`
        : 'error' in state
          ? html`<p class="error-box" role="alert">${state.error}</p>`
          : state.functions.length === 0
            ? html`<p class="muted">No functions. <a href=${href.deploy(ns)}>Deploy one</a>.</p>`
            : html`<div class="table-wrap"><table class="functions" aria-labelledby=${headingId}>
                <thead><tr><th scope="col">Function</th><th scope="col">Image</th><th scope="col">Replicas</th>
                  <th scope="col">Requests/s (3 min)</th><th scope="col">p99 (1 min)</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Backend details</th></tr></thead>
                <tbody>${state.functions.map((fn) => {
                  const h = history?.functions.find((f) => f.namespace === ns && f.name === fn.name)
                  return html`
                  <tr key=${fn.name} data-function=${fn.name}>
                    <th scope="row" data-label="Function"><a href=${href.fn(ns, fn.name)}>${fn.name}</a>${managedBy(fn) !== undefined ? html` <span class="badge badge-declared" title=${`managed by ${managedBy(fn) ?? ''}`}>declared</span>` : null}</th>
                    <td data-label="Image"><code>${fn.image}</code></td>
                    <td data-label="Replicas"><span aria-label=${`${fn.availableReplicas} available of ${fn.replicas} desired`}>${fn.availableReplicas} / ${fn.replicas}</span></td>
                    <td data-label="Requests/s">${h !== undefined ? html`<${Spark} ns=${ns} name=${fn.name} rps=${h.rps} seconds=${history?.bucketSeconds ?? 5} />` : html`<span class="muted">—</span>`}</td>
                    <td data-label="p99" data-testid="p99">${fmtMs(h?.p99Ms)}</td>
                    <td data-label="Created"><time datetime=${fn.createdAt} title=${fn.createdAt}>${ago(fn.createdAt)}</time></td>
                    <td data-label="Status"><${Badge} fn=${fn} /></td>
                    <td data-label="Backend details"><${Details} fn=${fn} /></td>
                  </tr>`
                })}
                </tbody></table></div>`}
    </div>`
}
