// Checks that a value can cross the sandbox boundary (JSON-compatible values
// and Uint8Array, no cycles) and measures it the way the guest runtime does.

/** Why a value cannot cross; `path` says where. */
export class ValueShapeError extends Error {
  static override name = 'ValueShapeError'
}

export class ValueSizeError extends Error {
  static override name = 'ValueSizeError'
}

/**
 * Returns the size of `value` in the guest runtime's measure (UTF-16 code
 * units of strings, bytes of Uint8Array, a few units per structure); throws
 * ValueShapeError for what cannot cross and ValueSizeError above maxBytes.
 */
export function measureValue (value: unknown, maxBytes: number, what: string): number {
  let used = 0
  const ancestors = new Set<object>()
  const spend = (n: number): void => {
    used += n
    if (used > maxBytes) throw new ValueSizeError(`${what} is larger than the limit of ${maxBytes} bytes`)
  }
  const walk = (v: unknown, path: string, depth: number): void => {
    switch (typeof v) {
      case 'string': spend(v.length + 2); return
      case 'number': spend(8); return
      case 'boolean': spend(5); return
      case 'undefined': spend(4); return
      case 'object': break
      default: throw new ValueShapeError(`${what} contains a ${typeof v} at ${path}; only JSON-compatible values and Uint8Array can cross the sandbox boundary`)
    }
    if (v === null) { spend(4); return }
    if (depth > 256) throw new ValueSizeError(`${what} is nested deeper than 256 levels at ${path}`)
    if (ancestors.has(v)) throw new ValueShapeError(`${what} is cyclic at ${path}`)
    if (v instanceof Uint8Array) { spend(v.byteLength + 2); return }
    if (ArrayBuffer.isView(v)) throw new ValueShapeError(`${what} contains a typed array other than Uint8Array at ${path}`)
    ancestors.add(v)
    if (Array.isArray(v)) {
      spend(2 + v.length)
      for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`, depth + 1)
    } else {
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) throw new ValueShapeError(`${what} contains a non-plain object at ${path}`)
      spend(2)
      for (const k of Object.keys(v)) {
        spend(k.length + 4)
        walk((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1)
      }
    }
    ancestors.delete(v)
  }
  walk(value, what, 0)
  return used
}
