/*
 * Typed readers for a backend's `options` (from the config file), shared by the drivers so every
 * backend words its mistakes the same way: `<backend> backend: option "<key>" must be …, got …`.
 */

export function isRecord (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export interface OptionReader {
  fail (message: string): never
  /** a non-empty string, or undefined when absent; `where` prefixes nested keys ("namespaces.gcp.") */
  str (opts: Record<string, unknown>, key: string, where?: string): string | undefined
  int (opts: Record<string, unknown>, key: string, fallback: number, min?: number): number
  bool (opts: Record<string, unknown>, key: string, fallback: boolean): boolean
  oneOf<T extends string> (opts: Record<string, unknown>, key: string, allowed: readonly T[], fallback: T, where?: string): T
}

export function optionReader (backend: string): OptionReader {
  const fail = (message: string): never => {
    throw new Error(`${backend} backend: ${message}`)
  }
  return {
    fail,
    str (opts, key, where = '') {
      const v = opts[key]
      if (v === undefined) return undefined
      if (typeof v !== 'string' || v === '') fail(`option "${where}${key}" must be a non-empty string, got ${JSON.stringify(v)}`)
      return v as string
    },
    int (opts, key, fallback, min = 1) {
      const v = opts[key]
      if (v === undefined) return fallback
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(`option "${key}" must be an integer >= ${min}, got ${JSON.stringify(v)}`)
      return v as number
    },
    bool (opts, key, fallback) {
      const v = opts[key]
      if (v === undefined) return fallback
      if (typeof v !== 'boolean') fail(`option "${key}" must be true or false, got ${JSON.stringify(v)}`)
      return v as boolean
    },
    oneOf (opts, key, allowed, fallback, where = '') {
      const v = opts[key]
      if (v === undefined) return fallback
      if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
        fail(`option "${where}${key}" must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${JSON.stringify(v)}`)
      }
      return v as typeof fallback
    }
  }
}
