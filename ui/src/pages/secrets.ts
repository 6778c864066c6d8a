/* Secrets of a namespace: names only. Values are write-only: typed, sent, and cleared from the page. */
import { html } from 'htm/preact'
import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, ApiError, type BackendInfo, type SecretInfo } from '../api.ts'
import { Confirm, described, ErrorBox, Field, href } from '../components.ts'
import { secretNameProblem } from '../validate.ts'

export function SecretsPage ({ backends, namespace }: { backends: BackendInfo[], namespace: string | undefined }) {
  const namespaces = backends.flatMap((b) => b.namespaces)
  const ns = namespace !== undefined && namespaces.includes(namespace) ? namespace : (namespaces[0] ?? '')
  const [list, setList] = useState<SecretInfo[] | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)
  const [message, setMessage] = useState('')

  const load = useCallback(async () => {
    try {
      setList((await api.secrets(ns)).sort((a, b) => a.name.localeCompare(b.name)))
      setError(undefined)
    } catch (err) {
      setList([])
      setError((err as Error).message)
    }
  }, [ns])
  useEffect(() => { void load() }, [load])
  const done = (text: string): void => { setMessage(text); void load() }

  return html`
    <h1 tabindex="-1">Secrets</h1>
    <div class="field inline-field">
      <label for="secrets-ns">Namespace</label>
      <select id="secrets-ns" value=${ns} onChange=${(e: Event) => { location.hash = href.secrets((e.currentTarget as HTMLSelectElement).value) }}>
        ${namespaces.map((n) => html`<option key=${n} value=${n}>${n}</option>`)}
      </select>
    </div>
    <p class="muted">Functions read a secret at <code>/var/openfaas/secrets/NAME</code>. Values are write-only: they are never shown here.</p>
    <p role="status" class="ok">${message}</p>
    <${ErrorBox} error=${error} />
    <div class="cards">
      <section class="card" aria-labelledby="secret-list-h">
        <h2 id="secret-list-h">Secrets in ${ns}</h2>
        ${list === undefined ? html`<p class="loading">Loading…</p>` : list.length === 0 ? html`<p class="muted">No secrets.</p>`
          : html`<ul class="secrets">${list.map((s) => html`<${SecretRow} key=${s.name} ns=${ns} secret=${s} onDone=${done} />`)}</ul>`}
      </section>
      <${CreateSecret} ns=${ns} onDone=${done} />
    </div>`
}

function CreateSecret ({ ns, onDone }: { ns: string, onDone: (msg: string) => void }) {
  const [name, setName] = useState('')
  const [value, setValue] = useState('')
  const [errors, setErrors] = useState<{ name?: string, value?: string }>({})
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const problem = secretNameProblem(name.trim())
    if (problem !== undefined) { setErrors({ name: problem }); return }
    try {
      await api.createSecret(ns, name.trim(), value)
      setName('')
      setValue('')
      setErrors({})
      onDone(`Secret ${name.trim()} created.`)
    } catch (err) {
      const msg = (err as Error).message
      setErrors(err instanceof ApiError && /name|exists/.test(msg) ? { name: msg } : { value: msg })
    }
  }
  return html`<section class="card" aria-labelledby="secret-new-h">
    <h2 id="secret-new-h">Create a secret</h2>
    <form onSubmit=${submit} novalidate autocomplete="off">
      <${Field} id="secret-name" label="Name" error=${errors.name} hint="lower-case letters, digits, '-' and '.'">
        <input ...${described('secret-name', errors.name, true)} type="text" value=${name} spellcheck=${false}
          onInput=${(e: Event) => { setName((e.currentTarget as HTMLInputElement).value) }} />
      </${Field}>
      <${Field} id="secret-value" label="Value" error=${errors.value}>
        <input ...${described('secret-value', errors.value)} type="password" autocomplete="new-password" value=${value}
          onInput=${(e: Event) => { setValue((e.currentTarget as HTMLInputElement).value) }} />
      </${Field}>
      <div class="actions"><button type="submit" class="primary">Create</button></div>
    </form>
  </section>`
}

function SecretRow ({ ns, secret, onDone }: { ns: string, secret: SecretInfo, onDone: (msg: string) => void }) {
  const [value, setValue] = useState('')
  const [error, setError] = useState<string | undefined>(undefined)
  const [confirm, setConfirm] = useState(false)
  const id = `secret-update-${secret.name}`
  const update = async (e: Event): Promise<void> => {
    e.preventDefault()
    try {
      await api.updateSecret(ns, secret.name, value)
      setValue('')
      setError(undefined)
      onDone(`Secret ${secret.name} updated.`)
    } catch (err) { setError((err as Error).message) }
  }
  const remove = async (): Promise<void> => {
    setConfirm(false)
    try {
      await api.deleteSecret(ns, secret.name)
      onDone(`Secret ${secret.name} deleted.`)
    } catch (err) { setError((err as Error).message) }
  }
  return html`<li data-secret=${secret.name}>
    <strong class="secret-name">${secret.name}</strong>
    <form class="inline" onSubmit=${update} novalidate autocomplete="off">
      <label class="sr-only" for=${id}>New value for ${secret.name}</label>
      <input id=${id} type="password" autocomplete="new-password" placeholder="new value" value=${value}
        onInput=${(e: Event) => { setValue((e.currentTarget as HTMLInputElement).value) }} />
      <button type="submit">Update</button>
      <button type="button" class="danger" onClick=${() => { setConfirm(true) }}>Delete</button>
    </form>
    <${ErrorBox} error=${error} />
    <${Confirm} open=${confirm} title=${`Delete secret ${secret.name}?`} confirmText="Delete"
      onConfirm=${() => { void remove() }} onCancel=${() => { setConfirm(false) }}>
      <p>Functions that mount <strong>${secret.name}</strong> will not find it any more.</p>
    </${Confirm}>
  </li>`
}
