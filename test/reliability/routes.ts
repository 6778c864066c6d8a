/*
 * Every route an app registers, read from Fastify's own route tree (printRoutes), so that tests
 * iterating over "all routes" also cover routes added later.
 */
import type { FastifyInstance } from 'fastify'

export interface RegisteredRoute {
  url: string
  methods: string[]
}

/** Parses `app.printRoutes({ commonPrefix: false })`: one line per node, children indented by 4. */
export function registeredRoutes (app: FastifyInstance): RegisteredRoute[] {
  const out: RegisteredRoute[] = []
  const stack: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line)
    if (m === null) continue
    const depth = (m[1] as string).length / 4
    stack.length = depth
    const parent = stack[depth - 1] ?? ''
    const segment = m[2] as string
    const url = depth === 0 ? segment : `${parent}${parent.endsWith('/') || segment.startsWith('/') ? '' : '/'}${segment}`
    stack[depth] = url
    if (m[3] !== undefined) out.push({ url, methods: m[3].split(',').map((s) => s.trim()) })
  }
  return out
}

/** A concrete path for a route pattern: `:param` and `*` filled in. */
export function concretePath (url: string, param = 'probe'): string {
  return url.replace(/:[A-Za-z]+/g, param).replace(/\*$/, 'x')
}
