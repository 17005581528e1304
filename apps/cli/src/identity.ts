// The node's Ed25519 identity in <dataDir>/identity.key (mode 0600). A key
// that exists but cannot be read or parsed is an IdentityError and is never
// overwritten: replacing it would silently change the node's PeerId.
import { randomBytes } from 'node:crypto'
import { link, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityError } from '@idlegrid/interface'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'

export const IDENTITY_FILE = 'identity.key'

export interface Identity {
  privateKey: PrivateKey
  peerId: string
  /** The key file's path. */
  path: string
  /** True when this call created the key. */
  created: boolean
}

/**
 * Reads the identity key.
 *
 * @returns undefined when there is no key file yet
 * @throws IdentityError when the file exists but cannot be read or is not an Ed25519 key
 */
export async function readIdentity (dataDir: string): Promise<Identity | undefined> {
  const path = join(dataDir, IDENTITY_FILE)
  let bytes: Buffer
  try {
    bytes = await readFile(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      return undefined
    }
    throw new IdentityError(`cannot read the identity key ${path} (${code ?? (err as Error).message}); it was left untouched: fix its permissions or move it away (a new key means a new PeerId)`, { cause: err })
  }
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new IdentityError(`the identity key ${path} is corrupt (${(err as Error).message}); it was left untouched: restore it from a backup, or move it away to create a new identity (a new key means a new PeerId)`, { cause: err })
  }
  if (privateKey.type !== 'Ed25519') {
    throw new IdentityError(`the identity key ${path} is a ${privateKey.type} key, but IdleGrid needs Ed25519; it was left untouched: move it away to create a new identity`)
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: false }
}

/**
 * Reads the identity key, or creates one when there is none. A new key is
 * written to a temporary file, synced, then hard-linked into place, which
 * fails rather than replaces if a key appeared meanwhile.
 *
 * @throws IdentityError as readIdentity does, or when the key cannot be written
 */
export async function loadOrCreateIdentity (dataDir: string): Promise<Identity> {
  const existing = await readIdentity(dataDir)
  if (existing != null) {
    return existing
  }
  const path = join(dataDir, IDENTITY_FILE)
  const privateKey = await generateKeyPair('Ed25519')
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    const handle = await open(tmp, 'wx', 0o600)
    try {
      await handle.writeFile(privateKeyToProtobuf(privateKey))
      await handle.sync()
    } finally {
      await handle.close()
    }
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      // Another process created the key first: use that one.
      const raced = await readIdentity(dataDir)
      if (raced != null) {
        return raced
      }
    }
    throw new IdentityError(`cannot write a new identity key to ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    await rm(tmp, { force: true })
  }
  return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString(), path, created: true }
}
