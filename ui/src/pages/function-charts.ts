/*
 * A function's recent load as charts, from GET /system/history/{name} (the provider's own
 * memory, lost on restart), refreshed every 5 s without reloading: invocations per second by
 * status class, latency p50/p99, in flight, replicas with the autoscaler's decisions marked.
 */
import { html } from 'htm/preact'
import { useEffect, useMemo, useState } from 'preact/hooks'
import { api, type FunctionHistory, type HistoryDecision, type HistoryWindow } from '../api.ts'
import { Chart, type ChartMark } from '../chart.ts'
import { ErrorBox } from '../components.ts'

const REFRESH_MS = 5000
const COLORS = { ok: '#1a7f37', client: '#9a6700', server: '#cf222e', p50: '#0b5cad', p99: '#8250df', avg: '#0b5cad', max: '#bc4c00', replicas: '#57606a', available: '#1a7f37', target: '#8250df' }

/** the autoscaler's words for its actions, as a user reads them */
export const ACTION_TEXT: Record<string, string> = { up: 'scale up', down: 'scale down', zero: 'park', wake: 'wake' }
const ACTION_COLOR: Record<string, string> = { up: '#1a7f37', down: '#9a6700', zero: '#57606a', wake: '#0b5cad' }

export function FunctionCharts ({ namespace, name }: { namespace: string, name: string }) {
  const [span, setSpan] = useState<HistoryWindow>('15m')
  const [h, setH] = useState<FunctionHistory | undefined>(undefined)
  const [error, setError] = useState<string | undefined>(undefined)

  useEffect(() => {
    let stop = false
    const load = async (): Promise<void> => {
      try {
        const next = await api.history(namespace, name, span)
        if (!stop) { setH(next); setError(undefined) }
      } catch (err) {
        if (!stop) setError(`History could not be loaded: ${(err as Error).message}`)
      }
    }
    void load()
    const timer = setInterval(() => { void load() }, REFRESH_MS)
    return () => { stop = true; clearInterval(timer) }
  }, [namespace, name, span])

  const charts = useMemo(() => {
    if (h === undefined) return undefined
    const x = h.series.t.map((t) => t / 1000)
    const marks: ChartMark[] = h.decisions.map((d) => ({
      x: d.at / 1000,
      label: `${ACTION_TEXT[d.action] ?? d.action} ${d.from}→${d.to}${d.ok ? '' : ' (failed)'}`,
      color: ACTION_COLOR[d.action] ?? '#57606a'
    }))
    return {
      rps: [x, h.series.rps2xx, h.series.rps4xx, h.series.rps5xx],
      latency: [x, h.series.p50Ms, h.series.p99Ms],
      inflight: [x, h.series.inflightAvg, h.series.inflightMax],
      replicas: [x, h.series.replicas, h.series.available, h.series.target],
      marks
    }
  }, [h])

  return html`<section class="card" aria-labelledby="charts-h" data-testid="charts">
    <div class="page-head">
      <h2 id="charts-h">Load, latency and scaling</h2>
      <div class="actions" role="group" aria-label="Time window">
        ${(['15m', '1h'] as const).map((w) => html`<button type="button" key=${w} aria-pressed=${span === w}
          onClick=${() => { setSpan(w) }}>${w === '15m' ? 'Last 15 minutes' : 'Last hour'}</button>`)}
      </div>
    </div>
    <p class="hint">Kept by the provider in memory (${h?.bucketSeconds ?? (span === '15m' ? 5 : 30)} s buckets; lost when it restarts). Updated every ${REFRESH_MS / 1000} s.</p>
    <${ErrorBox} error=${error} />
    ${charts === undefined
      ? html`<p class="loading" role="status">Loading…</p>`
      : html`<div class="charts">
        <${Chart} id="rps" title="Invocations per second by status" unit="req/s" data=${charts.rps}
          series=${[{ label: '2xx', color: COLORS.ok, fill: 'rgba(26,127,55,.08)' }, { label: '4xx', color: COLORS.client }, { label: '5xx', color: COLORS.server }]} />
        <${Chart} id="latency" title="Latency" unit="ms" data=${charts.latency}
          series=${[{ label: 'p50', color: COLORS.p50, points: true }, { label: 'p99', color: COLORS.p99, points: true }]} />
        <${Chart} id="inflight" title="Requests in flight (sampled each autoscaler tick)" unit="requests" data=${charts.inflight}
          series=${[{ label: 'mean', color: COLORS.avg, points: true }, { label: 'max', color: COLORS.max, points: true }]} />
        <${Chart} id="replicas" title="Replicas and the autoscaler's decisions" unit="replicas" data=${charts.replicas} marks=${charts.marks}
          series=${[{ label: 'desired', color: COLORS.replicas, points: true }, { label: 'available', color: COLORS.available, fill: 'rgba(26,127,55,.08)', points: true }, { label: 'autoscaler target', color: COLORS.target, dash: [6, 4] }]} />
      </div>
      <${Decisions} decisions=${h?.decisions ?? []} />`}
  </section>`
}

function Decisions ({ decisions }: { decisions: HistoryDecision[] }) {
  if (decisions.length === 0) return html`<p class="muted" data-testid="decisions">No scaling decisions in this window.</p>`
  return html`<details class="decisions" data-testid="decisions">
    <summary>Scaling decisions in this window (${decisions.length})</summary>
    <div class="table-wrap"><table>
      <thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Replicas</th><th scope="col">Rule</th><th scope="col">Outcome</th></tr></thead>
      <tbody>${[...decisions].reverse().map((d, i) => html`<tr key=${`${d.at}-${i}`} data-action=${d.action}>
        <td><time datetime=${new Date(d.at).toISOString()}>${new Date(d.at).toLocaleTimeString()}</time></td>
        <td>${ACTION_TEXT[d.action] ?? d.action}</td><td>${d.from} → ${d.to}</td><td>${d.reason}</td><td>${d.ok ? 'done' : 'failed'}</td>
      </tr>`)}</tbody>
    </table></div>
  </details>`
}
