// Tests of the pure claim check and of adaptive trust on a real SQLite file.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_TRUST_FLOOR, DEFAULT_TRUST_THRESHOLD, MIN_PEER_SAMPLES, PEER_MEDIAN_FACTOR, capCpuClaim, median,
  openLedger, openTrustStore, replicationProbability
} from '../src/index.js'

describe('capCpuClaim', () => {
  it('credits a plausible claim as is', () => {
    expect(capCpuClaim(1234, { timeoutMs: 10_000, cores: 1 })).toEqual({ creditedMs: 1234, capped: false, refused: false })
    expect(capCpuClaim(1234.9, { timeoutMs: 10_000, cores: 1 }).creditedMs).toBe(1234)
  })

  it('caps at timeout × cores and at wall × cores', () => {
    expect(capCpuClaim(50_000, { timeoutMs: 10_000, cores: 2 })).toMatchObject({ creditedMs: 20_000, capped: true, reason: expect.stringMatching(/task limit/) })
    expect(capCpuClaim(15_000, { timeoutMs: 10_000, cores: 2, wallMs: 5000 })).toMatchObject({ creditedMs: 10_000, capped: true, reason: expect.stringMatching(/wall time/) })
    expect(capCpuClaim(9000, { timeoutMs: 10_000, cores: 2, wallMs: 5000 }).capped).toBe(false)
  })

  it(`caps at ${PEER_MEDIAN_FACTOR}× the peer median only with ${MIN_PEER_SAMPLES}+ samples`, () => {
    const limits = { timeoutMs: 100_000, cores: 1, peerMedianMs: 1000 }
    expect(capCpuClaim(9000, { ...limits, peerSamples: MIN_PEER_SAMPLES - 1 }).capped).toBe(false)
    expect(capCpuClaim(9000, { ...limits, peerSamples: MIN_PEER_SAMPLES })).toMatchObject({ creditedMs: PEER_MEDIAN_FACTOR * 1000, capped: true, reason: expect.stringMatching(/median/) })
    expect(capCpuClaim(3000, { ...limits, peerSamples: 50 }).capped).toBe(false)
    expect(median([5, 1, 3])).toBe(3)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })

  it('refuses absurd claims', () => {
    for (const claim of [-1, Number.NaN, Number.POSITIVE_INFINITY, 25 * 60 * 60 * 1000, '5' as unknown as number]) {
      expect(capCpuClaim(claim, { timeoutMs: 10_000, cores: 1 }), String(claim)).toMatchObject({ creditedMs: 0, refused: true, capped: true })
    }
    // 24 h is per core: 30 h on 2 cores is only capped.
    expect(capCpuClaim(30 * 60 * 60 * 1000, { timeoutMs: 1000, cores: 2 })).toMatchObject({ refused: false, creditedMs: 2000 })
  })
})

describe('adaptive trust', () => {
  let dir: string

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idlegrid-trust-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('follows p = 1 below the threshold, then max(floor, T / n)', () => {
    const T = DEFAULT_TRUST_THRESHOLD
    expect(replicationProbability(0)).toBe(1)
    expect(replicationProbability(T - 1)).toBe(1)
    expect(replicationProbability(T)).toBe(1)
    expect(replicationProbability(2 * T)).toBe(0.5)
    expect(replicationProbability(10_000)).toBe(DEFAULT_TRUST_FLOOR)
    expect(replicationProbability(8, { threshold: 4, floor: 0.3 })).toBe(0.5)
    expect(replicationProbability(100, { threshold: 4, floor: 0.3 })).toBe(0.3)
  })

  it('replicates new volunteers always, spot-checks trusted ones, resets on an invalid result', async () => {
    const peer = (await import('@libp2p/peer-id')).peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const trust = openTrustStore({ path: join(dir, 'trust.sqlite'), threshold: 3, floor: 0.1 })
    try {
      const never = (): number => 0.999
      expect(trust.needsReplication(peer, never)).toBe(true)
      trust.recordValid(peer)
      trust.recordValid(peer)
      expect(trust.needsReplication(peer, never)).toBe(true)
      trust.recordValid(peer)
      expect(trust.get(peer)).toMatchObject({ consecutiveValid: 3, totalValid: 3, totalInvalid: 0 })
      // At the threshold p = 1; beyond it, a draw above p skips replication.
      for (let i = 0; i < 3; i++) trust.recordValid(peer)
      expect(trust.replicationProbability(peer)).toBe(0.5)
      expect(trust.needsReplication(peer, () => 0.49)).toBe(true)
      expect(trust.needsReplication(peer, () => 0.51)).toBe(false)
      // The default rng gives a rate near p.
      let replicated = 0
      for (let i = 0; i < 2000; i++) if (trust.needsReplication(peer)) replicated++
      expect(replicated).toBeGreaterThan(800)
      expect(replicated).toBeLessThan(1200)
      const after = trust.recordInvalid(peer)
      expect(after).toMatchObject({ consecutiveValid: 0, totalValid: 6, totalInvalid: 1 })
      expect(after.lastInvalidAt).toBeGreaterThan(0)
      expect(trust.needsReplication(peer, never)).toBe(true)
    } finally {
      trust.close()
    }
  })

  it('lives in the ledger file and survives a reopen', async () => {
    const key = await generateKeyPair('Ed25519')
    const path = join(dir, 'ledger.sqlite')
    let ledger = openLedger({ path, privateKey: key })
    ledger.trust.recordValid('12D3KooWpeer')
    ledger.trust.recordValid('12D3KooWpeer')
    ledger.close()
    ledger = openLedger({ path, privateKey: key })
    expect(ledger.trust.get('12D3KooWpeer').consecutiveValid).toBe(2)
    expect(ledger.trust.list()).toHaveLength(1)
    expect(() => ledger.trust.recordValid('')).toThrow(/PeerId/)
    ledger.close()
  })
})
