// The volunteer service: hears announcements, checks the owner's policy and
// free slots, fetches and verifies bundles, leases tasks, runs them in the
// sandbox, streams progress and checkpoints, delivers results through a
// persisted outbox, and keeps the receipts submitters pay it with.
import { join } from 'node:path'
import { createBundleCache } from '@idlegrid/bundle'
import {
  ANNOUNCE_PROTOCOL, ANNOUNCE_TIMEOUT_MS, Announce, AnnounceResponse, LeaseResponse, MAX_ANNOUNCE_SIZE, MAX_CHECKPOINT_SIZE,
  MAX_INBOUND_ANNOUNCE_STREAMS, MAX_REASON_LENGTH, MAX_RESULTS_PER_MESSAGE, MAX_RESULT_SIZE, MAX_SESSION_MESSAGE_SIZE, MAX_TASKS_PER_LEASE, REMAINING_TOLD_BELOW, ReceiptStatus, Result, ResultAck, checkId, errorKindToWire
} from '@idlegrid/protocol-work'
import { TypedEventEmitter } from '@libp2p/interface'
import { logger } from '@libp2p/logger'
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { loadBundle } from './bundles.js'
import { Outbox } from './outbox.js'
import type { OutboxEntry } from './outbox.js'
import { SessionClient } from './session.js'
import type { BundleCache, SignedBundle } from '@idlegrid/bundle'
import type { Ledger } from '@idlegrid/ledger'
import { InvalidInputError } from '@idlegrid/interface'
import type { SandboxEvent, TaskErrorInfo, TaskRequirements } from '@idlegrid/interface'
import type { Offer, RecordOutcome, TaskGrant } from '@idlegrid/protocol-work'
import type { BatchEvent, BatchRun, RecordOutcome as SandboxRecordOutcome, SandboxPool, TaskRun } from '@idlegrid/sandbox-host'
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
   * Most tasks per slot leased ahead, so the next ones are at hand when a
   * task ends instead of one lease round trip later, and quick tasks of one
   * job can run together in one sandbox call. Only for jobs whose recent
   * tasks here took at most 100 ms, only about 100 ms of work per slot, and
   * only while a task waiting in line still starts within half its lease
   * margin (see docs/job-lifecycle.md). 0 leases only for free slots.
   * @default 256
   */
  leaseAhead?: number
  /**
   * Work per slot that leasing ahead aims to keep at hand, in ms at the pace
   * of the job's recent tasks; jobs whose recent tasks took longer are not
   * leased ahead at all.
   * @default 100
   */
  leaseAheadMs?: number
  /**
   * Longest a task's result waits for the result of the task of the same
   * submitter that runs or starts next here, so both travel in one Results
   * message (one message, commit and sync on each side for both). Results
   * with nothing of their submitter after them leave at once. 0 sends each
   * group's results as soon as it ends. A job's lease margin caps it too
   * (a quarter of it: 1,250 ms with the submitter's default 5 s margin).
   * @default 2000
   */
  resultHoldMs?: number
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
  /** Wall ms of this job's last tasks here, newest last (at most RECENT_TASKS); a task run in a group counts its share. */
  recentMs: number[]
  /** Lease time the submitter gives beyond a task's time limit, from its last grant. */
  marginMs?: number
  /** Set when a group of this job's tasks broke a limit: its tasks run one by one from then on. */
  noGroups?: boolean
  /**
   * Tasks of the job still waiting for us after the submitter's last grant,
   * when it said (it does below a few): near the end of a job nothing is
   * leased ahead nor grouped, so no task waits here while another volunteer
   * has nothing left to do.
   */
  remaining?: number
  /** Tasks of this job running here much longer than its recent ones: nothing is leased ahead meanwhile. */
  slowRunning?: number
  /** In the end game: slots of this job expected to free within END_LEASE_EARLY_MS, each of which may have its next task leased now. */
  endingSoon?: number
  /** The job's end game began (see endgame()); it lasts while we know the job. */
  endgame?: boolean
}

/** A granted task waiting for a slot (leased ahead). */
interface QueuedTask {
  job: KnownJob
  bundle: SignedBundle
  grant: TaskGrant
  /** Local time the lease ends (grant time + leaseMs). */
  until: number
}

/** Task times kept per job to judge whether leasing ahead is safe. */
const RECENT_TASKS = 8
/**
 * Tasks of a job that must have run here before its pace decides what is
 * leased ahead; until then one task per slot is, and it goes back if the
 * task before it runs past AHEAD_ONE_MS (64 Monte Carlo tasks of ~100 ms:
 * the first three gaps between tasks went from 5-10 ms, a lease round trip,
 * to under 1 ms).
 */
const MIN_SAMPLES = 3
/**
 * Work a slot keeps leased ahead by default, in expected ms: enough to hide
 * a lease round trip and to fill a group, little enough that the end of a
 * job is not held back. Jobs whose tasks take longer are not leased ahead.
 */
const AHEAD_MS = 100
/**
 * Jobs whose tasks take longer than AHEAD_MS, up to this, keep one task per
 * slot leased ahead: the slot starts the next task as soon as one ends
 * instead of waiting a lease round trip (~10 ms per task of 100 ms was 10 %
 * of the Monte Carlo bench's makespan), while the end of the job is held
 * back by at most one such task.
 */
const AHEAD_ONE_MS = 2000
/**
 * Jobs whose tasks typically (the median of the recent ones) take longer
 * than half of AHEAD_MS, up to this, lease LEASE_SEVERAL tasks per slot at a
 * time once none is waiting (instead of one each time one starts): a lease
 * round trip for several tasks, which cost both daemons CPU that the runners
 * then lack. 64 Monte Carlo tasks of ~100 ms: two at a time used ~18 % less
 * daemon CPU than one; four (with groups of two, GROUP_MS) ~20 % less than
 * two, and a 1-1.4 % shorter makespan, in jobs alternating in one run. Tasks
 * of 50-100 ms once took a lease round trip each (64 tasks of
 * ~78 ms, alternating: 29 % less daemon CPU and a 1.3 % shorter makespan
 * with four); the bench's ~100 ms tasks fell on either side of the line
 * with the machine's speed. The end of a job is protected by the end game
 * (endgame()): with fewer than REMAINING_TOLD_BELOW waiting, nothing is
 * leased ahead.
 */
const AHEAD_SEVERAL_MS = 250
/**
 * In a job's end game, a slot asks for its next task this long before its
 * task is expected to end (the median of the job's recent tasks here): a
 * lease round trip took 4-10 ms there, with the other volunteer's runner
 * busy, and the slot waited for it after every task. A task leased that
 * early waits here for at most about this long (more when its predecessor
 * runs late) while another volunteer might be free.
 */
const END_LEASE_EARLY_MS = 15
/** Tasks per slot leased at a time for jobs of tasks up to AHEAD_SEVERAL_MS. */
const LEASE_SEVERAL = 4
/** Largest leaseAhead. */
const MAX_LEASE_AHEAD = 1024
/**
 * Expected ms of work run together in one sandbox call (a group of quick
 * tasks). Bounded in practice by what is leased ahead (AHEAD_MS per slot,
 * or LEASE_SEVERAL tasks of up to AHEAD_SEVERAL_MS): tasks of ~100 ms run
 * four to a call, a lease's worth, which quarters their IPC round trips and
 * outbox commits. 64 Monte Carlo tasks of ~100 ms, alternating jobs in one
 * run: 250 ms groups (two tasks) used 14 % less daemon CPU and a 1 % shorter
 * makespan than 20 ms ones; 450 ms groups (four), in three runs of 16 jobs,
 * a 1.5 / 0.5 / 0.3 % shorter makespan than 250 ms ones.
 */
const GROUP_MS = 450
/** Records in one group at most. */
const GROUP_RECORDS = 256
/** Verified bundles kept in memory. */
const VERIFIED_BUNDLES = 16
/** Default resultHoldMs: longest a result waits here for the results of the task after it, to travel together (#deliverSoon). */
const DELIVER_HOLD_MS = 2000
/** A task this many times slower than the job's recent ones gives back what was leased ahead of it. */
const SLOWDOWN = 4

/** Mean wall ms of the job's recent tasks here, once MIN_SAMPLES of them ran. */
function recentAverage (job: KnownJob): number | undefined {
  return job.recentMs.length < MIN_SAMPLES ? undefined : job.recentMs.reduce((a, b) => a + b, 0) / job.recentMs.length
}

/**
 * The end of a job: the submitter said how many of its tasks still wait for
 * us, which it does once fewer than REMAINING_TOLD_BELOW do. From then on
 * tasks are leased only for free slots (or one about to free,
 * END_LEASE_EARLY_MS), tasks leased before wait here no more (they go back,
 * #endgameGiveBack), and each runs alone, so the last ones
 * spread over the volunteers that are free instead of queueing behind one
 * another here (64 Monte Carlo tasks of ~100 ms on two volunteers: the
 * first to finish had waited 7-203 ms for the other, ~60 ms with this).
 */
function endgame (job: KnownJob): boolean {
  return job.endgame === true
}

/** Jobs whose end game began here, remembered after the job is forgotten (at most this many). */
const ENDGAMES_KEPT = 256

/** The key of a job's bundle among the verified ones: `<signer> <bundle id>`. */
function bundleKey (job: KnownJob): string {
  return `${job.submitter.toString()} ${job.bundleId}`
}

/** A job's key across submitters: `<submitter>/<job id>`. */
function jobKey (submitter: PeerId | string, jobId: string): string {
  return `${submitter.toString()}/${jobId}`
}

/** Median wall ms of the job's recent tasks here (a slow first task, a runner starting, does not move it). */
function recentMedian (job: KnownJob): number {
  const sorted = [...job.recentMs].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function noteTaskMs (job: KnownJob, ms: number): void {
  job.recentMs.push(ms)
  if (job.recentMs.length > RECENT_TASKS) {
    job.recentMs.shift()
  }
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
  readonly #leaseAhead: number
  readonly #aheadMs: number
  readonly #holdMs: number
  /** Leased tasks waiting for a slot, oldest first. */
  readonly #queue: QueuedTask[] = []
  /** Tasks asked for ahead of free slots by lease requests in flight. */
  #aheadAsked = 0
  readonly #ledger?: Ledger
  readonly #preferGivers: boolean
  readonly #tamper?: WorkerInit['tamperResult']
  #givers?: { at: number, score: Map<string, number> }
  readonly #jobs = new Map<string, KnownJob>()
  /** Bundles verified lately, by `<signer> <bundle id>`, oldest first. */
  readonly #verified = new Map<string, SignedBundle>()
  /**
   * Jobs (submitter/job id) whose end game began here. It does not end when
   * tasks given back raise what waits above REMAINING_TOLD_BELOW again, nor
   * when we forget the job and hear of it again: a volunteer leaving the
   * end game would lease ahead, hear of it again and give the same tasks
   * back, round after round.
   */
  readonly #endgames = new Set<string>()
  readonly #sessions = new Map<string, SessionClient>()
  /** Submitters holding a standing Ready of ours (see #standReady). */
  readonly #readyAt = new Set<string>()
  readonly #running = new Map<string, RunningTask & { cancel(): void }>()
  /** Delivery loops running, by submitter; `again` asks a loop for one more pass. */
  readonly #deliveries = new Map<string, { again: boolean, done: Promise<void> }>()
  /** Results held back for a moment, by submitter (see #deliverSoon). */
  readonly #held = new Map<string, ReturnType<typeof setTimeout>>()
  #retryTimer?: ReturnType<typeof setInterval>
  #stopped = false
  readonly #onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail.toString()
    if (this.#outbox.has(peer)) {
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
    this.#leaseAhead = init.leaseAhead ?? 256
    this.#aheadMs = init.leaseAheadMs ?? AHEAD_MS
    this.#holdMs = init.resultHoldMs ?? DELIVER_HOLD_MS
    if (!(this.#holdMs >= 0)) {
      throw new InvalidInputError(`resultHoldMs must be a number of ms from 0, got ${String(init.resultHoldMs)}`)
    }
    if (!(this.#aheadMs > 0)) {
      throw new InvalidInputError(`leaseAheadMs must be a number of ms above 0, got ${String(init.leaseAheadMs)}`)
    }
    if (!Number.isSafeInteger(this.#leaseAhead) || this.#leaseAhead < 0 || this.#leaseAhead > MAX_LEASE_AHEAD) {
      throw new InvalidInputError(`leaseAhead must be a whole number from 0 to ${MAX_LEASE_AHEAD}, got ${String(init.leaseAhead)}`)
    }
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
    this.#armRetry()
    void this.flush()
  }

  async stop (): Promise<void> {
    if (this.#stopped) {
      return
    }
    this.#stopped = true
    clearInterval(this.#retryTimer)
    // held results stay in the outbox, delivered at the next start
    for (const timer of this.#held.values()) {
      clearTimeout(timer)
    }
    this.#libp2p.removeEventListener('peer:connect', this.#onConnect)
    await this.#libp2p.unhandle(ANNOUNCE_PROTOCOL).catch(() => {})
    for (const task of this.#running.values()) {
      task.cancel()
    }
    // leased ahead and never started: the submitter requeues them when this peer disconnects, or at their deadline
    this.#queue.length = 0
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

  /**
   * Retries undelivered results every outboxRetryMs while the outbox holds
   * any: an idle volunteer with an empty outbox runs no timer for it.
   */
  #armRetry (): void {
    if (this.#retryTimer != null || this.#stopped || this.#outbox.empty()) {
      return
    }
    this.#retryTimer = setInterval(() => {
      void this.flush().finally(() => {
        if (this.#stopped || this.#outbox.empty()) {
          clearInterval(this.#retryTimer)
          this.#retryTimer = undefined
        }
      })
    }, this.#outboxRetryMs)
    this.#retryTimer.unref?.()
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
    await Promise.all(this.#outbox.submitters().map(async s => { await this.#deliverTo(s) }))
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
      this.#jobs.set(announce.jobId, { jobId: announce.jobId, bundleId: announce.bundleId, submitter, requirements: req, leasing: false, recentMs: [], endgame: this.#endgames.has(jobKey(submitter, announce.jobId)) })
    }
    queueMicrotask(() => { this.#pump() })
    if (this.#node.slots.free < cores) {
      return { status: AnnounceResponse.Status.BUSY, reason: 'no free slot now; will ask for work when one frees up' }
    }
    return { status: AnnounceResponse.Status.ACCEPTED, reason: '' }
  }

  // --- leasing ----------------------------------------------------------------

  /** Starts leased tasks on free slots, then asks known jobs for work: one task per free slot, plus some ahead. */
  #pump (): void {
    if (this.#stopped) {
      return
    }
    this.#startQueued()
    if (this.#preferGivers) {
      this.#pumpByGiving()
      return
    }
    for (const job of this.#jobs.values()) {
      if (!job.leasing && this.#want(job) > 0) {
        void this.#leaseFor(job)
      }
    }
    this.#standReady()
  }

  /**
   * With slots free and nothing to ask any known job for, tells each
   * submitter we hold an open session with that we stand ready: it may grant
   * us tasks of its next job in the same message that tells us of the job
   * (an Offer), instead of a push, a lease request and its answer. Only on
   * sessions already open (an idle volunteer opens none), only for
   * submitters the owner's policy accepts, and not under preferGivers, whose
   * order of submitters an unasked offer would bypass.
   */
  #standReady (): void {
    const free = this.#node.slots.free
    if (this.#preferGivers || this.#stopped || free < 1 || this.#queue.length > 0) {
      return
    }
    const busy = new Set<string>()
    for (const job of this.#jobs.values()) {
      if (job.leasing) {
        return // an answer on its way may fill the slots
      }
      busy.add(job.submitter.toString())
    }
    for (const [submitter, session] of this.#sessions) {
      if (this.#readyAt.has(submitter) || busy.has(submitter) || !session.open || !this.#trusts(submitter)) {
        continue
      }
      this.#readyAt.add(submitter)
      void session.notify({ ready: { maxTasks: free, cores: free } })
    }
  }

  /**
   * Takes the tasks a submitter offered on our Ready: as many as free slots
   * allow go to the queue (and start), the others go back (Release), as do
   * all of them when the job is refused or its bundle does not load.
   */
  async #takeOffer (submitter: PeerId, offer: Offer): Promise<void> {
    this.#readyAt.delete(submitter.toString())
    const work = offer.work
    const tasks = offer.tasks
    const giveBack = (back: TaskGrant[]): void => {
      if (back.length > 0) {
        void this.#session(submitter).notify({ release: { tasks: back.map(t => ({ taskId: t.taskId, attempt: t.attempt })) } })
      }
    }
    if (work == null) {
      giveBack(tasks)
      return
    }
    const answer = this.#consider(work, submitter)
    const job = this.#jobs.get(work.jobId)
    if (answer.status === AnnounceResponse.Status.REFUSED || job == null || job.leasing) {
      log('job %s offered by %p not taken: %s', work.jobId, submitter, answer.reason === '' ? 'a lease for it is on its way' : answer.reason)
      giveBack(tasks)
      return
    }
    job.leasing = true
    try {
      const bundle = this.#verifiedBundle(job) ?? await this.#fetchBundle(job)
      const cores = Math.max(1, job.requirements.cores)
      const room = this.#stopped ? 0 : Math.max(0, Math.floor(this.#node.slots.free / cores) - this.#queue.length)
      this.#enqueue(job, bundle, tasks.slice(0, room), offer.remaining)
      giveBack(tasks.slice(room))
      this.#startQueued()
      this.#endgameGiveBack(job)
    } catch (err) {
      log('could not take the tasks of job %s that %p offered, giving them back: %e', job.jobId, submitter, err)
      this.#jobs.delete(job.jobId)
      giveBack(tasks)
    } finally {
      job.leasing = false
      queueMicrotask(() => { this.#pump() })
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
      if (this.#want(job) > 0) {
        void this.#leaseFor(job)
        return
      }
    }
  }

  /** Tasks to ask a job for now: one per free slot (none while leased tasks wait), plus what may be leased ahead. */
  #want (job: KnownJob): number {
    return Math.min(MAX_TASKS_PER_LEASE, this.#forFreeSlots(job) + this.#ahead(job))
  }

  #forFreeSlots (job: KnownJob): number {
    return this.#queue.length > 0 ? 0 : Math.floor(this.#node.slots.free / Math.max(1, job.requirements.cores))
  }

  /**
   * Tasks to lease beyond free slots, minus those already waiting or asked
   * for: about AHEAD_MS of work per slot at the pace of the job's recent
   * tasks here (at least one; LEASE_SEVERAL at a time for tasks up to AHEAD_SEVERAL_MS),
   * at most leaseAhead per slot, and none when a
   * recent task took longer than AHEAD_ONE_MS or when one waiting behind the
   * others could miss half its lease margin. So a leased-ahead task keeps its deadline
   * whenever the tasks before it behave as the recent ones did, and a job
   * of long tasks keeps them with the submitter for whichever volunteer is free.
   */
  #ahead (job: KnownJob): number {
    const average = recentAverage(job)
    if (this.#leaseAhead === 0 || job.marginMs == null || (job.slowRunning ?? 0) > 0) {
      return 0
    }
    if (endgame(job)) {
      // only for the slots about to free (#runGroup)
      return Math.max(0, (job.endingSoon ?? 0) - this.#queue.filter(q => q.job === job).length - this.#aheadAsked)
    }
    const slots = Math.floor(this.#node.slots.total / Math.max(1, job.requirements.cores))
    if (average == null) {
      // The job's first tasks here: one per slot, so that a slot does not
      // wait a lease round trip for each of them. It goes back if the task
      // before it runs past AHEAD_ONE_MS (#runGroup). None once a task of
      // the job ran that long, nor when one could not wait that long within
      // half the lease margin.
      const patience = Math.max(this.#aheadMs, AHEAD_ONE_MS)
      return job.marginMs / 2 < patience || job.recentMs.some(ms => ms > patience) ? 0 : Math.max(0, slots - this.#queue.length - this.#aheadAsked)
    }
    const longest = Math.max(...job.recentMs)
    if (longest > Math.max(this.#aheadMs, AHEAD_ONE_MS)) {
      return 0
    }
    /** Tasks that can wait in line behind one another and still start within half their lease margin. */
    const inMargin = Math.floor(job.marginMs / 2 / Math.max(longest, 1))
    const perSlot = Math.min(this.#leaseAhead, Math.max(1, Math.floor(this.#aheadMs / Math.max(average, 0.01))), inMargin)
    const typical = recentMedian(job)
    if (typical > this.#aheadMs / 2 && typical <= AHEAD_SEVERAL_MS && perSlot === 1 && inMargin >= 2) {
      // tasks too long for two in aheadMs: several per slot once none is left
      // waiting (as many as can wait in half the lease margin), so a lease
      // round trip serves several tasks, not one
      return this.#queue.length === 0 && this.#aheadAsked === 0 ? Math.min(LEASE_SEVERAL, inMargin) * slots : 0
    }
    return Math.max(0, perSlot * slots - this.#queue.length - this.#aheadAsked)
  }

  /**
   * Starts queued tasks while slots are free, quick tasks of one job in
   * groups; drops those whose lease ended while they waited.
   */
  #startQueued (): void {
    while (this.#queue.length > 0 && !this.#stopped) {
      const next = this.#queue[0]
      if (Date.now() >= next.until) {
        this.#queue.shift()
        log('the lease of task %s attempt %d ended while it waited for a slot; the submitter runs it again', next.grant.taskId, next.grant.attempt)
        continue
      }
      if (!this.#node.slots.acquire(Math.max(1, next.job.requirements.cores))) {
        return
      }
      this.#queue.shift()
      const group = [next]
      const limit = this.#groupRecords(next.job)
      let records = next.grant.inputs.length
      while (group.length < limit && this.#queue.length > 0 && next.grant.resumeFrom == null) {
        const candidate = this.#queue[0]
        if (candidate.job !== next.job || candidate.grant.resumeFrom != null || records + candidate.grant.inputs.length > limit || Date.now() >= candidate.until) {
          break
        }
        this.#queue.shift()
        group.push(candidate)
        records += candidate.grant.inputs.length
      }
      this.#start(next.job, next.bundle, group)
    }
  }

  /**
   * Records of a job that may run together in one sandbox call: about
   * GROUP_MS of work at the pace of its recent tasks. 1 (no groups) for
   * deterministic jobs, whose replicas must not depend on what ran before
   * them in the same context, and after a group of the job broke a limit.
   */
  #groupRecords (job: KnownJob): number {
    const average = recentAverage(job)
    if (job.requirements.deterministic || job.noGroups === true || average == null || endgame(job)) {
      return 1
    }
    return Math.max(1, Math.min(GROUP_RECORDS, Math.floor(GROUP_MS / Math.max(average, 0.01))))
  }

  /**
   * Runs tasks on slots already acquired for them, and frees them when the
   * sandbox is done with them: the slot takes its next task, or asks for
   * one, before the results are stored and sent.
   */
  #start (job: KnownJob, bundle: SignedBundle, queued: QueuedTask[]): void {
    let freed = false
    const free = (): void => {
      if (!freed) {
        freed = true
        this.#node.slots.release(Math.max(1, job.requirements.cores))
        this.#pump()
      }
    }
    void this.#runGroup(job, bundle, queued, free).finally(free)
  }

  /**
   * Gives the job's tasks waiting in the queue back to the submitter: a task
   * just ran much longer than the ones they were leased on the strength of,
   * so they could hold up the job here while another volunteer is free.
   */
  #giveBack (job: KnownJob, why = 'tasks got slower', keep = 0): void {
    const back = this.#queue.filter(q => q.job === job).slice(keep)
    if (back.length === 0) {
      return
    }
    this.#queue.splice(0, this.#queue.length, ...this.#queue.filter(q => !back.includes(q)))
    log('job %s: %s, giving %d leased task(s) back to %p', job.jobId, why, back.length, job.submitter)
    for (let i = 0; i < back.length; i += MAX_RESULTS_PER_MESSAGE) {
      void this.#session(job.submitter).notify({ release: { tasks: back.slice(i, i + MAX_RESULTS_PER_MESSAGE).map(q => ({ taskId: q.grant.taskId, attempt: q.grant.attempt })) } })
    }
  }

  /**
   * In a job's end game, its tasks that wait here for a slot go back to the
   * submitter, which gives them to whichever volunteer frees a slot first:
   * a task queued here behind a running one would otherwise keep another
   * volunteer idle at the end of the job. Leases made before the end game
   * (several tasks per slot) are what fill the queue.
   */
  #endgameGiveBack (job: KnownJob): void {
    if (endgame(job)) {
      // tasks that start within END_LEASE_EARLY_MS here stay (quick tasks
      // would only cost messages): what another volunteer could start sooner
      // is the rest
      const quick = job.recentMs.length > 0 ? Math.floor(END_LEASE_EARLY_MS / Math.max(recentMedian(job), 0.01)) : 0
      this.#giveBack(job, 'the end of the job is near', Math.max(job.endingSoon ?? 0, quick))
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

  /**
   * The job's bundle when it was verified before, asking the owner's policy
   * again; undefined when it must be fetched. Synchronous, so that a lease
   * for a known bundle leaves before anything queued after it.
   */
  #verifiedBundle (job: KnownJob): SignedBundle | undefined {
    const signer = job.submitter.toString()
    const known = this.#verified.get(bundleKey(job))
    if (known != null && !this.#trusts(signer)) {
      throw new InvalidInputError(`the owner's policy no longer accepts work signed by ${signer}`)
    }
    return known
  }

  /** Whether the owner's policy accepts work signed by this peer now. */
  #trusts (signer: string): boolean {
    return (this.#policy.acceptSigner?.(signer) ?? true) === true
  }

  /**
   * Fetches and verifies the job's bundle, when #verifiedBundle does not
   * know it. A bundle is immutable (its id is its hash): once verified as
   * signed by a submitter it is kept in memory, and later leases and jobs
   * only ask the owner's policy again.
   */
  async #fetchBundle (job: KnownJob): Promise<SignedBundle> {
    const bundle = await loadBundle({ libp2p: this.#libp2p, cache: this.#cache, submitter: job.submitter, bundleId: job.bundleId, trusted: peer => this.#trusts(peer) })
    if (this.#verified.size >= VERIFIED_BUNDLES) {
      this.#verified.delete(this.#verified.keys().next().value as string)
    }
    this.#verified.set(bundleKey(job), bundle)
    return bundle
  }

  /**
   * Queues granted tasks (offered or leased), each until its lease ends,
   * and notes the job's lease margin; with `remaining` 0 the submitter has
   * nothing more for us, and the job is forgotten until it tells of it again.
   */
  #enqueue (job: KnownJob, bundle: SignedBundle, grants: TaskGrant[], remaining?: number): void {
    const at = Date.now()
    for (const grant of grants) {
      job.marginMs = Math.max(0, grant.leaseMs - job.requirements.timeoutMs * grant.inputs.length)
      if (!this.#stopped) {
        this.#queue.push({ job, bundle, grant, until: at + grant.leaseMs })
      }
    }
    job.remaining = remaining
    if (remaining != null && remaining < REMAINING_TOLD_BELOW && job.endgame !== true) {
      job.endgame = true
      this.#endgames.add(jobKey(job.submitter, job.jobId))
      if (this.#endgames.size > ENDGAMES_KEPT) {
        this.#endgames.delete(this.#endgames.values().next().value as string)
      }
    }
    if (remaining === 0) {
      this.#jobs.delete(job.jobId)
    }
  }

  async #leaseFor (job: KnownJob): Promise<void> {
    job.leasing = true
    let held = 0
    let ahead = 0
    let granted = false
    const cores = Math.max(1, job.requirements.cores)
    try {
      log.trace('leasing for job %s', job.jobId)
      const bundle = this.#verifiedBundle(job) ?? await this.#fetchBundle(job)
      if (this.#stopped) {
        return
      }
      const now = Math.min(this.#forFreeSlots(job), MAX_TASKS_PER_LEASE)
      ahead = Math.min(this.#ahead(job), MAX_TASKS_PER_LEASE - now)
      if (now + ahead < 1 || (now > 0 && !this.#node.slots.acquire(now * cores))) {
        ahead = 0
        return
      }
      held = now * cores
      this.#aheadAsked += ahead
      // a lease request ends a standing Ready on both sides
      this.#readyAt.delete(job.submitter.toString())
      const response = await this.#session(job.submitter).lease({ jobId: job.jobId, maxTasks: now + ahead })
      if (response.status !== LeaseResponse.Status.GRANTED) {
        log('job %s from %p: %s %s', job.jobId, job.submitter, response.status, response.reason)
        this.#jobs.delete(job.jobId)
        return
      }
      granted = true
      // a submitter that grants more than asked gets the extra leases back by expiry
      this.#enqueue(job, bundle, response.tasks.slice(0, now + ahead), response.remaining)
      // the slots held for the request go back, and the queue takes them (quick tasks in groups)
      if (held > 0) {
        this.#node.slots.release(held)
        held = 0
      }
      this.#startQueued()
      this.#endgameGiveBack(job)
    } catch (err) {
      log('could not get work of job %s from %p, forgetting it until the next announcement: %e', job.jobId, job.submitter, err)
      this.#jobs.delete(job.jobId)
    } finally {
      this.#aheadAsked -= ahead
      if (held > 0) {
        this.#node.slots.release(held)
      }
      job.leasing = false
      if (granted || !this.#jobs.has(job.jobId)) {
        // slots may have freed while the request was out (their own pump found this job busy);
        // a job that had nothing for us lets the next one in line ask (preferGivers), or us stand ready
        queueMicrotask(() => { this.#pump() })
      }
    }
  }

  #session (peer: PeerId): SessionClient {
    const key = peer.toString()
    let session = this.#sessions.get(key)
    if (session == null) {
      const client: SessionClient = new SessionClient(this.#libp2p, peer, {
        onReceipts: receipts => { void this.#onReceipts(client, receipts) },
        onWork: work => {
          log.trace('work pushed: job %s', work.jobId)
          try {
            checkId(work.jobId, 'work job')
            checkId(work.bundleId, 'work bundle')
            const answer = this.#consider(work, peer)
            if (answer.status === AnnounceResponse.Status.REFUSED) {
              log('job %s pushed by %p refused: %s', work.jobId, peer, answer.reason)
            }
          } catch (err) {
            log('%p pushed work that does not check out: %e', peer, err)
          }
        },
        onOffer: offer => { void this.#takeOffer(peer, offer) },
        onClosed: () => { this.#readyAt.delete(key) }
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
    // all the ledger's, in one transaction, the issuer check included: it
    // decodes each receipt once, and names what it took or refused (the hash
    // is empty for bytes that do not decode)
    const settled = await ledger.acceptMany(receipts, { from: submitter })
    for (const outcome of settled) {
      const hash = outcome.status === 'fulfilled' ? outcome.value.hash : String(outcome.reason?.hash ?? '')
      if (outcome.status === 'rejected') {
        const err: any = outcome.reason
        const reason = `${String(err?.reason ?? err?.name ?? 'error')}: ${String(err?.message ?? err)}`.slice(0, MAX_REASON_LENGTH)
        log('refused a receipt from %s: %s', submitter, reason)
        statuses.push({ hash, status: ReceiptStatus.Status.REFUSED, reason })
        this.safeDispatchEvent('receipt:refused', { detail: { submitter, hash, status: 'REFUSED', reason } })
        continue
      }
      const result = outcome.value
      if (result.status === 'fork') {
        const reason = `fork: ${submitter} signed another receipt #${result.evidence.seq} (${result.evidence.kind}); the evidence is kept and nothing is credited`
        log.error('receipt from %s: %s', submitter, reason)
        statuses.push({ hash, status: ReceiptStatus.Status.FORK, reason })
        this.safeDispatchEvent('receipt:refused', { detail: { submitter, hash, status: 'FORK', reason } })
        continue
      }
      const receipt = result.receipt
      statuses.push({ hash, status: result.status === 'accepted' ? ReceiptStatus.Status.ACCEPTED : ReceiptStatus.Status.DUPLICATE, reason: '' })
      this.safeDispatchEvent('receipt:accepted', { detail: { submitter, hash, status: result.status, jobId: receipt.jobId, taskId: receipt.taskId, milliCredits: receipt.milliCredits } })
    }
    await session.notify({ receiptAck: { statuses } })
  }

  // --- running ----------------------------------------------------------------

  /**
   * Runs leased tasks with one sandbox call: a plain run for one task of one
   * record (it keeps the sandbox's fast path for quick tasks), a batch
   * (`inputs`) for the records of one task or of a group of quick tasks of
   * one job. Each record's outcome is taken as soon as its `record` event
   * arrives; each task's Result goes out once all its records have one.
   * In a group, a record past its time limit fails its own task; the tasks
   * after it that did not start go back to the queue to run one by one.
   */
  async #runGroup (job: KnownJob, bundle: SignedBundle, queued: QueuedTask[], free: () => void): Promise<void> {
    const session = this.#session(job.submitter)
    const grants = queued.map(q => q.grant)
    const grouped = grants.length > 1
    const started = Date.now()
    // Tasks leased ahead of this one wait behind it: once it runs SLOWDOWN
    // times longer than the job's recent tasks (AHEAD_ONE_MS while they are
    // too few to judge by), they go back to the submitter for a free
    // volunteer instead of waiting for its end.
    const before = recentAverage(job)
    /** Wall ms per task past which the job's tasks here count as slow. */
    const slowMs = before == null ? Math.max(this.#aheadMs, AHEAD_ONE_MS) : Math.max(this.#aheadMs, SLOWDOWN * before)
    let late = false
    const slow = setTimeout(() => {
      late = true
      job.slowRunning = (job.slowRunning ?? 0) + 1
      this.#giveBack(job)
    }, slowMs * grants.length)
    slow.unref?.()
    // In the end game nothing waits here: the next task is asked for just
    // before this one is expected to end, not after.
    let endingSoon = false
    const typical = job.recentMs.length > 0 ? recentMedian(job) * grants.length : undefined
    const early = endgame(job) && job.remaining !== 0 && typical != null
      ? setTimeout(() => {
        endingSoon = true
        job.endingSoon = (job.endingSoon ?? 0) + 1
        this.#pump()
      }, Math.max(0, typical - END_LEASE_EARLY_MS))
      : undefined
    early?.unref?.()
    let cancelled = false
    let current: { cancel(reason?: string): void } | undefined
    const cancel = (): void => {
      cancelled = true
      current?.cancel('the volunteer is stopping')
    }
    interface Slot {
      grant: TaskGrant
      outcomes: Array<RecordOutcome | undefined>
      size: number
      lastProgress: number
      info: RunningTask & { cancel(): void }
    }
    const tasks: Slot[] = grants.map(grant => ({
      grant,
      outcomes: new Array(grant.inputs.length).fill(undefined),
      size: 0,
      lastProgress: 0,
      info: { jobId: job.jobId, taskId: grant.taskId, attempt: grant.attempt, submitter: job.submitter.toString(), records: grant.inputs.length, fraction: 0, startedAt: started, cancel }
    }))
    for (const t of tasks) {
      this.#running.set(t.grant.taskId, t.info)
      this.safeDispatchEvent('task:start', { detail: this.#publicTask(t.info) })
    }
    // records that parse run; `runnable[k]` is the task and record of sandbox record k
    const runnable: Array<{ task: Slot, record: number }> = []
    const inputs: unknown[] = []
    let resumeFrom: unknown
    let resumeRecord: number | undefined
    for (const t of tasks) {
      const { grant } = t
      for (let i = 0; i < grant.inputs.length; i++) {
        try {
          const input = JSON.parse(fromUtf8.decode(grant.inputs[i]))
          if (grant.resumeFrom != null && grant.resumeRecord === i) {
            resumeFrom = JSON.parse(fromUtf8.decode(grant.resumeFrom))
            resumeRecord = runnable.length
          }
          runnable.push({ task: t, record: i })
          inputs.push(input)
        } catch (err) {
          t.outcomes[i] = { error: wireError({ name: 'InvalidInputError', message: `record ${grant.firstRecord + i} is not JSON: ${(err as Error).message}`, kind: 'task', retryable: false }) }
        }
      }
    }
    const progress = (t: Slot, fraction: number): void => {
      t.info.fraction = fraction
      if (!grouped && Date.now() - t.lastProgress >= this.#progressIntervalMs) {
        t.lastProgress = Date.now()
        void session.notify({ progress: { taskId: t.grant.taskId, attempt: t.grant.attempt, fraction } })
      }
    }
    let cpuMs = 0
    let wallMs = 0
    const settle = (k: number, outcome: SandboxRecordOutcome, run: { cancel(reason?: string): void }): void => {
      const at = runnable[k]
      if (at === undefined || at.task.outcomes[at.record] !== undefined) {
        return
      }
      const t = at.task
      if (outcome.ok) {
        const value = this.#tamper == null ? outcome.value : this.#tamper(outcome.value, { jobId: job.jobId, taskId: t.grant.taskId, record: t.grant.firstRecord + at.record })
        const bytes = utf8.encode(JSON.stringify(value ?? null))
        t.size += bytes.byteLength
        t.outcomes[at.record] = { value: bytes }
        if (t.size > MAX_RESULT_SIZE && !grouped) {
          // the task fails with ResultTooLargeError whatever the other records return
          run.cancel('the results are over the wire limit')
        }
      } else {
        t.outcomes[at.record] = { error: wireError(outcome.error) }
      }
      if (t.grant.inputs.length > 1) {
        progress(t, (at.record + 1) / t.grant.inputs.length)
      }
    }
    /** Tasks of a group that had not started when the group broke: they run again on their own. */
    let requeue: Slot[] = []
    try {
      if (cancelled || this.#stopped) {
        throw new TaskNotStartedError('the volunteer stopped before the task ran')
      }
      if (runnable.length > 0) {
        const first = grants[0]
        const plain = !grouped && first.inputs.length === 1
        const common = {
          taskId: first.taskId,
          attempt: first.attempt,
          bundleId: bundle.id,
          source: bundle.source,
          deterministic: job.requirements.deterministic,
          // tasks of one job share a warm context (non-deterministic jobs only; docs/task-contract.md)
          contextKey: jobKey(job.submitter, job.jobId)
        }
        // the seed of each record is what it was when records ran one by one
        const seedOf = (r: { task: Slot, record: number }): string => `${job.jobId}:${r.task.grant.firstRecord + r.record}`
        const run: TaskRun | BatchRun = plain
          ? this.#sandbox.run({ ...common, input: inputs[0], resumeFrom, seed: seedOf(runnable[0]), limits: { memoryMb: job.requirements.memoryMb, timeoutMs: job.requirements.timeoutMs } })
          : this.#sandbox.run({
            ...common,
            inputs,
            recordSeeds: runnable.map(seedOf),
            resumeFrom,
            resumeRecord,
            // a batch's limits are its records' together, as its lease is; in a group each record also keeps its own
            limits: { memoryMb: job.requirements.memoryMb, timeoutMs: job.requirements.timeoutMs * runnable.length },
            ...(grouped
              ? {
                  recordTimeoutMs: job.requirements.timeoutMs,
                  recordTasks: runnable.map(r => ({ taskId: r.task.grant.taskId, attempt: r.task.grant.attempt, record: r.record, records: r.task.grant.inputs.length }))
                }
              : {})
          })
        current = run
        if (cancelled) {
          run.cancel('the volunteer is stopping')
        }
        for await (const event of run as AsyncIterable<BatchEvent | SandboxEvent>) {
          if (event.type === 'progress') {
            const at = runnable['record' in event ? event.record : 0]
            if (at != null) {
              progress(at.task, (at.record + event.fraction) / at.task.grant.inputs.length)
            }
          } else if (event.type === 'checkpoint') {
            const state = utf8.encode(JSON.stringify(event.state ?? null))
            const at = runnable['record' in event ? event.record : 0]
            if (at != null && state.byteLength <= MAX_CHECKPOINT_SIZE) {
              await session.notify({ checkpoint: { taskId: at.task.grant.taskId, attempt: at.task.grant.attempt, record: at.record, state } })
            }
          } else if (event.type === 'log') {
            log.trace('task %s: %s', first.taskId, event.line)
          } else if (event.type === 'record') {
            settle(event.index, event, run)
          } else if (event.type === 'result') {
            cpuMs += event.cpuMs
            wallMs += event.wallMs
            if (plain) {
              settle(0, { ok: true, value: event.value }, run)
            } else {
              // every record already came as an event; this only fills a gap
              (event.value as SandboxRecordOutcome[]).forEach((o, k) => { settle(k, o, run) })
            }
          } else if (event.type === 'error') {
            cpuMs += event.cpuMs
            wallMs += event.wallMs
            if (grouped) {
              // the task of the first record without an outcome broke; later tasks that did not start run again alone
              const broke = runnable.find(r => r.task.outcomes[r.record] === undefined)?.task
              requeue = tasks.filter(t => t !== broke && t.outcomes.every(o => o === undefined) && tasks.indexOf(t) > tasks.indexOf(broke as Slot))
              if (event.error.kind === 'limit' || event.error.kind === 'task') {
                job.noGroups = true
              }
            }
            // the records done before keep their outcomes; the attempt's error is the others'
            runnable.forEach((r, k) => {
              if (!requeue.includes(r.task)) {
                settle(k, { ok: false, error: event.error }, run)
              }
            })
          }
        }
        current = undefined
      }
    } catch (err) {
      const notStarted = err instanceof TaskNotStartedError
      if (!notStarted) {
        log.error('task %s attempt %d broke in the sandbox host: %e', grants[0].taskId, grants[0].attempt, err)
      }
      for (const t of tasks) {
        for (let i = 0; i < t.outcomes.length; i++) {
          t.outcomes[i] ??= { error: wireError(notStarted ? notRun((err as Error).message) : { name: 'RunnerLostError', message: `the sandbox failed: ${(err as Error).message}`, kind: 'runner-lost', retryable: true }) }
        }
      }
      requeue = []
    }
    clearTimeout(slow)
    clearTimeout(early)
    if (endingSoon) {
      job.endingSoon = (job.endingSoon ?? 1) - 1
    }
    if (late) {
      job.slowRunning = (job.slowRunning ?? 1) - 1
    }
    const ran = tasks.filter(t => !requeue.includes(t))
    const ms = Date.now() - started
    for (const t of tasks) {
      this.#running.delete(t.grant.taskId)
    }
    for (const t of ran) {
      noteTaskMs(job, ms / ran.length)
    }
    if (ms / ran.length > slowMs) {
      this.#giveBack(job)
    }
    if (requeue.length > 0 && !this.#stopped) {
      this.#queue.unshift(...queued.filter(q => requeue.some(t => t.grant === q.grant)))
    }
    // the slot starts its next task, or its lease request leaves, before
    // these results are stored and sent: a lease waits behind nothing
    free()
    const ended: Array<{ taskId: string, attempt: number, result: Uint8Array }> = []
    for (const t of ran) {
      let done = t.outcomes.map(o => o ?? { error: wireError(notRun('the sandbox ended the task without an outcome for this record')) })
      if (t.size > MAX_RESULT_SIZE) {
        done = t.grant.inputs.map(() => ({ error: wireError({ name: 'ResultTooLargeError', message: `the task's results are ${t.size} bytes, over the ${MAX_RESULT_SIZE} byte limit`, kind: 'limit', retryable: false }) }))
      }
      // a group's CPU and wall time are shared out evenly among its tasks
      const result: Result = { requestId: 0, taskId: t.grant.taskId, attempt: t.grant.attempt, records: done, cpuMs: Math.round(cpuMs / ran.length), wallMs: Math.round(wallMs / ran.length) }
      const ok = done.every(o => o.value != null)
      log.trace('task %s attempt %d ended (%s)', t.grant.taskId, t.grant.attempt, ok ? 'ok' : 'with errors')
      this.safeDispatchEvent('task:end', { detail: { ...this.#publicTask(t.info), ok } })
      if (this.#stopped && done.some(o => o.error?.retryable === true)) {
        // a task cut short by our own stop is only worth requeueing, which the submitter does on disconnect
        continue
      }
      ended.push({ taskId: t.grant.taskId, attempt: t.grant.attempt, result: Result.encode(result) })
    }
    // a group's results in one commit
    this.#outbox.putMany(job.submitter.toString(), ended)
    if (!this.#stopped) {
      this.#armRetry()
      this.#deliverSoon(job)
    }
  }

  /**
   * Delivers the results of the job's submitter now, unless another task of
   * that submitter runs or starts next here (one leased ahead): then they
   * wait for its end, at most resultHoldMs (and a quarter of the job's
   * lease margin), and leave together in one Results message, which costs
   * each side one message, one commit and one sync for all of them instead
   * of one each. The last results of a job here leave as soon as they end.
   */
  #deliverSoon (job: KnownJob): void {
    const submitter = job.submitter.toString()
    const more = this.#queue.some(q => q.job.submitter.toString() === submitter) ||
      [...this.#running.values()].some(t => t.submitter === submitter)
    const holdMs = Math.min(this.#holdMs, (job.marginMs ?? 0) / 4)
    if (!more || holdMs < 1) {
      const held = this.#held.get(submitter)
      if (held != null) {
        clearTimeout(held)
        this.#held.delete(submitter)
      }
      void this.#deliverTo(submitter)
      return
    }
    if (!this.#held.has(submitter)) {
      const timer = setTimeout(() => {
        this.#held.delete(submitter)
        void this.#deliverTo(submitter)
      }, holdMs)
      timer.unref?.()
      this.#held.set(submitter, timer)
    }
  }

  #publicTask (task: RunningTask): RunningTask {
    const { jobId, taskId, attempt, submitter, records, fraction, startedAt } = task
    return { jobId, taskId, attempt, submitter, records, fraction, startedAt }
  }

  // --- delivery ---------------------------------------------------------------

  /**
   * Delivers the submitter's waiting results: one loop per submitter, one
   * Results message in flight at a time, so results that end while one is
   * on its way leave together in the next (one commit on each side for all).
   * Resolves when the outbox holds nothing more for it, or delivery failed.
   */
  async #deliverTo (submitter: string): Promise<void> {
    if (this.#stopped) {
      return
    }
    const running = this.#deliveries.get(submitter)
    if (running != null) {
      running.again = true
      await running.done
      return
    }
    const state = { again: true, done: Promise.resolve() }
    this.#deliveries.set(submitter, state)
    state.done = this.#deliveryLoop(submitter, state).finally(() => { this.#deliveries.delete(submitter) })
    await state.done
  }

  async #deliveryLoop (submitter: string, state: { again: boolean }): Promise<void> {
    // the session is usually open: parsing the key back into a peer id cost
    // ~0.2 ms of every delivery here
    const session = this.#sessions.get(submitter) ?? this.#session(peerIdFromString(submitter))
    while (state.again && !this.#stopped) {
      state.again = false
      const group: OutboxEntry[] = []
      let bytes = 0
      for (const entry of this.#outbox.pending(submitter, MAX_RESULTS_PER_MESSAGE)) {
        if (group.length > 0 && bytes + entry.result.byteLength > MAX_SESSION_MESSAGE_SIZE - 64 * 1024) {
          break
        }
        bytes += entry.result.byteLength
        group.push(entry)
      }
      if (group.length === 0) {
        return
      }
      let acks: ResultAck[]
      try {
        log.trace('delivering %d result(s) to %s', group.length, submitter)
        acks = await session.deliverMany(group.map(e => Result.decode(e.result)))
      } catch (err) {
        log('%d result(s) wait in the outbox for %s: %e', group.length, submitter, err)
        return
      }
      if (this.#stopped) {
        return
      }
      this.#outbox.deleteMany(group.map(e => e.id))
      group.forEach((entry, i) => {
        const ack = acks[i]
        if (ack.status === ResultAck.Status.REFUSED) {
          log('%s refused the result of %s attempt %d: %s', submitter, entry.taskId, entry.attempt, ack.reason)
        }
        this.safeDispatchEvent('result:acked', { detail: { taskId: entry.taskId, attempt: entry.attempt, submitter, status: ack.status, reason: ack.reason } })
      })
      // more may be waiting beyond this group, or have ended meanwhile
      state.again = true
    }
  }
}

function wireError (e: Omit<TaskErrorInfo, 'stack'>): NonNullable<RecordOutcome['error']> {
  return { name: e.name, message: e.message, kind: errorKindToWire(e.kind), retryable: e.retryable }
}

/** Thrown inside #runTask when a task is not started at all (the volunteer is stopping). */
class TaskNotStartedError extends Error {
  static override name = 'TaskNotStartedError'
  override name = 'TaskNotStartedError'
}

function notRun (message: string): Omit<TaskErrorInfo, 'stack'> {
  return { name: 'NotRunError', message, kind: 'cancelled', retryable: true }
}

