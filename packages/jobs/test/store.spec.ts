// The submitter's SQLite store: split, batch, leases, expiry, requeue, dedup,
// final states, result order and reopening after a restart.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { JobStore, taskIdOf } from '../src/store.js'
import type { NewJob, ReportedOutcome } from '../src/store.js'

const enc = new TextEncoder()
const json = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v))
const ok = (v: unknown): ReportedOutcome => ({ value: json(v) })
const MiB = 1024 * 1024

function newJob (id: string, count: number, batch = 1): NewJob {
  return {
    id,
    name: 'test',
    bundleId: 'bundle-1',
    bundle: enc.encode('signed bundle bytes'),
    requirements: { cores: 1, memoryMb: 64, timeoutMs: 1000, gpu: false, deterministic: false },
    batch,
    records: Array.from({ length: count }, (_, i) => json({ n: i })),
    createdAt: 1000
  }
}

/** The plan SQLite picks for `sql` on the file at `path` (read-only), its steps joined by ' | '. */
function queryPlan (path: string, sql: string, ...params: unknown[]): string {
  const db = new Database(path, { readonly: true })
  try {
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map(r => r.detail).join(' | ')
  } finally {
    db.close()
  }
}

describe('JobStore', () => {
  let dir: string
  let store: JobStore

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'idlegrid-jobs-'))
    store = new JobStore({ path: join(dir, 'jobs.db'), leaseMarginMs: 500 })
  })

  afterEach(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('splits records into one task each, or batches of N', () => {
    store.createJob(newJob('a', 5))
    store.createJob(newJob('b', 5, 2))
    expect(store.job('a').tasks).toMatchObject({ total: 5, pending: 5 })
    expect(store.job('b').tasks).toMatchObject({ total: 3, pending: 3 })
    const lease = store.lease('b', 'w1', 10, MiB, 0)
    expect(lease.tasks.map(t => [t.taskId, t.firstRecord, t.inputs.length])).toEqual([['b:0', 0, 2], ['b:2', 2, 2], ['b:4', 4, 1]])
    expect(JSON.parse(new TextDecoder().decode(lease.tasks[1].inputs[1]))).toEqual({ n: 3 })
    expect(store.bundle('bundle-1')).toBeDefined()
  })

  it('grants at most maxTasks with attempt 1 and a deadline of timeout x records + margin', () => {
    store.createJob(newJob('a', 3, 2))
    const lease = store.lease('a', 'w1', 1, MiB, 10_000)
    expect(lease.status).toBe('granted')
    expect(lease.tasks).toHaveLength(1)
    expect(lease.tasks[0]).toMatchObject({ attempt: 1, leaseMs: 2 * 1000 + 500, deadline: 10_000 + 2500 })
    expect(store.job('a').tasks).toMatchObject({ pending: 1, leased: 1 })
  })

  it('tells a grant how many tasks still wait for the same worker once fewer than 8 do', () => {
    store.createJob(newJob('a', 20))
    const told = (n: number, worker = 'w1'): [number, number | undefined] => {
      const lease = store.lease('a', worker, n, MiB, 0)
      if (lease.status !== 'granted') throw new Error(lease.status)
      return [lease.tasks.length, lease.remaining]
    }
    expect(told(10)).toEqual([10, undefined]) // 10 wait: not said
    expect(told(3)).toEqual([3, 7])
    expect(told(4)).toEqual([4, 3])
    // another worker sees the same pool
    expect(told(1, 'w2')).toEqual([1, 2])
    // the last two: none left (the volunteer forgets the job)
    expect(told(5)).toEqual([2, 0])
  })

  it('says a grant exhausted the job only when no task waits for anyone', () => {
    store.createJob(newJob('a', 3))
    const first = store.lease('a', 'w1', 2, MiB, 0)
    expect(first).toMatchObject({ status: 'granted', remaining: 1 })
    expect(first).not.toHaveProperty('exhausted')
    expect(store.lease('a', 'w2', 2, MiB, 0)).toMatchObject({ status: 'granted', remaining: 0, exhausted: true })
  })

  it('stops packing tasks before the byte budget but always grants one', () => {
    store.createJob(newJob('a', 4))
    const size = json({ n: 0 }).byteLength
    expect(store.lease('a', 'w1', 10, size * 2, 0).tasks).toHaveLength(2)
    expect(store.lease('a', 'w1', 10, 1, 0).tasks).toHaveLength(1)
  })

  it('answers none-left when nothing is pending and refused for an unknown job', () => {
    store.createJob(newJob('a', 1))
    store.lease('a', 'w1', 5, MiB, 0)
    expect(store.lease('a', 'w2', 5, MiB, 0)).toMatchObject({ status: 'none-left' })
    expect(store.lease('nope', 'w2', 5, MiB, 0)).toMatchObject({ status: 'refused', reason: expect.stringContaining('no job nope') })
  })

  it('stores a result once, refuses one from a peer that was not leased, reports duplicates', () => {
    store.createJob(newJob('a', 2))
    const [t0] = store.lease('a', 'w1', 1, MiB, 0).tasks
    expect(store.complete(t0.taskId, 1, 'intruder', [ok(1)], 1, 1).status).toBe('refused')
    expect(store.complete(t0.taskId, 7, 'w1', [ok(1)], 1, 1)).toMatchObject({ status: 'refused', reason: expect.stringContaining('was not leased') })
    expect(store.complete('a:1', 1, 'w1', [ok(1)], 1, 1).status).toBe('refused')
    expect(store.complete(t0.taskId, 1, 'w1', [ok(10)], 5, 6)).toMatchObject({ status: 'accepted', final: true })
    expect(store.complete(t0.taskId, 1, 'w1', [ok(99)], 5, 6).status).toBe('duplicate')
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 10 }])
    expect(store.job('a').volunteers).toEqual([{ peerId: 'w1', tasks: 1, records: 1, cpuMs: 5 }])
  })

  it('completeMany stores a group of results at once, each judged as complete() would in turn', () => {
    store.createJob(newJob('a', 4))
    const leased = store.lease('a', 'w1', 3, MiB, 0).tasks.map(t => t.taskId)
    expect(leased).toEqual(['a:0', 'a:1', 'a:2'])
    const outcomes = store.completeMany('w1', [
      { taskId: 'a:0', attempt: 1, outcomes: [ok(0)], cpuMs: 1, wallMs: 1 },
      { taskId: 'a:3', attempt: 1, outcomes: [ok(3)], cpuMs: 1, wallMs: 1 },
      { taskId: 'a:1', attempt: 1, outcomes: [ok(1), ok(1)], cpuMs: 1, wallMs: 1 },
      { taskId: 'a:2', attempt: 1, outcomes: [ok(2)], cpuMs: 1, wallMs: 1 },
      { taskId: 'a:0', attempt: 1, outcomes: [ok(99)], cpuMs: 1, wallMs: 1 }
    ])
    expect(outcomes.map(o => o.status)).toEqual(['accepted', 'refused', 'refused', 'accepted', 'duplicate'])
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 0 }])
    expect(store.resultsSince('a', 0).map(r => r.index)).toEqual([0, 2])
    expect(store.job('a').tasks).toMatchObject({ done: 2, leased: 1, pending: 1 })
    expect(store.completeMany('w1', [])).toEqual([])
  })

  it('completeMany ends every job whose last tasks it stores, and only those, once its results are in', () => {
    store.createJob(newJob('a', 2))
    store.createJob(newJob('b', 1))
    store.createJob(newJob('c', 2))
    const grant = (job: string): Array<{ taskId: string, attempt: number, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number }> =>
      store.lease(job, 'w1', 10, MiB, 0).tasks.map(t => ({ taskId: t.taskId, attempt: t.attempt, outcomes: [ok(t.firstRecord)], cpuMs: 1, wallMs: 1 }))
    const [a, b, c] = [grant('a'), grant('b'), grant('c')]
    // a's results around b's; c's second task stays out
    const outcomes = store.completeMany('w1', [a[0], ...b, a[1], c[0]], 5_000)
    expect(outcomes.map(o => o.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted'])
    expect([store.state('a'), store.state('b'), store.state('c')]).toEqual(['done', 'done', 'running'])
    expect(store.job('a')).toMatchObject({ state: 'done', finishedAt: 5_000 })
    expect(store.pendingJobs().map(j => j.id)).toEqual([])
    store.completeMany('w1', [c[1]], 6_000)
    expect(store.job('c')).toMatchObject({ state: 'done', finishedAt: 6_000 })
  })

  it('requeues leases their volunteer gives back, without counting a failure, and ignores leases it does not hold', () => {
    store.createJob(newJob('a', 3))
    const tasks = store.lease('a', 'w1', 3, MiB, 0).tasks
    expect(store.release('w2', [{ taskId: 'a:0', attempt: 1 }], 1)).toEqual([])
    const lost = store.release('w1', [{ taskId: 'a:1', attempt: 1 }, { taskId: 'a:2', attempt: 7 }], 1)
    expect(lost).toEqual([{ taskId: 'a:1', jobId: 'a', attempt: 1, worker: 'w1', requeued: true }])
    expect(store.job('a').tasks).toMatchObject({ leased: 2, pending: 1 })
    expect(store.job('a').failures).toEqual([])
    expect(store.lease('a', 'w2', 3, MiB, 2).tasks.map(t => [t.taskId, t.attempt])).toEqual([['a:1', 2]])
    expect(store.complete(tasks[1].taskId, 1, 'w1', [ok(1)], 1, 1).status).toBe('accepted')
  })

  it('refuses a result whose record count does not match the task', () => {
    store.createJob(newJob('a', 2, 2))
    const [t] = store.lease('a', 'w1', 1, MiB, 0).tasks
    expect(store.complete(t.taskId, 1, 'w1', [ok(1)], 1, 1)).toMatchObject({ status: 'refused', reason: expect.stringContaining('2 record(s)') })
  })

  it('requeues an expired lease with its checkpoint; the next attempt resumes from it', () => {
    store.createJob(newJob('a', 1))
    const [t] = store.lease('a', 'w1', 1, MiB, 0).tasks
    expect(t.resumeFrom).toBeUndefined()
    expect(store.checkpoint(t.taskId, 1, 'w2', 0, json({ i: 1 }))).toBe(false)
    expect(store.checkpoint(t.taskId, 1, 'w1', 0, json({ i: 4 }))).toBe(true)
    expect(store.nextDeadline()).toBe(t.deadline)
    expect(store.expire(t.deadline - 1)).toEqual([])
    expect(store.expire(t.deadline)).toEqual([{ taskId: t.taskId, jobId: 'a', attempt: 1, worker: 'w1', requeued: true }])
    const [again] = store.lease('a', 'w2', 1, MiB, t.deadline).tasks
    expect(again.attempt).toBe(2)
    expect(JSON.parse(new TextDecoder().decode(again.resumeFrom))).toEqual({ i: 4 })
    expect(store.job('a').failures[0]).toMatchObject({ name: 'LeaseExpiredError', worker: 'w1', attempt: 1 })
    // the late result of attempt 1 still settles the task; attempt 2's report becomes a duplicate
    expect(store.complete(t.taskId, 1, 'w1', [ok('late')], 1, 1).status).toBe('accepted')
    expect(store.complete(t.taskId, 2, 'w2', [ok('second')], 1, 1).status).toBe('duplicate')
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 'late' }])
  })

  it('requeues the leases of a worker that disconnects without counting a failure', () => {
    store.createJob(newJob('a', 3))
    store.lease('a', 'w1', 2, MiB, 0)
    store.lease('a', 'w2', 1, MiB, 0)
    const lost = store.releaseWorker('w1')
    expect(lost.map(l => l.taskId).sort()).toEqual(['a:0', 'a:1'])
    expect(store.job('a').tasks).toMatchObject({ pending: 2, leased: 1 })
    expect(store.job('a').failures).toEqual([])
  })

  it('retries a retryable error up to maxAttempts, then fails the task for good', () => {
    store.createJob(newJob('a', 1))
    const lost: ReportedOutcome = { error: { name: 'RunnerLostError', message: 'runner died', kind: 'runner-lost', retryable: true } }
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [t] = store.lease('a', 'w1', 1, MiB, 0).tasks
      expect(t.attempt).toBe(attempt)
      const out = store.complete(t.taskId, attempt, 'w1', [lost], 1, 1)
      expect(out).toMatchObject(attempt < 3 ? { requeued: true, final: false } : { requeued: false, final: true })
    }
    const info = store.job('a')
    expect(info.state).toBe('done')
    expect(info.tasks).toMatchObject({ failed: 1, pending: 0 })
    expect(info.failures).toHaveLength(3)
    expect(store.resultsInOrder('a', 0)[0]).toMatchObject({ index: 0, error: { name: 'RunnerLostError', retryable: false, message: expect.stringContaining('gave up after 3') } })
  })

  it('fails only the record whose error is not retryable; the batch is final', () => {
    store.createJob(newJob('a', 3, 3))
    const [t] = store.lease('a', 'w1', 1, MiB, 0).tasks
    const bad: ReportedOutcome = { error: { name: 'TypeError', message: 'x is undefined', kind: 'task', retryable: false } }
    expect(store.complete(t.taskId, 1, 'w1', [ok(0), bad, ok(2)], 1, 1)).toMatchObject({ status: 'accepted', final: true })
    expect(store.resultsInOrder('a', 0)).toEqual([
      { index: 0, value: 0 },
      { index: 1, error: { name: 'TypeError', message: 'x is undefined', kind: 'task', retryable: false } },
      { index: 2, value: 2 }
    ])
    expect(store.job('a')).toMatchObject({ state: 'done', records: { total: 3, ok: 2, failed: 1 }, tasks: { failed: 1 } })
    expect(store.job('a').failures).toEqual([expect.objectContaining({ name: 'TypeError', record: 1, worker: 'w1' })])
  })

  it('stores a job and its first leases together, or neither when something fails in between', () => {
    const granted = store.atomically(() => {
      store.createJob(newJob('a', 2))
      return store.lease('a', 'w1', 1, MiB, 0)
    })
    expect(granted).toMatchObject({ status: 'granted', tasks: [{ taskId: 'a:0', attempt: 1 }] })
    expect(store.job('a').tasks).toMatchObject({ total: 2, pending: 1, leased: 1 })
    expect(store.state('a')).toBe('running')
    expect(() => store.atomically(() => {
      store.createJob(newJob('b', 2))
      store.lease('b', 'w1', 1, MiB, 0)
      throw new Error('the offer could not be built')
    })).toThrow('the offer could not be built')
    expect(store.state('b')).toBeUndefined()
    expect(() => store.job('b')).toThrow(/no job b/)
    expect(store.holdsLease('b:0', 1, 'w1')).toBe(false)
  })

  it('tells a job\'s state as the file holds it: running, then done or cancelled, also after a reopen', () => {
    store.createJob(newJob('a', 2))
    store.createJob(newJob('b', 1))
    store.createJob(newJob('empty', 0))
    expect([store.state('a'), store.state('b'), store.state('empty'), store.state('nope')]).toEqual(['running', 'running', 'done', undefined])
    const tasks = store.lease('a', 'w1', 2, MiB, 0).tasks
    store.complete(tasks[0].taskId, 1, 'w1', [ok(0)], 1, 1)
    expect(store.state('a')).toBe('running')
    // a duplicate report changes nothing
    store.complete(tasks[0].taskId, 1, 'w1', [ok(0)], 1, 1)
    expect(store.state('a')).toBe('running')
    store.complete(tasks[1].taskId, 1, 'w1', [ok(1)], 1, 1)
    expect(store.state('a')).toBe('done')
    expect(store.cancel('b')).toBe(true)
    expect(store.state('b')).toBe('cancelled')
    store.createJob(newJob('c', 1))
    store.close()
    store = new JobStore({ path: join(dir, 'jobs.db') })
    expect([store.state('a'), store.state('b'), store.state('c')]).toEqual(['done', 'cancelled', 'running'])
    expect(store.state('a')).toBe(store.job('a').state)
  })

  it('summarizes a job with the counts job() gives, its credit included', () => {
    store.createJob(newJob('a', 4, 2))
    expect(store.summary('a')).toEqual({ id: 'a', name: 'test', state: 'running', records: { total: 4, ok: 0, failed: 0 }, volunteers: 0, credit: { owed: 0, receipts: 0, creditedMs: 0, flagged: 0 } })
    const [t1] = store.lease('a', 'w1', 1, MiB, 0).tasks
    const [t2] = store.lease('a', 'w2', 1, MiB, 0).tasks
    const bad: ReportedOutcome = { error: { name: 'TypeError', message: 'no', kind: 'task', retryable: false } }
    store.complete(t1.taskId, 1, 'w1', [ok(0), bad], 30, 40)
    store.complete(t2.taskId, 1, 'w2', [ok(2), ok(3)], 50, 60)
    store.settleCredits([
      { taskId: t1.taskId, worker: 'w1', state: 'issued', creditedMs: 20, receiptHash: 'h1', note: 'capped at the peer median' },
      { taskId: t2.taskId, worker: 'w2', state: 'issued', creditedMs: 50, receiptHash: 'h2' }
    ])
    const info = store.job('a')
    const summary = store.summary('a')
    expect(summary).toEqual({
      id: 'a',
      name: info.name,
      state: 'done',
      records: { total: 4, ok: 3, failed: 1 },
      volunteers: info.volunteers.length,
      credit: { owed: info.credit.owed, receipts: info.credit.receipts, creditedMs: info.credit.creditedMs, flagged: info.credit.flags.length }
    })
    expect(summary.volunteers).toBe(2)
    expect(summary.credit).toEqual({ owed: 0, receipts: 2, creditedMs: 70, flagged: 1 })
    // the credit alone, as the daemon's credit line reads it
    expect(store.credit('a')).toEqual(summary.credit)
    expect(store.credit('nope')).toEqual({ owed: 0, receipts: 0, creditedMs: 0, flagged: 0 })
    expect(() => store.summary('nope')).toThrow(/no job nope/)
  })

  it('returns results in input order, stopping at the first gap, and in completion order by sequence', () => {
    store.createJob(newJob('a', 3))
    const tasks = store.lease('a', 'w1', 3, MiB, 0).tasks
    store.complete(tasks[2].taskId, 1, 'w1', [ok('c')], 1, 1)
    store.complete(tasks[0].taskId, 1, 'w1', [ok('a')], 1, 1)
    expect(store.resultsInOrder('a', 0)).toEqual([{ index: 0, value: 'a' }])
    expect(store.resultsSince('a', 0).map(r => r.index)).toEqual([2, 0])
    store.complete(tasks[1].taskId, 1, 'w1', [ok('b')], 1, 1)
    expect(store.resultsInOrder('a', 1).map(r => 'value' in r && r.value)).toEqual(['b', 'c'])
    expect(store.job('a').state).toBe('done')
  })

  it('cancels a job: open tasks fail as cancelled, late results are duplicates, nothing is leased', () => {
    store.createJob(newJob('a', 2))
    const [t] = store.lease('a', 'w1', 1, MiB, 0).tasks
    expect(store.cancel('a')).toBe(true)
    expect(store.cancel('a')).toBe(false)
    expect(store.job('a')).toMatchObject({ state: 'cancelled', tasks: { failed: 2 } })
    expect(store.complete(t.taskId, 1, 'w1', [ok(1)], 1, 1).status).toBe('duplicate')
    expect(store.lease('a', 'w1', 1, MiB, 0).status).toBe('none-left')
    expect(store.resultsInOrder('a', 0)[1]).toMatchObject({ error: { name: 'JobCancelledError', kind: 'cancelled' } })
  })

  it('finishes an empty job at once', () => {
    store.createJob(newJob('empty', 0))
    expect(store.job('empty')).toMatchObject({ state: 'done', tasks: { total: 0 } })
    expect(store.pendingJobs()).toEqual([])
  })

  it('reads the running jobs by an index: a file full of finished jobs does not slow every submit', () => {
    for (let i = 0; i < 50; i++) store.createJob({ ...newJob(`old-${i}`, 0), createdAt: i })
    store.createJob({ ...newJob('late', 1), createdAt: 2000 })
    store.createJob({ ...newJob('early', 2), createdAt: 1500 })
    expect(store.pendingJobs().map(j => [j.id, j.pending])).toEqual([['early', 2], ['late', 1]])
    // counted up to 1024: a big job's count is not a scan of all its waiting tasks on every Ready
    store.createJob({ ...newJob('big', 1500), createdAt: 2500 })
    store.lease('late', 'w1', 1, MiB)
    expect(store.pendingJobs().map(j => [j.id, j.pending])).toEqual([['early', 2], ['big', 1024]])
    expect(queryPlan(join(dir, 'jobs.db'), 'SELECT id FROM jobs WHERE state = \'running\' ORDER BY created_at')).toContain('USING INDEX jobs_state (state=?)')
  })

  it('lists the newest jobs, oldest of them first: 100 unless told, by state, and page by page back with before', () => {
    // ids that sort against their times, and two jobs of the same millisecond
    for (let i = 0; i < 130; i++) store.createJob({ ...newJob(`j${String(999 - i).padStart(3, '0')}`, i % 3 === 0 ? 1 : 0), createdAt: 10 * i })
    store.createJob({ ...newJob('j000', 0), createdAt: 10 * 129 })
    const ids = (jobs: Array<{ id: string }>): string[] => jobs.map(j => j.id)
    const all = ids(store.jobs({ limit: 10_000 }))
    expect(all).toHaveLength(131)
    expect(all.slice(-3)).toEqual(['j871', 'j000', 'j870'])
    expect(ids(store.jobs())).toEqual(all.slice(-100))
    expect(ids(store.jobs({ limit: 2 }))).toEqual(['j000', 'j870'])
    // the next page back starts right before the oldest of a page
    const page = store.jobs({ limit: 40 })
    const back = store.jobs({ limit: 40, before: page[0].id })
    expect([...ids(back), ...ids(page)]).toEqual(all.slice(-80))
    expect(ids(store.jobs({ limit: 5, before: 'j000' }))).toEqual(['j875', 'j874', 'j873', 'j872', 'j871'])
    expect(ids(store.jobs({ before: all[0] }))).toEqual([])
    // jobs of one record in three still run; the others (no records) are done
    const running = store.jobs({ state: 'running', limit: 10_000 })
    expect(running).toHaveLength(44)
    expect(running.every(j => j.state === 'running')).toBe(true)
    expect(ids(store.jobs({ state: 'running', limit: 2, before: 'j873' }))).toEqual(['j879', 'j876'])
    expect(store.jobs({ state: 'cancelled' })).toEqual([])
  })

  it('refuses a job list it cannot give, saying why', () => {
    store.createJob(newJob('a', 1))
    expect(() => store.jobs({ limit: 0 })).toThrow(/limit must be a whole number from 1 to 10000, got 0/)
    expect(() => store.jobs({ limit: 10_001 })).toThrow(/got 10001/)
    expect(() => store.jobs({ limit: 2.5 })).toThrow(/got 2.5/)
    expect(() => store.jobs({ state: 'finished' as 'done' })).toThrow(/state is one of running, done, cancelled, got 'finished'/)
    expect(() => store.jobs({ before: 'nope' })).toThrow(/no job nope on this node to list the jobs before/)
    expect(store.jobs()).toHaveLength(1)
  })

  it('lists the newest jobs by an index, not a sort of every job the file holds', () => {
    const detail = queryPlan(join(dir, 'jobs.db'), 'SELECT * FROM jobs ORDER BY created_at DESC, id DESC LIMIT 100')
    expect(detail).toContain('USING INDEX jobs_created')
    expect(detail).not.toContain('TEMP B-TREE')
  })

  it('reads owed credits and a job\'s latest receipts by indexes, not a sort or scan of every submission; an older file drops its old indexes', () => {
    store.createJob(newJob('a', 3))
    const tasks = store.lease('a', 'w1', 3, MiB, 0).tasks
    tasks.reverse().forEach((t, i) => store.complete(t.taskId, t.attempt, 'w1', [ok(i)], 1, 1, 10 * (i + 1)))
    expect(store.owedCredits(2).map(c => c.taskId)).toEqual(['a:2', 'a:1'])
    store.close()
    // the file as a store from before the index left it
    const old = new Database(join(dir, 'jobs.db'))
    old.exec(`DROP INDEX submissions_owed_at; CREATE INDEX submissions_owed ON submissions (credit_state);
      DROP INDEX submissions_job_at; CREATE INDEX submissions_job ON submissions (job_id, credit_state)`)
    old.close()
    store = new JobStore({ path: join(dir, 'jobs.db') })
    expect(store.owedCredits().map(c => c.taskId)).toEqual(['a:2', 'a:1', 'a:0'])
    const db = new Database(join(dir, 'jobs.db'), { readonly: true })
    try {
      const indexes = (db.prepare('SELECT name FROM sqlite_master WHERE type = \'index\' AND tbl_name = \'submissions\'').all() as Array<{ name: string }>).map(r => r.name)
      expect(indexes.filter(name => !name.startsWith('sqlite_')).sort()).toEqual(['submissions_job_at', 'submissions_owed_at'])
    } finally {
      db.close()
    }
    // the oldest owed credits of all jobs (every credit round)
    const owed = queryPlan(join(dir, 'jobs.db'), 'SELECT task_id FROM submissions WHERE credit_state = \'owed\' ORDER BY at, attempt LIMIT 100')
    expect(owed).toMatch(/USING (COVERING )?INDEX submissions_owed_at/)
    expect(owed).not.toContain('TEMP B-TREE')
    // a job's latest receipts (the median that caps a claim, every credit): not every receipt of the file in turn
    const latest = queryPlan(join(dir, 'jobs.db'), 'SELECT credited_ms FROM submissions WHERE job_id = ? AND worker != ? AND credit_state = \'issued\' ORDER BY at DESC LIMIT 50', 'a', 'w1')
    expect(latest).toMatch(/USING INDEX submissions_job_at \(job_id=\? AND credit_state=\?\)/)
    expect(latest).not.toContain('TEMP B-TREE')
  })

  it('keeps everything across a reopen; releaseAll requeues what was in flight and old leases still accept results', () => {
    store.createJob(newJob('a', 3))
    const tasks = store.lease('a', 'w1', 2, MiB, 0).tasks
    store.checkpoint(tasks[1].taskId, 1, 'w1', 0, json('half'))
    store.complete(tasks[0].taskId, 1, 'w1', [ok('first')], 1, 1)
    store.close()
    store = new JobStore({ path: join(dir, 'jobs.db') })
    expect(store.job('a').tasks).toMatchObject({ done: 1, leased: 1, pending: 1 })
    expect(store.releaseAll().map(l => l.taskId)).toEqual([tasks[1].taskId])
    expect(store.pendingJobs()).toEqual([expect.objectContaining({ id: 'a', pending: 2, bundleId: 'bundle-1' })])
    const again = store.lease('a', 'w2', 5, MiB, 0).tasks
    expect(again.find(t => t.taskId === tasks[1].taskId)).toMatchObject({ attempt: 2, resumeFrom: json('half') })
    expect(store.complete(tasks[1].taskId, 1, 'w1', [ok('from outbox')], 1, 1).status).toBe('accepted')
    expect(store.resultsInOrder('a', 0).map(r => 'value' in r && r.value)).toEqual(['first', 'from outbox'])
  })

  it('fails a task leased maxLeases times without ever getting a result', () => {
    store.close()
    store = new JobStore({ path: join(dir, 'jobs.db'), maxLeases: 2 })
    store.createJob(newJob('a', 1))
    store.lease('a', 'w1', 1, MiB, 0)
    expect(store.releaseWorker('w1')[0].requeued).toBe(true)
    store.lease('a', 'w2', 1, MiB, 0)
    expect(store.releaseWorker('w2')[0].requeued).toBe(false)
    expect(store.resultsInOrder('a', 0)[0]).toMatchObject({ error: { name: 'TooManyLeasesError' } })
    expect(store.job('a').state).toBe('done')
  })

  it('does not count leases given back unrun toward maxLeases', () => {
    store.close()
    store = new JobStore({ path: join(dir, 'jobs.db'), maxLeases: 2 })
    store.createJob(newJob('a', 1))
    // given back three times (the end of a job, volunteer after volunteer): still waiting, nothing failed
    for (const worker of ['w1', 'w2', 'w3']) {
      const [t] = store.lease('a', worker, 1, MiB, 0).tasks
      expect(store.release(worker, [{ taskId: t.taskId, attempt: t.attempt }])[0].requeued).toBe(true)
    }
    expect(store.job('a').tasks).toMatchObject({ pending: 1, failed: 0 })
    // two leases that went away do count
    store.lease('a', 'w4', 1, MiB, 0)
    expect(store.releaseWorker('w4')[0].requeued).toBe(true)
    const [t] = store.lease('a', 'w5', 1, MiB, 0).tasks
    expect(t.attempt).toBe(5)
    expect(store.releaseWorker('w5')[0].requeued).toBe(false)
    expect(store.resultsInOrder('a', 0)[0]).toMatchObject({ error: { name: 'TooManyLeasesError', message: expect.stringContaining('leased 2 times') } })
  })
})
