/* Export: the deployed functions of one namespace, or of all, as a faas-cli stack.yml. */
import { html } from 'htm/preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, type FunctionStatus } from '../api.ts'
import { ErrorBox, href } from '../components.ts'
import { toStackYaml } from '../yaml.ts'

const ALL = '*'

export function ExportPage ({ namespaces, namespace }: { namespaces: string[], namespace: string | undefined }) {
  const selected = namespace !== undefined && (namespace === ALL || namespaces.includes(namespace)) ? namespace : ALL
  const [functions, setFunctions] = useState<FunctionStatus[] | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)

  useEffect(() => {
    let stop = false
    void (async () => {
      try {
        const wanted = selected === ALL ? namespaces : [selected]
        const lists = await Promise.all(wanted.map(async (ns) => await api.functions(ns)))
        if (!stop) setFunctions(lists.flat().sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)))
      } catch (err) {
        if (!stop) setError((err as Error).message)
      }
    })()
    return () => { stop = true }
  }, [selected, namespaces.join(',')])

  const stack = useMemo(() => (functions === undefined ? undefined : toStackYaml(functions, location.origin)), [functions])
  const download = useMemo(() => (stack === undefined ? undefined : URL.createObjectURL(new Blob([stack.yaml], { type: 'application/yaml' }))), [stack])
  useEffect(() => () => { if (download !== undefined) URL.revokeObjectURL(download) }, [download])
  const fileName = selected === ALL ? 'stack.yml' : `stack-${selected}.yml`

  return html`
    <h1 tabindex="-1">Export stack.yml</h1>
    <p class="muted">A faas-cli stack file of the deployed functions: <code>faas-cli deploy -f ${fileName}</code> deploys them on any
      OpenFaaS gateway or faas-bridge (set <code>--gateway</code> or edit <code>provider.gateway</code> to move them elsewhere).</p>
    <div class="field inline-field">
      <label for="export-ns">Namespace</label>
      <select id="export-ns" value=${selected} onChange=${(e: Event) => { location.hash = href.export((e.currentTarget as HTMLSelectElement).value) }}>
        <option value=${ALL}>All namespaces</option>
        ${namespaces.map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
      </select>
    </div>
    <${ErrorBox} error=${error} />
    ${stack === undefined ? (error === undefined ? html`<p class="loading" role="status">Loading…</p>` : null) : html`
      <p role="status">${functions?.length ?? 0} ${functions?.length === 1 ? 'function' : 'functions'}.</p>
      ${stack.skipped.length > 0 ? html`<p class="error-box" role="alert">stack.yml names each function once: left out
        ${stack.skipped.map((f) => `${f.name} (${f.namespace})`).join(', ')}, whose names are taken by a function of another namespace; export that namespace on its own.</p>` : null}
      <div class="actions">
        <a class="button primary" href=${download} download=${fileName} data-testid="download">Download ${fileName}</a>
        <button type="button" onClick=${() => { void navigator.clipboard?.writeText(stack.yaml) }}>Copy</button>
      </div>
      <pre class="yaml" tabindex="0" aria-label="stack.yml" data-testid="stack-yaml">${stack.yaml}</pre>`}`
}
