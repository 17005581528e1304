// The volunteer runs a leased batch as one sandbox call: per-record outcomes,
// seeds that match one-record tasks, checkpoints and resume state on their
// record, a limit breach that fails the unfinished records. A bare libp2p
// node plays the submitter's side of the session protocol.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { buildBundle, createBundleCache, signBundle } from '@idlegrid/bundle'
import {
  ANNOUNCE_PROTOCOL, Announce, AnnounceResponse, LeaseResponse, MAX_SESSION_MESSAGE_SIZE, REMAINING_TOLD_BELOW, ResultAck, SESSION_PROTOCOL,
  SubmitterMessage, TaskError, decodeWorkerMessage
} from '@idlegrid/protocol-work'
import { createSandboxPool } from '@idlegrid/sandbox-host'
import { startNode, tempDir } from '@idlegrid/test-utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { lpStream } from '@libp2p/utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createWorker } from '../src/index.js'
import type { Checkpoint, Result, TaskGrant } from '@idlegrid/protocol-work'
import type { SignedBundle } from '@idlegrid/bundle'
import type { Worker, WorkerInit } from '../src/index.js'
import type { SandboxPool } from '@idlegrid/sandbox-host'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { TempDir } from '@idlegrid/test-utils'

type IdleGridNode = Awaited<ReturnType<typeof startNode>>

const JOB = fileURLToPath(new URL('./batch-job.ts', import.meta.url))
const enc = new TextEncoder()
const dec = new TextDecoder()
const json = (v: unknown): Uint8Array<ArrayBuffer> => enc.encode(JSON.stringify(v))

describe('worker: a leased batch is one sandbox call', { timeout: 60_000 }, () => {
  let dir: TempDir
  let submitter: IdleGridNode
  let volunteer: IdleGridNode
  let pool: SandboxPool
  let worker: Worker
  let bundle: SignedBundle
  /** Grants handed out per job, one per lease request; then NONE_LEFT. */
  const grants = new Map<string, TaskGrant[]>()
  const results = new Map<string, { result: Result, resolve(r: Result): void, promise: Promise<Result> }>()
  const checkpoints: Checkpoint[] = []
  /** maxTasks of each lease request, per job. */
  const asked = new Map<string, number[]>()
  /** Per job: the `remaining` told in each lease answer, in order (undefined: not told). */
  const toldRemaining = new Map<string, Array<number | undefined>>()
  /** Per job: called as each lease request comes. */
  const onLease = new Map<string, () => void>()
  /** Per job: tasks granted and not yet returned when each lease request came (before its grant). */
  const heldAtAsk = new Map<string, number[]>()
  /** Per job: tasks granted and not yet returned, after each grant. */
  const outstanding = new Map<string, number[]>()
  const returned = new Map<string, number>()
  /** Per job: how many of its results each Results message carried. */
  const delivered = new Map<string, number[]>()
  const granted = new Map<string, number>()
  /** Every grant handed out, and the tasks given back unrun. */
  const issued = new Map<string, TaskGrant>()
  const released: string[] = []

  const slot = (key: string): { result: Result, resolve(r: Result): void, promise: Promise<Result> } => {
    let s = results.get(key)
    if (s == null) {
      const { promise, resolve } = Promise.withResolvers<Result>()
      s = { result: undefined as unknown as Result, resolve, promise }
      results.set(key, s)
    }
    return s
  }

  const grant = (jobId: string, firstRecord: number, attempt: number, inputs: unknown[], timeoutMs: number, resume?: { state: unknown, record: number }, marginMs = 30_000): TaskGrant => ({
    taskId: `${jobId}:${firstRecord}`,
    attempt,
    firstRecord,
    inputs: inputs.map(json),
    resumeFrom: resume == null ? undefined : json(resume.state),
    resumeRecord: resume?.record ?? 0,
    deadline: Date.now() + 60_000,
    leaseMs: timeoutMs * inputs.length + marginMs
  })

  const announced = new Map<string, Announce>()
  async function announceTo (to: IdleGridNode | PeerId, announce: Announce): Promise<AnnounceResponse.Status> {
    const stream = await submitter.libp2p.dialProtocol('libp2p' in to ? to.libp2p.peerId : to, ANNOUNCE_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const lp = lpStream(stream)
    await lp.write(Announce.encode(announce))
    const status = AnnounceResponse.decode(await lp.read({ signal: AbortSignal.timeout(5000) })).status
    await stream.close()
    return status
  }

  /** Hands out the grants, announces the job, and waits for a result of each grant. */
  async function run (jobId: string, timeoutMs: number, list: TaskGrant[], options: { to?: IdleGridNode, deterministic?: boolean } = {}): Promise<Result[]> {
    grants.set(jobId, [...list])
    const waits = list.map(async g => await slot(`${g.taskId}/${g.attempt}`).promise)
    const announce: Announce = { jobId, bundleId: bundle.id, requirements: { cores: 1, memoryMb: 64, timeoutMs, gpu: false, deterministic: options.deterministic ?? true }, pendingTasks: list.length }
    announced.set(jobId, announce)
    expect(await announceTo(options.to ?? volunteer, announce)).not.toBe(AnnounceResponse.Status.REFUSED)
    return await Promise.race([
      Promise.all(waits),
      new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error(`no results for job ${jobId} in time`)) }, 45_000).unref())
    ])
  }

  /**
   * Runs `fn` with another one-slot volunteer, its own sandbox, bundle cache
   * and outbox, and a worker made with `init`; stops them all after.
   */
  let others = 0
  async function withVolunteer (init: Omit<WorkerInit, 'node' | 'sandbox' | 'dbPath' | 'bundleCache'>, fn: (other: IdleGridNode, otherWorker: Worker) => Promise<void>): Promise<void> {
    const n = ++others
    const other = await startNode({ bootstrap: [submitter.addresses()[0]], limits: { maxCores: 1 } })
    const otherPool = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
    const cache = createBundleCache(join(dir.path, `bundles-other-${n}`))
    await cache.put(bundle)
    const otherWorker = await createWorker({ ...init, node: other, sandbox: otherPool, dbPath: join(dir.path, `outbox-other-${n}.db`), bundleCache: cache })
    try {
      await fn(other, otherWorker)
    } finally {
      await otherWorker.stop()
      await other.stop()
      await otherPool.stop()
    }
  }

  /**
   * Runs 24 tasks of ~busyMs (job `jobId`) on `other`; checks that every
   * result came back, in order; returns the lease requests' sizes and the
   * `remaining` each answer told.
   */
  async function runBusyJob (jobId: string, other: IdleGridNode, busyMs = 150): Promise<{ asks: number[], told: Array<number | undefined> }> {
    const done = await run(jobId, 10_000, Array.from({ length: 24 }, (_, i) => grant(jobId, i, 1, [{ n: i, busyMs }], 10_000)), { to: other, deterministic: false })
    expect(done.map(r => JSON.parse(dec.decode(r.records[0].value)).n)).toEqual(Array.from({ length: 24 }, (_, i) => i))
    return { asks: asked.get(jobId) ?? [], told: toldRemaining.get(jobId) ?? [] }
  }

  beforeAll(async () => {
    dir = await tempDir('idlegrid-worker-')
    const key = await generateKeyPair('Ed25519')
    submitter = await startNode({ privateKey: key, bootstrap: [] })
    volunteer = await startNode({ bootstrap: [submitter.addresses()[0]], limits: { maxCores: 1 } })
    bundle = await signBundle(await buildBundle(JOB, { submitter: submitter.peerId, requirements: { memoryMb: 64, timeoutMs: 10_000, deterministic: true } }), key)
    const cache = createBundleCache(join(dir.path, 'bundles'))
    await cache.put(bundle)
    await submitter.libp2p.handle(SESSION_PROTOCOL, async (stream: Stream, connection: Connection) => {
      const lp = lpStream(stream, { maxDataLength: MAX_SESSION_MESSAGE_SIZE, maxBufferSize: MAX_SESSION_MESSAGE_SIZE + 64 * 1024 })
      try {
        while (true) {
          const { message } = decodeWorkerMessage(await lp.read())
          if (message.lease != null) {
            const { jobId, maxTasks, requestId } = message.lease
            asked.set(jobId, [...(asked.get(jobId) ?? []), maxTasks])
            onLease.get(jobId)?.()
            heldAtAsk.set(jobId, [...(heldAtAsk.get(jobId) ?? []), (granted.get(jobId) ?? 0) - (returned.get(jobId) ?? 0)])
            const next = grants.get(jobId)?.splice(0, maxTasks) ?? []
            for (const g of next) {
              issued.set(`${g.taskId}/${g.attempt}`, g)
            }
            granted.set(jobId, (granted.get(jobId) ?? 0) + next.length)
            if (next.length > 0) {
              outstanding.set(jobId, [...(outstanding.get(jobId) ?? []), (granted.get(jobId) ?? 0) - (returned.get(jobId) ?? 0)])
            }
            // jobs named job-end-* are told how many tasks still wait, once few do, as a submitter does
            const left = grants.get(jobId)?.length ?? 0
            // job-end-once-* jobs are told only once, as when tasks given back raise what waits to 8 or more again
            const remaining = jobId.startsWith('job-end') && left < REMAINING_TOLD_BELOW && !(jobId.startsWith('job-end-once') && toldRemaining.get(jobId)?.some(r => r != null) === true) ? left : undefined
            toldRemaining.set(jobId, [...(toldRemaining.get(jobId) ?? []), remaining])
            const lease: LeaseResponse = next.length === 0
              ? { requestId, status: LeaseResponse.Status.NONE_LEFT, reason: 'nothing left', tasks: [] }
              : { requestId, status: LeaseResponse.Status.GRANTED, reason: '', tasks: next, ...(remaining != null ? { remaining } : {}) }
            await lp.write(SubmitterMessage.encode({ lease }))
          } else if (message.release != null) {
            // given back unrun: lease them again, as a submitter requeues them
            for (const ref of message.release.tasks) {
              const job = ref.taskId.slice(0, ref.taskId.lastIndexOf(':'))
              const original = issued.get(`${ref.taskId}/${ref.attempt}`)
              if (original != null) {
                released.push(ref.taskId)
                granted.set(job, (granted.get(job) ?? 0) - 1)
                grants.get(job)?.push(original)
                const announce = announced.get(job)
                // as a submitter announces requeued work again
                if (announce != null) void announceTo(connection.remotePeer, announce).catch(() => {})
              }
            }
          } else if (message.checkpoint != null) {
            checkpoints.push(message.checkpoint)
          } else if (message.results != null) {
            const { requestId, results: arrived } = message.results
            await lp.write(SubmitterMessage.encode({ acks: { requestId, acks: arrived.map(() => ({ requestId: 0, status: ResultAck.Status.ACCEPTED, reason: '' })) } }))
            const perJob = new Map<string, number>()
            for (const r of arrived) {
              const job = r.taskId.slice(0, r.taskId.lastIndexOf(':'))
              perJob.set(job, (perJob.get(job) ?? 0) + 1)
            }
            for (const [job, n] of perJob) {
              delivered.set(job, [...(delivered.get(job) ?? []), n])
            }
            for (const r of arrived) {
              const job = r.taskId.slice(0, r.taskId.lastIndexOf(':'))
              returned.set(job, (returned.get(job) ?? 0) + 1)
              const s = slot(`${r.taskId}/${r.attempt}`)
              s.result = r
              s.resolve(r)
            }
          }
        }
      } catch {
        stream.abort(new Error('session ended'))
      }
    })
    pool = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
    // results leave as each task ends: the tests below count the tasks out from the submitter's side
    worker = await createWorker({ node: volunteer, sandbox: pool, dbPath: join(dir.path, 'outbox.db'), bundleCache: cache, outboxRetryMs: 300, leaseAhead: 1, leaseAheadMs: 60_000, resultHoldMs: 0 })
  })

  afterAll(async () => {
    await worker?.stop()
    await volunteer?.stop()
    await submitter?.stop()
    await pool?.stop()
    await dir?.remove()
  })

  it('gives each record its own outcome, the seed it has as a one-record task, and its checkpoint and resume state', async () => {
    const inputs = [{ n: 0 }, { n: 1, throws: true, checkpoint: true }, { n: 2 }]
    const [batch, ...singles] = await run('job-a', 10_000, [
      grant('job-a', 0, 1, inputs, 10_000, { state: { from: 'before' }, record: 2 }),
      // the same records as one-record tasks (later attempts of the same task ids)
      grant('job-a', 0, 2, [inputs[0]], 10_000),
      grant('job-a', 2, 1, [inputs[2]], 10_000)
    ])
    expect(batch.records).toHaveLength(3)
    const value = (o: Result['records'][number]): any => JSON.parse(dec.decode(o.value))
    expect(value(batch.records[0])).toMatchObject({ n: 0, record: 0, records: 3, resumed: null })
    expect(batch.records[1].value).toBeUndefined()
    expect(batch.records[1].error).toMatchObject({ name: 'RangeError', message: 'record 1 was told to throw', kind: TaskError.Kind.TASK, retryable: false })
    expect(value(batch.records[2])).toMatchObject({ n: 2, record: 2, records: 3, resumed: { from: 'before' } })
    // deterministic output does not depend on the batch a record travels in
    const [one, three] = singles.map(r => value(r.records[0]))
    expect(one).toMatchObject({ records: 1, resumed: null })
    expect({ draw: value(batch.records[0]).draw, now: value(batch.records[0]).now }).toEqual({ draw: one.draw, now: one.now })
    expect({ draw: value(batch.records[2]).draw, now: value(batch.records[2]).now }).toEqual({ draw: three.draw, now: three.now })
    expect(one.draw).not.toBe(three.draw)
    // the checkpoint names the record that made it
    expect(checkpoints.filter(c => c.taskId === 'job-a:0' && c.attempt === 1).map(c => ({ record: c.record, state: JSON.parse(dec.decode(c.state)) })))
      .toEqual([{ record: 1, state: { at: 1 } }])
  })

  it('a limit breach keeps the records done before and fails the rest with the limit error', async () => {
    const [batch] = await run('job-b', 300, [grant('job-b', 0, 1, [{ n: 0 }, { n: 1, spin: true }, { n: 2 }], 300)])
    expect(batch.records).toHaveLength(3)
    expect(JSON.parse(dec.decode(batch.records[0].value))).toMatchObject({ n: 0 })
    for (const o of batch.records.slice(1)) {
      expect(o.value).toBeUndefined()
      expect(o.error).toMatchObject({ kind: TaskError.Kind.LIMIT, retryable: false })
    }
    expect(batch.records[1].error?.name).toBe(batch.records[2].error?.name)
    expect(['TimeoutError', 'CpuLimitError']).toContain(batch.records[1].error?.name)
  })

  it('leases one task ahead of its one slot from the job\'s first task on, and never when it would not fit the lease margin', async () => {
    // 16 tasks: one that was slow under load (a runner starting) leaves the last 8 the worker judges by
    const short = await run('job-c', 10_000, Array.from({ length: 16 }, (_, i) => grant('job-c', i, 1, [{ n: i }], 10_000)))
    expect(short.map(r => JSON.parse(dec.decode(r.records[0].value)).n)).toEqual(Array.from({ length: 16 }, (_, i) => i))
    // the first grant fills the free slot; the next one is asked for while
    // the first task runs (before its pace is known); never more than one
    // waits behind the running one (the third counted here is a task whose
    // result is on its way: the slot asks for its next task first)
    const c = outstanding.get('job-c') ?? []
    expect(c.slice(0, 2), JSON.stringify(c)).toEqual([1, 2])
    expect(Math.max(...c), JSON.stringify(c)).toBeLessThanOrEqual(3)
    expect(Math.max(...(asked.get('job-c') ?? []))).toBeLessThanOrEqual(2)

    // no margin beyond the time limit: a task waiting in line could miss its deadline
    await run('job-d', 10_000, Array.from({ length: 6 }, (_, i) => grant('job-d', i, 1, [{ n: i }], 10_000, undefined, 0)))
    // (at most the task whose result is on its way and the one just granted, never one waiting behind a running one)
    const d = outstanding.get('job-d') ?? []
    expect(Math.max(...d), JSON.stringify(d)).toBeLessThanOrEqual(2)
    expect(asked.get('job-d')?.every(n => n === 1)).toBe(true)
  })

  it('holds a result while the next task of its submitter runs, and delivers both in one message', async () => {
    // one slot, one task leased ahead (tasks of ~60 ms), results held as by default
    await withVolunteer({ outboxRetryMs: 60_000, leaseAhead: 1, leaseAheadMs: 60_000 }, async other => {
      const done = await run('job-h', 10_000, Array.from({ length: 8 }, (_, i) => grant('job-h', i, 1, [{ n: i, busyMs: 60 }], 10_000)), { to: other, deterministic: false })
      expect(done.map(r => JSON.parse(dec.decode(r.records[0].value)).n)).toEqual(Array.from({ length: 8 }, (_, i) => i))
      const counts = delivered.get('job-h') ?? []
      expect(counts.reduce((a, b) => a + b, 0)).toBe(8)
      // each task takes ~60 ms and its ack a few: sent as they end, every message would carry one
      expect(Math.max(...counts)).toBeGreaterThan(1)
      expect(counts.length).toBeLessThan(8)
    })
  })

  it('leases tasks a bit longer than leaseAheadMs several at a time once none is waiting, instead of one per task', async () => {
    // default leasing (100 ms of work ahead per slot): tasks of ~150 ms are past it
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async other => {
      const { asks } = await runBusyJob('job-t', other)
      // one task per request until their pace is known (the free slot, then
      // one ahead of it), then four ahead per request (plus one when the
      // slot itself is free): ~9 requests, where one ahead at a time takes
      // one per task, 24 or more. On a busy machine slow tasks (a first one
      // with its new isolate, say) hold the four back until they leave the
      // last RECENT_TASKS (8) the pace is read from: 13 requests seen in
      // CI, 18 with two test suites at once on its 2 cores.
      expect(asks.slice(0, 3), JSON.stringify(asks)).toEqual([1, 1, 1])
      expect(Math.max(...asks), JSON.stringify(asks)).toBeGreaterThanOrEqual(4)
      expect(Math.max(...asks), JSON.stringify(asks)).toBeLessThanOrEqual(5)
      expect(asks.length, JSON.stringify(asks)).toBeLessThan(24)
    })
  })

  it('leases tasks shorter than leaseAheadMs but longer than half of it several at a time too', async () => {
    // tasks of ~70 ms: one fits in the 100 ms of work ahead, two do not; one
    // ahead at a time took a lease round trip per task
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async other => {
      const { asks } = await runBusyJob('job-t70', other, 70)
      expect(asks.slice(0, 3), JSON.stringify(asks)).toEqual([1, 1, 1])
      expect(Math.max(...asks), JSON.stringify(asks)).toBeGreaterThanOrEqual(4)
      // (slow tasks on a busy machine: as above)
      expect(asks.length, JSON.stringify(asks)).toBeLessThan(24)
    })
  })

  it('leases only for its free slot once the submitter says fewer than 8 tasks wait, so the last ones spread over free volunteers', async () => {
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async other => {
      const { asks, told } = await runBusyJob('job-end', other)
      // request i+1 follows answer i (one lease request of a job at a time)
      const end = told.findIndex(r => r != null && r > 0)
      expect(end, JSON.stringify({ asks, told })).toBeGreaterThan(0)
      // before it, tasks were leased ahead, several at a time (plus the free slot)
      expect(Math.max(...asks.slice(0, end + 1)), JSON.stringify({ asks, told })).toBeGreaterThanOrEqual(2)
      // after it, only what the free slot takes
      expect(asks.slice(end + 1).every(n => n === 1), JSON.stringify({ asks, told })).toBe(true)
      // the tasks leased ahead that still waited here when it began went back, for any free volunteer
      expect(released.filter(t => t.startsWith('job-end:')).length, JSON.stringify({ asks, told, released })).toBeGreaterThan(0)
      // and each request for the free slot left before the result of the
      // task that freed it: that task was still held here when it came
      const held = heldAtAsk.get('job-end') ?? []
      expect(held.slice(end + 1).length, JSON.stringify({ held, told })).toBeGreaterThanOrEqual(3)
      expect(held.slice(end + 1).every(n => n >= 1), JSON.stringify({ held, told })).toBe(true)
    })
  })

  it('stays in the end game once it began, though the submitter stops telling how many tasks wait', async () => {
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async other => {
      const { asks, told } = await runBusyJob('job-end-once', other)
      const end = told.findIndex(r => r != null)
      expect(end, JSON.stringify({ asks, told })).toBeGreaterThan(0)
      expect(told.slice(end + 1).every(r => r == null), JSON.stringify({ asks, told })).toBe(true)
      // a volunteer that left the end game here would lease four ahead again
      expect(asks.slice(end + 1).length, JSON.stringify({ asks, told })).toBeGreaterThan(2)
      expect(asks.slice(end + 1).every(n => n === 1), JSON.stringify({ asks, told })).toBe(true)
    })
  })

  it('in the end game, asks for the next task shortly before the running one is expected to end', async () => {
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async (other, otherWorker) => {
      let running = 0
      otherWorker.addEventListener('task:start', () => { running++ })
      otherWorker.addEventListener('task:end', () => { running-- })
      /** Whether a task ran here when each lease request came. */
      const whileRunning: boolean[] = []
      onLease.set('job-end-early', () => { whileRunning.push(running > 0) })
      const { asks, told } = await runBusyJob('job-end-early', other)
      const end = told.findIndex(r => r != null && r > 0)
      expect(end, JSON.stringify({ asks, told })).toBeGreaterThan(0)
      // one task at a time, as in any end game, but asked for while the one
      // before it still ran (after it, the slot would wait a round trip)
      expect(asks.slice(end + 1).every(n => n === 1), JSON.stringify({ asks, told })).toBe(true)
      expect(whileRunning.slice(end + 1).filter(Boolean).length, JSON.stringify({ whileRunning, told })).toBeGreaterThan(0)
    })
  })

  it('gives back the task leased ahead of a job\'s first task once that task runs past two seconds', async () => {
    await withVolunteer({ outboxRetryMs: 60_000, resultHoldMs: 0 }, async other => {
      const done = await run('job-s', 10_000, [grant('job-s', 0, 1, [{ n: 0, busyMs: 2600 }], 10_000), grant('job-s', 1, 1, [{ n: 1 }], 10_000)], { to: other, deterministic: false })
      expect(done.map(r => JSON.parse(dec.decode(r.records[0].value)).n)).toEqual([0, 1])
      // the second task was leased ahead while the first ran, and went back after 2 s
      expect(outstanding.get('job-s')?.[1]).toBe(2)
      expect(released).toContain('job-s:1')
    })
  })

  it('runs quick tasks of a job together in one sandbox call, each told its own task; a task past its limit fails alone and the rest run again', async () => {
    // a second volunteer with the default leaseAhead: it holds enough quick tasks to group them
    await withVolunteer({ outboxRetryMs: 300 }, async other => {
      const value = (r: Result): any => {
        expect(r.records[0].error, `${r.taskId}`).toBeUndefined()
        return JSON.parse(dec.decode(r.records[0].value))
      }
      const quick = await run('job-e', 10_000, Array.from({ length: 60 }, (_, i) => grant('job-e', i, 1, [{ n: i }], 10_000)), { to: other, deterministic: false })
      expect(quick.map(r => value(r).n)).toEqual(Array.from({ length: 60 }, (_, i) => i))
      expect(quick.map(r => value(r).taskId)).toEqual(Array.from({ length: 60 }, (_, i) => `job-e:${i}`))
      expect(quick.every(r => value(r).records === 1 && value(r).record === 0)).toBe(true)
      // tasks after the first few shared a context: the sandbox ran them in groups
      expect(Math.max(...quick.map(r => value(r).calls))).toBeGreaterThan(1)

      // the same with a task that spins into its 1 s limit somewhere among them
      const inputs = Array.from({ length: 60 }, (_, i) => i === 40 ? { n: i, spin: true } : { n: i })
      const mixed = await run('job-f', 1000, inputs.map((input, i) => grant('job-f', i, 1, [input], 1000)), { to: other, deterministic: false })
      mixed.forEach((r, i) => {
        if (i === 40) {
          expect(r.records[0].error).toMatchObject({ kind: TaskError.Kind.LIMIT, retryable: false })
          expect(['TimeoutError', 'CpuLimitError']).toContain(r.records[0].error?.name)
        } else {
          expect(value(r).n).toBe(i)
        }
      })
    })
  })
})
