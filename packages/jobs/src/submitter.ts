// The submitter service: takes jobs, stores them before answering, tells
// volunteers that work is available, serves bundles, grants leases, stores
// checkpoints and results, requeues tasks whose lease ended without one, and
// pays volunteers whose results were accepted with signed receipts.
import { randomBytes } from 'node:crypto'
import { InvalidInputError } from '@idlegrid/interface'
import { encodeSignedBundle, verifyBundle } from '@idlegrid/bundle'
import { capCpuClaim, milliCreditsFor } from '@idlegrid/ledger'
import {
  ANNOUNCE_PROTOCOL, ANNOUNCE_TIMEOUT_MS, Announce, AnnounceResponse, BUNDLE_CHUNK_SIZE, BUNDLE_PROTOCOL, BUNDLE_TIMEOUT_MS, BundleChunk, BundleRequest,
  LeaseResponse, MAX_ANNOUNCE_SIZE, MAX_BUNDLE_CHUNK_SIZE, MAX_BUNDLE_REQUEST_SIZE, MAX_BUNDLE_SIZE, MAX_CHECKPOINT_SIZE, MAX_INBOUND_BUNDLE_STREAMS,
  MAX_INBOUND_SESSION_STREAMS, MAX_REASON_LENGTH, MAX_RESULT_SIZE, MAX_SESSION_MESSAGE_SIZE, MAX_TASKS_PER_LEASE, REQUEST_TIMEOUT_MS, ResultAck,
  MAX_RECEIPTS_PER_MESSAGE, ReceiptStatus, SESSION_IDLE_TIMEOUT_MS, SESSION_PROTOCOL, SubmitterMessage, checkId, decodeWorkerMessage, errorKindFromWire, timeoutSignal
} from '@idlegrid/protocol-work'
import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { anySignal } from 'any-signal'
import { SubmitterStoppedError } from './errors.js'
import { encodeRecords } from './inputs.js'
import { JobStore, checkReplicas } from './store.js'
import type { CreditSettlement, JobInfo, JobListOptions, JobSummary, LeaseOutcome, LostLease, OwedCredit, RecordResult, Replicas, ReportedOutcome } from './store.js'
import type { SignedBundle } from '@idlegrid/bundle'
import type { Ledger } from '@idlegrid/ledger'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { ReceiptAck, Ready, Result, WorkerMessage } from '@idlegrid/protocol-work'
import type { LengthPrefixedStream } from '@libp2p/utils'

const log = logger('idlegrid:jobs:submitter')
/** Owed results paid per round of the credit pass. */
const CREDIT_ROUND = 256
/** Wait between a job's end and the credit round that pays its last results, so results of a busy moment share a round. */
const CREDIT_DELAY_MS = 500
/**
 * Wait between a result of a job that still runs and the round that pays
 * it: a round costs both sides fsyncs, signatures and messages whatever it
 * pays, and every 500 ms they took ~9 % of the daemons' CPU in a Monte
 * Carlo job of 3.4 s (~30 ms of ~330). Volunteers get their receipts a
 * little later; a job's last results are paid CREDIT_DELAY_MS after its end.
 */
const CREDIT_INTERVAL_MS = 2_000
/**
 * How long the sync before a result's ack may wait for a sync started by
 * someone else: a client submitting job after job stores the next job about
 * a millisecond after it has the last one's result, and that job's sync
 * serves the ack too. One fdatasync a one-record job instead of two, and
 * the ack leaves while the submitter waits for the next result instead of
 * when the next request comes in (docs/durability.md).
 */
const ACK_SYNC_WITHIN_MS = 5
/** How long a DHT walk for volunteers waits when some already hold sessions with this node. */
const FIND_DELAY_MS = 200
/** How long a peer median of credited CPU time is reused. */
const MEDIAN_TTL_MS = 1000
/** Finished jobs remembered in memory as told of (#finished): ~5 MiB at most. */
const FINISHED_KEPT = 65_536
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** What the submitter needs of the node it runs in (an IdleGridNode fits). */
export interface SubmitterNode {
  readonly peerId: string
  readonly libp2p: Libp2p
  /** DHT lookup of volunteers whose free capacity fits; optional so a bare libp2p node works. */
  find?(want: { cpu?: number, memoryMb?: number, gpu?: boolean }, options?: { signal?: AbortSignal, limit?: number, skip?: ReadonlySet<string> }): Promise<Array<{ peerId: string, addresses: string[] }>>
}

export interface SubmitterInit {
  node: SubmitterNode
  /** SQLite file of the job store; created when missing, resumed when present. */
  dbPath: string
  /** See JobStoreInit.maxAttempts. @default 3 */
  maxAttempts?: number
  /** See JobStoreInit.maxLeases. @default 10 */
  maxLeases?: number
  /** Lease time on top of the task's time limit (× records per task). @default 5000 */
  leaseMarginMs?: number
  /** How often volunteers are told again about jobs with pending tasks. @default 5000 */
  announceIntervalMs?: number
  /** Volunteers asked through the DHT per announce round. @default 20 */
  findLimit?: number
  /**
   * The node's credit ledger (one per node, shared with its worker: open it
   * once with openLedger and pass it to both). Without one no receipts are
   * issued and replicas 'auto' replicates every task.
   */
  ledger?: Ledger
  /** Volunteers asked beyond the replicas when results disagree. @default 2 */
  maxExtraReplicas?: number
  /** Random numbers in [0, 1) for the spot checks of replicas 'auto'. @default Math.random */
  rng?(): number
  /** An unacknowledged receipt is sent again on a session after this long (and at once on a new session). @default 10000 */
  receiptResendMs?: number
}

export interface SubmitInit {
  signedBundle: SignedBundle
  inputs: unknown[]
  /** Records per task. @default the bundle manifest's batch */
  batch?: number
  /**
   * Volunteers that run each task, 1..16 (a majority must agree), or 'auto':
   * one volunteer, checked by a second as often as its trust record asks.
   * @default the bundle manifest's replicas
   */
  replicas?: Replicas
}

export interface ResultsOptions {
  signal?: AbortSignal
  /** First record index to return. @default 0 */
  from?: number
  /** Wait for records that are not finished yet until the job ends. @default true */
  follow?: boolean
}

export interface TaskProgressDetail { jobId: string, taskId: string, attempt: number, worker: string, fraction: number }
export interface TaskEventDetail { jobId: string, taskId: string, attempt: number, worker: string }
/** A volunteer declined a job's announcement, e.g. its owner does not trust the signer. */
export interface JobRefusal { jobId: string, worker: string, reason: string, at: number }

export interface SubmitterEvents {
  /** A job was stored: its name, input records and tasks, so listeners need not read it back. */
  'job:submitted': CustomEvent<{ jobId: string, name: string, records: number, tasks: number }>
  /** A volunteer reported progress (0..1 over the task's records). */
  'task:progress': CustomEvent<TaskProgressDetail>
  /** A checkpoint was stored. */
  'task:checkpoint': CustomEvent<TaskEventDetail>
  /** Tasks were granted to a volunteer. */
  'task:leased': CustomEvent<TaskEventDetail>
  /** A task reached its final state; its records' results are readable. */
  'task:final': CustomEvent<TaskEventDetail>
  /** A task went back to the queue (lease expired or lost, retryable failure). */
  /** givenBack: the volunteer gave the task back unrun (leased ahead, then not needed there); not a failure. */
  'task:requeued': CustomEvent<TaskEventDetail & { reason: string, givenBack?: boolean }>
  /** A job reached its final state (done or cancelled); for a job that finished, at the end of the turn whose result ended it, after the streams waiting for that result got it. */
  'job:ended': CustomEvent<JobSummary>
  /**
   * 'job:ended' with the job's full info, a dozen queries: computed only
   * while someone listens (it took 0.1-0.26 ms from the next one-record
   * job's round trip, a daemon's log and credit lines need only the summary).
   */
  'job:done': CustomEvent<JobInfo>
  /** A volunteer refused a job's announcement, or gave a new reason (not repeated every round). */
  'job:refused': CustomEvent<JobRefusal>
  /** A receipt was issued (and stored) for an accepted result. */
  'receipt:issued': CustomEvent<ReceiptIssuedDetail>
  /** A volunteer confirmed it holds a receipt. */
  'receipt:acknowledged': CustomEvent<{ hash: string, worker: string }>
  /** A volunteer refused a receipt or saw it conflict with one it holds. */
  'receipt:refused': CustomEvent<{ hash: string, worker: string, status: 'REFUSED' | 'FORK', reason: string }>
  /** A claimed CPU time was capped or refused before paying. */
  'credit:flagged': CustomEvent<CreditFlagDetail>
}

/** Tasks leased to a volunteer standing ready, for its Offer. */
interface ReadyGrant { link: SessionLink, outcome: Extract<LeaseOutcome, { status: 'granted' }> }

export interface ReceiptIssuedDetail { jobId: string, taskId: string, worker: string, hash: string, cpuMs: number, milliCredits: number }
export interface CreditFlagDetail { jobId: string, taskId: string, worker: string, claimedMs: number, creditedMs: number, refused: boolean, reason: string }

export interface Submitter extends TypedEventEmitter<SubmitterEvents> {
  /** Stores the job and its tasks; the job survives a restart from the moment this resolves. */
  submit(init: SubmitInit): Promise<string>
  /** @throws NotFoundError */
  job(id: string): JobInfo
  /** The job's state and counts, without job()'s lists. @throws NotFoundError */
  summary(id: string): JobSummary
  /** summary()'s `credit` alone, in one query: what a job's results were paid and still owe. All zero for an unknown id. */
  credit(id: string): JobSummary['credit']
  /** The newest jobs (100 unless `limit` says), oldest of them first. @throws InvalidInputError for options out of range */
  jobs(options?: JobListOptions): JobInfo[]
  /** Record results in input order (value, or error for a record that failed for good). */
  results(id: string, options?: ResultsOptions): AsyncIterable<RecordResult>
  /** Record results in the order they finished, each once. */
  completed(id: string, options?: Omit<ResultsOptions, 'from'>): AsyncIterable<RecordResult>
  /** Resolves when the job is done or cancelled. */
  done(id: string, options?: { signal?: AbortSignal }): Promise<JobInfo>
  /** Fails every unfinished task of the job. @returns false when it had already ended */
  cancel(id: string): boolean
  /** Progress of the tasks running right now, as volunteers last reported it. */
  running(id: string): TaskProgressDetail[]
  /** Volunteers whose last answer to the job's announcement was a refusal, with their reason. */
  refusals(id: string): JobRefusal[]
  /** Tells volunteers about pending jobs now instead of at the next interval. */
  announce(): Promise<void>
  stop(): Promise<void>
}

/** Opens the store, resumes what was in flight, registers the protocol handlers and starts announcing. */
export async function createSubmitter (init: SubmitterInit): Promise<Submitter> {
  const submitter = new JobSubmitter(init)
  await submitter.start()
  return submitter
}

/** The announcement of a job with tasks waiting, as the store lists it. */
function announceOf (job: ReturnType<JobStore['pendingJobs']>[number]): Announce {
  return { jobId: job.id, bundleId: job.bundleId, requirements: job.requirements, pendingTasks: job.pending }
}

class JobSubmitter extends TypedEventEmitter<SubmitterEvents> implements Submitter {
  readonly #node: SubmitterNode
  readonly #libp2p: Libp2p
  readonly #store: JobStore
  readonly #announceIntervalMs: number
  readonly #findLimit: number
  readonly #ledger?: Ledger
  readonly #receiptResendMs: number
  /** Open session streams per volunteer, to push receipts on. */
  readonly #links = new Map<string, Set<SessionLink>>()
  #crediting: Promise<void> = Promise.resolve()
  #creditTimer?: ReturnType<typeof setTimeout>
  /** When #creditTimer fires (Date.now() ms). */
  #creditDue = 0
  readonly #medians = new Map<string, { at: number, median: { medianMs: number, samples: number } }>()
  readonly #progress = new Map<string, TaskProgressDetail>()
  /** jobId -> worker -> its last refusal; cleared when that worker accepts. */
  readonly #refusals = new Map<string, Map<string, JobRefusal>>()
  /** Wakes result iterators and done() waiters of a job. */
  readonly #waiters = new Map<string, Set<() => void>>()
  readonly #streams = new Set<Stream>()
  /** Standing Ready requests of volunteers, oldest first: answered with an Offer when a job that fits has tasks. */
  readonly #ready = new Map<SessionLink, Ready>()
  /** New jobs already pushed on the sessions, which the next announce round need not push again. */
  readonly #justPushed = new Set<string>()
  /** Signed bundles submitted before, checked and encoded. */
  readonly #checked = new WeakMap<SignedBundle, { verified: SignedBundle, bundle: Uint8Array }>()
  /**
   * Jobs whose job:done event went out, so it goes out once: the newest
   * FINISHED_KEPT of them (a late result of a job finished that long ago,
   * from a volunteer's outbox, would tell of its end again).
   */
  readonly #finished = new Set<string>()
  /** Jobs finished in this turn whose job:done goes out at its end. */
  readonly #doneWaiting = new Set<string>()
  #announceTimer?: ReturnType<typeof setInterval>
  #expiryTimer?: ReturnType<typeof setTimeout>
  /** The lease deadline #expiryTimer waits for. */
  #expiryAt?: number
  #announcing?: Promise<void>
  #announceAgain = false
  /** DHT finds in flight, by job: they run beside the rounds, never inside one. */
  readonly #finding = new Map<string, Promise<void>>()
  /** When each job's last find started, so rounds do not start one per result. */
  readonly #lastFind = new Map<string, number>()
  readonly #findAbort = new AbortController()
  #stopped = false
  readonly #onDisconnect = (evt: CustomEvent<PeerId>): void => { this.#releaseWorker(evt.detail.toString()) }

  constructor (init: SubmitterInit) {
    super()
    this.#node = init.node
    this.#libp2p = init.node.libp2p
    this.#ledger = init.ledger
    if (this.#ledger != null && this.#ledger.peerId !== init.node.peerId) {
      throw new InvalidInputError(`the ledger belongs to ${this.#ledger.peerId}, not to this node ${init.node.peerId}: open it with the node's key`)
    }
    const rng = init.rng ?? Math.random
    const trust = this.#ledger?.trust
    this.#store = new JobStore({
      path: init.dbPath,
      maxAttempts: init.maxAttempts,
      maxLeases: init.maxLeases,
      leaseMarginMs: init.leaseMarginMs,
      maxExtraReplicas: init.maxExtraReplicas,
      replicate: worker => trust?.needsReplication(worker, rng) ?? true
    })
    this.#announceIntervalMs = init.announceIntervalMs ?? 5_000
    this.#findLimit = init.findLimit ?? 20
    this.#receiptResendMs = init.receiptResendMs ?? 10_000
  }

  async start (): Promise<void> {
    // leases from before a restart cannot be trusted to be running; their
    // results are still accepted if they arrive (the lease rows remain)
    const lost = this.#store.releaseAll()
    if (lost.length > 0) {
      log('requeued %d task(s) that were leased before the restart', lost.length)
    }
    await this.#libp2p.handle(BUNDLE_PROTOCOL, (stream, connection) => this.#serveBundle(stream, connection), { maxInboundStreams: MAX_INBOUND_BUNDLE_STREAMS })
    await this.#libp2p.handle(SESSION_PROTOCOL, (stream, connection) => this.#serveSession(stream, connection), { maxInboundStreams: MAX_INBOUND_SESSION_STREAMS })
    this.#libp2p.addEventListener('peer:disconnect', this.#onDisconnect)
    this.#armAnnounce()
    this.#armExpiry()
    // results accepted before a restart may still owe their receipts
    this.#credit()
    void this.announce()
  }

  async stop (): Promise<void> {
    if (this.#stopped) {
      return
    }
    this.#stopped = true
    clearInterval(this.#announceTimer)
    clearTimeout(this.#expiryTimer)
    clearTimeout(this.#creditTimer)
    this.#libp2p.removeEventListener('peer:disconnect', this.#onDisconnect)
    await this.#libp2p.unhandle([BUNDLE_PROTOCOL, SESSION_PROTOCOL]).catch(() => {})
    for (const stream of this.#streams) {
      stream.abort(new SubmitterStoppedError('the submitter is stopping'))
    }
    this.#findAbort.abort()
    await this.#announcing?.catch(() => {})
    await Promise.all([...this.#finding.values()])
    await this.#crediting
    for (const wake of [...this.#waiters.values()].flatMap(s => [...s])) {
      wake()
    }
    this.#dispatchDone()
    this.#store.close()
  }

  async submit (init: SubmitInit): Promise<string> {
    this.#checkRunning()
    const signed = init.signedBundle
    if (signed?.manifest?.submitter !== this.#node.peerId) {
      throw new InvalidInputError(`the bundle names submitter ${String(signed?.manifest?.submitter)} but this node is ${this.#node.peerId}: build and sign it with this node's identity`)
    }
    const { verified, bundle } = await this.#verifiedBundle(signed)
    const batch = init.batch ?? verified.manifest.batch ?? 1
    const replicas = checkReplicas(init.replicas ?? verified.manifest.replicas ?? 1)
    if (replicas !== 1 && !verified.manifest.requirements.deterministic) {
      log('job of bundle %s asks for replicas %s but is not deterministic: replicas will only agree if its results never vary', verified.id, replicas)
    }
    const records = encodeRecords(init.inputs, batch)
    const id = randomBytes(8).toString('hex')
    const work: Announce = { jobId: id, bundleId: verified.id, requirements: verified.manifest.requirements, pendingTasks: Math.ceil(records.length / batch) }
    // the job, and the first tasks of the volunteers standing ready, in one
    // commit: the offers below leave one commit sooner
    const grants = this.#store.atomically(() => {
      this.#store.createJob({
        id,
        name: verified.manifest.name,
        bundleId: verified.id,
        bundle,
        requirements: verified.manifest.requirements,
        batch,
        records,
        createdAt: Date.now(),
        replicas
      })
      return records.length === 0 ? [] : this.#leaseReady(work)
    })
    // the caller is told the job is stored: it must survive a power cut too
    // (the sync starts now, and runs while the volunteers are told)
    const synced = this.#store.sync()
    log('job %s stored: %d record(s) in batches of %d, replicas %s', id, records.length, batch, replicas)
    this.safeDispatchEvent('job:submitted', { detail: { jobId: id, name: verified.manifest.name, records: records.length, tasks: Math.ceil(records.length / batch) } })
    if (records.length === 0) {
      this.#afterTaskChange(id)
    } else {
      // volunteers holding a session hear of it at once, before the announce
      // round, and may lease while the sync below runs: nothing is promised
      // to anyone before it is on disk (a result's ack waits for a later
      // sync of the same log, which covers this commit too)
      this.#offerAndPush(work, grants)
      this.#justPushed.add(id)
    }
    // after the offer's bytes have left (they go out at the end of this
    // turn); not when the offers took every task: a round would find the
    // job with none waiting, and the file read to learn it
    if (!grants.some(g => g.outcome.exhausted === true)) {
      setImmediate(() => { void this.announce() })
    }
    await synced
    return id
  }

  job (id: string): JobInfo {
    this.#checkRunning()
    return this.#store.job(id)
  }

  summary (id: string): JobSummary {
    this.#checkRunning()
    return this.#store.summary(id)
  }

  credit (id: string): JobSummary['credit'] {
    this.#checkRunning()
    return this.#store.credit(id)
  }

  jobs (options?: JobListOptions): JobInfo[] {
    this.#checkRunning()
    return this.#store.jobs(options)
  }

  refusals (id: string): JobRefusal[] {
    return [...(this.#refusals.get(id)?.values() ?? [])]
  }

  running (id: string): TaskProgressDetail[] {
    return [...this.#progress.values()].filter(p => p.jobId === id)
  }

  cancel (id: string): boolean {
    this.#checkRunning()
    const cancelled = this.#store.cancel(id)
    if (cancelled) {
      this.#jobChanged(id)
      this.#markFinished(id)
      this.#justPushed.delete(id)
      this.#dispatchEnded(id)
    }
    return cancelled
  }

  async * results (id: string, options: ResultsOptions = {}): AsyncIterable<RecordResult> {
    let next = options.from ?? 0
    yield * this.#follow(id, options, () => {
      const rows = this.#store.resultsInOrder(id, next)
      next += rows.length
      return rows
    })
  }

  async * completed (id: string, options: Omit<ResultsOptions, 'from'> = {}): AsyncIterable<RecordResult> {
    let seq = 0
    yield * this.#follow(id, options, () => {
      const rows = this.#store.resultsSince(id, seq)
      seq = rows.at(-1)?.seq ?? seq
      return rows.map(({ seq, ...r }) => r)
    })
  }

  /** Resolves once the job has ended and its results are paid (its receipts issued), with its info. */
  async done (id: string, options: { signal?: AbortSignal } = {}): Promise<JobInfo> {
    for await (const _ of this.#follow(id, options, () => [])) {} // eslint-disable-line no-unused-vars
    if (this.#store.owesCredit(id)) {
      this.#credit('now')
      await this.#crediting
    }
    return this.job(id)
  }

  /** Polls `read` after every change of the job until the job has ended and `read` returns nothing. */
  async * #follow<T> (id: string, options: { signal?: AbortSignal, follow?: boolean }, read: () => T[]): AsyncGenerator<T> {
    if (this.#store.state(id) == null) {
      this.#store.job(id) // throws NotFoundError, with its message, before the first read
    }
    while (true) {
      this.#checkRunning()
      options.signal?.throwIfAborted()
      // register before reading, so a change between the read and the wait is not missed
      const changed = this.#nextChange(id, options.signal)
      const ended = this.#store.state(id) !== 'running'
      const rows = read()
      if (rows.length > 0) {
        changed.cancel()
        yield * rows
        continue
      }
      if (ended || options.follow === false) {
        changed.cancel()
        return
      }
      await changed.promise
    }
  }

  #nextChange (id: string, signal?: AbortSignal): { promise: Promise<void>, cancel: () => void } {
    const { promise, resolve, reject } = Promise.withResolvers<void>()
    let set = this.#waiters.get(id)
    if (set == null) {
      set = new Set()
      this.#waiters.set(id, set)
    }
    const onAbort = (): void => { cancel(); reject(signal?.reason) }
    const wake = (): void => { cancel(); resolve() }
    const cancel = (): void => {
      set.delete(wake)
      // a job nobody follows any more keeps no entry: one a job otherwise, for good
      if (set.size === 0 && this.#waiters.get(id) === set) {
        this.#waiters.delete(id)
      }
      signal?.removeEventListener('abort', onAbort)
    }
    set.add(wake)
    signal?.addEventListener('abort', onAbort, { once: true })
    return { promise, cancel }
  }

  #jobChanged (id: string): void {
    for (const wake of [...(this.#waiters.get(id) ?? [])]) {
      wake()
    }
  }

  /**
   * The bundle checked and encoded for the store. A signed bundle object
   * submitted before is not checked again: the daemon hands over the same
   * object for the same content (it caches signatures), and what is kept is
   * the checked copy, so changing the object afterwards changes nothing.
   */
  async #verifiedBundle (signed: SignedBundle): Promise<{ verified: SignedBundle, bundle: Uint8Array }> {
    const known = this.#checked.get(signed)
    if (known != null) {
      return known
    }
    const verified = await verifyBundle(signed, { signer: this.#node.peerId })
    const bundle = encodeSignedBundle(verified)
    if (bundle.byteLength > MAX_BUNDLE_SIZE) {
      throw new InvalidInputError(`the signed bundle is ${bundle.byteLength} bytes, over the ${MAX_BUNDLE_SIZE} byte limit of the work protocol: make the job code smaller`)
    }
    const checked = { verified, bundle }
    this.#checked.set(signed, checked)
    return checked
  }

  #checkRunning (): void {
    if (this.#stopped) {
      throw new SubmitterStoppedError('the submitter was stopped')
    }
  }

  // --- leases ---------------------------------------------------------------

  /**
   * Sets the timer for the earliest lease deadline. `granted`: the earliest
   * deadline of leases just granted; when the timer already waits for one
   * no later, it stands (every grant read the next deadline from the file
   * before: a query per one-record job).
   */
  #armExpiry (granted?: number): void {
    if (this.#stopped) {
      return
    }
    // #expiryAt is set exactly while the timer waits
    if (granted != null && this.#expiryAt != null && this.#expiryAt <= granted) {
      return
    }
    clearTimeout(this.#expiryTimer)
    this.#expiryTimer = undefined
    this.#expiryAt = undefined
    const deadline = this.#store.nextDeadline()
    if (deadline == null) {
      return
    }
    this.#expiryAt = deadline
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined
      this.#expiryAt = undefined
      if (this.#stopped) {
        return
      }
      this.#afterLost(this.#store.expire(), 'lease expired')
      this.#armExpiry()
    }, Math.max(0, deadline - Date.now()) + 5)
    this.#expiryTimer.unref?.()
  }

  #releaseWorker (worker: string): void {
    if (this.#stopped) {
      return
    }
    this.#afterLost(this.#store.releaseWorker(worker), 'volunteer disconnected')
  }

  #afterLost (lost: LostLease[], reason: string, givenBack = false): void {
    for (const l of lost) {
      this.#progress.delete(l.taskId)
      const detail = { jobId: l.jobId, taskId: l.taskId, attempt: l.attempt, worker: l.worker }
      if (l.requeued) {
        log('task %s attempt %d requeued: %s', l.taskId, l.attempt, reason)
        this.safeDispatchEvent('task:requeued', { detail: { ...detail, reason, ...(givenBack ? { givenBack } : {}) } })
      } else {
        this.safeDispatchEvent('task:final', { detail })
      }
      this.#afterTaskChange(l.jobId)
    }
    const requeuedJobs = new Set(lost.filter(l => l.requeued).map(l => l.jobId))
    if (requeuedJobs.size === 0) {
      return
    }
    if (givenBack) {
      // tasks given back by a volunteer on its session: the volunteers on
      // sessions hear of them at once (an offer for those standing ready),
      // the next announce round tells everyone else; no DHT walk for them
      for (const job of this.#store.pendingJobs()) {
        if (requeuedJobs.has(job.id)) {
          this.#offerAndPush(announceOf(job))
        }
      }
      this.#armAnnounce()
      return
    }
    void this.announce()
  }

  #afterTaskChange (jobId: string): void {
    this.#jobChanged(jobId)
    if (this.#store.state(jobId) === 'done' && !this.#finished.has(jobId)) {
      this.#markFinished(jobId)
      this.#justPushed.delete(jobId)
      // paid with the next round, like any result: a job of one quick task
      // after another (a client's loop) shares its rounds; done() waits for it
      this.#credit()
      this.#doneSoon(jobId)
    }
  }

  #markFinished (jobId: string): void {
    this.#lastFind.delete(jobId)
    this.#finished.add(jobId)
    if (this.#finished.size > FINISHED_KEPT) {
      this.#finished.delete(this.#finished.values().next().value as string)
    }
  }

  /**
   * Dispatches job:ended (and job:done) once the current turn is over: the
   * results waiting for this change (a client's stream) go out first.
   */
  #doneSoon (jobId: string): void {
    if (this.#doneWaiting.size === 0) {
      setImmediate(() => { this.#dispatchDone() })
    }
    this.#doneWaiting.add(jobId)
  }

  #dispatchDone (): void {
    const jobs = [...this.#doneWaiting]
    this.#doneWaiting.clear()
    for (const jobId of jobs) {
      this.#dispatchEnded(jobId)
    }
  }

  #dispatchEnded (jobId: string): void {
    this.safeDispatchEvent('job:ended', { detail: this.#store.summary(jobId) })
    if (this.listenerCount('job:done') > 0) {
      this.safeDispatchEvent('job:done', { detail: this.#store.job(jobId) })
    }
  }

  // --- announcing -------------------------------------------------------------

  /**
   * Repeats announce rounds every announceIntervalMs while some job has
   * tasks waiting for a lease: a submitter with nothing pending runs no
   * timer for it.
   */
  #armAnnounce (): void {
    if (this.#announceTimer != null || this.#stopped) {
      return
    }
    this.#announceTimer = setInterval(() => {
      if (this.#stopped || this.#store.pendingJobs().length === 0) {
        clearInterval(this.#announceTimer)
        this.#announceTimer = undefined
        return
      }
      void this.announce()
    }, this.#announceIntervalMs)
    this.#announceTimer.unref?.()
  }

  /** One announce round at a time; a call during a round schedules one more. */
  async announce (): Promise<void> {
    if (this.#stopped) {
      return
    }
    this.#armAnnounce()
    if (this.#announcing != null) {
      this.#announceAgain = true
      return await this.#announcing
    }
    this.#announcing = (async () => {
      do {
        this.#announceAgain = false
        await this.#announceRound().catch(err => { log.error('announce round failed: %e', err) })
      } while (this.#announceAgain && !this.#stopped)
    })().finally(() => { this.#announcing = undefined })
    await this.#announcing
  }

  async #announceRound (): Promise<void> {
    const jobs = this.#store.pendingJobs()
    if (jobs.length === 0 || this.#stopped) {
      return
    }
    const connected = new Map<string, PeerId>()
    for (const conn of this.#libp2p.getConnections()) {
      connected.set(conn.remotePeer.toString(), conn.remotePeer)
    }
    for (const job of jobs) {
      const message = announceOf(job)
      // connected peers hear at once; the DHT walk (tens of ms to seconds)
      // only adds peers that are not connected yet, so nobody waits for it
      this.#findAndAnnounce(job, message, connected)
      // volunteers holding a session hear on it (no stream to open, and the
      // submitter stays free to answer their leases); every other connected
      // peer is tried: identify's protocol list goes stale when a worker
      // registers its handler after the connection (no identify-push)
      if (!this.#justPushed.delete(job.id)) {
        this.#offerAndPush(message)
      }
      await Promise.all([...connected.values()].filter(peer => !this.#links.has(peer.toString())).map(async peer => { await this.#announceTo(peer, message) }))
    }
  }

  /**
   * Tells the volunteers that hold a session with this node about a job on
   * that session: those with a standing Ready get tasks with it (an Offer,
   * no lease round trip), the others hear that it has work. No answer to
   * wait for either way. Volunteers whose Ready stays unanswered (no task
   * left for them, or the job does not fit) are not told: they stand ready.
   */
  #offerAndPush (work: Announce, grants?: ReadyGrant[]): void {
    const offered = grants == null ? this.#offer(work) : this.#sendOffers(work, grants)
    const jobId = work.jobId
    for (const links of this.#links.values()) {
      for (const link of links) {
        if (offered.has(link) || this.#ready.has(link)) {
          continue
        }
        void link.write({ work }).catch(err => { log.trace('could not push job %s to %s: %e', jobId, link.worker, err) })
      }
    }
  }

  /**
   * Leases tasks of the job to the volunteers standing ready that it fits,
   * oldest Ready first, as long as the job has tasks for them; each gets its
   * tasks and the job in one Offer. Returns the links served.
   */
  #offer (work: Announce): Set<SessionLink> {
    return this.#sendOffers(work, this.#leaseReady(work))
  }

  /** #offer's leases, in the store only: the caller's transaction may hold them with the job. */
  #leaseReady (work: Announce): ReadyGrant[] {
    const grants: ReadyGrant[] = []
    const req = work.requirements
    if (this.#ready.size === 0 || req == null || req.gpu) {
      return grants
    }
    const cores = Math.max(1, req.cores)
    for (const [link, ready] of this.#ready) {
      const n = Math.min(ready.maxTasks, Math.floor(ready.cores / cores), MAX_TASKS_PER_LEASE)
      if (n < 1) {
        continue
      }
      const outcome = this.#store.lease(work.jobId, link.worker, n, MAX_SESSION_MESSAGE_SIZE - 64 * 1024)
      if (outcome.status === 'refused') {
        break
      }
      if (outcome.status !== 'granted') {
        continue // nothing for this volunteer (it holds or ran what is left: replicas); maybe for the next
      }
      grants.push({ link, outcome })
      if (outcome.exhausted === true) {
        // the other volunteers standing ready would each cost a lease query for nothing
        break
      }
    }
    return grants
  }

  /** #offer's messages, once its leases are stored. */
  #sendOffers (work: Announce, grants: ReadyGrant[]): Set<SessionLink> {
    const served = new Set<SessionLink>()
    for (const { link, outcome } of grants) {
      this.#ready.delete(link)
      served.add(link)
      this.#afterGrant(work.jobId, link.worker, outcome.tasks)
      const offer = { work, tasks: outcome.tasks, ...(outcome.remaining != null ? { remaining: outcome.remaining } : {}) }
      void link.write({ offer }).catch(err => {
        // the session broke: the tasks go back at once rather than at their deadline
        log('could not offer tasks of job %s to %s: %e', work.jobId, link.worker, err)
        if (!this.#stopped) {
          this.#afterLost(this.#store.release(link.worker, outcome.tasks), 'the offer could not be sent')
        }
      })
    }
    return served
  }

  /** Answers a standing Ready at once when some pending job fits it. */
  #serveReady (): void {
    for (const job of this.#store.pendingJobs()) {
      if (this.#ready.size === 0) {
        return
      }
      this.#offer(announceOf(job))
    }
  }

  #afterGrant (jobId: string, worker: string, tasks: Array<{ taskId: string, attempt: number, deadline: number }>): void {
    for (const t of tasks) {
      this.safeDispatchEvent('task:leased', { detail: { jobId, taskId: t.taskId, attempt: t.attempt, worker } })
    }
    this.#armExpiry(Math.min(...tasks.map(t => t.deadline)))
    log.trace('leased %d task(s) of job %s to %s', tasks.length, jobId, worker)
  }

  /**
   * Starts a DHT find for the job unless one is running or one started within
   * half the announce interval, and announces the job to the peers it finds
   * that were not among those already told.
   */
  #findAndAnnounce (job: ReturnType<JobStore['pendingJobs']>[number], message: Announce, told: Map<string, PeerId>): void {
    const find = this.#node.find?.bind(this.#node)
    const last = this.#lastFind.get(job.id)
    if (find == null || this.#finding.has(job.id) || (last != null && Date.now() - last < this.#announceIntervalMs / 2)) {
      return
    }
    this.#lastFind.set(job.id, Date.now())
    // With volunteers already holding sessions (they heard of the job on
    // them), the walk waits a moment: a small job is often done by then and
    // needs none, and a walk's streams would otherwise compete with the
    // first leases for this event loop. Started on a later tick either way,
    // so the map holds it before its finally can run.
    const delayMs = this.#links.size > 0 ? FIND_DELAY_MS : 0
    const first = last == null
    const running = new Promise(resolve => setTimeout(resolve, delayMs)).then(async () => {
      try {
        if (this.#stopped || this.#store.state(job.id) !== 'running' || !this.#store.pendingJobs().some(j => j.id === job.id)) {
          return
        }
        // Volunteers holding sessions took tasks of the job by then: its first
        // walk waits for the next announce round (announceIntervalMs), which
        // walks if tasks are still waiting. A walk costs the submitter and
        // every peer it asks some tens of ms of CPU, taken from the tasks
        // running there; a job they finish within the interval needs none.
        if (first && this.#store.job(job.id).tasks.leased > 0) {
          log.trace('job %s: volunteers with sessions took its first tasks; the DHT walk waits for the next announce round', job.id)
          return
        }
        // cleared when the walk ends: #findAbort lives as long as the submitter (docs/abort-signals.md)
        const signal = anySignal([this.#findAbort.signal, AbortSignal.timeout(ANNOUNCE_TIMEOUT_MS)])
        // the peers already told are not asked for their capacity again
        const skip = new Set(told.keys())
        const found = await find({ cpu: job.requirements.cores, memoryMb: job.requirements.memoryMb, gpu: job.requirements.gpu }, { signal, limit: this.#findLimit, skip })
          .finally(() => { signal.clear() })
        const fresh = found.filter(f => f.peerId !== this.#node.peerId && !told.has(f.peerId))
        if (this.#stopped || fresh.length === 0 || this.#store.state(job.id) !== 'running') {
          return
        }
        await Promise.all(fresh.map(async f => { await this.#announceTo(peerIdFromString(f.peerId), message) }))
      } catch (err) {
        log('finding volunteers for job %s failed: %e', job.id, err)
      } finally {
        this.#finding.delete(job.id)
        if (this.#stopped || this.#store.state(job.id) !== 'running') {
          this.#lastFind.delete(job.id)
        }
      }
    })
    this.#finding.set(job.id, running)
  }

  async #announceTo (peer: PeerId, message: Announce): Promise<void> {
    const signal = AbortSignal.timeout(ANNOUNCE_TIMEOUT_MS)
    let stream: Stream | undefined
    try {
      stream = await this.#libp2p.dialProtocol(peer, ANNOUNCE_PROTOCOL, { signal })
      const lp = lpStream(stream, { maxDataLength: MAX_ANNOUNCE_SIZE })
      await lp.write(Announce.encode(message), { signal })
      const response = AnnounceResponse.decode(await lp.read({ signal }))
      log.trace('announced job %s to %p: %s %s', message.jobId, peer, response.status, response.reason)
      this.#noteAnswer(message.jobId, peer.toString(), response)
      await stream.close({ signal })
    } catch (err) {
      stream?.abort(err as Error)
      log.trace('announcing job %s to %p failed: %e', message.jobId, peer, err)
    }
  }

  /** Keeps a refusal so the submitter's user can see why a volunteer does not take the job. */
  #noteAnswer (jobId: string, worker: string, response: AnnounceResponse): void {
    const byWorker = this.#refusals.get(jobId) ?? new Map<string, JobRefusal>()
    if (response.status !== AnnounceResponse.Status.REFUSED) {
      byWorker.delete(worker)
      return
    }
    const previous = byWorker.get(worker)
    const refusal: JobRefusal = { jobId, worker, reason: response.reason, at: Date.now() }
    byWorker.set(worker, refusal)
    this.#refusals.set(jobId, byWorker)
    if (previous?.reason !== refusal.reason) {
      log('volunteer %s refused job %s: %s', worker, jobId, refusal.reason)
      this.safeDispatchEvent('job:refused', { detail: refusal })
    }
  }

  // --- bundle protocol --------------------------------------------------------

  async #serveBundle (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(BUNDLE_TIMEOUT_MS)
    try {
      const lp = lpStream(stream, { maxDataLength: Math.max(MAX_BUNDLE_REQUEST_SIZE, MAX_BUNDLE_CHUNK_SIZE) })
      const request = BundleRequest.decode(await lp.read({ signal }))
      checkId(request.bundleId, 'bundle request')
      const bytes = this.#store.bundle(request.bundleId)
      if (bytes == null) {
        await lp.write(BundleChunk.encode({ status: BundleChunk.Status.NOT_FOUND, reason: `no job on this submitter uses bundle ${request.bundleId}`, totalSize: 0, data: new Uint8Array() }), { signal })
      } else {
        for (let offset = 0; offset === 0 || offset < bytes.byteLength; offset += BUNDLE_CHUNK_SIZE) {
          const data = bytes.subarray(offset, offset + BUNDLE_CHUNK_SIZE)
          await lp.write(BundleChunk.encode({ status: BundleChunk.Status.OK, reason: '', totalSize: offset === 0 ? bytes.byteLength : 0, data }), { signal })
        }
        log.trace('served bundle %s (%d bytes) to %p', request.bundleId, bytes.byteLength, connection.remotePeer)
      }
      await stream.close({ signal })
    } catch (err) {
      log('bundle stream from %p broke: %e', connection.remotePeer, err)
      stream.abort(err as Error)
    }
  }

  // --- session protocol -------------------------------------------------------

  async #serveSession (stream: Stream, connection: Connection): Promise<void> {
    const worker = connection.remotePeer.toString()
    this.#streams.add(stream)
    const lp = lpStream(stream, { maxDataLength: MAX_SESSION_MESSAGE_SIZE, maxBufferSize: MAX_SESSION_MESSAGE_SIZE + 64 * 1024 })
    const link = new SessionLink(worker, lp)
    let links = this.#links.get(worker)
    if (links == null) {
      links = new Set()
      this.#links.set(worker, links)
    }
    links.add(link)
    try {
      while (!this.#stopped) {
        if (stream.remoteWriteStatus !== 'writable' && stream.readBufferLength === 0) {
          break // the volunteer closed its side between messages
        }
        const buf = await lp.read({ signal: timeoutSignal(SESSION_IDLE_TIMEOUT_MS) })
        const { message } = decodeWorkerMessage(buf)
        const reply = this.#onWorkerMessage(link, message)
        if (reply instanceof Promise) {
          // results are acknowledged once on disk; meanwhile the session goes on (answers carry request ids)
          void reply.then(async r => { await link.write(r) }).catch(err => {
            log('could not acknowledge results of %p, resetting the session: %e', connection.remotePeer, err)
            stream.abort(err)
          })
        } else if (reply != null) {
          await link.write(reply)
        }
        // a contact is a chance to hand over receipts the volunteer has not
        // confirmed; new ones are pushed as they are issued, so looking again
        // sooner than a resend could be due only costs a query per message
        if (Date.now() - link.checkedAt >= this.#receiptResendMs) {
          await this.#pushReceipts(link)
        }
      }
      await stream.close().catch(() => {})
    } catch (err: any) {
      if (stream.status === 'open' && !(err?.name === 'UnexpectedEOFError' && stream.remoteWriteStatus !== 'writable')) {
        log('session with %p broke the protocol or timed out, resetting it: %e', connection.remotePeer, err)
        stream.abort(err)
      }
    } finally {
      this.#streams.delete(stream)
      this.#ready.delete(link)
      links.delete(link)
      if (links.size === 0 && this.#links.get(worker) === links) {
        this.#links.delete(worker)
      }
    }
  }

  // --- credit -----------------------------------------------------------------

  /**
   * Pays what accepted results are owed (trust, claim cap, receipt), one
   * pass at a time: at once (`now`) when someone waits for a job's credit
   * (done()); CREDIT_DELAY_MS after a job ended (`soon`); CREDIT_INTERVAL_MS
   * after a result of a job that runs on (`later`). A sooner call moves a
   * round already planned forward, never back.
   */
  #credit (when: 'now' | 'soon' | 'later' = 'soon'): void {
    if (this.#stopped) {
      return
    }
    if (when === 'now') {
      clearTimeout(this.#creditTimer)
      this.#creditTimer = undefined
      this.#creditRound()
      return
    }
    const due = Date.now() + (when === 'soon' ? CREDIT_DELAY_MS : CREDIT_INTERVAL_MS)
    if (this.#creditTimer != null && this.#creditDue <= due) {
      return
    }
    clearTimeout(this.#creditTimer)
    this.#creditDue = due
    // a wait lets the results of a busy moment be paid in one round
    this.#creditTimer = setTimeout(() => {
      this.#creditTimer = undefined
      this.#creditRound()
    }, due - Date.now())
    this.#creditTimer.unref?.()
  }

  /** Queues one credit pass after the one running, if any. */
  #creditRound (): void {
    this.#crediting = this.#crediting.then(async () => { await this.#creditPass() }).catch(err => { log.error('crediting results failed: %e', err) })
  }

  /**
   * Pays owed results in rounds: trust updates and claim caps for a round
   * in one ledger transaction, its receipts signed and stored together, and
   * their settlement in one durable commit of the jobs store; so a thousand
   * quick tasks cost three fsyncs per round, not three each.
   */
  async #creditPass (): Promise<void> {
    while (!this.#stopped) {
      const owed = this.#store.owedCredits(CREDIT_ROUND)
      if (owed.length === 0) {
        return
      }
      const ledger = this.#ledger
      if (ledger == null) {
        this.#store.settleCredits(owed.map(c => ({ taskId: c.taskId, worker: c.worker, state: 'none', creditedMs: 0 })))
        continue
      }
      const settled: CreditSettlement[] = []
      const toIssue: Array<{ credit: OwedCredit, cpuMs: number, capped?: string }> = []
      ledger.transaction(() => {
        for (const c of owed) {
          if (c.verdict === 'valid') {
            ledger.trust.recordValid(c.worker)
          } else if (c.verdict === 'invalid') {
            const record = ledger.trust.recordInvalid(c.worker)
            log('%s was outvoted on task %s: no credit, its trust record restarts (%d invalid in all)', c.worker, c.taskId, record.totalInvalid)
            settled.push({ taskId: c.taskId, worker: c.worker, state: 'none', creditedMs: 0 })
            continue
          }
          if (c.worker === this.#node.peerId) {
            // a node does not pay itself for its own job
            settled.push({ taskId: c.taskId, worker: c.worker, state: 'none', creditedMs: 0 })
            continue
          }
          const median = this.#creditedMedian(c.jobId, c.worker)
          const claim = capCpuClaim(c.claimedMs, {
            timeoutMs: c.requirements.timeoutMs * c.records,
            cores: c.requirements.cores,
            wallMs: c.observedMs,
            peerMedianMs: median.medianMs,
            peerSamples: median.samples
          })
          if (claim.refused) {
            const reason = claim.reason ?? 'claim refused'
            settled.push({ taskId: c.taskId, worker: c.worker, state: 'refused', creditedMs: 0, note: reason })
            this.#flagCredit(c, 0, true, reason)
            continue
          }
          toIssue.push({ credit: c, cpuMs: claim.creditedMs, capped: claim.capped ? (claim.reason ?? 'capped') : undefined })
        }
      })
      const receipts = toIssue.length === 0
        ? []
        : await ledger.issueMany(toIssue.map(({ credit: c, cpuMs }) => ({ worker: c.worker, jobId: c.jobId, taskId: c.taskId, cpuMs })))
      toIssue.forEach(({ credit: c, capped }, i) => {
        const stored = receipts[i]
        // a receipt pays all of a round's tasks of one worker and job: the task's own ms, not the receipt's sum
        settled.push({ taskId: c.taskId, worker: c.worker, state: 'issued', creditedMs: stored.taskCpuMs, receiptHash: stored.hash, note: capped })
      })
      this.#store.settleCredits(settled)
      // each receipt once per worker, however many of its tasks this round paid
      const paid = new Map<string, Map<string, (typeof receipts)[number]>>()
      toIssue.forEach(({ credit: c, capped }, i) => {
        const stored = receipts[i]
        if (capped != null) {
          this.#flagCredit(c, stored.taskCpuMs, false, capped)
        }
        let issued = paid.get(c.worker)
        if (issued == null) {
          issued = new Map()
          paid.set(c.worker, issued)
        }
        issued.set(stored.hash, stored)
        this.safeDispatchEvent('receipt:issued', { detail: { jobId: c.jobId, taskId: c.taskId, worker: c.worker, hash: stored.hash, cpuMs: stored.taskCpuMs, milliCredits: milliCreditsFor(stored.taskCpuMs) } })
      })
      for (const [worker, issued] of paid) {
        this.#sendIssued(worker, [...issued.values()])
      }
    }
  }

  /**
   * Sends receipts just issued on one of the volunteer's sessions, 64 a
   * message. They are the ones it lacks, so the ledger need not be asked
   * which are unacknowledged (that query decodes every receipt in flight);
   * a volunteer without a session gets them at its next contact, and
   * receipts lost on the way are sent again after receiptResendMs.
   */
  #sendIssued (worker: string, issued: Array<{ hash: string, bytes: Uint8Array }>): void {
    const link = this.#links.get(worker)?.values().next().value
    if (link == null || this.#stopped) {
      return
    }
    for (let i = 0; i < issued.length; i += MAX_RECEIPTS_PER_MESSAGE) {
      void link.sendReceipts(issued.slice(i, i + MAX_RECEIPTS_PER_MESSAGE)).catch(err => {
        log('could not send receipts to %s: %e', worker, err)
      })
    }
  }

  /**
   * The peer median the claim cap compares a claim with, read again at most
   * once a second per job and worker: a plausibility bound does not need
   * the receipt issued a moment ago, and reading it costs a sort.
   */
  #creditedMedian (jobId: string, worker: string): { medianMs: number, samples: number } {
    const key = `${jobId} ${worker}`
    const now = Date.now()
    const cached = this.#medians.get(key)
    if (cached != null && now - cached.at < MEDIAN_TTL_MS) {
      return cached.median
    }
    const median = this.#store.creditedMedian(jobId, worker)
    if (this.#medians.size > 1000) {
      this.#medians.clear()
    }
    this.#medians.set(key, { at: now, median })
    return median
  }

  #flagCredit (c: OwedCredit, creditedMs: number, refused: boolean, reason: string): void {
    log('credit for %s on task %s: %s', c.worker, c.taskId, reason)
    this.safeDispatchEvent('credit:flagged', { detail: { jobId: c.jobId, taskId: c.taskId, worker: c.worker, claimedMs: c.claimedMs, creditedMs, refused, reason } })
  }

  /** Sends the volunteer's unacknowledged receipts that this session has not carried lately; how many it sent. */
  async #pushReceipts (link: SessionLink): Promise<number> {
    if (this.#ledger == null || this.#stopped) {
      return 0
    }
    const now = Date.now()
    link.checkedAt = now
    const due = this.#ledger.unacknowledged(link.worker, MAX_RECEIPTS_PER_MESSAGE * 4)
      .filter(r => now - (link.sent.get(r.hash) ?? -Infinity) >= this.#receiptResendMs)
      .slice(0, MAX_RECEIPTS_PER_MESSAGE)
    if (due.length === 0) {
      return 0
    }
    log.trace('sending %d receipt(s) to %s', due.length, link.worker)
    await link.sendReceipts(due, now)
    return due.length
  }

  #onReceiptAck (link: SessionLink, ack: ReceiptAck): void {
    const ledger = this.#ledger
    if (ledger == null) {
      return
    }
    const worker = link.worker
    const acknowledged: string[] = []
    for (const status of ack.statuses) {
      // a receipt this session carried is one this node issued to this worker: no need to read it back
      let known = link.sent.has(status.hash)
      if (!known) {
        const stored = status.hash === '' ? undefined : ledger.get(status.hash)
        if (stored?.direction !== 'issued' || stored.receipt.worker !== worker) {
          log('%s acknowledged a receipt this node did not issue to it (%s %s): ignored', worker, status.status, status.hash)
          continue
        }
        known = !stored.acknowledged
      }
      if (status.status === ReceiptStatus.Status.ACCEPTED || status.status === ReceiptStatus.Status.DUPLICATE) {
        if (known) {
          link.sent.delete(status.hash)
          acknowledged.push(status.hash)
        }
      } else {
        log.error('%s answered receipt %s with %s: %s', worker, status.hash, status.status, status.reason)
        this.safeDispatchEvent('receipt:refused', { detail: { hash: status.hash, worker, status: status.status, reason: status.reason.slice(0, MAX_REASON_LENGTH) } })
      }
    }
    ledger.markAcknowledgedAll(acknowledged).forEach((changed, i) => {
      if (changed) {
        this.safeDispatchEvent('receipt:acknowledged', { detail: { hash: acknowledged[i], worker } })
      }
    })
  }

  /** Handles one message of a session; returns the answer for requests. */
  #onWorkerMessage (link: SessionLink, message: WorkerMessage): SubmitterMessage | Promise<SubmitterMessage> | undefined {
    const worker = link.worker
    if (message.ready != null) {
      // a newer Ready replaces the last (and goes to the back of the line)
      this.#ready.delete(link)
      if (message.ready.maxTasks > 0 && message.ready.cores > 0) {
        this.#ready.set(link, message.ready)
        this.#serveReady()
      }
      return undefined
    }
    if (message.lease != null) {
      // a volunteer that asks leases on its own again
      this.#ready.delete(link)
      const { requestId, jobId, maxTasks } = message.lease
      if (maxTasks < 1) {
        return { lease: { requestId, status: LeaseResponse.Status.REFUSED, reason: 'max_tasks must be at least 1', tasks: [] } }
      }
      const outcome = this.#store.lease(jobId, worker, Math.min(maxTasks, MAX_TASKS_PER_LEASE), MAX_SESSION_MESSAGE_SIZE - 64 * 1024)
      if (outcome.status !== 'granted') {
        return { lease: { requestId, status: outcome.status === 'none-left' ? LeaseResponse.Status.NONE_LEFT : LeaseResponse.Status.REFUSED, reason: outcome.reason, tasks: [] } }
      }
      this.#afterGrant(jobId, worker, outcome.tasks)
      return { lease: { requestId, status: LeaseResponse.Status.GRANTED, reason: '', tasks: outcome.tasks, ...(outcome.remaining != null ? { remaining: outcome.remaining } : {}) } }
    }
    if (message.progress != null) {
      const { taskId, attempt, fraction } = message.progress
      if (Number.isFinite(fraction) && this.#store.holdsLease(taskId, attempt, worker)) {
        const detail = { jobId: jobOf(taskId), taskId, attempt, worker, fraction: Math.min(1, Math.max(0, fraction)) }
        this.#progress.set(taskId, detail)
        this.safeDispatchEvent('task:progress', { detail })
      }
      return undefined
    }
    if (message.checkpoint != null) {
      const { taskId, attempt, record, state } = message.checkpoint
      if (state.byteLength <= MAX_CHECKPOINT_SIZE && isJson(state) && this.#store.checkpoint(taskId, attempt, worker, record, state)) {
        this.safeDispatchEvent('task:checkpoint', { detail: { jobId: jobOf(taskId), taskId, attempt, worker } })
      } else {
        log('ignored a checkpoint of %s attempt %d from %s (not leased, too large or not JSON)', taskId, attempt, worker)
      }
      return undefined
    }
    if (message.receiptAck != null) {
      this.#onReceiptAck(link, message.receiptAck)
      return undefined
    }
    if (message.release != null) {
      this.#afterLost(this.#store.release(worker, message.release.tasks), 'given back unrun by its volunteer', true)
      return undefined
    }
    // an acknowledged result is deleted by the volunteer: it must be on disk
    // here first. The sync starts once this turn's writes have left (a
    // client's result line): started at once, its thread-pool wake-up and
    // flush ran beside them, and a one-record job's round trip took
    // 0.14-0.50 ms longer (six runs of 600, by job-id parity).
    if (message.results != null) {
      const { requestId, results } = message.results
      const acks = this.#onResults(worker, results)
      return this.#syncAfterThisTurn().then(() => ({ acks: { requestId, acks } }))
    }
    const result = message.result as Result
    const ack = { ...this.#onResults(worker, [result])[0], requestId: result.requestId }
    return this.#syncAfterThisTurn().then(() => ({ ack }))
  }

  /**
   * Resolves once every commit so far is on disk; the sync starts in the
   * check phase of this event-loop turn, after its I/O callbacks, microtasks
   * and corked writes, or is one that somebody else starts within
   * ACK_SYNC_WITHIN_MS.
   */
  async #syncAfterThisTurn (): Promise<void> {
    await new Promise<void>(resolve => { setImmediate(resolve) })
    await this.#store.sync(ACK_SYNC_WITHIN_MS)
  }

  /**
   * Checks and stores the results of one message (one, or a Results group)
   * in one durable commit, then answers each in order. A result that does
   * not check out is refused on its own; the others are stored.
   */
  #onResults (worker: string, results: Result[]): ResultAck[] {
    const acks: ResultAck[] = new Array(results.length)
    const valid: Array<{ at: number, taskId: string, attempt: number, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number }> = []
    results.forEach((result, at) => {
      const outcomes = checkOutcomes(result)
      if (typeof outcomes === 'string') {
        acks[at] = { requestId: 0, status: ResultAck.Status.REFUSED, reason: outcomes }
      } else {
        valid.push({ at, taskId: result.taskId, attempt: result.attempt, outcomes, cpuMs: result.cpuMs, wallMs: result.wallMs })
      }
    })
    const stored = valid.length === 0 ? [] : this.#store.completeMany(worker, valid)
    const changed = new Set<string>()
    let accepted = false
    let requeued = false
    stored.forEach((outcome, k) => {
      const { at, taskId, attempt } = valid[k]
      if (outcome.status === 'refused') {
        log('refused result of %s attempt %d from %s: %s', taskId, attempt, worker, outcome.reason)
        acks[at] = { requestId: 0, status: ResultAck.Status.REFUSED, reason: outcome.reason }
        return
      }
      if (outcome.status === 'duplicate') {
        acks[at] = { requestId: 0, status: ResultAck.Status.DUPLICATE, reason: outcome.reason }
        return
      }
      accepted = true
      this.#progress.delete(taskId)
      const jobId = jobOf(taskId)
      const detail = { jobId, taskId, attempt, worker }
      if (outcome.final) {
        this.safeDispatchEvent('task:final', { detail })
      }
      if (outcome.requeued) {
        requeued = true
        this.safeDispatchEvent('task:requeued', { detail: { ...detail, reason: outcome.reason } })
      }
      changed.add(jobId)
      acks[at] = { requestId: 0, status: ResultAck.Status.ACCEPTED, reason: outcome.reason }
    })
    if (accepted) {
      this.#credit('later')
    }
    if (requeued) {
      void this.announce()
    }
    for (const jobId of changed) {
      this.#afterTaskChange(jobId)
    }
    return acks
  }
}

/** The outcomes of a result as the store takes them, or why the result is refused. */
function checkOutcomes (result: Result): ReportedOutcome[] | string {
  const outcomes: ReportedOutcome[] = []
  let size = 0
  for (const [i, r] of result.records.entries()) {
    if ((r.value == null) === (r.error == null)) {
      return `record ${i} of the result must carry exactly one of value or error`
    }
    if (r.value != null) {
      size += r.value.byteLength
      if (!isJson(r.value)) {
        return `record ${i} of the result is not JSON`
      }
      outcomes.push({ value: r.value })
    } else if (r.error != null) {
      outcomes.push({
        error: {
          name: r.error.name.slice(0, 128) || 'Error',
          message: r.error.message.slice(0, MAX_REASON_LENGTH),
          kind: errorKindFromWire(r.error.kind),
          retryable: r.error.retryable
        }
      })
    }
  }
  if (size > MAX_RESULT_SIZE) {
    return `the result is ${size} bytes, over the ${MAX_RESULT_SIZE} byte limit`
  }
  return outcomes
}

/** One open session stream of a volunteer; writes are serialized so pushes never interleave with answers. */
class SessionLink {
  readonly worker: string
  /** When each receipt was last sent on this stream. */
  readonly sent = new Map<string, number>()
  /** When this stream was last checked for receipts due (0: never, so its first message checks). */
  checkedAt = 0
  readonly #lp: LengthPrefixedStream<Stream>
  #tail: Promise<void> = Promise.resolve()

  constructor (worker: string, lp: LengthPrefixedStream<Stream>) {
    this.worker = worker
    this.#lp = lp
  }

  async write (message: SubmitterMessage): Promise<void> {
    const bytes = SubmitterMessage.encode(message)
    const run = this.#tail.then(async () => { await this.#lp.write(bytes, { signal: timeoutSignal(REQUEST_TIMEOUT_MS) }) })
    this.#tail = run.catch(() => {})
    await run
  }

  /** Sends receipts in one Receipts message, noting that this stream carried them now. */
  async sendReceipts (receipts: Array<{ hash: string, bytes: Uint8Array }>, now = Date.now()): Promise<void> {
    for (const r of receipts) {
      this.sent.set(r.hash, now)
    }
    await this.write({ receipts: { receipts: receipts.map(r => new Uint8Array(r.bytes)) } })
  }
}

function jobOf (taskId: string): string {
  const i = taskId.lastIndexOf(':')
  return i < 0 ? taskId : taskId.slice(0, i)
}

function isJson (bytes: Uint8Array): boolean {
  try {
    JSON.parse(utf8.decode(bytes))
    return true
  } catch {
    return false
  }
}
