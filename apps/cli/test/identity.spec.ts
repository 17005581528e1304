// The identity key: created once with mode 0600, reused, and never
// overwritten when it cannot be read or parsed.
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IDENTITY_FILE, loadOrCreateIdentity, readIdentity } from '../src/identity.js'

describe('identity', () => {
  let dataDir: string

  beforeEach(async () => { dataDir = await mkdtemp(join(tmpdir(), 'idlegrid-identity-')) })
  afterEach(async () => { await rm(dataDir, { recursive: true, force: true }) })

  it('creates an Ed25519 key with mode 0600 and reuses it', async () => {
    expect(await readIdentity(dataDir)).toBeUndefined()
    const created = await loadOrCreateIdentity(dataDir)
    expect(created.created).toBe(true)
    expect(created.privateKey.type).toBe('Ed25519')
    expect(created.peerId).toMatch(/^12D3KooW/)
    expect((await stat(join(dataDir, IDENTITY_FILE))).mode & 0o777).toBe(0o600)
    // No temporary file is left beside it.
    expect(await readdir(dataDir)).toEqual([IDENTITY_FILE])

    const again = await loadOrCreateIdentity(dataDir)
    expect(again.created).toBe(false)
    expect(again.peerId).toBe(created.peerId)
  })

  it('refuses a corrupt key and leaves its bytes untouched', async () => {
    const path = join(dataDir, IDENTITY_FILE)
    const junk = Buffer.from('this is not a protobuf key \x00\xff')
    await writeFile(path, junk, { mode: 0o600 })
    await expect(loadOrCreateIdentity(dataDir)).rejects.toMatchObject({
      name: 'IdentityError', message: expect.stringMatching(/identity key .*identity\.key is corrupt .*left untouched/)
    })
    expect(await readFile(path)).toEqual(junk)
  })

  it('refuses a key that cannot be read, and one of the wrong type', async () => {
    const path = join(dataDir, IDENTITY_FILE)
    // A directory where the key should be cannot be read, even as root.
    await mkdir(path)
    await expect(loadOrCreateIdentity(dataDir)).rejects.toMatchObject({ name: 'IdentityError', message: expect.stringMatching(/cannot read the identity key .*EISDIR/) })
    expect((await stat(path)).isDirectory()).toBe(true)
    await rm(path, { recursive: true })

    const secp = privateKeyToProtobuf(await generateKeyPair('secp256k1'))
    await writeFile(path, secp)
    await expect(loadOrCreateIdentity(dataDir)).rejects.toMatchObject({ name: 'IdentityError', message: expect.stringMatching(/secp256k1 key, but IdleGrid needs Ed25519/) })
    expect(new Uint8Array(await readFile(path))).toEqual(secp)
  })
})
