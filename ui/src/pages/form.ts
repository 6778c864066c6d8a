/*
 * The deploy / edit form. Checks what the API checks before sending (DNS-1123 names, image, scale
 * labels, secret names); whatever the API still refuses is shown next to the field its message
 * names, and focus moves to the first field in error.
 */
import { html } from 'htm/preact'
import { useRef, useState } from 'preact/hooks'
import { api, ApiError, type FunctionDeployment, type FunctionStatus } from '../api.ts'
import { described, ErrorBox, Field } from '../components.ts'
import { isStatusAnnotation, userLabels } from '../status.ts'
import { fieldOfApiError, formatPairs, parsePairs, readEnvRows, validateDeployment, type EnvRow, type Errors, type Field as FieldName } from '../validate.ts'

interface Values {
  service: string
  namespace: string
  image: string
  envProcess: string
  env: EnvRow[]
  labels: string
  annotations: string
  secrets: string
  limitsMemory: string
  limitsCpu: string
  requestsMemory: string
  requestsCpu: string
  readOnly: boolean
}

function initialValues (namespace: string, fn?: FunctionStatus): Values {
  return {
    service: fn?.name ?? '',
    namespace: fn?.namespace ?? namespace,
    image: fn?.image ?? '',
    envProcess: fn?.envProcess ?? '',
    env: envRows(fn?.envVars),
    labels: formatPairs(userLabels(fn?.labels)),
    annotations: formatPairs(Object.fromEntries(Object.entries(fn?.annotations ?? {}).filter(([k]) => !isStatusAnnotation(k)))),
    secrets: (fn?.secrets ?? []).join(', '),
    limitsMemory: fn?.limits?.memory ?? '',
    limitsCpu: fn?.limits?.cpu ?? '',
    requestsMemory: fn?.requests?.memory ?? '',
    requestsCpu: fn?.requests?.cpu ?? '',
    readOnly: fn?.readOnlyRootFilesystem ?? false
  }
}

const envRows = (map: Record<string, string> | undefined): EnvRow[] => {
  const rows = Object.entries(map ?? {}).map(([key, value]) => ({ key, value }))
  return rows.length > 0 ? rows : [{ key: '', value: '' }]
}

const resources = (memory: string, cpu: string) => {
  const r: { memory?: string, cpu?: string } = {}
  if (memory.trim() !== '') r.memory = memory.trim()
  if (cpu.trim() !== '') r.cpu = cpu.trim()
  return Object.keys(r).length > 0 ? r : undefined
}

const FIELD_IDS: Record<Exclude<FieldName, 'form'>, string> = {
  service: 'service', namespace: 'namespace', image: 'image', envProcess: 'envProcess', envVars: 'env',
  labels: 'labels', annotations: 'annotations', secrets: 'secrets', limits: 'limitsMemory', requests: 'requestsMemory'
}

export function FunctionForm ({ mode, namespaces, namespace, fn, onDone }: {
  mode: 'deploy' | 'edit', namespaces: string[], namespace: string, fn?: FunctionStatus, onDone: (deployed: FunctionDeployment) => void
}) {
  const [v, setV] = useState<Values>(() => initialValues(namespace, fn))
  const [errors, setErrors] = useState<Errors>({})
  const [busy, setBusy] = useState(false)
  const form = useRef<HTMLFormElement>(null)
  const p = mode === 'edit' ? 'edit-' : ''
  const id = (name: string): string => `${p}${name}`

  const set = (key: keyof Values) => (e: Event) => {
    const t = e.currentTarget as HTMLInputElement
    setV({ ...v, [key]: t.type === 'checkbox' ? t.checked : t.value })
  }
  const focusFirstError = (errs: Errors): void => {
    const first = (Object.keys(FIELD_IDS) as Array<keyof typeof FIELD_IDS>).find((k) => errs[k] !== undefined)
    requestAnimationFrame(() => {
      const el = first !== undefined ? form.current?.querySelector<HTMLElement>(`#${id(FIELD_IDS[first])}`) : form.current?.querySelector<HTMLElement>('.error-box')
      el?.focus()
    })
  }

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault()
    const errs: Errors = {}
    const env = readEnvRows(v.env)
    const labels = parsePairs(v.labels, 'label')
    const annotations = parsePairs(v.annotations, 'annotation')
    if (env.error !== undefined) errs.envVars = env.error
    if (labels.error !== undefined) errs.labels = labels.error
    if (annotations.error !== undefined) errs.annotations = annotations.error
    // status annotations the backend reports are not the user's: they are left out of an update
    const deployment: FunctionDeployment = {
      service: v.service.trim(),
      image: v.image.trim(),
      namespace: v.namespace,
      envVars: env.map,
      labels: labels.map,
      annotations: annotations.map,
      secrets: v.secrets.split(/[\s,]+/).filter((s) => s !== '')
    }
    if (v.envProcess.trim() !== '') deployment.envProcess = v.envProcess
    const limits = resources(v.limitsMemory, v.limitsCpu)
    const requests = resources(v.requestsMemory, v.requestsCpu)
    if (limits !== undefined) deployment.limits = limits
    if (requests !== undefined) deployment.requests = requests
    if (v.readOnly) deployment.readOnlyRootFilesystem = true
    if (fn?.constraints !== undefined) deployment.constraints = fn.constraints
    Object.assign(errs, validateDeployment(deployment, namespaces), errs)
    setErrors(errs)
    if (Object.keys(errs).length > 0) { focusFirstError(errs); return }
    setBusy(true)
    try {
      await (mode === 'deploy' ? api.deploy(deployment) : api.update(deployment))
      onDone(deployment)
    } catch (err) {
      const message = err instanceof ApiError ? err.message : String(err)
      const field = err instanceof ApiError ? fieldOfApiError(err.status, message) : 'form'
      const next: Errors = { [field]: message }
      setErrors(next)
      focusFirstError(next)
    } finally {
      setBusy(false)
    }
  }

  const text = (key: keyof Values, field: FieldName, label: string, opts: { hint?: string, placeholder?: string, required?: boolean, readOnly?: boolean } = {}) => html`
    <${Field} id=${id(key)} label=${label} error=${errors[field]} hint=${opts.hint}>
      <input ...${described(id(key), errors[field], opts.hint !== undefined)} name=${key} type="text" value=${v[key] as string}
        onInput=${set(key)} placeholder=${opts.placeholder} required=${opts.required} readOnly=${opts.readOnly}
        autocomplete="off" spellcheck=${false} />
    </${Field}>`
  const area = (key: keyof Values, field: FieldName, label: string, hint: string, placeholder: string) => html`
    <${Field} id=${id(key)} label=${label} error=${errors[field]} hint=${hint}>
      <textarea ...${described(id(key), errors[field], true)} name=${key} rows="3" value=${v[key] as string}
        onInput=${set(key)} placeholder=${placeholder} spellcheck=${false}></textarea>
    </${Field}>`

  return html`<form ref=${form} class="fn-form" novalidate onSubmit=${submit} aria-label=${mode === 'deploy' ? 'Deploy a function' : 'Edit and redeploy'}>
    <${ErrorBox} error=${errors.form} />
    <div class="grid">
      ${text('service', 'service', 'Name', { hint: 'lower-case letters, digits and "-" (DNS-1123), at most 63', placeholder: 'echo', required: true, readOnly: mode === 'edit' })}
      <${Field} id=${id('namespace')} label="Namespace" error=${errors.namespace}>
        <select ...${described(id('namespace'), errors.namespace)} name="namespace" value=${v.namespace} onChange=${set('namespace')} disabled=${mode === 'edit'}>
          ${namespaces.map((ns) => html`<option key=${ns} value=${ns}>${ns}</option>`)}
        </select>
      </${Field}>
      ${text('image', 'image', 'Image', { placeholder: 'ghcr.io/acme/echo:1', required: true })}
      ${text('envProcess', 'envProcess', 'Process (fprocess)', { hint: 'the command the watchdog runs, e.g. cat', placeholder: 'cat' })}
    </div>
    <div class="grid">
      <${EnvEditor} prefix=${p} rows=${v.env} error=${errors.envVars} onChange=${(env: EnvRow[]) => { setV({ ...v, env }) }} />
      ${area('labels', 'labels', 'Labels', 'one KEY=VALUE per line; com.openfaas.scale.min sets the initial replicas', 'com.openfaas.scale.min=1')}
      ${area('annotations', 'annotations', 'Annotations', 'one KEY=VALUE per line', 'topic=orders')}
      ${text('secrets', 'secrets', 'Secrets', { hint: 'names of existing secrets, separated by commas', placeholder: 'api-token' })}
    </div>
    <fieldset class="grid resources">
      <legend>Resources</legend>
      ${text('limitsMemory', 'limits', 'Memory limit', { placeholder: '128Mi' })}
      ${text('limitsCpu', 'limits', 'CPU limit', { placeholder: '500m' })}
      ${text('requestsMemory', 'requests', 'Memory request', { placeholder: '64Mi' })}
      ${text('requestsCpu', 'requests', 'CPU request', { placeholder: '100m' })}
    </fieldset>
    <div class="check">
      <input id=${id('readOnly')} type="checkbox" checked=${v.readOnly} onChange=${set('readOnly')} />
      <label for=${id('readOnly')}>Read-only root filesystem</label>
    </div>
    <div class="actions">
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Working…' : mode === 'deploy' ? 'Deploy' : 'Redeploy'}</button>
    </div>
  </form>`
}

/** One row per variable: a name and a text area for its value (newlines kept as typed). */
function EnvEditor ({ prefix, rows, error, onChange }: { prefix: string, rows: EnvRow[], error: string | undefined, onChange: (rows: EnvRow[]) => void }) {
  const set = (i: number, patch: Partial<EnvRow>) => { onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r))) }
  const errorId = `${prefix}env-error`
  return html`<fieldset class=${`field env${error !== undefined ? ' has-error' : ''}`} aria-describedby=${[`${prefix}env-hint`, error !== undefined ? errorId : ''].join(' ').trim()}>
    <legend>Environment variables</legend>
    <div class="env-rows">${rows.map((r, i) => html`<div class="env-row" key=${i}>
      <input id=${i === 0 ? `${prefix}env` : undefined} type="text" value=${r.key} placeholder="NAME" aria-label=${`Variable ${i + 1} name`}
        autocomplete="off" spellcheck=${false} aria-invalid=${error !== undefined ? 'true' : undefined}
        onInput=${(e: Event) => { set(i, { key: (e.currentTarget as HTMLInputElement).value }) }} />
      <textarea rows=${Math.min(8, Math.max(1, r.value.split('\n').length))} value=${r.value} placeholder="value" aria-label=${`Variable ${i + 1} value`}
        spellcheck=${false} onInput=${(e: Event) => { set(i, { value: (e.currentTarget as HTMLTextAreaElement).value }) }}></textarea>
      <button type="button" aria-label=${`Remove variable ${i + 1}`} onClick=${() => { onChange(rows.length > 1 ? rows.filter((_, j) => j !== i) : [{ key: '', value: '' }]) }}>Remove</button>
    </div>`)}</div>
    <div class="actions"><button type="button" onClick=${() => { onChange([...rows, { key: '', value: '' }]) }}>Add variable</button></div>
    <p class="hint" id=${`${prefix}env-hint`}>a value may span lines; mode=http runs a long-running HTTP server</p>
    ${error !== undefined ? html`<p class="error" id=${errorId} role="alert">${error}</p>` : null}
  </fieldset>`
}
