// Credit across real nodes, the real sandbox and real SQLite ledgers:
// receipts for a whole job, replicas outvoting a volunteer that returns wrong
// results, a disagreement that cannot be settled, a fake submitter pushing
// bad receipts, claims and re-sends over a raw session, and replicas 'auto'.
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildBundle, signBundle } from '@idlegrid/bundle'
import {
  MAX_RECEIPTS_PER_MESSAGE, MAX_RECEIPT_BYTES, MAX_SESSION_MESSAGE_SIZE, ReceiptStatus, Result, ResultAck, SESSION_PROTOCOL, SubmitterMessage,
  decodeSubmitterMessage, decodeWorkerMessage
} from '@idlegrid/protocol-work'
import { createSandboxPool } from '@idlegrid/sandbox-host'
import { startNode, waitFor } from '@idlegrid/test-utils'
import { createWorker, Outbox, SessionClient } from '@idlegrid/worker'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_MAX_ISSUED_RECEIPT_SIZE, MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS, Receipt, encodeReceipt, openLedger, receiptHash, receiptTaskIds, signReceipt
} from '@idlegrid/ledger'
import { startSubmitter, testScope } from './jobs-harness.js'
import type { SubmitterSide } from './jobs-harness.js'
import type { Ledger } from '@idlegrid/ledger'
import type { SubmitterInit } from '@idlegrid/jobs'
import type { IdleGridNode } from '@idlegrid/node'
import type { Worker, WorkerInit } from '@idlegrid/worker'
type Stream = Parameters<Parameters<IdleGridNode['libp2p']['handle']>[1]>[0]

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>

// deterministic, and busy enough to use measurable CPU (Date is frozen in deterministic mode, so count)
const JOB_SOURCE = `
export default function (input) {
  let x = 0
  for (let i = 0; i < 300000; i++) x = (x + i) % 9973
  return { n: input.n, square: input.n * input.n, x }
}
`
const json = (v: unknown): Uint8Array<ArrayBuffer> => new TextEncoder().encode(JSON.stringify(v))

/** mulberry32: a small seeded generator, so 'auto' spot checks are the same on every run. */
function seeded (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6D2B79F5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Receipts a ledger holds that others issued to it. */
const receivedCount = (ledger: Ledger): number => ledger.balances().peers.reduce((n, p) => n + p.received, 0)

/** Every task the given receipts pay, sorted (a receipt pays one or more tasks of one job). */
const paidTasks = (receipts: Array<{ receipt: Receipt }>): string[] => receipts.flatMap(r => receiptTaskIds(r.receipt)).sort()

/** The tasks paid by the receipts a ledger received, sorted; a task paid twice shows twice. */
const receivedTasks = (ledger: Ledger): string[] => paidTasks(ledger.recent(receivedCount(ledger) + 1).filter(r => r.direction === 'received'))

/** Varint length-prefixed frames on a raw stream: the fake submitter's side of the session. */
function frames (stream: Stream): { read(): Promise<Uint8Array>, write(bytes: Uint8Array): void } {
  const it = stream[Symbol.asyncIterator]()
  let buf = new Uint8Array(0)
  const more = async (): Promise<void> => {
    const next = await it.next()
    if (next.done === true) throw new Error('stream ended')
    const chunk = next.value instanceof Uint8Array ? next.value : next.value.subarray()
    buf = Uint8Array.from([...buf, ...chunk])
  }
  return {
    async read () {
      while (true) {
        let len = 0
        let shift = 0
        let i = 0
        for (; i < buf.length; i++) {
          len |= (buf[i] & 0x7f) << shift
          shift += 7
          if ((buf[i] & 0x80) === 0) break
        }
        if (i < buf.length && buf.length >= i + 1 + len) {
          const out = buf.slice(i + 1, i + 1 + len)
          buf = buf.slice(i + 1 + len)
          return out
        }
        await more()
      }
    },
    write (bytes) {
      const prefix: number[] = []
      let n = bytes.byteLength
      while (n >= 0x80) { prefix.push((n & 0x7f) | 0x80); n >>>= 7 }
      prefix.push(n)
      stream.send(Uint8Array.from([...prefix, ...bytes]))
    }
  }
}

interface Peer {
  node: IdleGridNode
  key: PrivateKey
  peerId: string
  ledger: Ledger
  worker: Worker
  stop(): Promise<void>
}

// networks of 3-4 nodes with sandboxes: generous on a loaded 2-core machine
describe('credits: receipts, replicas and trust across real nodes', { timeout: 60_000 }, () => {
  const { dir, defer } = testScope('idlegrid-credits-')

  /** A submitter node with its own ledger. */
  async function submitter (init: Partial<SubmitterInit> = {}): Promise<SubmitterSide & { ledger: Ledger }> {
    const d = await dir()
    const key = await generateKeyPair('Ed25519')
    const ledger = openLedger({ path: join(d, 'ledger.db'), privateKey: key })
    const side = await startSubmitter(d, { key, ledger, ...init })
    defer(async () => { await side.stop(); ledger.close() })
    return { ...side, ledger }
  }

  /** A volunteer node (1 slot) with a real sandbox pool and its own ledger. */
  async function volunteer (bootstrap: string, init: Partial<WorkerInit> & { key?: PrivateKey } = {}): Promise<Peer> {
    const d = await dir()
    const key = init.key ?? await generateKeyPair('Ed25519')
    const node = await startNode({ privateKey: key, bootstrap: [bootstrap], limits: { maxCores: 1 } })
    const ledger = openLedger({ path: join(d, 'ledger.db'), privateKey: key })
    const pool = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
    const worker = await createWorker({ node, sandbox: pool, dbPath: join(d, 'outbox.db'), bundleCacheDir: join(d, 'bundles'), outboxRetryMs: 300, ledger, ...init })
    let stopped = false
    const stop = async (): Promise<void> => {
      if (stopped) return
      stopped = true
      await worker.stop()
      await node.stop()
      await pool.stop()
      ledger.close()
    }
    defer(stop)
    return { node, key, peerId: node.peerId, ledger, worker, stop }
  }

  async function bundle (side: SubmitterSide): Promise<Awaited<ReturnType<typeof signBundle>>> {
    const d = await dir()
    const entry = join(d, 'square.js')
    await writeFile(entry, JOB_SOURCE)
    const built = await buildBundle(entry, { submitter: side.node.peerId, requirements: { memoryMb: 64, timeoutMs: 20_000, deterministic: true } })
    return await signBundle(built, side.key)
  }

  async function squares (side: SubmitterSide, jobId: string): Promise<unknown[]> {
    const out: unknown[] = []
    for await (const r of side.submitter.results(jobId, { signal: AbortSignal.timeout(40_000) })) {
      out.push('value' in r ? (r.value as { square: number }).square : { error: r.error })
    }
    return out
  }

  /** Both sides agree on what was paid, and each ledger's verify() re-derives its own balances. */
  async function expectLedgersAgree (payer: Ledger, payees: Ledger[]): Promise<void> {
    await waitFor(() => payer.unacknowledged().length === 0, { timeoutMs: 10_000, message: 'every receipt acknowledged' })
    const paid = payer.balances()
    for (const payee of payees) {
      const earned = payee.balances()
      const payerView = paid.peers.find(p => p.peer === payee.peerId)
      const payeeView = earned.peers.find(p => p.peer === payer.peerId)
      expect(payeeView?.earnedMilli ?? 0).toBe(payerView?.spentMilli ?? 0)
      expect(payeeView?.received ?? 0).toBe(payerView?.issued ?? 0)
      const report = await payee.verify()
      expect(report).toMatchObject({ ok: true, problems: [] })
      expect(report.balances).toEqual(earned)
    }
    const report = await payer.verify()
    expect(report).toMatchObject({ ok: true, problems: [] })
    expect(report.balances).toEqual(paid)
    expect(paid.spentMilli).toBe(payees.reduce((n, l) => n + l.balances().earnedMilli, 0))
  }

  it('sizes: what a ledger issues is what a Receipts message carries, and 64 of the largest receipts the format allows fit one session message', async () => {
    expect(DEFAULT_MAX_ISSUED_RECEIPT_SIZE).toBeLessThanOrEqual(MAX_RECEIPT_BYTES)
    const d = await dir()
    const key = await generateKeyPair('Ed25519')
    const worker = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const ledger = openLedger({ path: join(d, 'ledger.db'), privateKey: key })
    defer(async () => { ledger.close() })
    // a credit round's worth of one volunteer's tasks with the ids the submitter gives them
    const jobId = 'f'.repeat(16)
    const issued = await ledger.issueMany(Array.from({ length: MAX_RECEIPT_TASKS }, (_, i) => ({ worker, jobId, taskId: `${jobId}:${i * 7}`, cpuMs: 1_000 + i })))
    const receipts = [...new Map(issued.map(r => [r.hash, r.bytes])).values()]
    expect(receipts.length).toBeLessThan(4)
    const message = SubmitterMessage.encode({ receipts: { receipts: receipts.map(b => new Uint8Array(b)) } })
    expect(decodeSubmitterMessage(message).message.receipts?.receipts).toHaveLength(receipts.length)

    const largest = SubmitterMessage.encode({ receipts: { receipts: Array.from({ length: MAX_RECEIPTS_PER_MESSAGE }, () => new Uint8Array(MAX_RECEIPT_SIZE)) } })
    expect(largest.byteLength).toBeLessThan(MAX_SESSION_MESSAGE_SIZE)
  })

  it('pays every accepted result of a job with a receipt both sides hold and agree on', async () => {
    const side = await submitter()
    const address = side.node.addresses()[0]
    const [v1, v2] = await Promise.all([volunteer(address), volunteer(address)])
    const inputs = Array.from({ length: 6 }, (_, n) => ({ n }))
    const jobId = await side.submitter.submit({ signedBundle: await bundle(side), inputs })

    expect(await squares(side, jobId)).toEqual(inputs.map(({ n }) => n * n))
    // done() resolves once the job's results are paid, not only once they are in
    const info = await side.submitter.done(jobId)
    expect(info.credit).toMatchObject({ owed: 0, receipts: 6 })
    await expectLedgersAgree(side.ledger, [v1.ledger, v2.ledger])
    // every result paid exactly once, by receipts that may each pay several of a volunteer's tasks
    expect([...receivedTasks(v1.ledger), ...receivedTasks(v2.ledger)].sort()).toEqual(inputs.map((_, n) => `${jobId}:${n}`).sort())
    expect(receivedCount(v1.ledger) + receivedCount(v2.ledger)).toBeLessThanOrEqual(6)
    expect(info).toMatchObject({ replicas: 1, quorum: { unreplicated: 6, verified: 0 }, credit: { owed: 0, receipts: 6 } })
    expect(info.credit.creditedMs).toBe(side.ledger.balances().spentMilli)
    for (const r of [...v1.ledger.recent(), ...v2.ledger.recent()]) {
      expect(r.receipt).toMatchObject({ issuer: side.node.peerId, jobId })
    }
  })

  it('outvotes a volunteer that returns wrong results: honest results win, it earns nothing and loses its trust record', async () => {
    const side = await submitter()
    const address = side.node.addresses()[0]
    const honest = await volunteer(address)
    const cheat = await volunteer(address, { tamperResult: v => ({ ...(v as object), square: -1 }) })
    for (let i = 0; i < 15; i++) side.ledger.trust.recordValid(cheat.peerId) // a clean record to lose
    const inputs = Array.from({ length: 3 }, (_, n) => ({ n: n + 2 }))
    const jobId = await side.submitter.submit({ signedBundle: await bundle(side), inputs, replicas: 2 })

    // both returned every task: 1 against 1, so each task waits for a third volunteer
    await waitFor(() => side.submitter.job(jobId).disagreements.length === 3, { timeoutMs: 20_000, message: 'three split tasks' })
    expect(side.submitter.job(jobId).tasks.done).toBe(0)
    const tiebreaker = await volunteer(address)

    expect(await squares(side, jobId)).toEqual([4, 9, 16])
    const info = side.submitter.job(jobId)
    expect(info.quorum).toEqual({ verified: 3, unreplicated: 0, disagreements: 3, failed: 0 })
    for (const d of info.disagreements) {
      expect(d.results).toEqual([
        { hash: d.acceptedHash, workers: expect.arrayContaining([honest.peerId, tiebreaker.peerId]) },
        { hash: expect.any(String), workers: [cheat.peerId] }
      ])
    }
    expect(info.volunteers.map(v => v.peerId).sort()).toEqual([honest.peerId, tiebreaker.peerId].sort())
    await waitFor(() => info.credit.receipts === 6 || side.submitter.job(jobId).credit.receipts === 6, { timeoutMs: 10_000, message: 'receipts for the majority' })
    await expectLedgersAgree(side.ledger, [honest.ledger, tiebreaker.ledger, cheat.ledger])
    expect(cheat.ledger.balances()).toMatchObject({ earnedMilli: 0, peers: [] })
    expect(side.ledger.balances().peers.map(p => p.peer)).not.toContain(cheat.peerId)
    expect(side.ledger.trust.get(cheat.peerId)).toMatchObject({ consecutiveValid: 0, totalValid: 15, totalInvalid: 3 })
    expect(side.ledger.trust.get(honest.peerId)).toMatchObject({ consecutiveValid: 3, totalInvalid: 0 })
    expect(side.ledger.trust.get(tiebreaker.peerId)).toMatchObject({ consecutiveValid: 3, totalInvalid: 0 })
  })

  it('fails a task whose replicas never agree, showing each result and who returned it', async () => {
    const side = await submitter({ maxExtraReplicas: 1 })
    const address = side.node.addresses()[0]
    const vs = await Promise.all([
      volunteer(address),
      volunteer(address, { tamperResult: v => ({ ...(v as object), square: 1 }) }),
      volunteer(address, { tamperResult: v => ({ ...(v as object), square: 2 }) })
    ])
    const jobId = await side.submitter.submit({ signedBundle: await bundle(side), inputs: [{ n: 5 }], replicas: 2 })

    const [result] = await squares(side, jobId) as Array<{ error: any }>
    expect(result.error).toMatchObject({ name: 'QuorumFailedError', retryable: false, message: expect.stringContaining('no majority after 3 results') })
    expect(result.error.results).toHaveLength(3)
    expect(result.error.results.flatMap((r: any) => r.workers).sort()).toEqual(vs.map(v => v.peerId).sort())
    for (const r of result.error.results) {
      expect(r.hash).toMatch(/^[0-9a-f]{64}$/)
      expect(r.workers).toHaveLength(1)
    }
    const info = side.submitter.job(jobId)
    expect(info).toMatchObject({ state: 'done', tasks: { failed: 1 }, quorum: { failed: 1, disagreements: 1, verified: 0 }, credit: { owed: 0, receipts: 0 } })
    expect(info.failures).toContainEqual(expect.objectContaining({ name: 'QuorumFailedError', taskId: `${jobId}:0`, results: result.error.results }))
    expect(side.ledger.balances()).toMatchObject({ spentMilli: 0, peers: [] })
    for (const v of vs) {
      // nobody is known to be right: nobody's record changes
      expect(side.ledger.trust.get(v.peerId)).toMatchObject({ totalValid: 0, totalInvalid: 0 })
    }
  })

  it('refuses or flags forged, truncated, replayed, wrongly signed, misaddressed and forked receipts from a fake submitter; the ledger keeps what it had', async () => {
    const d = await dir()
    const fakeKey = await generateKeyPair('Ed25519')
    const fake = await startNode({ privateKey: fakeKey })
    defer(async () => { await fake.stop() })
    const fakeLedger = openLedger({ path: join(d, 'fake-ledger.db'), privateKey: fakeKey })
    defer(async () => { fakeLedger.close() })
    const fakeId = fake.peerId

    // the volunteer has a result for the fake waiting in its outbox, so it opens a session to it
    const key = await generateKeyPair('Ed25519')
    const workerId = peerIdFromPrivateKey(key).toString()
    const outbox = new Outbox(join(d, 'outbox.db'))
    outbox.put(fakeId, 'job-1:0', 1, Result.encode({ requestId: 0, taskId: 'job-1:0', attempt: 1, records: [{ value: json(1) }], cpuMs: 5, wallMs: 5 }))
    outbox.close()

    const genuine = await fakeLedger.issue({ worker: workerId, jobId: 'job-1', taskId: 'job-1:0', cpuMs: 1200 })
    // one receipt paying two tasks
    const [second] = await fakeLedger.issueMany([
      { worker: workerId, jobId: 'job-1', taskId: 'job-1:1', cpuMs: 800 },
      { worker: workerId, jobId: 'job-1', taskId: 'job-1:3', cpuMs: 150 }
    ])
    expect(receiptTaskIds(second.receipt)).toEqual(['job-1:1', 'job-1:3'])
    const other = await generateKeyPair('Ed25519')
    const otherLedger = openLedger({ path: join(d, 'other-ledger.db'), privateKey: other })
    defer(async () => { otherLedger.close() })
    const base = { issuer: fakeId, worker: workerId, jobId: 'job-1', timestamp: Date.now(), signature: new Uint8Array(0) }
    const bad: Array<[string, Uint8Array, string, RegExp]> = [
      ['truncated', genuine.bytes.subarray(0, genuine.bytes.byteLength - 20), 'REFUSED', /^(garbled|non-canonical|bad-field)/],
      ['garbage', Uint8Array.from([0xff, 0xfe, 0x01, 0x02, 0x03]), 'REFUSED', /^(garbled|non-canonical)/],
      ['forged credits', encodeReceipt({ ...genuine.receipt, cpuMs: 999_999, milliCredits: 999_999 }), 'REFUSED', /^bad-signature/],
      ['signed by another key', encodeReceipt(await signReceipt({ ...base, taskId: 'job-1:5', cpuMs: 10, milliCredits: 10, seq: 3, prevHash: new Uint8Array(Buffer.from(second.hash, 'hex')) }, other)), 'REFUSED', /^bad-signature/],
      ['for another worker', (await fakeLedger.issue({ worker: peerIdFromPrivateKey(other).toString(), jobId: 'job-1', taskId: 'job-1:2', cpuMs: 10 })).bytes, 'REFUSED', /^wrong-worker/],
      ['issued by a third peer', (await otherLedger.issue({ worker: workerId, jobId: 'job-x', taskId: 'job-x:0', cpuMs: 10 })).bytes, 'REFUSED', /^wrong-issuer/],
      ['replayed', genuine.bytes, 'DUPLICATE', /^$/],
      ['forked: another seq 1', encodeReceipt(await signReceipt({ ...base, taskId: 'job-1:9', cpuMs: 50_000, milliCredits: 50_000, seq: 1, prevHash: new Uint8Array(0) }, fakeKey)), 'FORK', /conflicting-seq/],
      ['out of sequence: seq 3 not after our seq 2', encodeReceipt(await signReceipt({ ...base, taskId: 'job-1:8', cpuMs: 50_000, milliCredits: 50_000, seq: 3, prevHash: new Uint8Array(32).fill(7) }, fakeKey)), 'FORK', /broken-link/],
      ['a task added to a receipt under its signature', encodeReceipt({ ...second.receipt, moreTaskIds: ['job-1:3', 'job-1:4'] }), 'REFUSED', /^bad-signature/],
      ['one task paid twice in a receipt', encodeReceipt(await signReceipt({ ...base, taskId: 'job-1:6', moreTaskIds: ['job-1:7', 'job-1:6'], cpuMs: 20, milliCredits: 20, seq: 9, prevHash: new Uint8Array(32).fill(3) }, fakeKey)), 'REFUSED', /^bad-field/]
    ]

    const acks: Array<ReturnType<typeof Promise.withResolvers<ReceiptStatus[]>>> = [Promise.withResolvers(), Promise.withResolvers()]
    const batches = [[genuine.bytes, second.bytes], bad.map(([, bytes]) => bytes)]
    const gate = Promise.withResolvers<void>()
    await fake.libp2p.handle(SESSION_PROTOCOL, async (stream) => {
      const lp = frames(stream)
      try {
        const first = decodeWorkerMessage(await lp.read())
        const delivered = first.message.results ?? { requestId: 0, results: [] }
        lp.write(SubmitterMessage.encode({ acks: { requestId: delivered.requestId, acks: delivered.results.map(() => ({ requestId: 0, status: ResultAck.Status.ACCEPTED, reason: '' })) } }))
        for (let i = 0; i < batches.length; i++) {
          if (i === 1) await gate.promise
          const message = SubmitterMessage.encode({ receipts: { receipts: batches[i].map(b => new Uint8Array(b)) } })
          expect(message.byteLength).toBeLessThan(MAX_SESSION_MESSAGE_SIZE)
          lp.write(message)
          const { message: answer } = decodeWorkerMessage(await lp.read())
          acks[i].resolve(answer.receiptAck?.statuses ?? [])
        }
      } catch (err) {
        acks.forEach(a => { a.reject(err) })
      }
    })
    const v = await volunteer(fake.addresses()[0], { key, dbPath: join(d, 'outbox.db') })

    const firstAck = await acks[0].promise
    expect(firstAck.map(s => [s.hash, s.status])).toEqual([[genuine.hash, 'ACCEPTED'], [second.hash, 'ACCEPTED']])
    const held = { recent: v.ledger.recent(), balances: v.ledger.balances() }
    expect(held.balances).toMatchObject({ earnedMilli: 2150, peers: [{ peer: fakeId, earnedMilli: 2150, received: 2 }] })
    expect(paidTasks(held.recent)).toEqual(['job-1:0', 'job-1:1', 'job-1:3'])

    gate.resolve()
    const statuses = await acks[1].promise
    expect(statuses).toHaveLength(bad.length)
    statuses.forEach((s, i) => {
      const [what, , status, reason] = bad[i]
      expect({ what, status: s.status }).toEqual({ what, status })
      expect({ what, reason: s.reason }).toEqual({ what, reason: expect.stringMatching(reason) })
    })
    expect(statuses[6].hash).toBe(genuine.hash)
    // nothing held changed; the forks are kept as evidence and counted nowhere
    expect(v.ledger.recent()).toEqual(held.recent)
    expect(v.ledger.balances()).toEqual(held.balances)
    expect(v.ledger.forks().map(f => f.kind).sort()).toEqual(['broken-link', 'conflicting-seq'])
    const report = await v.ledger.verify()
    expect(report.balances).toEqual(held.balances)
    expect(report.problems.map(p => p.kind)).toEqual(['fork', 'fork'])
    expect(receiptHash(Receipt.decode(genuine.bytes))).toBe(genuine.hash)
  })

  it('caps or refuses implausible CPU claims, refuses unleased results, and re-sends a receipt until the volunteer acknowledges it', async () => {
    const side = await submitter({ receiptResendMs: 60_000 })
    const jobId = await side.submitter.submit({ signedBundle: await bundle(side), inputs: [{ n: 1 }, { n: 2 }, { n: 3 }] })
    const d = await dir()
    const key = await generateKeyPair('Ed25519')
    const peer = await startNode({ privateKey: key, bootstrap: [side.node.addresses()[0]] })
    defer(async () => { await peer.stop() })
    const ledger = openLedger({ path: join(d, 'ledger.db'), privateKey: key })
    defer(async () => { ledger.close() })
    const submitterPeer = peerIdFromString(side.node.peerId)
    const flagged: any[] = []
    side.submitter.addEventListener('credit:flagged', evt => { flagged.push(evt.detail) })

    // a session that never acknowledges the receipts pushed to it
    const pushed: string[] = []
    const deaf = new SessionClient(peer.libp2p, submitterPeer, { onReceipts: receipts => { pushed.push(...receipts.map(b => receiptHash(Receipt.decode(b)))) } })
    const lease = await deaf.lease({ jobId, maxTasks: 3 })
    expect(lease.tasks).toHaveLength(3)
    const deliver = async (i: number, cpuMs: number): Promise<string> => {
      const t = lease.tasks[i]
      const n = i + 1
      const ack = await deaf.deliver({ requestId: 0, taskId: t.taskId, attempt: t.attempt, records: [{ value: json({ n, square: n * n }) }], cpuMs, wallMs: 1 })
      return ack.status
    }
    expect(await deliver(0, 5)).toBe('ACCEPTED')
    expect(await deliver(1, 4_000_000_000)).toBe('ACCEPTED') // 46 days of CPU for one core
    expect(await deliver(2, 19_000)).toBe('ACCEPTED') // under the 20 s limit, far over the wall time the submitter saw
    await waitFor(() => side.submitter.job(jobId).credit.owed === 0, { timeoutMs: 10_000, message: 'credits settled' })
    const before = side.ledger.balances()
    const unleased = await deaf.deliver({ requestId: 0, taskId: lease.tasks[0].taskId, attempt: 9, records: [{ value: json(1) }], cpuMs: 5, wallMs: 5 })
    expect(unleased).toMatchObject({ status: 'REFUSED', reason: expect.stringContaining('was not leased') })
    expect(side.submitter.job(jobId).credit.owed).toBe(0)
    const info = side.submitter.job(jobId)
    expect(info.credit.receipts).toBe(2)
    expect(info.credit.flags).toEqual(expect.arrayContaining([
      expect.objectContaining({ taskId: lease.tasks[1].taskId, claimedMs: 4_000_000_000, creditedMs: 0, reason: expect.stringContaining('over 24 h per core') }),
      expect.objectContaining({ taskId: lease.tasks[2].taskId, claimedMs: 19_000, reason: expect.stringContaining('observed wall time') })
    ]))
    expect(flagged.map(f => f.refused).sort()).toEqual([false, true])
    const capped = info.credit.flags.find(f => f.taskId === lease.tasks[2].taskId)
    expect(capped?.creditedMs).toBeLessThan(19_000)
    expect(side.ledger.balances()).toEqual(before)
    // the two paid tasks (one receipt when both fell in one credit round), not yet acknowledged
    const paidTaskIds = [lease.tasks[0].taskId, lease.tasks[2].taskId].sort()
    expect(paidTasks(side.ledger.unacknowledged(peer.peerId))).toEqual(paidTaskIds)
    expect(info.credit.creditedMs).toBe(before.spentMilli)
    // pushed as soon as issued, each receipt once however many tasks it pays
    await waitFor(() => pushed.length >= side.ledger.unacknowledged(peer.peerId).length, { timeoutMs: 5_000, message: 'receipts pushed on the session' })
    expect(pushed.sort()).toEqual(side.ledger.unacknowledged(peer.peerId).map(r => r.hash).sort())
    deaf.close()

    // next contact: a fresh session gets every unacknowledged receipt at once and acknowledges them
    const listening: SessionClient = new SessionClient(peer.libp2p, submitterPeer, {
      onReceipts: receipts => {
        void (async () => {
          const statuses: ReceiptStatus[] = []
          for (const bytes of receipts) {
            const r = await ledger.accept(bytes)
            statuses.push({ hash: r.hash, status: r.status === 'accepted' ? ReceiptStatus.Status.ACCEPTED : ReceiptStatus.Status.DUPLICATE, reason: '' })
          }
          await listening.notify({ receiptAck: { statuses } })
        })()
      }
    })
    defer(async () => { listening.close() })
    expect(await listening.lease({ jobId, maxTasks: 1 })).toMatchObject({ status: 'NONE_LEFT' })
    await waitFor(() => side.ledger.unacknowledged(peer.peerId).length === 0, { timeoutMs: 10_000, message: 'receipts acknowledged on the next contact' })
    expect(receivedTasks(ledger)).toEqual(paidTaskIds)
    await expectLedgersAgree(side.ledger, [ledger])
    expect(ledger.balances().earnedMilli).toBe(5 + (capped?.creditedMs ?? 0))
  })

  it("replicas 'auto': a volunteer with a long clean record runs most tasks unreplicated; the spot-checked ones go to a second volunteer", async () => {
    const seed = 6
    const side = await submitter({ rng: seeded(seed) })
    const address = side.node.addresses()[0]
    const trustedKey = await generateKeyPair('Ed25519')
    const trustedId = peerIdFromPrivateKey(trustedKey).toString()
    for (let i = 0; i < 200; i++) side.ledger.trust.recordValid(trustedId)
    const p = side.ledger.trust.replicationProbability(trustedId)
    expect(p).toBeLessThan(0.1)
    // the same draws the submitter will make, one per task the trusted volunteer takes first
    const draws = Array.from({ length: 12 }, seeded(seed))
    const spotChecks = draws.filter(x => x < p).length
    expect(spotChecks).toBeGreaterThan(0)

    // nothing leased ahead, so nothing is given back and leased again: one draw per task, as above
    const trusted = await volunteer(address, { key: trustedKey, leaseAhead: 0 })
    let returned = 0
    trusted.worker.addEventListener('result:acked', () => { returned++ })
    const inputs = Array.from({ length: 12 }, (_, n) => ({ n }))
    const jobId = await side.submitter.submit({ signedBundle: await bundle(side), inputs, replicas: 'auto' })
    await waitFor(() => returned === 12, { timeoutMs: 25_000, message: 'the trusted volunteer returned all 12 tasks' })
    expect(side.submitter.job(jobId)).toMatchObject({ replicas: 'auto', tasks: { done: 12 - spotChecks, pending: spotChecks }, quorum: { unreplicated: 12 - spotChecks, verified: 0 } })

    const checker = await volunteer(address)
    let checked = 0
    checker.worker.addEventListener('task:start', () => { checked++ })
    expect(await squares(side, jobId)).toEqual(inputs.map(({ n }) => n * n))
    expect(side.submitter.job(jobId).quorum).toEqual({ verified: spotChecks, unreplicated: 12 - spotChecks, disagreements: 0, failed: 0 })
    expect(checked).toBe(spotChecks)
    // trust moves when the results are credited, a moment after they are stored
    await waitFor(() => side.ledger.trust.get(checker.peerId)?.consecutiveValid === spotChecks, { timeoutMs: 10_000, message: 'the spot checks credited' })
    expect(side.ledger.trust.get(trustedId)).toMatchObject({ consecutiveValid: 200 + spotChecks, totalInvalid: 0 })
    expect(side.ledger.trust.get(checker.peerId)).toMatchObject({ consecutiveValid: spotChecks })
    await waitFor(() => side.submitter.job(jobId).credit.receipts === 12 + spotChecks, { timeoutMs: 10_000, message: 'receipts for every counted result' })
    await expectLedgersAgree(side.ledger, [trusted.ledger, checker.ledger])
  })
})
