/* Deploy page: the form, then the new function's page. */
import { html } from 'htm/preact'
import { FunctionForm } from './form.ts'
import { href } from '../components.ts'

export function DeployPage ({ namespaces, namespace }: { namespaces: string[], namespace: string | undefined }) {
  const ns = namespace !== undefined && namespaces.includes(namespace) ? namespace : (namespaces[0] ?? '')
  return html`
    <h1 tabindex="-1">Deploy a function</h1>
    <p class="muted">The same request as <code>faas-cli deploy</code>: POST /system/functions.</p>
    <${FunctionForm} mode="deploy" namespaces=${namespaces} namespace=${ns}
      onDone=${(fn: { service: string, namespace?: string }) => { location.hash = href.fn(fn.namespace ?? ns, fn.service) }} />`
}
