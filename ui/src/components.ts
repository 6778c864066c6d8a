/* Small shared pieces: status badge, field wrapper with its error, confirmation dialog, links. */
import { html } from 'htm/preact'
import { useEffect, useId, useRef } from 'preact/hooks'
import type { ComponentChildren } from 'preact'
import type { FunctionStatus } from './api.ts'
import { backendDetails, health, HEALTH_TEXT } from './status.ts'

export const href = {
  overview: '#/',
  fn: (ns: string, name: string) => `#/function/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`,
  deploy: (ns?: string) => (ns !== undefined ? `#/deploy?namespace=${encodeURIComponent(ns)}` : '#/deploy'),
  secrets: (ns?: string) => (ns !== undefined ? `#/secrets?namespace=${encodeURIComponent(ns)}` : '#/secrets'),
  namespaces: '#/namespaces',
  export: (ns?: string) => (ns !== undefined ? `#/export?namespace=${encodeURIComponent(ns)}` : '#/export')
}

export function Badge ({ fn }: { fn: FunctionStatus }) {
  const h = health(fn)
  return html`<span class=${`badge badge-${h}`} data-testid="status-badge">${HEALTH_TEXT[h]}</span>`
}

export function Details ({ fn }: { fn: FunctionStatus }) {
  const details = backendDetails(fn)
  if (details.length === 0) return html`<span class="muted">—</span>`
  return html`<dl class="details">${details.map((d) => html`
    <div key=${d.key}><dt>${d.label}</dt><dd>${d.href !== undefined
      ? html`<a href=${d.href} target="_blank" rel="noopener noreferrer">${d.label === 'console' ? 'open console' : d.value}</a>`
      : d.value}</dd></div>`)}</dl>`
}

/** A labelled control with its hint and its error, tied together with aria-describedby. */
export function Field ({ id, label, error, hint, children }: { id: string, label: string, error?: string | undefined, hint?: string, children: ComponentChildren }) {
  return html`<div class=${`field${error !== undefined ? ' has-error' : ''}`}>
    <label for=${id}>${label}</label>
    ${children}
    ${hint !== undefined ? html`<p class="hint" id=${`${id}-hint`}>${hint}</p>` : null}
    ${error !== undefined ? html`<p class="error" id=${`${id}-error`} role="alert">${error}</p>` : null}
  </div>`
}

/** aria-describedby / aria-invalid for a control inside Field */
export const described = (id: string, error: string | undefined, hint = false) => ({
  id,
  'aria-invalid': error !== undefined ? 'true' : undefined,
  'aria-describedby': [hint ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter((s) => s !== '').join(' ') || undefined
})

/** A modal <dialog> asking to confirm; focus goes to Cancel, Escape cancels, focus returns after. */
export function Confirm ({ open, title, children, confirmText, onConfirm, onCancel }: {
  open: boolean, title: string, children: ComponentChildren, confirmText: string, onConfirm: () => void, onCancel: () => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  // several dialogs may be on one page (a delete per namespace): each names itself
  const titleId = `confirm-${useId()}`
  useEffect(() => {
    const d = ref.current
    if (d === null) return
    if (open && !d.open) {
      const before = document.activeElement as HTMLElement | null
      d.showModal()
      d.querySelector<HTMLButtonElement>('button.cancel')?.focus()
      return () => { before?.focus() }
    }
    if (!open && d.open) d.close()
    return undefined
  }, [open])
  return html`<dialog ref=${ref} aria-labelledby=${titleId} onCancel=${(e: Event) => { e.preventDefault(); onCancel() }}>
    <h2 id=${titleId}>${title}</h2>
    <div>${children}</div>
    <div class="actions">
      <button type="button" class="cancel" onClick=${onCancel}>Cancel</button>
      <button type="button" class="danger" onClick=${onConfirm}>${confirmText}</button>
    </div>
  </dialog>`
}

export function ErrorBox ({ error }: { error: string | undefined }) {
  return error !== undefined ? html`<p class="error-box" role="alert">${error}</p>` : null
}
