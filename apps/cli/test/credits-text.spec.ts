// The credit listings people read, from real ledgers (real keys, real
// SQLite files): a receipt paying several tasks shows its first task and how
// many more; `idlegrid job` counts paid results, not receipts.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openLedger } from '@idlegrid/ledger'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { creditsText, jobQuorumText } from '../src/commands/credits.js'
import { receiptInfo } from '../src/daemon/credit-routes.js'
import type { CreditsInfo } from '@idlegrid/control-api'
import type { Ledger } from '@idlegrid/ledger'

describe('credit listings', () => {
  let dir: string
  const ledgers: Ledger[] = []

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'idlegrid-credits-text-'))
  })

  afterEach(async () => {
    for (const l of ledgers.splice(0)) l.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('lists a multi-task receipt as its first task "+N more", and a one-task receipt as its task', async () => {
    const alice = openLedger({ path: join(dir, 'alice.sqlite'), privateKey: await generateKeyPair('Ed25519') })
    const bob = openLedger({ path: join(dir, 'bob.sqlite'), privateKey: await generateKeyPair('Ed25519') })
    ledgers.push(alice, bob)
    const answers = await alice.issueMany([
      ...[3, 4, 9].map(n => ({ worker: bob.peerId, jobId: 'job1', taskId: `job1:${n}`, cpuMs: 1500 })),
      { worker: bob.peerId, jobId: 'job2', taskId: 'job2:0', cpuMs: 700 }
    ])
    const [several, one] = [answers[0], answers[3]]
    expect(several.hash).not.toBe(one.hash)

    // through JSON, as the control API serves it
    const recent = JSON.parse(JSON.stringify(alice.recent().map(receiptInfo)))
    expect(recent.map((r: { moreTaskIds: string[] }) => r.moreTaskIds)).toEqual([[], ['job1:4', 'job1:9']])
    const info: CreditsInfo = { peerId: alice.peerId, earnedMilli: 0, spentMilli: 5200, netMilli: -5200, receipts: { issued: 2, received: 0, unacknowledged: 2 }, peers: [], recent }
    const lines = creditsText(info, several.receipt.timestamp + 5_000).split('\n')
    const line = (hash: string): string => lines.find(l => l.includes(hash.slice(0, 12))) ?? ''
    expect(line(several.hash)).toMatch(/paid to\*\s+\S+\s+job1\s+3 \+2 more\s+4\.5s\s+4\.500\s+1\s/)
    expect(line(one.hash)).toMatch(/paid to\*\s+\S+\s+job2\s+0\s+0\.7s\s+0\.700\s+2\s/)
  })

  it('says how many results a job paid, whatever number of receipts paid them', () => {
    const text = jobQuorumText({
      id: 'j',
      replicas: 1,
      quorum: { verified: 0, unreplicated: 3, disagreements: 0, failed: 0 },
      disagreements: [],
      credit: { owed: 0, receipts: 3, creditedMs: 4500, flags: [] }
    })
    expect(text).toMatch(/credit\s+3 results paid for 4\.500 credits · 0 owed/)
  })
})
