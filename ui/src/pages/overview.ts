/* Overview: every backend, its namespaces, and each namespace's functions; refreshed every 5 s. */
import { html } from 'htm/preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, type BackendInfo, type FunctionStatus } from '../api.ts'
import { Badge, Details, href } from '../components.ts'
import { ago, health } from '../status.ts'

type NsState = { functions: FunctionStatus[] } | { error: string }

const REFRESH_MS = 5000

export function Overview ({ backends, onRefresh }: { backends: BackendInfo[], onRefresh: () => Promise<void> }) {
  const [byNs, setByNs] = useState<Record<string, NsState>>({})
  const [loadedAt, setLoadedAt] = useState<number | undefined>(undefined)

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
        ${b.namespaces.length === 0 ? html`<p class="muted">No namespaces.</p>` : null}
        ${b.namespaces.map((ns) => html`<${Namespace} key=${ns} ns=${ns} state=${byNs[ns]} />`)}
      </section>`)}`
}

function Namespace ({ ns, state }: { ns: string, state: NsState | undefined }) {
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
                  <th scope="col">Created</th><th scope="col">Status</th><th scope="col">Backend details</th></tr></thead>
                <tbody>${state.functions.map((fn) => html`
                  <tr key=${fn.name} data-function=${fn.name}>
                    <th scope="row" data-label="Function"><a href=${href.fn(ns, fn.name)}>${fn.name}</a></th>
                    <td data-label="Image"><code>${fn.image}</code></td>
                    <td data-label="Replicas"><span aria-label=${`${fn.availableReplicas} available of ${fn.replicas} desired`}>${fn.availableReplicas} / ${fn.replicas}</span></td>
                    <td data-label="Created"><time datetime=${fn.createdAt} title=${fn.createdAt}>${ago(fn.createdAt)}</time></td>
                    <td data-label="Status"><${Badge} fn=${fn} /></td>
                    <td data-label="Backend details"><${Details} fn=${fn} /></td>
                  </tr>`)}
                </tbody></table></div>`}
    </div>`
}
