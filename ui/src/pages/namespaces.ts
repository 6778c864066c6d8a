/*
 * Namespaces: every backend's namespaces with their labels and annotations; create (into the
 * backend that holds API-created namespaces), edit and delete through /system/namespace/{name}.
 * What a backend cannot do it answers 501 with its reason, and that reason is shown as it is.
 */
import { html } from 'htm/preact'
import { useEffect, useState } from 'preact/hooks'
import { api, type BackendInfo, type FunctionNamespace } from '../api.ts'
import { Confirm, described, ErrorBox, Field } from '../components.ts'
import { dns1123Problem, formatPairs, parsePairs } from '../validate.ts'

interface PairsText { labels: string, annotations: string }

/** the labels and annotations text areas → maps, or the first error */
function readPairs (v: PairsText): { labels: Record<string, string>, annotations: Record<string, string> } | { error: string } {
  const labels = parsePairs(v.labels, 'label')
  if (labels.error !== undefined) return { error: `Labels: ${labels.error}` }
  const annotations = parsePairs(v.annotations, 'annotation')
  if (annotations.error !== undefined) return { error: `Annotations: ${annotations.error}` }
  return { labels: labels.map, annotations: annotations.map }
}

function PairsFields ({ prefix, v, onChange }: { prefix: string, v: PairsText, onChange: (v: PairsText) => void }) {
  const area = (key: keyof PairsText, label: string) => html`<${Field} id=${`${prefix}-${key}`} label=${label} hint="one KEY=VALUE per line">
    <textarea ...${described(`${prefix}-${key}`, undefined, true)} rows="3" value=${v[key]} spellcheck=${false}
      onInput=${(e: Event) => { onChange({ ...v, [key]: (e.currentTarget as HTMLTextAreaElement).value }) }}></textarea>
  </${Field}>`
  return html`<div class="grid">${area('labels', 'Labels')}${area('annotations', 'Annotations')}</div>`
}

export function NamespacesPage ({ backends, onChanged }: { backends: BackendInfo[], onChanged: () => Promise<void> }) {
  return html`
    <h1 tabindex="-1">Namespaces</h1>
    <${CreateNamespace} onChanged=${onChanged} />
    ${backends.map((b) => html`<section class="backend" key=${b.name} aria-labelledby=${`nsb-${b.name}`}>
      <h2 id=${`nsb-${b.name}`}>${b.name} <span class=${`kind kind-${b.kind}`}>${b.kind}</span></h2>
      ${b.namespaces.length === 0 ? html`<p class="muted">No namespaces.</p>` : null}
      ${b.namespaces.map((ns) => html`<${NamespaceRow} key=${ns} name=${ns} onChanged=${onChanged} />`)}
    </section>`)}`
}

function CreateNamespace ({ onChanged }: { onChanged: () => Promise<void> }) {
  const [name, setName] = useState('')
  const [pairs, setPairs] = useState<PairsText>({ labels: 'openfaas=1', annotations: '' })
  const [error, setError] = useState<string | undefined>(undefined)
  const [nameError, setNameError] = useState<string | undefined>(undefined)
  const [message, setMessage] = useState('')
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    setMessage('')
    const problem = dns1123Problem(name.trim())
    setNameError(problem !== undefined ? `Name ${problem}` : undefined)
    if (problem !== undefined) return
    const read = readPairs(pairs)
    if ('error' in read) { setError(read.error); return }
    setError(undefined)
    try {
      await api.createNamespace({ name: name.trim(), ...read })
      setMessage(`Created namespace ${name.trim()}.`)
      setName('')
      await onChanged()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  return html`<section class="card" aria-labelledby="ns-create-h">
    <h2 id="ns-create-h">Create a namespace</h2>
    <form onSubmit=${submit} novalidate aria-label="Create a namespace">
      <${Field} id="ns-name" label="Name" error=${nameError} hint="a DNS-1123 label, e.g. team-a">
        <input ...${described('ns-name', nameError, true)} type="text" value=${name} autocomplete="off" spellcheck=${false}
          onInput=${(e: Event) => { setName((e.currentTarget as HTMLInputElement).value) }} />
      </${Field}>
      <${PairsFields} prefix="ns-new" v=${pairs} onChange=${setPairs} />
      <div class="actions"><button type="submit" class="primary">Create</button></div>
    </form>
    <${ErrorBox} error=${error} />
    <p class="muted" role="status">${message}</p>
  </section>`
}

function NamespaceRow ({ name, onChanged }: { name: string, onChanged: () => Promise<void> }) {
  const [ns, setNs] = useState<FunctionNamespace | undefined>(undefined)
  const [loadError, setLoadError] = useState<string | undefined>(undefined)
  const [editing, setEditing] = useState<PairsText | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [confirming, setConfirming] = useState(false)
  const [tick, setTick] = useState(0)

  useEffect(() => {
    api.namespace(name).then((n) => { setNs(n); setLoadError(undefined) }, (err: unknown) => { setLoadError((err as Error).message) })
  }, [name, tick])

  const save = async (e: Event): Promise<void> => {
    e.preventDefault()
    if (editing === undefined) return
    const read = readPairs(editing)
    if ('error' in read) { setError(read.error); return }
    try {
      await api.updateNamespace({ name, ...read })
      setEditing(undefined)
      setError(undefined)
      setTick((n) => n + 1)
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const remove = async (): Promise<void> => {
    setConfirming(false)
    try {
      await api.deleteNamespace(name)
      setError(undefined)
      await onChanged()
    } catch (err) {
      setError((err as Error).message)
    }
  }
  const pairs = (m: Record<string, string> | undefined) => Object.keys(m ?? {}).length === 0
    ? html`<span class="muted">none</span>`
    : Object.entries(m ?? {}).map(([k, v]) => html`<code key=${k}>${k}=${v}</code> `)

  return html`<div class="namespace" data-ns=${name}>
    <div class="ns-head">
      <h3>${name}</h3>
      <span class="actions">
        <button type="button" onClick=${() => { setError(undefined); setEditing({ labels: formatPairs(ns?.labels), annotations: formatPairs(ns?.annotations) }) }}
          disabled=${editing !== undefined} aria-label=${`Edit ${name}`}>Edit</button>
        <button type="button" class="danger" onClick=${() => { setConfirming(true) }} aria-label=${`Delete ${name}`}>Delete</button>
      </span>
    </div>
    ${loadError !== undefined ? html`<p class="error-box" role="alert">${loadError}</p>` : null}
    ${ns !== undefined && editing === undefined
      ? html`<dl class="kv small"><div><dt>Labels</dt><dd data-testid="ns-labels">${pairs(ns.labels)}</dd></div>
          <div><dt>Annotations</dt><dd data-testid="ns-annotations">${pairs(ns.annotations)}</dd></div></dl>`
      : null}
    ${editing !== undefined
      ? html`<form onSubmit=${save} novalidate aria-label=${`Edit namespace ${name}`}>
          <${PairsFields} prefix=${`ns-${name}`} v=${editing} onChange=${setEditing} />
          <div class="actions"><button type="submit" class="primary">Save</button>
            <button type="button" onClick=${() => { setEditing(undefined); setError(undefined) }}>Cancel</button></div>
        </form>`
      : null}
    <${ErrorBox} error=${error} />
    <${Confirm} open=${confirming} title=${`Delete namespace ${name}?`} confirmText="Delete" onConfirm=${() => { void remove() }} onCancel=${() => { setConfirming(false) }}>
      <p>The namespace <strong>${name}</strong> will be removed. A namespace that still holds functions is refused.</p>
    </${Confirm}>
  </div>`
}
