// The signer policy a swarm member's worker uses: the trust list, its
// re-reading after `trust add`, --run-untrusted, and damaged swarm files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSwarm, decodeInvite, loadSwarm, openTrustPolicy, swarmBootstrap, trustAdd } from '../src/index.js'
import type { TrustPolicy } from '../src/index.js'

async function newPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('trust policy', () => {
  let dir: string
  let policy: TrustPolicy | undefined
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'idlegrid-trust-')) })
  afterEach(async () => {
    policy?.stop()
    policy = undefined
    await rm(dir, { recursive: true, force: true })
  })

  it('accepts the creator, refuses others with a reason that says how to trust them', async () => {
    const creator = await newPeerId()
    const stranger = await newPeerId()
    await createSwarm(dir, { name: 'lab', creator })
    policy = await openTrustPolicy({ dataDir: dir, name: 'lab' })
    expect(policy.acceptSigner(creator)).toBe(true)
    const verdict = policy.acceptSigner(stranger)
    expect(verdict).toBe(`signer ${stranger} is not on this volunteer's trust list for swarm "lab"; a member who trusts it runs \`idlegrid trust add ${stranger} --swarm lab\``)
  })

  it('follows trust add on disk, by reload() at once and by its own timer', async () => {
    const creator = await newPeerId()
    const a = await newPeerId()
    const b = await newPeerId()
    await createSwarm(dir, { name: 'lab', creator })
    policy = await openTrustPolicy({ dataDir: dir, name: 'lab', refreshMs: 50 })
    await trustAdd(dir, 'lab', a)
    expect(await policy.reload()).toEqual([creator, a])
    expect(policy.acceptSigner(a)).toBe(true)
    await trustAdd(dir, 'lab', b)
    const deadline = Date.now() + 5000
    while (policy.acceptSigner(b) !== true && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    expect(policy.acceptSigner(b)).toBe(true)
  })

  it('keeps the last good list when trust.json is damaged, and reports the damage', async () => {
    const creator = await newPeerId()
    await createSwarm(dir, { name: 'lab', creator })
    policy = await openTrustPolicy({ dataDir: dir, name: 'lab' })
    await writeFile(join(dir, 'swarms/lab/trust.json'), '{"trusted": 3}')
    await expect(policy.reload()).rejects.toThrow(/trust\.json is damaged: it must hold \{"trusted"/)
    expect(policy.acceptSigner(creator)).toBe(true)
    await writeFile(join(dir, 'swarms/lab/trust.json'), 'not json')
    await expect(loadSwarm(dir, 'lab')).rejects.toThrow(/trust\.json of swarm "lab" is not valid JSON/)
  })

  it('with runUntrusted accepts any signer', async () => {
    await createSwarm(dir, { name: 'lab', creator: await newPeerId() })
    policy = await openTrustPolicy({ dataDir: dir, name: 'lab', runUntrusted: true })
    expect(policy.runUntrusted).toBe(true)
    expect(policy.acceptSigner(await newPeerId())).toBe(true)
  })

  it('refuses to open for a swarm the node is not in', async () => {
    await expect(openTrustPolicy({ dataDir: dir, name: 'lab' })).rejects.toMatchObject({ name: 'NotFoundError' })
  })
})

describe('swarm bootstrap addresses', () => {
  it('gives an address without /p2p the creator\'s PeerId, keeps full ones, drops repeats', async () => {
    const creator = await newPeerId()
    const other = await newPeerId()
    expect(swarmBootstrap(['/ip4/127.0.0.1/tcp/4101', `/ip4/127.0.0.1/tcp/4102/p2p/${other}`, '/ip4/127.0.0.1/tcp/4101'], creator))
      .toEqual([`/ip4/127.0.0.1/tcp/4101/p2p/${creator}`, `/ip4/127.0.0.1/tcp/4102/p2p/${other}`])
    expect(() => swarmBootstrap(['127.0.0.1:4101'], creator)).toThrow(/bootstrap address "127.0.0.1:4101" is not a multiaddr/)
  })

  it('lands in the invite in that form', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'idlegrid-trust-'))
    try {
      const creator = await newPeerId()
      const { invite } = await createSwarm(dir, { name: 'lab', creator, bootstrap: ['/ip4/127.0.0.1/tcp/4101'] })
      expect(decodeInvite(invite).bootstrap).toEqual([`/ip4/127.0.0.1/tcp/4101/p2p/${creator}`])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
