// An on-disk cache of verified bundles, one file per bundle id, written
// atomically and re-checked against its id on every read, and kept under a
// size: the bundles least recently used go first.
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { open, readFile, readdir, rename, stat, unlink, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError } from '@idlegrid/interface'
import { logger } from '@libp2p/logger'
import { DEFAULT_MAX_CACHE_BYTES, DEFAULT_MAX_SOURCE_BYTES } from './constants.js'
import { decodeSignedBundle, encodeSignedBundle, verifyBundle } from './signed.js'
import type { SignedBundle } from './signed.js'

const log = logger('idlegrid:bundle:cache')

export interface BundleCacheInit {
  /** Largest bundle source accepted, UTF-8 bytes. Default DEFAULT_MAX_SOURCE_BYTES. */
  maxBytes?: number
  /**
   * Most bytes the cached files may take together; past it, put() removes
   * the bundles least recently stored or read (never the one it stored).
   * Default DEFAULT_MAX_CACHE_BYTES.
   */
  maxCacheBytes?: number
}

export interface BundleCache {
  /** The bundle with this id, re-verified; undefined when absent or when the file was corrupt (it is then deleted). */
  get(id: string): Promise<SignedBundle | undefined>
  /** Whether a file for this id exists (not re-verified; get() does that). */
  has(id: string): Promise<boolean>
  /** Verifies the bundle against its own submitter and stores it durably. */
  put(bundle: SignedBundle): Promise<void>
  /** Removes a bundle; no error when absent. */
  delete(id: string): Promise<void>
}

function checkId (id: string): void {
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) {
    throw new InvalidInputError(`a bundle id is 64 lowercase hex characters, got ${JSON.stringify(id)}`)
  }
}

/** Opens (creating if needed) a bundle cache in `dir`. */
export function createBundleCache (dir: string, init: BundleCacheInit = {}): BundleCache {
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_SOURCE_BYTES
  const maxCacheBytes = init.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES
  if (!(Number.isSafeInteger(maxCacheBytes) && maxCacheBytes > 0)) {
    throw new InvalidInputError(`maxCacheBytes must be a whole number of bytes above 0, got ${String(init.maxCacheBytes)}`)
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const pathOf = (id: string): string => join(dir, `${id}.bundle`)

  /** Removes the least recently used bundles (by modification time) until the rest fit, keeping `keep`. */
  async function trim (keep: string): Promise<void> {
    const files: Array<{ name: string, size: number, at: number }> = []
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.bundle')) continue
      try {
        const st = await stat(join(dir, name))
        files.push({ name, size: st.size, at: st.mtimeMs })
      } catch {} // removed meanwhile
    }
    let total = files.reduce((n, f) => n + f.size, 0)
    files.sort((a, b) => a.at - b.at)
    for (const f of files) {
      if (total <= maxCacheBytes) break
      if (f.name === `${keep}.bundle`) continue
      await unlink(join(dir, f.name)).catch(() => {})
      total -= f.size
      log('removed cached bundle %s: the cache holds at most %d bytes', f.name.slice(0, -'.bundle'.length), maxCacheBytes)
    }
  }

  async function drop (id: string, why: string): Promise<undefined> {
    log.error('dropping cached bundle %s: %s', id, why)
    await unlink(pathOf(id)).catch(() => {})
    return undefined
  }

  return {
    async get (id) {
      checkId(id)
      let bytes: Uint8Array
      try {
        bytes = await readFile(pathOf(id))
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          return undefined
        }
        throw err
      }
      try {
        const decoded = decodeSignedBundle(bytes, { maxBytes })
        const verified = await verifyBundle(decoded, { signer: decoded.manifest?.submitter, maxBytes })
        if (verified.id !== id) {
          return await drop(id, `file holds bundle ${verified.id}`)
        }
        // read now: the last to go when the cache must make room
        const now = new Date()
        await utimes(pathOf(id), now, now).catch(() => {})
        return verified
      } catch (err) {
        return await drop(id, (err as Error).message)
      }
    },

    async has (id) {
      checkId(id)
      try {
        return (await stat(pathOf(id))).isFile()
      } catch {
        return false
      }
    },

    async put (bundle) {
      const verified = await verifyBundle(bundle, { signer: bundle.manifest?.submitter, maxBytes })
      const bytes = encodeSignedBundle(verified)
      const tmp = join(dir, `.${verified.id}.${randomBytes(6).toString('hex')}.tmp`)
      const file = await open(tmp, 'w', 0o600)
      try {
        await file.writeFile(bytes)
        await file.sync()
      } finally {
        await file.close()
      }
      try {
        await rename(tmp, pathOf(verified.id))
      } catch (err) {
        await unlink(tmp).catch(() => {})
        throw err
      }
      // fsync the directory so the rename itself survives a power cut.
      const dirHandle = await open(dir, 'r')
      try {
        await dirHandle.sync()
      } finally {
        await dirHandle.close()
      }
      await trim(verified.id)
    },

    async delete (id) {
      checkId(id)
      await unlink(pathOf(id)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') {
          throw err
        }
      })
    }
  }
}
