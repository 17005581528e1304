// The volunteer service: hears announcements, checks the owner's policy and
// free slots, fetches and verifies bundles, leases tasks, runs them in the
// sandbox, streams progress and checkpoints, and delivers results through a
// persisted outbox.
import { join } from 'node:path'
import { createBundleCache } from '@idlegrid/bundle'
import {
  ANNOUNCE_PROTOCOL, ANNOUNCE_TIMEOUT_MS, Announce, AnnounceResponse, LeaseResponse, MAX_ANNOUNCE_SIZE, MAX_CHECKPOINT_SIZE,
  MAX_INBOUND_ANNOUNCE_STREAMS, MAX_RESULT_SIZE, MAX_TASKS_PER_LEASE, Result, ResultAck, checkId, errorKindToWire
} from '@idlegrid/protocol-work'
import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { loadBundle } from './bundles.js'
import { Outbox } from './outbox.js'
import { SessionClient } from './session.js'
import type { BundleCache, SignedBundle } from '@idlegrid/bundle'
import type { TaskErrorInfo, TaskRequirements } from '@idlegrid/interface'
import type { RecordOutcome, TaskGrant } from '@idlegrid/protocol-work'
import type { SandboxPool } from '@idlegrid/sandbox-host'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'

const log = logger('idlegrid:worker')
const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder()

/** What the worker needs of the node it runs in (an IdleGridNode fits). */
export interface WorkerNode {
  readonly peerId: string
  readonly libp2p: Libp2p
  /** The node's slot table; acquiring slots makes capacity advertisements follow. */
  readonly slots: { readonly total: number, readonly free: number, acquire(n?: number): boolean, release(n?: number): void }
}

export interface WorkerPolicy {
  /** Whether to run work signed by this submitter; a string refuses with that reason. @default accept everyone */
  acceptSigner?(peerId: string): boolean | string
}

export interface WorkerInit {
  node: WorkerNode
  sandbox: SandboxPool
  /** SQLite file of the result outbox. */
  dbPath: string
  /** Directory of verified bundles. */
  bundleCacheDir?: string
  /** An already opened bundle cache (instead of bundleCacheDir). */
  bundleCache?: BundleCache
  policy?: WorkerPolicy
  /** How often undelivered results are retried. @default 5000 */
  outboxRetryMs?: number
  /** Least time between two progress messages of one task. @default 250 */
  progressIntervalMs?: number
}

export interface RunningTask {
  jobId: string
  taskId: string
  attempt: number
  submitter: string
  records: number
  fraction: number
  startedAt: number
}

export interface WorkerEvents {
  'task:start': CustomEvent<RunningTask>
  'task:end': CustomEvent<RunningTask & { ok: boolean }>
  /** A submitter answered a delivered result (accepted, duplicate or refused). */
  'result:acked': CustomEvent<{ taskId: string, attempt: number, submitter: string, status: 'ACCEPTED' | 'DUPLICATE' | 'REFUSED', reason: string }>
}

export interface Worker extends TypedEventEmitter<WorkerEvents> {
  running(): RunningTask[]
  /** Results waiting for their submitter. */
  outboxSize(): number
  /** Tries to deliver every waiting result now. */
  flush(): Promise<void>
  stop(): Promise<void>
}

export async function createWorker (init: WorkerInit): Promise<Worker> {
  const worker = new Volunteer(init)
  await worker.start()
  return worker
}

interface KnownJob {
  jobId: string
  bundleId: string
  submitter: PeerId
  requirements: TaskRequirements
  leasing: boolean
}

class Volunteer extends TypedEventEmitter<WorkerEvents> implements Worker {
  readonly #node: WorkerNode
  readonly #libp2p: Libp2p
  readonly #sandbox: SandboxPool
  readonly #outbox: Outbox
  readonly #cache: BundleCache
  readonly #policy: WorkerPolicy
  readonly #outboxRetryMs: number
  readonly #progressIntervalMs: number
  readonly #jobs = new Map<string, KnownJob>()
  readonly #sessions = new Map<string, SessionClient>()
  readonly #running = new Map<string, RunningTask & { cancel(): void }>()
  readonly #delivering = new Set<number>()
  #retryTimer?: ReturnType<typeof setInterval>
  #stopped = false
  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    if (this.#outbox.pending(peer).length > 0) {
      void this.#deliverTo(peer)
    }
  }

  constructor (init: WorkerInit) {
    super()
    this.#node = init.node
    this.#libp2p = init.node.libp2p
    this.#sandbox = init.sandbox
    this.#outbox = new Outbox(init.dbPath)
    this.#cache = init.bundleCache ?? createBundleCache(init.bundleCacheDir ?? join(init.dbPath, '..', 'bundles'))
    this.#policy = init.policy ?? {}
    this.#outboxRetryMs = init.outboxRetryMs ?? 5_000
    this.#progressIntervalMs = init.progressIntervalMs ?? 250
  }

  async start (): Promise<void> {
    await this.#libp2p.handle(ANNOUNCE_PROTOCOL, (stream, connection) => this.#onAnnounce(stream, connection), { maxInboundStreams: MAX_INBOUND_ANNOUNCE_STREAMS })
    this.#libp2p.addEventListener('peer:connect', this.#onConnect)
    this.#retryTimer = setInterval(() => { void this.flush() }, this.#outboxRetryMs)
    this.#retryTimer.unref?.()
    void this.flush()
  }

  async stop (): Promise<void> {
    if (this.#stopped) {
      return
    }
    this.#stopped = true
    clearInterval(this.#retryTimer)
    this.#libp2p.removeEventListener('peer:connect', this.#onConnect)
    await this.#libp2p.unhandle(ANNOUNCE_PROTOCOL).catch(() => {})
    for (const task of this.#running.values()) {
      task.cancel()
    }
    for (const session of this.#sessions.values()) {
      session.close()
    }
    // let cancelled tasks write their outcome to the outbox before it closes
    const deadline = Date.now() + 2_000
    while (this.#running.size > 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    this.#outbox.close()
  }

  running (): RunningTask[] {
    return [...this.#running.values()].map(({ cancel, ...task }) => task)
  }

  outboxSize (): number {
    return this.#stopped ? 0 : this.#outbox.size()
  }

  async flush (): Promise<void> {
    if (this.#stopped) {
      return
    }
    const submitters = new Set(this.#outbox.pending().map(e => e.submitter))
    await Promise.all([...submitters].map(async s => { await this.#deliverTo(s) }))
  }

  // --- announcements ----------------------------------------------------------

  async #onAnnounce (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(ANNOUNCE_TIMEOUT_MS)
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_ANNOUNCE_SIZE })
      const announce = Announce.decode(await lp.read({ signal }))
      checkId(announce.jobId, 'announce job')
      checkId(announce.bundleId, 'announce bundle')
      const answer = this.#consider(announce, connection.remotePeer)
      await lp.write(AnnounceResponse.encode(answer), { signal })
      await stream.close({ signal })
    } catch (err) {
      log('announce stream from %p broke the protocol, resetting it: %e', connection.remotePeer, err)
      stream.abort(err as Error)
    }
  }

  #consider (announce: Announce, submitter: PeerId): AnnounceResponse {
    const refuse = (reason: string): AnnounceResponse => ({ status: AnnounceResponse.Status.REFUSED, reason })
    if (this.#stopped) {
      return refuse('this volunteer is stopping')
    }
    const verdict = this.#policy.acceptSigner?.(submitter.toString()) ?? true
    if (verdict !== true) {
      return refuse(typeof verdict === 'string' ? verdict : `this volunteer does not run work signed by ${submitter.toString()}`)
    }
    const req = announce.requirements
    if (req == null) {
      return refuse('the announcement carries no requirements')
    }
    if (req.gpu) {
      return refuse('this volunteer offers no GPU to tasks')
    }
    const cores = Math.max(1, req.cores)
    if (cores > this.#node.slots.total) {
      return refuse(`tasks need ${cores} cores; this volunteer gives at most ${this.#node.slots.total}`)
    }
    const known = this.#jobs.get(announce.jobId)
    if (known == null) {
      this.#jobs.set(announce.jobId, { jobId: announce.jobId, bundleId: announce.bundleId, submitter, requirements: req, leasing: false })
    }
    queueMicrotask(() => { this.#pump() })
    if (this.#node.slots.free < cores) {
      return { status: AnnounceResponse.Status.BUSY, reason: 'no free slot now; will ask for work when one frees up' }
    }
    return { status: AnnounceResponse.Status.ACCEPTED, reason: '' }
  }

  // --- leasing ----------------------------------------------------------------

  /** Asks every known job for as many tasks as there are free slots. */
  #pump (): void {
    if (this.#stopped) {
      return
    }
    for (const job of this.#jobs.values()) {
      if (!job.leasing && this.#node.slots.free >= Math.max(1, job.requirements.cores)) {
        void this.#leaseFor(job)
      }
    }
  }

  async #leaseFor (job: KnownJob): Promise<void> {
    job.leasing = true
    let held = 0
    const cores = Math.max(1, job.requirements.cores)
    try {
      const bundle = await loadBundle({
        libp2p: this.#libp2p,
        cache: this.#cache,
        submitter: job.submitter,
        bundleId: job.bundleId,
        trusted: peer => (this.#policy.acceptSigner?.(peer) ?? true) === true
      })
      const want = Math.min(Math.floor(this.#node.slots.free / cores), MAX_TASKS_PER_LEASE)
      if (want < 1 || this.#stopped || !this.#node.slots.acquire(want * cores)) {
        return
      }
      held = want * cores
      const response = await this.#session(job.submitter).lease({ jobId: job.jobId, maxTasks: want })
      if (response.status !== LeaseResponse.Status.GRANTED) {
        log('job %s from %p: %s %s', job.jobId, job.submitter, response.status, response.reason)
        this.#jobs.delete(job.jobId)
        return
      }
      // a submitter that grants more than asked gets the extra leases back by expiry
      const tasks = response.tasks.slice(0, want)
      if (held > tasks.length * cores) {
        this.#node.slots.release(held - tasks.length * cores)
      }
      held = 0
      for (const grant of tasks) {
        void this.#runTask(job, bundle, grant).finally(() => {
          this.#node.slots.release(cores)
          this.#pump()
        })
      }
    } catch (err) {
      log('could not get work of job %s from %p, forgetting it until the next announcement: %e', job.jobId, job.submitter, err)
      this.#jobs.delete(job.jobId)
    } finally {
      if (held > 0) {
        this.#node.slots.release(held)
      }
      job.leasing = false
    }
  }

  #session (peer: PeerId): SessionClient {
    const key = peer.toString()
    let session = this.#sessions.get(key)
    if (session == null) {
      session = new SessionClient(this.#libp2p, peer)
      this.#sessions.set(key, session)
    }
    return session
  }

  // --- running ----------------------------------------------------------------

  async #runTask (job: KnownJob, bundle: SignedBundle, grant: TaskGrant): Promise<void> {
    const session = this.#session(job.submitter)
    const task = {
      jobId: job.jobId,
      taskId: grant.taskId,
      attempt: grant.attempt,
      submitter: job.submitter.toString(),
      records: grant.inputs.length,
      fraction: 0,
      startedAt: Date.now(),
      cancelled: false,
      current: undefined as { cancel(reason?: string): void } | undefined,
      cancel () {
        this.cancelled = true
        this.current?.cancel('the volunteer is stopping')
      }
    }
    this.#running.set(grant.taskId, task)
    this.safeDispatchEvent('task:start', { detail: this.#publicTask(task) })
    const outcomes: RecordOutcome[] = []
    let cpuMs = 0
    let wallMs = 0
    let lastProgress = 0
    try {
      for (let i = 0; i < grant.inputs.length; i++) {
        if (task.cancelled) {
          outcomes.push({ error: wireError(notRun('the volunteer stopped before this record ran')) })
          continue
        }
        let input: unknown
        let resumeFrom: unknown
        try {
          input = JSON.parse(fromUtf8.decode(grant.inputs[i]))
          resumeFrom = grant.resumeFrom != null && grant.resumeRecord === i ? JSON.parse(fromUtf8.decode(grant.resumeFrom)) : undefined
        } catch (err) {
          outcomes.push({ error: wireError({ name: 'InvalidInputError', message: `record ${grant.firstRecord + i} is not JSON: ${(err as Error).message}`, kind: 'task', retryable: false }) })
          continue
        }
        const run = this.#sandbox.run({
          taskId: `${job.jobId}:${grant.firstRecord + i}`,
          attempt: grant.attempt,
          bundleId: bundle.id,
          source: bundle.source,
          input,
          limits: { memoryMb: job.requirements.memoryMb, timeoutMs: job.requirements.timeoutMs },
          resumeFrom,
          deterministic: job.requirements.deterministic
        })
        task.current = run
        for await (const event of run) {
          if (event.type === 'progress') {
            task.fraction = (i + event.fraction) / grant.inputs.length
            if (Date.now() - lastProgress >= this.#progressIntervalMs) {
              lastProgress = Date.now()
              void session.notify({ progress: { taskId: grant.taskId, attempt: grant.attempt, fraction: task.fraction } })
            }
          } else if (event.type === 'checkpoint') {
            const state = utf8.encode(JSON.stringify(event.state ?? null))
            if (state.byteLength <= MAX_CHECKPOINT_SIZE) {
              await session.notify({ checkpoint: { taskId: grant.taskId, attempt: grant.attempt, record: i, state } })
            }
          } else if (event.type === 'log') {
            log.trace('task %s: %s', grant.taskId, event.line)
          } else if (event.type === 'result') {
            cpuMs += event.cpuMs
            wallMs += event.wallMs
            outcomes.push({ value: utf8.encode(JSON.stringify(event.value ?? null)) })
          } else if (event.type === 'error') {
            cpuMs += event.cpuMs
            wallMs += event.wallMs
            outcomes.push({ error: wireError(event.error) })
            if (event.error.retryable) {
              // the whole task goes back to the queue; the other records need not run here
              task.cancelled = true
            }
          }
        }
        task.current = undefined
      }
    } catch (err) {
      log.error('task %s attempt %d broke in the sandbox host: %e', grant.taskId, grant.attempt, err)
      while (outcomes.length < grant.inputs.length) {
        outcomes.push({ error: wireError({ name: 'RunnerLostError', message: `the sandbox failed: ${(err as Error).message}`, kind: 'runner-lost', retryable: true }) })
      }
    } finally {
      this.#running.delete(grant.taskId)
    }
    const size = outcomes.reduce((n, o) => n + (o.value?.byteLength ?? 0), 0)
    if (size > MAX_RESULT_SIZE) {
      outcomes.splice(0, outcomes.length, ...grant.inputs.map(() => ({ error: wireError({ name: 'ResultTooLargeError', message: `the task's results are ${size} bytes, over the ${MAX_RESULT_SIZE} byte limit`, kind: 'limit', retryable: false }) })))
    }
    const result: Result = { requestId: 0, taskId: grant.taskId, attempt: grant.attempt, records: outcomes, cpuMs: Math.round(cpuMs), wallMs: Math.round(wallMs) }
    const ok = outcomes.every(o => o.value != null)
    log.trace('task %s attempt %d ended (%s)', grant.taskId, grant.attempt, ok ? 'ok' : 'with errors')
    this.safeDispatchEvent('task:end', { detail: { ...this.#publicTask(task), ok } })
    if (this.#stopped && outcomes.some(o => o.error?.retryable === true)) {
      // a task cut short by our own stop is only worth requeueing, which the submitter does on disconnect
      return
    }
    this.#outbox.put(job.submitter.toString(), grant.taskId, grant.attempt, Result.encode(result))
    if (!this.#stopped) {
      void this.#deliverTo(job.submitter.toString())
    }
  }

  #publicTask (task: RunningTask): RunningTask {
    const { jobId, taskId, attempt, submitter, records, fraction, startedAt } = task
    return { jobId, taskId, attempt, submitter, records, fraction, startedAt }
  }

  // --- delivery ---------------------------------------------------------------

  async #deliverTo (submitter: string): Promise<void> {
    if (this.#stopped) {
      return
    }
    const session = this.#session(peerIdFromString(submitter))
    for (const entry of this.#outbox.pending(submitter)) {
      if (this.#delivering.has(entry.id) || this.#stopped) {
        continue
      }
      this.#delivering.add(entry.id)
      try {
        log.trace('delivering result of %s attempt %d to %s', entry.taskId, entry.attempt, submitter)
        const ack = await session.deliver(Result.decode(entry.result))
        log.trace('result of %s attempt %d: %s', entry.taskId, entry.attempt, ack.status)
        if (this.#stopped) {
          return
        }
        this.#outbox.delete(entry.id)
        if (ack.status === ResultAck.Status.REFUSED) {
          log('%s refused the result of %s attempt %d: %s', submitter, entry.taskId, entry.attempt, ack.reason)
        }
        this.safeDispatchEvent('result:acked', { detail: { taskId: entry.taskId, attempt: entry.attempt, submitter, status: ack.status, reason: ack.reason } })
      } catch (err) {
        log('result of %s attempt %d waits in the outbox: %e', entry.taskId, entry.attempt, err)
        return
      } finally {
        this.#delivering.delete(entry.id)
      }
    }
  }
}

function wireError (e: Omit<TaskErrorInfo, 'stack'>): NonNullable<RecordOutcome['error']> {
  return { name: e.name, message: e.message, kind: errorKindToWire(e.kind), retryable: e.retryable }
}

function notRun (message: string): Omit<TaskErrorInfo, 'stack'> {
  return { name: 'NotRunError', message, kind: 'cancelled', retryable: true }
}

