// preferGivers across real nodes, the real sandbox and real SQLite ledgers: a
// one-slot volunteer leases first from the submitter that ran its own work.
import { join } from 'node:path'
import { openLedger, receiptTaskIds } from '@idlegrid/ledger'
import { createSandboxPool } from '@idlegrid/sandbox-host'
import { waitFor } from '@idlegrid/test-utils'
import { createWorker } from '@idlegrid/worker'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { describe, expect, it } from 'vitest'
import { allResults, fixtureBundle, startSubmitter, testScope } from './jobs-harness.js'
import type { SubmitterSide } from './jobs-harness.js'
import type { Ledger } from '@idlegrid/ledger'
import type { Worker } from '@idlegrid/worker'

describe('credits: preferGivers orders which submitter a volunteer leases from', { timeout: 60_000 }, () => {
  const { dir, defer } = testScope('idlegrid-priority-')

  /** A node (1 slot) with a submitter and its own ledger. */
  async function peer (bootstrap: string[] = []): Promise<SubmitterSide & { ledger: Ledger, dir: string }> {
    const d = await dir()
    const key = await generateKeyPair('Ed25519')
    const ledger = openLedger({ path: join(d, 'ledger.db'), privateKey: key })
    const side = await startSubmitter(d, { key, ledger, bootstrap })
    defer(async () => { await side.stop(); ledger.close() })
    return { ...side, ledger, dir: d }
  }

  /** A worker with a real one-slot sandbox on an existing node, sharing its ledger. */
  async function work (side: SubmitterSide & { ledger: Ledger, dir: string }, preferGivers: boolean): Promise<{ worker: Worker, stop(): Promise<void> }> {
    const pool = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
    const worker = await createWorker({ node: side.node, sandbox: pool, dbPath: join(side.dir, `outbox-${Date.now()}.db`), bundleCacheDir: join(side.dir, 'bundles'), outboxRetryMs: 300, ledger: side.ledger, preferGivers })
    let stopped = false
    const stop = async (): Promise<void> => {
      if (stopped) return
      stopped = true
      await worker.stop()
      await pool.stop()
    }
    defer(stop)
    return { worker, stop }
  }

  /**
   * V (one slot) first has A run a job of its own, so V's ledger holds
   * receipts V issued to A. Then B's job occupies V's slot with a slow first
   * task, A announces a job while it runs, and the order of the tasks V
   * starts afterwards is returned, as 'A' / 'B' per task.
   */
  async function scenario (preferGivers: boolean): Promise<{ order: string[], a: SubmitterSide, b: SubmitterSide, aJob: string, bJob: string }> {
    const v = await peer()
    const address = v.node.addresses()[0]
    const a = await peer([address])
    const b = await peer([address])

    // A gives compute to V for real: A's worker runs V's job, V issues receipts to A
    const aWorker = await work(a, false)
    const vJob = await v.submitter.submit({ signedBundle: await fixtureBundle(v), inputs: [{ n: 1, steps: 2, stepMs: 20 }, { n: 2, steps: 2, stepMs: 20 }] })
    expect(await allResults(v.submitter, vJob)).toMatchObject([{ square: 1 }, { square: 4 }])
    await waitFor(() => v.submitter.job(vJob).credit.receipts === 2, { timeoutMs: 10_000, message: 'V paid both of A\'s results' })
    await aWorker.stop() // A no longer volunteers: only V runs what follows
    // one receipt per credit round pays both tasks, or two if they fell in different rounds
    const toA = v.ledger.recent(10).filter(r => r.direction === 'issued' && r.receipt.worker === a.node.peerId)
    expect(toA.flatMap(r => receiptTaskIds(r.receipt)).sort()).toEqual([`${vJob}:0`, `${vJob}:1`])
    const gave = v.ledger.balances().peers.find(p => p.peer === a.node.peerId)
    expect(gave).toMatchObject({ issued: toA.length })
    expect(gave?.spentMilli).toBeGreaterThan(gave?.earnedMilli ?? 0)
    expect(v.ledger.balances().peers.find(p => p.peer === b.node.peerId)).toBeUndefined()

    const { worker } = await work(v, preferGivers)
    const order: string[] = []
    const who = new Map([[a.node.peerId, 'A'], [b.node.peerId, 'B']])
    const bBusy = Promise.withResolvers<void>()
    worker.addEventListener('task:start', evt => {
      order.push(who.get(evt.detail.submitter) ?? evt.detail.submitter)
      if (order.length === 1) bBusy.resolve()
    })

    // B is heard first and its first task holds V's only slot while A announces
    const bJob = await b.submitter.submit({ signedBundle: await fixtureBundle(b), inputs: [{ n: 10, steps: 20, stepMs: 100 }, { n: 11 }, { n: 12 }] })
    await bBusy.promise
    expect(order).toEqual(['B'])
    const aJob = await a.submitter.submit({ signedBundle: await fixtureBundle(a), inputs: [{ n: 20 }, { n: 21 }, { n: 22 }, { n: 23 }] })
    const [aOut, bOut] = await Promise.all([allResults(a.submitter, aJob), allResults(b.submitter, bJob)])
    expect(aOut).toMatchObject([{ square: 400 }, { square: 441 }, { square: 484 }, { square: 529 }])
    expect(bOut).toMatchObject([{ square: 100 }, { square: 121 }, { square: 144 }])
    return { order, a, b, aJob, bJob }
  }

  it('preferGivers: true: once its slot frees, V runs every task of A (who gave it compute) before the rest of B\'s', async () => {
    const { order } = await scenario(true)
    expect(order).toEqual(['B', 'A', 'A', 'A', 'A', 'B', 'B'])
  })

  it('preferGivers: false (control): the same network keeps to B, whose job V heard of first, so the test above would fail without the preference', async () => {
    const { order } = await scenario(false)
    expect(order).toHaveLength(7)
    // B's bundle is cached by its first task, A's must still be fetched: B's next task wins the freed slot
    expect(order.slice(0, 2)).toEqual(['B', 'B'])
  })
})
