// Canonical bytes of a bundle and its id: JSON with keys sorted at every
// level and no whitespace (RFC 8785 for the value types a bundle holds).
import { createHash } from 'node:crypto'
import { InvalidInputError } from '@idlegrid/interface'
import type { BundleManifest } from './manifest.js'

/** A manifest plus the bundled script: what is hashed and signed. */
export interface Bundle {
  manifest: BundleManifest
  source: string
}

/**
 * JSON with object keys sorted by UTF-16 code units and no whitespace. Only
 * strings, booleans, safe integers, arrays and plain objects are allowed, so
 * the output equals RFC 8785 (JCS) and any implementation can reproduce it.
 */
export function canonicalJson (value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value)
  }
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw new InvalidInputError(`canonical JSON only holds whole numbers, got ${value}`)
    }
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`
  }
  if (typeof value === 'object') {
    const entries = Object.keys(value).sort()
      .filter(key => (value as Record<string, unknown>)[key] !== undefined)
      .map(key => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
    return `{${entries.join(',')}}`
  }
  throw new InvalidInputError(`canonical JSON cannot hold a ${typeof value}`)
}

/** The canonical UTF-8 bytes of { manifest, source }. */
export function canonicalBundleBytes (bundle: Bundle): Uint8Array {
  return new TextEncoder().encode(canonicalJson({ manifest: bundle.manifest, source: bundle.source }))
}

/** The sha256 digest of the canonical bytes (32 bytes). */
export function bundleDigest (bundle: Bundle): Uint8Array {
  return new Uint8Array(createHash('sha256').update(canonicalBundleBytes(bundle)).digest())
}

/** The bundle id: lowercase hex sha256 of the canonical bytes. */
export function bundleId (bundle: Bundle): string {
  return createHash('sha256').update(canonicalBundleBytes(bundle)).digest('hex')
}
