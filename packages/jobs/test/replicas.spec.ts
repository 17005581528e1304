// Replicas and quorum in the submitter's store: different peers per replica,
// majority acceptance, more volunteers on disagreement, failure with the
// conflicting results, late replicas, owed credits and 'auto' decisions.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobStore, canonicalJson, resultHash } from '../src/store.js'
import type { NewJob, ReportedOutcome, Replicas } from '../src/store.js'

const enc = new TextEncoder()
const ok = (v: unknown): ReportedOutcome => ({ value: enc.encode(JSON.stringify(v)) })
const MiB = 1024 * 1024

function newJob (id: string, count: number, replicas: Replicas): NewJob {
  return {
    id,
    name: 'test',
    bundleId: 'bundle-1',
    bundle: enc.encode('signed bundle bytes'),
    requirements: { cores: 1, memoryMb: 64, timeoutMs: 1000, gpu: false, deterministic: true },
    batch: 1,
    records: Array.from({ length: count }, (_, i) => enc.encode(JSON.stringify({ n: i }))),
    createdAt: 1000,
    replicas
  }
}

describe('JobStore replicas', () => {
  let dir: string
  let store: JobStore
  let replicate = true

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idlegrid-replicas-'))
    replicate = true
    store = new JobStore({ path: join(dir, 'jobs.db'), leaseMarginMs: 500, replicate: () => replicate })
  })

  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** Leases job a's only task to `worker` and returns its attempt. */
  const take = (worker: string): number => {
    const lease = store.lease('a', worker, 1, MiB, 0)
    expect(lease.status).toBe('granted')
    return lease.tasks[0].attempt
  }

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: null }] })).toBe('{"a":[{"c":null,"d":2}],"b":1}')
    expect(resultHash([{ value: enc.encode('{"x":1,"y":2}') }])).toBe(resultHash([{ value: enc.encode('{"y":2,"x":1}') }]))
    expect(resultHash([ok(1)])).not.toBe(resultHash([ok(2)]))
  })

  it('does not call a grant exhausted while a replica still waits for another worker', () => {
    store.createJob(newJob('a', 1, 2))
    const first = store.lease('a', 'w1', 1, MiB, 0)
    expect(first).toMatchObject({ status: 'granted', remaining: 0 })
    expect(first).not.toHaveProperty('exhausted')
    expect(store.lease('a', 'w2', 1, MiB, 0)).toMatchObject({ status: 'granted', remaining: 0, exhausted: true })
  })

  it('runs each replica on a different peer and accepts when 2 of 2 agree', () => {
    store.createJob(newJob('a', 1, 2))
    const a1 = take('w1')
    expect(store.lease('a', 'w1', 1, MiB, 0)).toMatchObject({ status: 'none-left', reason: expect.stringContaining('other volunteers') })
    expect(store.complete('a:0', a1, 'w1', [ok(4)], 10, 10, 5)).toMatchObject({ status: 'accepted', final: false })
    expect(store.lease('a', 'w1', 1, MiB, 0).status).toBe('none-left')
    const a2 = take('w2')
    expect(store.complete('a:0', a2, 'w2', [ok(4)], 12, 12, 5)).toMatchObject({ status: 'accepted', final: true, reason: expect.stringContaining('2 of 2') })
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 4 }])
    const info = store.job('a')
    expect(info).toMatchObject({ replicas: 2, state: 'done', quorum: { verified: 1, unreplicated: 0, disagreements: 0, failed: 0 }, credit: { owed: 2 } })
    expect(store.owedCredits().map(c => [c.worker, c.verdict, c.claimedMs])).toEqual([['w1', 'valid', 10], ['w2', 'valid', 12]])
  })

  it('asks one more volunteer on disagreement and credits only the majority', () => {
    store.createJob(newJob('a', 1, 2))
    store.complete('a:0', take('w1'), 'w1', [ok(4)], 1, 1)
    expect(store.complete('a:0', take('bad'), 'bad', [ok(5)], 1, 1)).toMatchObject({ final: false, requeued: true })
    expect(store.job('a').tasks.pending).toBe(1)
    expect(store.complete('a:0', take('w3'), 'w3', [ok(4)], 1, 1)).toMatchObject({ final: true, reason: expect.stringContaining('2 of 3') })
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 4 }])
    expect(store.owedCredits().map(c => [c.worker, c.verdict])).toEqual([['w1', 'valid'], ['bad', 'invalid'], ['w3', 'valid']])
    const info = store.job('a')
    expect(info.quorum).toEqual({ verified: 1, unreplicated: 0, disagreements: 1, failed: 0 })
    expect(info.disagreements).toEqual([{ taskId: 'a:0', state: 'done', acceptedHash: resultHash([ok(4)]), results: [{ hash: resultHash([ok(4)]), workers: ['w1', 'w3'] }, { hash: resultHash([ok(5)]), workers: ['bad'] }] }])
    expect(info.volunteers.map(v => v.peerId).sort()).toEqual(['w1', 'w3'])
  })

  it('fails the task with each distinct result and who returned it once the limit is reached', () => {
    store.close()
    store = new JobStore({ path: join(dir, 'jobs.db'), maxExtraReplicas: 1 })
    store.createJob(newJob('a', 1, 2))
    store.complete('a:0', take('w1'), 'w1', [ok(1)], 1, 1)
    store.complete('a:0', take('w2'), 'w2', [ok(2)], 1, 1)
    expect(store.complete('a:0', take('w3'), 'w3', [ok(3)], 1, 1)).toMatchObject({ final: true, reason: expect.stringContaining('no majority after 3 results') })
    const [result] = store.resultsInOrder('a', 0) as Array<{ error: any }>
    expect(result.error).toMatchObject({ name: 'QuorumFailedError', retryable: false })
    expect(result.error.results).toEqual([1, 2, 3].map((v, i) => ({ hash: resultHash([ok(v)]), workers: [`w${i + 1}`] })))
    const info = store.job('a')
    expect(info).toMatchObject({ state: 'done', tasks: { failed: 1 }, quorum: { failed: 1, disagreements: 1 }, credit: { owed: 0 } })
    expect(info.failures).toEqual([expect.objectContaining({ name: 'QuorumFailedError', results: result.error.results })])
    expect(store.owedCredits()).toEqual([])
  })

  it('judges a replica still running at acceptance against the accepted result', () => {
    store.createJob(newJob('a', 1, 3))
    const [a1, a2, a3] = ['w1', 'w2', 'w3'].map(take)
    store.complete('a:0', a1, 'w1', [ok(9)], 1, 1)
    expect(store.complete('a:0', a2, 'w2', [ok(9)], 1, 1)).toMatchObject({ final: true })
    expect(store.complete('a:0', a3, 'w3', [ok(8)], 1, 1)).toMatchObject({ status: 'accepted', reason: expect.stringContaining('disagrees') })
    expect(store.complete('a:0', a3, 'w3', [ok(8)], 1, 1).status).toBe('duplicate')
    expect(store.owedCredits().map(c => [c.worker, c.verdict])).toEqual([['w1', 'valid'], ['w2', 'valid'], ['w3', 'invalid']])
  })

  it("under 'auto' replicates only the tasks the trust rule picks", () => {
    store.createJob(newJob('a', 3, 'auto'))
    replicate = false
    const first = store.lease('a', 'trusted', 2, MiB, 0).tasks
    expect(first).toHaveLength(2)
    replicate = true
    const [third] = store.lease('a', 'trusted', 1, MiB, 0).tasks
    for (const t of [...first, third]) {
      store.complete(t.taskId, t.attempt, 'trusted', [ok(t.firstRecord)], 1, 1)
    }
    expect(store.job('a')).toMatchObject({ replicas: 'auto', tasks: { done: 2, pending: 1 }, quorum: { unreplicated: 2, verified: 0 } })
    const [check] = store.lease('a', 'checker', 5, MiB, 0).tasks
    expect(check.taskId).toBe(third.taskId)
    store.complete(check.taskId, check.attempt, 'checker', [ok(check.firstRecord)], 1, 1)
    expect(store.job('a')).toMatchObject({ state: 'done', quorum: { unreplicated: 2, verified: 1 } })
    expect(store.owedCredits().map(c => c.verdict)).toEqual(['unchecked', 'unchecked', 'valid', 'valid'])
  })

  it('records credits once and keeps the median of other volunteers', () => {
    store.createJob(newJob('a', 1, 1))
    store.complete('a:0', take('w1'), 'w1', [ok(1)], 40, 40)
    const [owed] = store.owedCredits()
    store.settleCredit(owed.taskId, owed.worker, { state: 'issued', creditedMs: 30, receiptHash: 'f'.repeat(64), note: 'capped' })
    store.settleCredit(owed.taskId, owed.worker, { state: 'refused', creditedMs: 0 })
    expect(store.owedCredits()).toEqual([])
    expect(store.creditedMedian('a', 'w2')).toEqual({ medianMs: 30, samples: 1 })
    expect(store.creditedMedian('a', 'w1')).toEqual({ medianMs: 0, samples: 0 })
    expect(store.job('a').credit).toEqual({ owed: 0, receipts: 1, creditedMs: 30, flags: [{ taskId: 'a:0', worker: 'w1', claimedMs: 40, creditedMs: 30, reason: 'capped' }] })
  })

  it('refuses a replicas setting out of range', () => {
    expect(() => { store.createJob(newJob('x', 1, 0)) }).toThrow(/replicas must be/)
    expect(() => { store.createJob(newJob('y', 1, 'many' as any)) }).toThrow(/replicas must be/)
  })
})
