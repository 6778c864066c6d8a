/* One line of the closing summary table: a figure, its target and whether it was met. */
export interface Figure {
  /** e.g. "(a) invoke throughput vs bare proxy" */
  name: string
  /** the measured figure as printed, e.g. "1.42x" */
  value: string
  target: string
  met: boolean
}
