/*
 * Charts with uPlot (small, canvas, no dependencies, works offline from the bundle). One <Chart>
 * per series group; data changes go through setData, so a live chart is not rebuilt. Every chart
 * registers itself in window.faasBridgeCharts under its id: the browser tests read there exactly
 * the data uPlot draws (and the decision marks), never a copy.
 */
import { html } from 'htm/preact'
import { useEffect, useRef } from 'preact/hooks'
import uPlot from 'uplot'

/** points: draw each value as a dot too (sparse series with gaps, e.g. latency of idle buckets) */
export interface ChartSeries { label: string, color: string, fill?: string, dash?: number[], points?: boolean }
/** a vertical mark on the time axis (autoscaler decisions), x in seconds */
export interface ChartMark { x: number, label: string, color: string }

export interface ChartHandle { plot: uPlot, marks: ChartMark[] }
declare global {
  interface Window { faasBridgeCharts?: Map<string, ChartHandle> }
}
const registry = (): Map<string, ChartHandle> => (window.faasBridgeCharts ??= new Map())

/** the how-many-th mark this is among those close before it (their labels are stacked, not overdrawn) */
function marksAt (marks: ChartMark[], m: ChartMark): number {
  const i = marks.indexOf(m)
  let n = 0
  for (let j = i - 1; j >= 0 && n < 6; j--) {
    if (Math.abs((marks[j] as ChartMark).x - m.x) > 60) break
    n++
  }
  return n
}

/** draws the marks as dashed vertical lines with their label at the top */
function marksPlugin (handle: { marks: ChartMark[] }): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { ctx } = u
        const { top, height, left, width } = u.bbox
        ctx.save()
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`
        ctx.textBaseline = 'top'
        for (const m of handle.marks) {
          const x = Math.round(u.valToPos(m.x, 'x', true))
          if (x < left || x > left + width) continue
          ctx.strokeStyle = m.color
          ctx.fillStyle = m.color
          ctx.lineWidth = devicePixelRatio
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio])
          ctx.beginPath()
          ctx.moveTo(x, top)
          ctx.lineTo(x, top + height)
          ctx.stroke()
          // near the right edge the label goes on the left of its line
          const w = ctx.measureText(m.label).width
          const right = x + 3 * devicePixelRatio + w <= left + width
          ctx.fillText(m.label, right ? x + 3 * devicePixelRatio : x - 3 * devicePixelRatio - w, top + 2 * devicePixelRatio + (marksAt(handle.marks, m) * 13 * devicePixelRatio))
        }
        ctx.restore()
      }
    }
  }
}

export function Chart ({ id, title, unit, series, data, marks = [], height = 180, sparkline = false }: {
  id: string
  title: string
  unit?: string
  series: ChartSeries[]
  /** [x seconds[], ...one array per series] */
  data: uPlot.AlignedData
  marks?: ChartMark[]
  height?: number
  sparkline?: boolean
}) {
  const box = useRef<HTMLDivElement>(null)
  const handle = useRef<ChartHandle | undefined>(undefined)

  useEffect(() => {
    const el = box.current
    if (el === null) return
    const state = { marks }
    const width = Math.max(120, el.clientWidth)
    const opts: uPlot.Options = sparkline
      ? {
          width, height, pxAlign: false, cursor: { show: false }, legend: { show: false }, select: { show: false, left: 0, top: 0, width: 0, height: 0 },
          scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{ show: false }, { show: false }],
          series: [{}, ...series.map((s) => ({ stroke: s.color, fill: s.fill, width: 1.5, points: { show: false } }))]
        }
      : {
          width, height,
          scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max * 1.1)] } },
          axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } },
            { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' }, size: 56, label: unit, labelSize: 16 }],
          series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, fill: s.fill, width: 2, dash: s.dash, spanGaps: false, points: { show: s.points === true, size: 5, fill: s.color } }))],
          plugins: [marksPlugin(state)]
        }
    const plot = new uPlot(opts, data, el)
    const h: ChartHandle = { plot, get marks () { return state.marks }, set marks (m) { state.marks = m } }
    handle.current = h
    registry().set(id, h)
    const resize = new ResizeObserver(() => { plot.setSize({ width: Math.max(120, el.clientWidth), height }) })
    resize.observe(el)
    return () => {
      resize.disconnect()
      registry().delete(id)
      plot.destroy()
      handle.current = undefined
    }
    // the chart is built once per id and shape; data and marks flow in below
  }, [id, sparkline, height, series.length])

  useEffect(() => {
    const h = handle.current
    if (h === undefined) return
    h.marks = marks
    h.plot.setData(data)
  }, [data, marks])

  return html`<figure class=${sparkline ? 'chart spark' : 'chart'} data-chart=${id}>
    ${sparkline ? null : html`<figcaption>${title}</figcaption>`}
    <div ref=${box} class="chart-box" role="img" aria-label=${title}></div>
  </figure>`
}
