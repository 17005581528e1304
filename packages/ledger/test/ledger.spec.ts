// Tests of the ledger with real keys and real SQLite files: issue/accept
// round trips, every refused or flagged receipt, acknowledgements and verify().
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { MAX_RECEIPT_SIZE, Receipt, decodeReceipt, encodeReceipt, openLedger, receiptHash, signReceipt } from '../src/index.js'
import { ledgerFiles } from './ledger-files.js'
import type { Ledger } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

let aliceKey: PrivateKey
let bobKey: PrivateKey
let carolKey: PrivateKey
let alice: Ledger
let bob: Ledger
let carol: string
const files = ledgerFiles('idlegrid-ledger-')
const openAs = files.openAs

/** Row counts read through a second connection, so the test sees the file, not the ledger's view of it. */
function snapshot (name: string): { receipts: number, forks: number, rows: string } {
  const db = new Database(join(files.dir, `${name}.sqlite`), { readonly: true })
  try {
    const receipts = (db.prepare('SELECT COUNT(*) AS n FROM receipts').get() as { n: number }).n
    const forks = (db.prepare('SELECT COUNT(*) AS n FROM forks').get() as { n: number }).n
    const rows = JSON.stringify(db.prepare('SELECT hash, milli_credits, acknowledged FROM receipts ORDER BY hash').all())
    return { receipts, forks, rows }
  } finally {
    db.close()
  }
}

async function expectRejected (promise: Promise<unknown>, reason: string): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e) as { name?: string, reason?: string } | undefined
  expect(err, `expected ReceiptRejectedError (${reason})`).toBeDefined()
  expect(err?.name).toBe('ReceiptRejectedError')
  expect(err?.reason).toBe(reason)
}

/** A receipt signed with alice's key, built by hand (to forge forks and bad links). */
async function aliceSigns (fields: Partial<Receipt>): Promise<Uint8Array> {
  const receipt = await signReceipt({
    issuer: alice.peerId,
    worker: bob.peerId,
    jobId: 'job',
    taskId: 'forged',
    cpuMs: 1000,
    milliCredits: 1000,
    seq: 1,
    prevHash: new Uint8Array(0),
    timestamp: 1_700_000_000_000,
    ...fields
  }, aliceKey)
  return encodeReceipt(receipt)
}

beforeAll(async () => {
  aliceKey = await generateKeyPair('Ed25519')
  bobKey = await generateKeyPair('Ed25519')
  carolKey = await generateKeyPair('Ed25519')
  carol = peerIdFromPrivateKey(carolKey).toString()
})

beforeEach(async () => {
  alice = openAs('alice', aliceKey)
  bob = openAs('bob', bobKey)
})

describe('issue and accept', () => {
  it('round-trips receipts between two ledgers and derives balances', async () => {
    const r1 = await alice.issue({ worker: bob.peerId, jobId: 'job-1', taskId: 't1', cpuMs: 1500 })
    const r2 = await alice.issue({ worker: bob.peerId, jobId: 'job-1', taskId: 't2', cpuMs: 2500 })
    const r3 = await bob.issue({ worker: alice.peerId, jobId: 'job-2', taskId: 't1', cpuMs: 700 })
    expect(r1.receipt.seq).toBe(1)
    expect(r1.receipt.prevHash.byteLength).toBe(0)
    expect(r2.receipt.seq).toBe(2)
    expect(Buffer.from(r2.receipt.prevHash).toString('hex')).toBe(r1.hash)
    expect(r1.receipt.milliCredits).toBe(1500)
    expect(r1.direction).toBe('issued')
    expect(r1.acknowledged).toBe(false)

    expect(await bob.accept(r1.bytes)).toMatchObject({ status: 'accepted', hash: r1.hash })
    expect(await bob.accept(r2.receipt)).toMatchObject({ status: 'accepted', hash: r2.hash })
    expect(await alice.accept(r3.bytes)).toMatchObject({ status: 'accepted', hash: r3.hash })

    expect(bob.balances()).toEqual({
      earnedMilli: 4000,
      spentMilli: 700,
      netMilli: 3300,
      peers: [{ peer: alice.peerId, earnedMilli: 4000, spentMilli: 700, netMilli: 3300, received: 2, issued: 1 }]
    })
    expect(alice.balances()).toMatchObject({ earnedMilli: 700, spentMilli: 4000, netMilli: -3300 })
    expect(bob.recent(2).map(s => s.hash)).toEqual([r2.hash, r1.hash])
    expect(bob.get(r1.hash)?.direction).toBe('received')

    const aliceReport = await alice.verify()
    const bobReport = await bob.verify()
    expect(aliceReport).toMatchObject({ ok: true, receipts: 3, issued: 2, received: 1, problems: [] })
    expect(bobReport).toMatchObject({ ok: true, receipts: 3, issued: 1, received: 2 })
    expect(bobReport.balances).toEqual(bob.balances())
  })

  it('issues once per (job, task, worker), also when called concurrently', async () => {
    const first = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't', cpuMs: 10 })
    const again = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't', cpuMs: 99 })
    expect(again.hash).toBe(first.hash)
    expect(again.receipt.cpuMs).toBe(10)

    const many = await Promise.all(Array.from({ length: 12 }, async (_, i) =>
      alice.issue({ worker: bob.peerId, jobId: 'job', taskId: `c${i % 6}`, cpuMs: i })))
    const seqs = [...new Set(many.map(m => m.receipt.seq))].sort((a, b) => a - b)
    expect(seqs).toEqual([2, 3, 4, 5, 6, 7])
    expect(snapshot('alice').receipts).toBe(7)
    expect((await alice.verify()).ok).toBe(true)
  })

  it('refuses bad issue requests and changes nothing', async () => {
    await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't', cpuMs: 10 })
    const before = snapshot('alice')
    const bad = [
      { worker: alice.peerId, jobId: 'job', taskId: 'x', cpuMs: 1 },
      { worker: 'nobody', jobId: 'job', taskId: 'x', cpuMs: 1 },
      { worker: bob.peerId, jobId: '', taskId: 'x', cpuMs: 1 },
      { worker: bob.peerId, jobId: 'job', taskId: 'x'.repeat(300), cpuMs: 1 },
      { worker: bob.peerId, jobId: 'job', taskId: 'x', cpuMs: -1 },
      { worker: bob.peerId, jobId: 'job', taskId: 'x', cpuMs: 1.5 },
      { worker: bob.peerId, jobId: 'job', taskId: 'x', cpuMs: Number.NaN }
    ]
    for (const request of bad) {
      await expect(alice.issue(request), JSON.stringify(request)).rejects.toMatchObject({ name: 'InvalidInputError' })
    }
    expect(snapshot('alice')).toEqual(before)
    expect((await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 'next', cpuMs: 1 })).receipt.seq).toBe(2)
  })

  it('accepts receipts out of order and with gaps (the rest went to other workers)', async () => {
    const issued = []
    for (let i = 0; i < 5; i++) {
      issued.push(await alice.issue({ worker: i === 1 ? carol : bob.peerId, jobId: 'job', taskId: `t${i}`, cpuMs: 100 }))
    }
    for (const i of [4, 0, 3, 2]) {
      expect((await bob.accept(issued[i].bytes)).status).toBe('accepted')
    }
    expect(bob.balances().earnedMilli).toBe(400)
    expect((await bob.verify()).ok).toBe(true)
  })
})

describe('in groups (one transaction each)', () => {
  it('issueMany chains the receipts in request order, answers repeats with the first receipt, and checks every request first', async () => {
    const first = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't0', cpuMs: 5 })
    const many = await alice.issueMany([
      { worker: bob.peerId, jobId: 'job', taskId: 't1', cpuMs: 10 },
      { worker: carol, jobId: 'job', taskId: 't2', cpuMs: 20 },
      { worker: bob.peerId, jobId: 'job', taskId: 't0', cpuMs: 99 },
      { worker: bob.peerId, jobId: 'job', taskId: 't1', cpuMs: 77 }
    ])
    expect(many.map(m => m.receipt.seq)).toEqual([2, 3, 1, 2])
    expect(many[2].hash).toBe(first.hash)
    expect(many[3].hash).toBe(many[0].hash)
    expect(Buffer.from(many[0].receipt.prevHash).toString('hex')).toBe(first.hash)
    expect(Buffer.from(many[1].receipt.prevHash).toString('hex')).toBe(many[0].hash)
    expect(await alice.issueMany([])).toEqual([])

    const before = snapshot('alice')
    await expect(alice.issueMany([
      { worker: bob.peerId, jobId: 'job', taskId: 'fine', cpuMs: 1 },
      { worker: bob.peerId, jobId: 'job', taskId: 'bad', cpuMs: -1 }
    ])).rejects.toMatchObject({ name: 'InvalidInputError' })
    expect(snapshot('alice')).toEqual(before)
    expect((await alice.verify()).ok).toBe(true)
  })

  it('acceptMany answers each receipt as accept() would in turn, refusing bad ones without losing the good', async () => {
    const [r1, r2] = await alice.issueMany([
      { worker: bob.peerId, jobId: 'job-a', taskId: 't1', cpuMs: 100 },
      { worker: bob.peerId, jobId: 'job-b', taskId: 't2', cpuMs: 200 }
    ])
    const forged = encodeReceipt({ ...r2.receipt, cpuMs: 999_999, milliCredits: 999_999 })
    const fork = await aliceSigns({ seq: 1, taskId: 'other' })
    const answers = await bob.acceptMany([r1.bytes, forged, r2.bytes, r1.bytes, fork, Uint8Array.from([1, 2, 3])])
    expect(answers.map(a => a.status === 'fulfilled' ? a.value.status : (a.reason as { reason: string }).reason))
      .toEqual(['accepted', 'bad-signature', 'accepted', 'duplicate', 'fork', expect.stringMatching(/garbled|non-canonical/)])
    expect(bob.balances().earnedMilli).toBe(300)
    expect(bob.forks()).toHaveLength(1)
  })

  it('markAcknowledgedAll says, per hash, whether it names an issued receipt', async () => {
    const [r1, r2] = await alice.issueMany([
      { worker: bob.peerId, jobId: 'job-a', taskId: 't1', cpuMs: 1 },
      { worker: bob.peerId, jobId: 'job-b', taskId: 't2', cpuMs: 1 }
    ])
    expect(r1.hash).not.toBe(r2.hash)
    expect(alice.markAcknowledgedAll([r1.hash])).toEqual([true])
    expect(alice.markAcknowledgedAll([r1.hash, r2.hash, 'f'.repeat(64)])).toEqual([true, true, false])
    expect(alice.unacknowledged(bob.peerId)).toEqual([])
    expect(() => alice.markAcknowledgedAll(['nope'])).toThrow()
  })
})

describe('bad receipts are refused or flagged, and nothing changes', () => {
  let good: Uint8Array

  beforeEach(async () => {
    const first = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't1', cpuMs: 1000 })
    await bob.accept(first.bytes)
    good = (await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't2', cpuMs: 2000 })).bytes
  })

  it('refuses a forged signature', async () => {
    const before = snapshot('bob')
    const flipped = new Uint8Array(good)
    flipped[flipped.byteLength - 5] ^= 0x01
    await expectRejected(bob.accept(flipped), 'bad-signature')
    // Changed credits under the original signature.
    const receipt = decodeReceipt(good)
    await expectRejected(bob.accept(encodeReceipt({ ...receipt, milliCredits: 999_999 })), 'bad-signature')
    // Signed by carol, claiming to be from alice.
    const byCarol = await signReceipt({ ...receipt }, carolKey)
    await expectRejected(bob.accept(byCarol), 'bad-signature')
    // No signature at all.
    await expectRejected(bob.accept({ ...receipt, signature: new Uint8Array(0) }), 'bad-signature')
    expect(snapshot('bob')).toEqual(before)
  })

  it('refuses truncated, garbled, oversize and non-canonical bytes', async () => {
    const before = snapshot('bob')
    for (let cut = 0; cut < good.byteLength; cut += 7) {
      const err = await bob.accept(good.subarray(0, cut)).then(() => undefined, (e: { name: string }) => e)
      expect(err?.name, `cut at ${cut}`).toBe('ReceiptRejectedError')
    }
    await expectRejected(bob.accept(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f])), 'garbled')
    await expectRejected(bob.accept(new Uint8Array(MAX_RECEIPT_SIZE + 1)), 'oversize')
    await expectRejected(bob.accept(new Uint8Array([...good, 0x78, 0x01])), 'non-canonical')
    await expectRejected(bob.accept({ ...decodeReceipt(good), cpuMs: 'lots' } as unknown as Receipt), 'garbled')
    expect(snapshot('bob')).toEqual(before)
  })

  it('treats a replayed receipt as a duplicate', async () => {
    expect((await bob.accept(good)).status).toBe('accepted')
    const before = snapshot('bob')
    const balances = bob.balances()
    expect(await bob.accept(good)).toMatchObject({ status: 'duplicate' })
    expect(await bob.accept(decodeReceipt(good))).toMatchObject({ status: 'duplicate' })
    expect(snapshot('bob')).toEqual(before)
    expect(bob.balances()).toEqual(balances)
  })

  it('refuses a receipt for another worker, and one issued by itself', async () => {
    const forCarol = await alice.issue({ worker: carol, jobId: 'job', taskId: 't9', cpuMs: 10 })
    const own = await bob.issue({ worker: alice.peerId, jobId: 'job', taskId: 'x', cpuMs: 1 })
    const before = snapshot('bob')
    await expectRejected(bob.accept(forCarol.bytes), 'wrong-worker')
    await expectRejected(bob.accept(own.bytes), 'wrong-worker')
    expect(snapshot('bob')).toEqual(before)
  })

  it('refuses a receipt that arrives from anyone but its issuer (from), naming its hash', async () => {
    const before = snapshot('bob')
    const err = await bob.accept(good, { from: carol }).then(() => undefined, (e: { name: string, reason: string, hash?: string, message: string }) => e)
    expect(err).toMatchObject({ name: 'ReceiptRejectedError', reason: 'wrong-issuer', hash: receiptHash(decodeReceipt(good)) })
    expect(err?.message).toContain(`issued by ${alice.peerId} but arrived from ${carol}`)
    expect(snapshot('bob')).toEqual(before)
    // a refusal after the bytes decode names the receipt too; bytes that do not decode have no hash
    const flipped = new Uint8Array(good)
    flipped[flipped.byteLength - 5] ^= 0x01
    const [forged, garbled, fromAlice] = await bob.acceptMany([flipped, Uint8Array.of(0xff, 0x01), good], { from: alice.peerId })
    expect(forged).toMatchObject({ status: 'rejected', reason: { reason: 'bad-signature', hash: receiptHash(decodeReceipt(flipped)) } })
    expect(garbled.status === 'rejected' && garbled.reason.hash).toBeUndefined()
    expect(fromAlice).toMatchObject({ status: 'fulfilled', value: { status: 'accepted', hash: receiptHash(decodeReceipt(good)) } })
  })

  it('flags a forked issuer (same seq, other content) without changing balances', async () => {
    const balances = bob.balances()
    const before = snapshot('bob')
    const conflicting = await aliceSigns({ seq: 1, taskId: 'other-t1' })
    const result = await bob.accept(conflicting)
    expect(result.status).toBe('fork')
    if (result.status !== 'fork') throw new Error('unreachable')
    expect(result.evidence).toMatchObject({ issuer: alice.peerId, seq: 1, kind: 'conflicting-seq', conflictingHash: receiptHash(decodeReceipt(conflicting)) })
    expect(bob.balances()).toEqual(balances)
    const after = snapshot('bob')
    expect(after.receipts).toBe(before.receipts)
    expect(after.rows).toBe(before.rows)
    expect(after.forks).toBe(1)
    // The same evidence again is not stored twice.
    expect((await bob.accept(conflicting)).status).toBe('fork')
    expect(snapshot('bob').forks).toBe(1)
    expect(bob.forks()).toHaveLength(1)
    const report = await bob.verify()
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'fork', issuer: alice.peerId, seq: 1 })])
  })

  it('flags a broken prevHash link between consecutive known receipts', async () => {
    const balances = bob.balances()
    const bogus = await aliceSigns({ seq: 2, taskId: 't2b', prevHash: new Uint8Array(32).fill(7) })
    expect(await bob.accept(bogus)).toMatchObject({ status: 'fork', evidence: { kind: 'broken-link', seq: 2 } })
    // The genuine seq 2 still links and is accepted.
    expect((await bob.accept(good)).status).toBe('accepted')
    // A seq 3 that does not point at the known seq 2.
    const badNext = await aliceSigns({ seq: 3, taskId: 't3', prevHash: new Uint8Array(32).fill(9) })
    expect(await bob.accept(badNext)).toMatchObject({ status: 'fork', evidence: { kind: 'broken-link' } })
    expect(bob.balances().earnedMilli).toBe(balances.earnedMilli + 2000)
    expect(snapshot('bob').forks).toBe(2)

    // Seen from the other side: the known seq 5 does not point at an arriving, different seq 4.
    await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't3', cpuMs: 1 })
    const real4 = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't4', cpuMs: 1 })
    const real5 = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't5', cpuMs: 1 })
    expect((await bob.accept(real5.bytes)).status).toBe('accepted')
    const fake4 = await aliceSigns({ seq: 4, taskId: 'fake4', prevHash: decodeReceipt(real4.bytes).prevHash })
    expect(await bob.accept(fake4)).toMatchObject({ status: 'fork', evidence: { kind: 'broken-link', knownHash: real5.hash } })
    expect((await bob.accept(real4.bytes)).status).toBe('accepted')
    expect(snapshot('bob').forks).toBe(3)
  })
})

describe('acknowledgements', () => {
  it('lists unacknowledged receipts until the worker acknowledges them, across a reopen', async () => {
    const a = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 'a', cpuMs: 1 })
    const b = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 'b', cpuMs: 1 })
    const c = await alice.issue({ worker: carol, jobId: 'job', taskId: 'c', cpuMs: 1 })
    expect(alice.unacknowledged(bob.peerId).map(s => s.hash)).toEqual([a.hash, b.hash])
    expect(alice.unacknowledged().map(s => s.hash)).toEqual([a.hash, b.hash, c.hash])
    expect(alice.markAcknowledged(a.hash)).toBe(true)
    expect(alice.markAcknowledged(a.hash)).toBe(true)
    expect(alice.markAcknowledged('00'.repeat(32))).toBe(false)
    expect(() => alice.markAcknowledged('nope')).toThrow(/64 lowercase hex/)
    alice.close()
    const reopened = openAs('alice', aliceKey)
    expect(reopened.unacknowledged(bob.peerId).map(s => s.hash)).toEqual([b.hash])
    expect(reopened.get(a.hash)?.acknowledged).toBe(true)
  })

  it('refuses to open a ledger file with another node key', async () => {
    alice.close()
    expect(() => openLedger({ path: join(files.dir, 'alice.sqlite'), privateKey: bobKey })).toThrow(/belongs to node .* not /)
  })
})

describe('verify()', () => {
  it('reports a receipt edited behind the ledger, a forged row and a gap', async () => {
    for (let i = 0; i < 4; i++) {
      const stored = await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: `t${i}`, cpuMs: 1000 })
      await bob.accept(stored.bytes)
    }
    expect((await alice.verify()).ok).toBe(true)

    const db = new Database(join(files.dir, 'alice.sqlite'))
    db.prepare('UPDATE receipts SET milli_credits = 1 WHERE seq = 2').run()
    let report = await alice.verify()
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'tampered', seq: 2 })])
    // verify() derives balances from the signed bytes, not the edited column.
    expect(report.balances.spentMilli).toBe(4000)
    expect(alice.balances().spentMilli).toBe(3001)

    // Bytes edited: the signature no longer verifies.
    const row = db.prepare('SELECT bytes FROM receipts WHERE seq = 3').get() as { bytes: Buffer }
    const receipt = Receipt.decode(row.bytes)
    db.prepare('UPDATE receipts SET bytes = ? WHERE seq = 3').run(Buffer.from(encodeReceipt({ ...receipt, cpuMs: 5 })))
    // A row deleted: the chain has a gap.
    db.prepare('DELETE FROM receipts WHERE seq = 1').run()
    db.close()
    report = await alice.verify()
    const kinds = report.problems.map(p => `${p.kind}:${p.seq}`).sort()
    // seq 3 fails its signature, so the valid chain also jumps from 2 to 4.
    expect(kinds).toEqual(['bad-signature:3', 'chain-gap:2', 'chain-gap:4', 'tampered:2', 'tampered:3'])
    expect((await bob.verify()).ok).toBe(true)
  })
})

describe('balances()', () => {
  /** Per peer and direction, what the receipts in the file sum to, and what the ledger's totals say. */
  function fromFile (name: string): { receipts: unknown[], totals: unknown[] } {
    const db = new Database(files.path(name), { readonly: true })
    try {
      return {
        receipts: db.prepare(`SELECT CASE direction WHEN 'received' THEN issuer ELSE worker END AS peer, direction,
          SUM(milli_credits) AS milli, COUNT(*) AS count FROM receipts GROUP BY 1, 2 ORDER BY 1, 2`).all(),
        totals: db.prepare('SELECT peer, direction, milli, count FROM peer_totals WHERE count > 0 ORDER BY peer, direction').all()
      }
    } finally {
      db.close()
    }
  }

  it('come from totals that follow every change to the receipts; a ledger from before gets its totals when it opens', async () => {
    for (let i = 0; i < 3; i++) {
      await bob.accept((await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: `t${i}`, cpuMs: 100 * (i + 1) })).bytes)
    }
    await alice.accept((await bob.issue({ worker: alice.peerId, jobId: 'job-b', taskId: 'u0', cpuMs: 50 })).bytes)
    for (const name of ['alice', 'bob']) {
      const { receipts, totals } = fromFile(name)
      expect(totals).toEqual(receipts)
      expect(totals).toHaveLength(2)
    }
    expect(bob.balances()).toMatchObject({ earnedMilli: 600, spentMilli: 50 })
    expect(alice.balances()).toMatchObject({ earnedMilli: 50, spentMilli: 600 })

    // edited and deleted behind the ledger's back: the totals still match the rows
    const db = new Database(files.path('alice'))
    db.prepare('UPDATE receipts SET milli_credits = 1 WHERE seq = 2').run()
    db.prepare("DELETE FROM receipts WHERE seq = 3 AND direction = 'issued'").run()
    db.close()
    expect(fromFile('alice').totals).toEqual(fromFile('alice').receipts)
    expect(alice.balances()).toMatchObject({ spentMilli: 101, earnedMilli: 50 })
    const before = alice.balances()

    // a ledger written before the totals: no table, no triggers
    alice.close()
    const old = new Database(files.path('alice'))
    old.exec(`DROP TRIGGER receipts_total_insert; DROP TRIGGER receipts_total_delete; DROP TRIGGER receipts_total_update;
      DROP TABLE peer_totals`)
    old.close()
    alice = openAs('alice', aliceKey)
    expect(alice.balances()).toEqual(before)
    expect(fromFile('alice').totals).toEqual(fromFile('alice').receipts)
    // and its totals follow the receipts from then on
    await bob.accept((await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 't9', cpuMs: 7 })).bytes)
    expect(alice.balances().spentMilli).toBe(108)
    expect(fromFile('alice').totals).toEqual(fromFile('alice').receipts)
  })
})
