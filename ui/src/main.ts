/*
 * The faas-bridge dashboard: a hash-routed single page (preact + htm, no build-time JSX).
 *   #/                         overview: backends → namespaces → functions
 *   #/function/NS/NAME         one function: status, scale, invoke, live logs, edit, delete
 *   #/deploy?namespace=NS      deploy form
 *   #/secrets?namespace=NS     secrets (names only; values are write-only)
 *   #/export?namespace=NS      faas-cli stack.yml of a namespace or of all
 *   #/namespaces               namespaces: create, edit labels and annotations, delete
 */
import { html, render } from 'htm/preact'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { api, type BackendInfo } from './api.ts'
import { href } from './components.ts'
import { DeployPage } from './pages/deploy.ts'
import { ExportPage } from './pages/export.ts'
import { FunctionPage } from './pages/function.ts'
import { NamespacesPage } from './pages/namespaces.ts'
import { Overview } from './pages/overview.ts'
import { SecretsPage } from './pages/secrets.ts'

interface Route { page: 'overview' | 'function' | 'deploy' | 'secrets' | 'export' | 'namespaces' | 'missing', parts: string[], query: URLSearchParams }

function parseRoute (hash: string): Route {
  const raw = hash.replace(/^#/, '')
  const [pathPart = '/', queryPart = ''] = raw.split('?', 2)
  const parts = pathPart.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p))
  const query = new URLSearchParams(queryPart)
  const first = parts[0]
  if (first === undefined) return { page: 'overview', parts, query }
  if (first === 'function' && parts.length === 3) return { page: 'function', parts: parts.slice(1), query }
  if (first === 'deploy' || first === 'secrets' || first === 'export' || first === 'namespaces') return { page: first, parts, query }
  return { page: 'missing', parts, query }
}

const TITLES: Record<Route['page'], string> = {
  overview: 'Overview', function: 'Function', deploy: 'Deploy', secrets: 'Secrets', export: 'Export', namespaces: 'Namespaces', missing: 'Not found'
}

function App () {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  const [backends, setBackends] = useState<BackendInfo[] | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const main = useRef<HTMLElement>(null)

  const reloadBackends = useCallback(async () => {
    try {
      setBackends(await api.backends())
      setError(undefined)
    } catch (err) {
      setError((err as Error).message)
    }
  }, [])

  useEffect(() => {
    void reloadBackends()
    let first = true
    const onHash = (): void => {
      setRoute(parseRoute(location.hash))
      // move focus to the new page's heading so keyboard and screen-reader users start there
      if (!first) requestAnimationFrame(() => { main.current?.querySelector<HTMLElement>('h1')?.focus() })
      first = false
    }
    onHash()
    addEventListener('hashchange', onHash)
    return () => { removeEventListener('hashchange', onHash) }
  }, [reloadBackends])

  useEffect(() => {
    const name = route.page === 'function' ? `${route.parts[1] ?? ''} · ` : ''
    document.title = `${name}${TITLES[route.page]} · faas-bridge`
  }, [route])

  const namespaces = (backends ?? []).flatMap((b) => b.namespaces)
  const nav = (page: Route['page'], link: string, text: string) =>
    html`<li><a href=${link} aria-current=${route.page === page ? 'page' : undefined}>${text}</a></li>`

  let content
  if (error !== undefined) {
    content = html`<h1 tabindex="-1">faas-bridge is not reachable</h1><p class="error-box" role="alert">${error}</p>
      <button type="button" onClick=${() => { void reloadBackends() }}>Try again</button>`
  } else if (backends === undefined) {
    content = html`<p class="loading" role="status">Loading…</p>`
  } else {
    const nsParam = route.query.get('namespace') ?? undefined
    switch (route.page) {
      case 'overview': content = html`<${Overview} backends=${backends} onRefresh=${reloadBackends} />`; break
      case 'function': content = html`<${FunctionPage} key=${route.parts.join('/')} namespace=${route.parts[0]} name=${route.parts[1]} backends=${backends} />`; break
      case 'deploy': content = html`<${DeployPage} namespaces=${namespaces} namespace=${nsParam} />`; break
      case 'secrets': content = html`<${SecretsPage} key=${nsParam} backends=${backends} namespace=${nsParam} />`; break
      case 'namespaces': content = html`<${NamespacesPage} backends=${backends} onChanged=${reloadBackends} />`; break
      case 'export': content = html`<${ExportPage} key=${nsParam} namespaces=${namespaces} namespace=${nsParam} />`; break
      default: content = html`<h1 tabindex="-1">Page not found</h1><p><a href=${href.overview}>Back to the overview</a></p>`
    }
  }

  return html`
    <a class="skip" href="#main" onClick=${(e: Event) => { e.preventDefault(); main.current?.querySelector<HTMLElement>('h1')?.focus() }}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href.overview}><span aria-hidden="true">⇄</span> faas-bridge</a>
      <nav aria-label="Main">
        <ul>
          ${nav('overview', href.overview, 'Overview')}
          ${nav('deploy', href.deploy(), 'Deploy')}
          ${nav('secrets', href.secrets(), 'Secrets')}
          ${nav('namespaces', href.namespaces, 'Namespaces')}
          ${nav('export', href.export(), 'Export')}
        </ul>
      </nav>
    </header>
    <main id="main" ref=${main}>${content}</main>`
}

const root = document.getElementById('app')
if (root !== null) {
  root.textContent = ''
  render(html`<${App} />`, root)
}
