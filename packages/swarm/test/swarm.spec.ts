import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createSwarm, createSwarmKey, decodeInvite, encodeInvite, joinSwarm, leaveSwarm, listSwarms,
  loadSwarm, parseSwarmKey, swarmId, trustAdd, trustRemove
} from '../src/index.js'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('swarm key', () => {
  it('is a libp2p PSK file with a stable public id', () => {
    const key = createSwarmKey()
    expect(key).toHaveLength(95)
    expect(new TextDecoder().decode(key)).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
    expect(swarmId(key)).toBe(swarmId(key.slice()))
    expect(swarmId(key)).not.toBe(swarmId(createSwarmKey()))
    expect(swarmId(key)).not.toContain(parseSwarmKey(key))
  })

  it('rejects files of the wrong format', () => {
    expect(() => parseSwarmKey(new TextEncoder().encode('hello'))).toThrow(/not a libp2p swarm key/)
    const short = new TextEncoder().encode('/key/swarm/psk/1.0.0/\n/base16/\nabcd')
    expect(() => parseSwarmKey(short)).toThrow(/64 lowercase hexadecimal characters, found 4/)
  })
})

describe('invite', () => {
  it('round-trips name, key, bootstrap and creator', async () => {
    const creator = await newPeerId()
    const key = createSwarmKey()
    const token = encodeInvite({ name: 'lab', key, bootstrap: ['/ip4/127.0.0.1/tcp/4101'], creator })
    expect(token).toMatch(/^idlegrid-invite1\./)
    const back = decodeInvite(token)
    expect(back).toEqual({ name: 'lab', key, bootstrap: ['/ip4/127.0.0.1/tcp/4101'], creator })
  })

  it('catches a mistyped, truncated or foreign invite', async () => {
    const token = encodeInvite({ name: 'lab', key: createSwarmKey(), bootstrap: [], creator: await newPeerId() })
    const [prefix, payload, sum] = token.split('.')
    const flipped = payload.slice(0, 10) + (payload[10] === 'A' ? 'B' : 'A') + payload.slice(11)
    expect(() => decodeInvite(`${prefix}.${flipped}.${sum}`)).toThrow(/checksum does not match/)
    expect(() => decodeInvite(token.slice(0, token.length - 3))).toThrow(/checksum does not match/)
    expect(() => decodeInvite(token.slice(0, 20))).toThrow(/not an IdleGrid invite/)
    expect(() => decodeInvite('hello')).toThrow(/not an IdleGrid invite/)
  })

  it('refuses bad names and bootstrap addresses', async () => {
    const creator = await newPeerId()
    expect(() => encodeInvite({ name: 'Lab Team', key: createSwarmKey(), bootstrap: [], creator })).toThrow(/swarm name "Lab Team" is not valid/)
    const token = encodeInvite({ name: 'lab', key: createSwarmKey(), bootstrap: ['not-an-addr'], creator })
    expect(() => decodeInvite(token)).toThrow(/not a multiaddr: not-an-addr/)
  })
})

describe('swarm store', () => {
  let dir: string
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'idlegrid-swarm-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates a swarm whose invite joins another node to the same swarm', async () => {
    const creator = await newPeerId()
    const { swarm, invite } = await createSwarm(dir, { name: 'lab', creator, bootstrap: ['/ip4/127.0.0.1/tcp/4101'] })
    expect(swarm.trusted).toEqual([creator])
    const keyStat = await import('node:fs/promises').then(async (fs) => fs.stat(join(dir, 'swarms/lab/swarm.key')))
    expect(keyStat.mode & 0o777).toBe(0o600)

    const other = await mkdtemp(join(tmpdir(), 'idlegrid-swarm-'))
    try {
      const joined = await joinSwarm(other, invite)
      expect(joined.id).toBe(swarm.id)
      expect(joined.key).toEqual(swarm.key)
      expect(joined.trusted).toEqual([creator])
      // an address without /p2p is the creator's own
      expect(joined.bootstrap).toEqual([`/ip4/127.0.0.1/tcp/4101/p2p/${creator}`])
      expect((await listSwarms(other)).map((s) => s.name)).toEqual(['lab'])
    } finally {
      await rm(other, { recursive: true, force: true })
    }
  })

  it('refuses to join a swarm twice and keeps the existing key', async () => {
    const { invite } = await createSwarm(dir, { name: 'lab', creator: await newPeerId() })
    const before = await readFile(join(dir, 'swarms/lab/swarm.key'))
    await expect(joinSwarm(dir, invite)).rejects.toThrow(/already a member of swarm "lab" \(the same swarm\)/)
    const elsewhere = await mkdtemp(join(tmpdir(), 'idlegrid-swarm-'))
    try {
      const { invite: other } = await createSwarm(elsewhere, { name: 'lab', creator: await newPeerId() })
      await expect(joinSwarm(dir, other)).rejects.toThrow(/a different swarm of that name/)
    } finally {
      await rm(elsewhere, { recursive: true, force: true })
    }
    expect(await readFile(join(dir, 'swarms/lab/swarm.key'))).toEqual(before)
  })

  it('refuses a key file readable by others or of the wrong format', async () => {
    await createSwarm(dir, { name: 'lab', creator: await newPeerId() })
    const keyPath = join(dir, 'swarms/lab/swarm.key')
    await chmod(keyPath, 0o644)
    await expect(loadSwarm(dir, 'lab')).rejects.toThrow(/can be read by other users \(mode 644\).*chmod 600/)
    await chmod(keyPath, 0o600)
    await writeFile(keyPath, 'garbage')
    await expect(loadSwarm(dir, 'lab')).rejects.toThrow(/is not a libp2p swarm key/)
  })

  it('keeps at least one trusted signer', async () => {
    const creator = await newPeerId()
    const friend = await newPeerId()
    await createSwarm(dir, { name: 'lab', creator })
    expect(await trustAdd(dir, 'lab', friend)).toEqual([creator, friend])
    expect(await trustAdd(dir, 'lab', friend)).toEqual([creator, friend])
    expect(await trustRemove(dir, 'lab', creator)).toEqual([friend])
    await expect(trustRemove(dir, 'lab', friend)).rejects.toThrow(/last trusted signer/)
    expect((await loadSwarm(dir, 'lab')).trusted).toEqual([friend])
    await expect(trustAdd(dir, 'lab', 'nope')).rejects.toThrow(/"nope" is not a PeerId/)
  })

  it('leaves a swarm and says so when it is unknown', async () => {
    await createSwarm(dir, { name: 'lab', creator: await newPeerId() })
    await leaveSwarm(dir, 'lab')
    expect(await listSwarms(dir)).toEqual([])
    await expect(leaveSwarm(dir, 'lab')).rejects.toThrow(/not in a swarm named "lab"/)
  })
})
