// Tests of receipts that pay several tasks, with real keys and real SQLite
// files: one receipt per (worker, job) per issueMany call, per-task answers
// and repeats, splitting, what a volunteer refuses, and ledgers written
// before receipts paid more than one task.
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_ISSUED_RECEIPT_SIZE, MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS, Receipt, decodeReceipt, encodeReceipt, openLedger,
  receiptHash, receiptTaskIds, sealReceipt, unsignedReceiptBytes
} from '../src/index.js'
import { unsignedFromCanonical } from '../src/receipt.js'
import { ledgerFiles } from './ledger-files.js'
import type { IssueRequest, IssuedReceipt, Ledger, UnsignedReceipt } from '../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

let aliceKey: PrivateKey
let bobKey: PrivateKey
let carolKey: PrivateKey
let alice: Ledger
let bob: Ledger
let carol: Ledger
const files = ledgerFiles('idlegrid-ledger-multi-')
const openAs = files.openAs

function count (name: string, table: string): number {
  const db = new Database(join(files.dir, `${name}.sqlite`), { readonly: true })
  try {
    return (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n
  } finally {
    db.close()
  }
}

async function rejection (promise: Promise<unknown>): Promise<string | undefined> {
  const err = await promise.then(() => undefined, (e: unknown) => e) as { name?: string, reason?: string } | undefined
  expect(err?.name).toBe('ReceiptRejectedError')
  return err?.reason
}

/** A multi-task receipt signed with alice's key for bob, built by hand. */
async function aliceSeals (fields: Partial<UnsignedReceipt>): Promise<Uint8Array> {
  return (await sealReceipt({
    issuer: alice.peerId,
    worker: bob.peerId,
    jobId: 'job',
    taskId: 'a',
    moreTaskIds: ['b', 'c'],
    cpuMs: 30,
    milliCredits: 30,
    seq: 1,
    prevHash: new Uint8Array(0),
    timestamp: 1_700_000_000_000,
    ...fields
  }, aliceKey)).bytes
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Each answer is the receipt that pays its request's task, with the request's own ms. */
function expectCovers (requests: IssueRequest[], answers: IssuedReceipt[]): void {
  expect(answers).toHaveLength(requests.length)
  answers.forEach((a, i) => {
    const r = requests[i]
    expect(a.receipt).toMatchObject({ worker: r.worker, jobId: r.jobId })
    expect(receiptTaskIds(a.receipt)).toContain(r.taskId)
  })
}

beforeAll(async () => {
  aliceKey = await generateKeyPair('Ed25519')
  bobKey = await generateKeyPair('Ed25519')
  carolKey = await generateKeyPair('Ed25519')
})

beforeEach(async () => {
  alice = openAs('alice', aliceKey)
  bob = openAs('bob', bobKey)
  carol = openAs('carol', carolKey)
})

describe('issueMany pays a round with one receipt per (worker, job)', () => {
  it('turns 12 requests for 2 workers x 2 jobs into 4 chained receipts with the right tasks and totals', async () => {
    const workers = [bob.peerId, carol.peerId]
    const requests: IssueRequest[] = Array.from({ length: 12 }, (_, i) => ({
      worker: workers[i % 2], jobId: ['j1', 'j2'][Math.floor(i / 2) % 2], taskId: `t${i}`, cpuMs: 100 + i
    }))
    const answers = await alice.issueMany(requests)
    expectCovers(requests, answers)
    expect(answers.map(a => a.taskCpuMs)).toEqual(requests.map(r => r.cpuMs))

    // groups in order of first appearance: (bob, j1), (carol, j1), (bob, j2), (carol, j2)
    const receipts = [...new Map(answers.map(a => [a.hash, a])).values()]
    expect(receipts.map(r => r.receipt.seq)).toEqual([1, 2, 3, 4])
    expect(receipts.map(r => [r.receipt.worker, r.receipt.jobId, receiptTaskIds(r.receipt)])).toEqual([
      [bob.peerId, 'j1', ['t0', 't4', 't8']],
      [carol.peerId, 'j1', ['t1', 't5', 't9']],
      [bob.peerId, 'j2', ['t2', 't6', 't10']],
      [carol.peerId, 'j2', ['t3', 't7', 't11']]
    ])
    receipts.forEach((r, i) => {
      const own = requests.filter(q => receiptTaskIds(r.receipt).includes(q.taskId))
      const total = own.reduce((n, q) => n + q.cpuMs, 0)
      expect(r.receipt).toMatchObject({ cpuMs: total, milliCredits: total })
      expect(hex(r.receipt.prevHash)).toBe(i === 0 ? '' : receipts[i - 1].hash)
    })
    expect(answers[4].hash).toBe(answers[0].hash)
    expect(answers[4].taskCpuMs).toBe(104)
    expect(count('alice', 'receipts')).toBe(4)
    expect(count('alice', 'receipt_tasks')).toBe(12)

    // the volunteers accept them as they are; balances are the sums of the receipts
    const forBob = receipts.filter(r => r.receipt.worker === bob.peerId)
    expect((await bob.acceptMany(forBob.map(r => r.bytes))).map(a => a.status === 'fulfilled' && a.value.status)).toEqual(['accepted', 'accepted'])
    const bobMilli = requests.filter(q => q.worker === bob.peerId).reduce((n, q) => n + q.cpuMs, 0)
    expect(bob.balances()).toMatchObject({ earnedMilli: bobMilli, peers: [{ peer: alice.peerId, earnedMilli: bobMilli, received: 2 }] })
    expect(alice.balances().spentMilli).toBe(requests.reduce((n, q) => n + q.cpuMs, 0))
    expect(alice.balances().peers.map(p => p.issued)).toEqual([2, 2])
    expect(bob.recent().map(s => receiptTaskIds(s.receipt))).toEqual([['t2', 't6', 't10'], ['t0', 't4', 't8']])
    expect(alice.unacknowledged(bob.peerId).map(s => s.hash)).toEqual(forBob.map(r => r.hash))
    expect(await alice.verify()).toMatchObject({ ok: true, issued: 4, problems: [] })
    expect(await bob.verify()).toMatchObject({ ok: true, received: 2, problems: [] })
  })

  it('answers a repeat, in the same call or a later one, with the receipt that paid the task and the ms first credited', async () => {
    const first = await alice.issueMany([
      { worker: bob.peerId, jobId: 'job', taskId: 'a', cpuMs: 10 },
      { worker: bob.peerId, jobId: 'job', taskId: 'b', cpuMs: 20 },
      { worker: bob.peerId, jobId: 'job', taskId: 'a', cpuMs: 99 },
      { worker: bob.peerId, jobId: 'job', taskId: 'c', cpuMs: 30 }
    ])
    expect(new Set(first.map(a => a.hash)).size).toBe(1)
    expect(receiptTaskIds(first[0].receipt)).toEqual(['a', 'b', 'c'])
    expect(first[0].receipt.cpuMs).toBe(60)
    expect(first.map(a => a.taskCpuMs)).toEqual([10, 20, 10, 30])
    alice.markAcknowledged(first[0].hash)

    const later = await alice.issueMany([
      { worker: bob.peerId, jobId: 'job', taskId: 'b', cpuMs: 1 },
      { worker: bob.peerId, jobId: 'job', taskId: 'd', cpuMs: 40 },
      { worker: bob.peerId, jobId: 'job', taskId: 'c', cpuMs: 2 },
      { worker: bob.peerId, jobId: 'job', taskId: 'e', cpuMs: 50 }
    ])
    expect(later.map(a => a.hash)).toEqual([first[0].hash, later[1].hash, first[0].hash, later[1].hash])
    expect(later.map(a => a.taskCpuMs)).toEqual([20, 40, 30, 50])
    expect(later[0]).toMatchObject({ acknowledged: true, receipt: { seq: 1, cpuMs: 60 } })
    expect(later[1]).toMatchObject({ acknowledged: false, receipt: { seq: 2, cpuMs: 90, taskId: 'd', moreTaskIds: ['e'] } })
    expect(hex(later[1].receipt.prevHash)).toBe(first[0].hash)
    // the same task for another worker is another credit
    const other = await alice.issue({ worker: carol.peerId, jobId: 'job', taskId: 'a', cpuMs: 7 })
    expect(other).toMatchObject({ taskCpuMs: 7, receipt: { seq: 3, worker: carol.peerId } })
    expect(await alice.issue({ worker: bob.peerId, jobId: 'job', taskId: 'e', cpuMs: 3 })).toMatchObject({ hash: later[1].hash, taskCpuMs: 50 })
    expect(count('alice', 'receipts')).toBe(3)
    expect((await alice.verify()).ok).toBe(true)
  })

  it(`splits more than ${MAX_RECEIPT_TASKS} tasks of one worker and job, and tasks whose receipt would be over maxReceiptSize`, async () => {
    const many = Array.from({ length: MAX_RECEIPT_TASKS + 44 }, (_, i) => ({ worker: bob.peerId, jobId: 'job', taskId: `${i}`, cpuMs: 1 }))
    const answers = await alice.issueMany(many)
    expectCovers(many, answers)
    const receipts = [...new Map(answers.map(a => [a.hash, a.receipt])).values()]
    expect(receipts.map(r => receiptTaskIds(r).length)).toEqual([MAX_RECEIPT_TASKS, 44])
    expect(receipts.flatMap(receiptTaskIds)).toEqual(many.map(r => r.taskId))
    expect(receipts.map(r => r.cpuMs)).toEqual([MAX_RECEIPT_TASKS, 44])

    // long ids: 100 x 60 bytes do not fit 4096 bytes
    const long = Array.from({ length: 100 }, (_, i) => ({ worker: bob.peerId, jobId: 'job', taskId: `long-${i}`.padEnd(60, '.'), cpuMs: 2 }))
    const split = await alice.issueMany(long)
    const parts = [...new Map(split.map(a => [a.hash, a])).values()]
    expect(parts.length).toBeGreaterThan(1)
    expect(parts.flatMap(p => receiptTaskIds(p.receipt))).toEqual(long.map(r => r.taskId))
    for (const p of parts) expect(p.bytes.byteLength).toBeLessThanOrEqual(DEFAULT_MAX_ISSUED_RECEIPT_SIZE)
    // filled up to the limit, not a task short of it (the size is worked out, not guessed)
    expect(parts[0].bytes.byteLength + 2 + 60).toBeGreaterThan(DEFAULT_MAX_ISSUED_RECEIPT_SIZE)
    expect(parts.map(p => p.receipt.seq)).toEqual(parts.map((_, i) => 3 + i))

    const all = [...receipts.map(r => encodeReceipt(r)), ...parts.map(p => p.bytes)]
    const accepted = await bob.acceptMany(all)
    expect(accepted.every(a => a.status === 'fulfilled' && a.value.status === 'accepted')).toBe(true)
    expect(bob.balances().earnedMilli).toBe(MAX_RECEIPT_TASKS + 44 + 200)
    expect(() => openLedger({ path: join(files.dir, 'x.sqlite'), privateKey: aliceKey, maxReceiptSize: MAX_RECEIPT_SIZE + 1 })).toThrow(/maxReceiptSize/)
  })
})

describe('the encodings a receipt is signed, hashed and sent in', () => {
  it('seals to the canonical encoding, and its unsigned encoding is the one cut from it, for every shape of receipt', async () => {
    const base: UnsignedReceipt = { issuer: alice.peerId, worker: bob.peerId, jobId: 'job', taskId: 'job:0', cpuMs: 1500, milliCredits: 1500, seq: 2, prevHash: new Uint8Array(32).fill(9), timestamp: 1_700_000_000_000 }
    const shapes: Array<[string, UnsignedReceipt]> = [
      ['one task', base],
      ['the first of a chain (no prevHash)', { ...base, seq: 1, prevHash: new Uint8Array(0) }],
      ['zero credits (fields left out)', { ...base, cpuMs: 0, milliCredits: 0 }],
      ['several tasks', { ...base, moreTaskIds: ['job:1', 'job:2', 'job:7'] }],
      ['the most tasks, long ids', { ...base, moreTaskIds: Array.from({ length: MAX_RECEIPT_TASKS - 1 }, (_, i) => `job:${'9'.repeat(40)}${i}`) }],
      ['non-ASCII ids', { ...base, jobId: 'jöb-✓', taskId: 'jöb-✓:0', moreTaskIds: ['jöb-✓:1'] }]
    ]
    for (const [shape, unsigned] of shapes) {
      const sealed = await sealReceipt(unsigned, aliceKey)
      expect(sealed.bytes, shape).toEqual(encodeReceipt(sealed.receipt))
      expect(unsignedFromCanonical(sealed.bytes), shape).toEqual(unsignedReceiptBytes(sealed.receipt))
      expect(sealed.hash, shape).toBe(receiptHash(sealed.receipt))
      expect((await bob.accept(sealed.bytes)).hash, shape).toBe(sealed.hash)
    }
  })
})

describe('a volunteer and multi-task receipts', () => {
  it('accepts a genuine one once; refuses a changed task list, repeated, empty, oversize or too many task ids, and a non-canonical encoding', async () => {
    const [issued] = await alice.issueMany(['a', 'b', 'c'].map(taskId => ({ worker: bob.peerId, jobId: 'job', taskId, cpuMs: 10 })))
    expect(receiptTaskIds(issued.receipt)).toEqual(['a', 'b', 'c'])
    const balances = bob.balances()
    const signature = issued.receipt.signature
    const cases: Array<[string, Uint8Array, string]> = [
      ['a task swapped under the signature', encodeReceipt({ ...issued.receipt, moreTaskIds: ['b', 'x'] }), 'bad-signature'],
      ['a task dropped under the signature', encodeReceipt({ ...issued.receipt, moreTaskIds: ['b'] }), 'bad-signature'],
      ['a task added under the signature', encodeReceipt({ ...issued.receipt, moreTaskIds: ['b', 'c', 'd'] }), 'bad-signature'],
      ['tasks reordered under the signature', encodeReceipt({ ...issued.receipt, moreTaskIds: ['c', 'b'] }), 'bad-signature'],
      ['a task listed twice', await aliceSeals({ moreTaskIds: ['b', 'a'] }), 'bad-field'],
      ['a task repeated in moreTaskIds', await aliceSeals({ moreTaskIds: ['b', 'b'] }), 'bad-field'],
      ['an empty task id', await aliceSeals({ moreTaskIds: ['b', ''] }), 'bad-field'],
      ['a 257-byte task id', await aliceSeals({ moreTaskIds: ['b', 'x'.repeat(257)] }), 'bad-field'],
      ['257 tasks', await aliceSeals({ moreTaskIds: Array.from({ length: MAX_RECEIPT_TASKS }, (_, i) => `m${i}`) }), 'bad-field'],
      ['over MAX_RECEIPT_SIZE', await aliceSeals({ moreTaskIds: Array.from({ length: 300 }, (_, i) => `${i}`.padEnd(250, '.')) }), 'oversize']
    ]
    for (const [what, bytes, reason] of cases) {
      expect({ what, reason: await rejection(bob.accept(bytes)) }).toEqual({ what, reason })
    }
    // non-canonical: the same fields, the task ids written before the signature (and before the first fields)
    const unsigned = Receipt.encode({ ...issued.receipt, signature: new Uint8Array(0) })
    const tail = Receipt.encode({ ...issued.receipt, issuer: '', worker: '', jobId: '', taskId: '', cpuMs: 0, milliCredits: 0, seq: 0, prevHash: new Uint8Array(0), timestamp: 0, signature: new Uint8Array(0) })
    const head = unsigned.subarray(0, unsigned.byteLength - tail.byteLength)
    const sig = Receipt.encode({ signature } as Partial<Receipt>)
    const reordered = [Uint8Array.from([...head, ...tail, ...sig]), Uint8Array.from([...tail, ...head, ...sig])]
    for (const bytes of reordered) {
      expect(Receipt.decode(bytes)).toEqual(issued.receipt)
      expect(await rejection(bob.accept(bytes))).toBe('non-canonical')
    }
    expect(bob.balances()).toEqual(balances)
    expect(count('bob', 'receipts')).toBe(0)

    expect(await bob.accept(issued.bytes)).toMatchObject({ status: 'accepted', hash: issued.hash })
    expect(await bob.accept(issued.bytes)).toMatchObject({ status: 'duplicate' })
    expect(bob.balances().earnedMilli).toBe(30)
    // a conflicting multi-task receipt at the same seq is a fork, and changes no balance
    expect(await bob.accept(await aliceSeals({ moreTaskIds: ['b', 'c', 'd'] }))).toMatchObject({ status: 'fork', evidence: { kind: 'conflicting-seq', seq: 1 } })
    expect(bob.balances().earnedMilli).toBe(30)
    expect(decodeReceipt(issued.bytes).moreTaskIds).toEqual(['b', 'c'])
  })
})

describe('ledgers written when every receipt paid one task', () => {
  /** Turns a ledger file into the shape the previous code wrote: no task index, the old task index on receipts. */
  function makeOld (name: string): void {
    const db = new Database(join(files.dir, `${name}.sqlite`))
    try {
      db.exec(`DROP TABLE receipt_tasks; DELETE FROM meta WHERE key = 'receipt-tasks';
        CREATE INDEX receipts_task ON receipts (job_id, task_id, worker)`)
    } finally {
      db.close()
    }
  }

  it('still answers repeats after the upgrade, goes on with its chain, and verifies mixed one- and multi-task receipts', async () => {
    // one task per call: what the previous code issued
    const old: IssuedReceipt[] = []
    for (let i = 0; i < 4; i++) {
      old.push(await alice.issue({ worker: i % 2 === 0 ? bob.peerId : carol.peerId, jobId: 'old', taskId: `o${i}`, cpuMs: 100 + i }))
    }
    expect(old.map(o => o.receipt.moreTaskIds)).toEqual([[], [], [], []])
    // a one-task receipt is byte for byte what it was before the field existed
    expect(old[0].bytes).toEqual(Receipt.encode({ ...old[0].receipt, moreTaskIds: undefined } as unknown as Receipt))
    await bob.acceptMany([old[0].bytes, old[2].bytes])
    alice.markAcknowledged(old[0].hash)
    alice.close()
    makeOld('alice')

    const reopened = openAs('alice', aliceKey)
    expect(count('alice', 'receipt_tasks')).toBe(4)
    const answers = await reopened.issueMany([
      { worker: bob.peerId, jobId: 'old', taskId: 'o0', cpuMs: 1 },
      { worker: carol.peerId, jobId: 'old', taskId: 'o3', cpuMs: 1 },
      { worker: bob.peerId, jobId: 'old', taskId: 'n1', cpuMs: 11 },
      { worker: bob.peerId, jobId: 'old', taskId: 'n2', cpuMs: 12 }
    ])
    expect(answers.map(a => a.hash)).toEqual([old[0].hash, old[3].hash, answers[2].hash, answers[2].hash])
    expect(answers.map(a => a.taskCpuMs)).toEqual([100, 103, 11, 12])
    expect(answers[0].acknowledged).toBe(true)
    expect(answers[2].receipt).toMatchObject({ seq: 5, taskId: 'n1', moreTaskIds: ['n2'], cpuMs: 23 })
    expect(hex(answers[2].receipt.prevHash)).toBe(old[3].hash)
    expect((await bob.accept(answers[2].bytes)).status).toBe('accepted')
    // the old index is gone, the new one is filled once
    reopened.close()
    const db = new Database(join(files.dir, 'alice.sqlite'), { readonly: true })
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'receipts_task'").all()).toEqual([])
    db.close()
    const again = openAs('alice', aliceKey)
    expect(count('alice', 'receipt_tasks')).toBe(6)
    expect(await again.issue({ worker: bob.peerId, jobId: 'old', taskId: 'n2', cpuMs: 5 })).toMatchObject({ hash: answers[2].hash, taskCpuMs: 12 })

    expect(await again.verify()).toMatchObject({ ok: true, issued: 5, problems: [] })
    expect(await bob.verify()).toMatchObject({ ok: true, received: 3, problems: [] })
    expect(bob.balances().earnedMilli).toBe(100 + 102 + 23)
  })

  it('verify() reports a task index that no longer matches the receipt it names', async () => {
    await alice.issueMany(['a', 'b'].map(taskId => ({ worker: bob.peerId, jobId: 'job', taskId, cpuMs: 10 })))
    const db = new Database(join(files.dir, 'alice.sqlite'))
    db.prepare("UPDATE receipt_tasks SET cpu_ms = 1 WHERE task_id = 'b'").run()
    db.close()
    const report = await alice.verify()
    expect(report.ok).toBe(false)
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'tampered', seq: 1, message: expect.stringContaining('task index') })])
  })
})
