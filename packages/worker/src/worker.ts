// The volunteer service: hears announcements, checks the owner's policy and
// free slots, fetches and verifies bundles, leases tasks, runs them in the
// sandbox, streams progress and checkpoints, delivers results through a
// persisted outbox, and keeps the receipts submitters pay it with.
import { join } from 'node:path'
import { createBundleCache } from '@idlegrid/bundle'
import { decodeReceipt, receiptHash } from '@idlegrid/ledger'
import {
  ANNOUNCE_PROTOCOL, ANNOUNCE_TIMEOUT_MS, Announce, AnnounceResponse, LeaseResponse, MAX_ANNOUNCE_SIZE, MAX_CHECKPOINT_SIZE,
  MAX_INBOUND_ANNOUNCE_STREAMS, MAX_REASON_LENGTH, MAX_RESULT_SIZE, MAX_TASKS_PER_LEASE, ReceiptStatus, Result, ResultAck, checkId, errorKindToWire
} from '@idlegrid/protocol-work'
import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { loadBundle } from './bundles.js'
import { Outbox } from './outbox.js'
import { SessionClient } from './session.js'
import type { BundleCache, SignedBundle } from '@idlegrid/bundle'
import type { Ledger } from '@idlegrid/ledger'
import { InvalidInputError } from '@idlegrid/interface'
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
  /**
   * The node's credit ledger (the same one its submitter uses). Receipts
   * that submitters send are checked and stored in it, then acknowledged.
   * Without one, receipts are ignored (and re-sent by their submitter).
   */
  ledger?: Ledger
  /**
   * Owner's setting: when several submitters have work, lease first from
   * the peers that gave this node the most compute (receipts this node
   * issued to them, minus those they issued to it). Needs `ledger`.
   * @default false
   */
  preferGivers?: boolean
  /**
   * TEST ONLY: rewrites each record's value before it is reported, to play a
   * volunteer that returns wrong results. Never set by the daemon.
   */
  tamperResult?(value: unknown, where: { jobId: string, taskId: string, record: number }): unknown
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
  /** A receipt from a submitter was stored (or was already held). */
  'receipt:accepted': CustomEvent<{ submitter: string, hash: string, status: 'accepted' | 'duplicate', jobId: string, taskId: string, milliCredits: number }>
  /** A receipt was refused (nothing stored) or showed its issuer forked its chain (evidence stored). */
  'receipt:refused': CustomEvent<{ submitter: string, hash: string, status: 'REFUSED' | 'FORK', reason: string }>
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
  readonly #ledger?: Ledger
  readonly #preferGivers: boolean
  readonly #tamper?: WorkerInit['tamperResult']
  #givers?: { at: number, score: Map<string, number> }
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
    this.#ledger = init.ledger
    if (this.#ledger != null && this.#ledger.peerId !== init.node.peerId) {
      throw new InvalidInputError(`the ledger belongs to ${this.#ledger.peerId}, not to this node ${init.node.peerId}: open it with the node's key`)
    }
    this.#preferGivers = init.preferGivers === true
    if (this.#preferGivers && this.#ledger == null) {
      throw new InvalidInputError('preferGivers needs the node\'s ledger: pass ledger too, or leave preferGivers off')
    }
    this.#tamper = init.tamperResult
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
    if (this.#preferGivers) {
      this.#pumpByGiving()
      return
    }
    for (const job of this.#jobs.values()) {
      if (!job.leasing && this.#node.slots.free >= Math.max(1, job.requirements.cores)) {
        void this.#leaseFor(job)
      }
    }
  }

  /**
   * preferGivers: only the job of the submitter that gave us the most
   * compute leases now; the next one gets its turn when that one has no
   * more work (NONE_LEFT) or slots stay free.
   */
  #pumpByGiving (): void {
    const score = this.#giverScores()
    const jobs = [...this.#jobs.values()].sort((a, b) => (score.get(b.submitter.toString()) ?? 0) - (score.get(a.submitter.toString()) ?? 0))
    for (const job of jobs) {
      if (job.leasing) {
        return // a better-placed job is asking right now
      }
      if (this.#node.slots.free >= Math.max(1, job.requirements.cores)) {
        void this.#leaseFor(job)
        return
      }
    }
  }

  /** Per peer: milli-credits we paid it (it ran our tasks) minus what it paid us; cached for a second. */
  #giverScores (): Map<string, number> {
    const now = Date.now()
    if (this.#givers == null || now - this.#givers.at > 1_000) {
      const score = new Map<string, number>()
      for (const p of this.#ledger?.balances().peers ?? []) {
        score.set(p.peer, p.spentMilli - p.earnedMilli)
      }
      this.#givers = { at: now, score }
    }
    return this.#givers.score
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
      if (this.#preferGivers && !this.#jobs.has(job.jobId)) {
        // this job had nothing for us: the next one in line may ask
        queueMicrotask(() => { this.#pump() })
      }
    }
  }

  #session (peer: PeerId): SessionClient {
    const key = peer.toString()
    let session = this.#sessions.get(key)
    if (session == null) {
      const client: SessionClient = new SessionClient(this.#libp2p, peer, {
        onReceipts: receipts => { void this.#onReceipts(client, receipts) }
      })
      session = client
      this.#sessions.set(key, session)
    }
    return session
  }

  // --- receipts ---------------------------------------------------------------

  /** Checks and stores receipts a submitter sent, then tells it which it now holds. */
  async #onReceipts (session: SessionClient, receipts: Uint8Array[]): Promise<void> {
    const ledger = this.#ledger
    if (ledger == null || this.#stopped) {
      return
    }
    const submitter = session.peer.toString()
    const statuses: ReceiptStatus[] = []
    for (const bytes of receipts) {
      let hash = ''
      try {
        const receipt = decodeReceipt(bytes)
        hash = receiptHash(receipt)
        if (receipt.issuer !== submitter) {
          throw Object.assign(new Error(`the receipt is issued by ${receipt.issuer} but arrived from ${submitter}: only an issuer hands over its own receipts`), { reason: 'wrong-issuer' })
        }
        const result = await ledger.accept(bytes)
        if (result.status === 'fork') {
          const reason = `fork: ${submitter} signed another receipt #${result.evidence.seq} (${result.evidence.kind}); the evidence is kept and nothing is credited`
          log.error('receipt from %s: %s', submitter, reason)
          statuses.push({ hash, status: ReceiptStatus.Status.FORK, reason })
          this.safeDispatchEvent('receipt:refused', { detail: { submitter, hash, status: 'FORK', reason } })
          continue
        }
        statuses.push({ hash, status: result.status === 'accepted' ? ReceiptStatus.Status.ACCEPTED : ReceiptStatus.Status.DUPLICATE, reason: '' })
        this.safeDispatchEvent('receipt:accepted', { detail: { submitter, hash, status: result.status, jobId: receipt.jobId, taskId: receipt.taskId, milliCredits: receipt.milliCredits } })
      } catch (err: any) {
        const reason = `${String(err?.reason ?? err?.name ?? 'error')}: ${String(err?.message ?? err)}`.slice(0, MAX_REASON_LENGTH)
        log('refused a receipt from %s: %s', submitter, reason)
        statuses.push({ hash, status: ReceiptStatus.Status.REFUSED, reason })
        this.safeDispatchEvent('receipt:refused', { detail: { submitter, hash, status: 'REFUSED', reason } })
      }
    }
    await session.notify({ receiptAck: { statuses } })
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
            const value = this.#tamper == null ? event.value : this.#tamper(event.value, { jobId: job.jobId, taskId: grant.taskId, record: grant.firstRecord + i })
            outcomes.push({ value: utf8.encode(JSON.stringify(value ?? null)) })
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

