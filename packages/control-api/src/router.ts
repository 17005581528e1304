// Matches `METHOD /path/:param` patterns against requests. Pure: no HTTP here.

/** One parsed route pattern with its handler. */
export interface CompiledRoute<H> {
  method: string
  pattern: string
  segments: string[]
  handler: H
}

export interface RouteMatch<H> {
  handler: H
  params: Record<string, string>
  pattern: string
}

export type RouteLookup<H> =
  | { kind: 'match', match: RouteMatch<H> }
  /** The path exists, but not for this method. */
  | { kind: 'method-not-allowed', allowed: string[] }
  | { kind: 'not-found' }

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'])

/**
 * Compiles a route table. Keys look like `GET /v1/jobs/:id`.
 *
 * @throws TypeError for a malformed key or two keys for the same route
 */
export function compileRoutes<H> (routes: Record<string, H>): Array<CompiledRoute<H>> {
  const compiled: Array<CompiledRoute<H>> = []
  const seen = new Set<string>()
  for (const [key, handler] of Object.entries(routes)) {
    const [method, path, ...rest] = key.trim().split(/\s+/)
    if (method == null || path == null || rest.length > 0 || !METHODS.has(method) || !path.startsWith('/')) {
      throw new TypeError(`route "${key}" must look like "GET /path/:param" with one of ${[...METHODS].join(', ')}`)
    }
    const segments = splitPath(path)
    const shape = `${method} /${segments.map(s => s.startsWith(':') ? ':' : s).join('/')}`
    if (seen.has(shape)) {
      throw new TypeError(`route "${key}" is defined twice`)
    }
    seen.add(shape)
    compiled.push({ method, pattern: key, segments, handler })
  }
  // Literal segments win over parameters, so `/jobs/active` beats `/jobs/:id`.
  return compiled.sort((a, b) => specificity(b) - specificity(a))
}

/** Finds the route for a method and a path (without query string). */
export function matchRoute<H> (routes: Array<CompiledRoute<H>>, method: string, path: string): RouteLookup<H> {
  let segments: string[]
  try {
    segments = splitPath(path).map(s => decodeURIComponent(s))
  } catch {
    return { kind: 'not-found' }
  }
  const allowed: string[] = []
  for (const route of routes) {
    const params = matchSegments(route.segments, segments)
    if (params == null) {
      continue
    }
    if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
      return { kind: 'match', match: { handler: route.handler, params, pattern: route.pattern } }
    }
    allowed.push(route.method)
  }
  return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' }
}

function splitPath (path: string): string[] {
  return path.split('/').filter(s => s.length > 0)
}

function specificity (route: CompiledRoute<unknown>): number {
  return route.segments.reduce((n, s, i) => n + (s.startsWith(':') ? 0 : 2 ** (16 - Math.min(i, 16))), 0)
}

function matchSegments (pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) {
    return undefined
  }
  const params: Record<string, string> = {}
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]
    const a = actual[i]
    if (p.startsWith(':')) {
      params[p.slice(1)] = a
    } else if (p !== a) {
      return undefined
    }
  }
  return params
}
