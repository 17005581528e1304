// The submitter's SQLite store: jobs, their input records split into tasks,
// leases with deadlines, checkpoints, replica results and their quorum,
// results, errors and the credit each result is owed. Every state change is
// one transaction, so a kill -9 leaves either the old or the new state.
import { createHash } from 'node:crypto'
import Database from 'better-sqlite3'
import { byLimit, sqlLimit, walSync } from '@idlegrid/sqlite'
import type { WalSync } from '@idlegrid/sqlite'
import { InvalidInputError, NotFoundError } from '@idlegrid/interface'
import { REMAINING_TOLD_BELOW } from '@idlegrid/protocol-work'
import type { TaskErrorInfo, TaskRequirements } from '@idlegrid/interface'

/** What a finished record holds: the task's value, or why it failed for good. */
export type RecordResult =
  | { index: number, value: unknown }
  | { index: number, error: FailureInfo }

/** Volunteers that returned the same result for a task (one result hash). */
export interface ReplicaResult {
  /** Lowercase hex sha256 of the canonical JSON of the task's outcomes (see resultHash). */
  hash: string
  workers: string[]
}

/** An error as the submitter keeps it: the task error plus where it happened. */
export interface FailureInfo extends Omit<TaskErrorInfo, 'stack'> {
  taskId?: string
  record?: number
  attempt?: number
  worker?: string
  /** QuorumFailedError: each distinct result and who returned it. */
  results?: ReplicaResult[]
}

/** How many volunteers run each task: a fixed number, or 'auto' (adaptive, by trust). */
export type Replicas = number | 'auto'

/** A task whose replicas returned more than one distinct result. */
export interface Disagreement {
  taskId: string
  state: TaskState
  /** The hash the quorum accepted, when it did. */
  acceptedHash?: string
  results: ReplicaResult[]
}

/** Why a volunteer's claim for a task was capped or refused. */
export interface CreditFlag {
  taskId: string
  worker: string
  claimedMs: number
  creditedMs: number
  reason: string
}

export type JobState = 'running' | 'done' | 'cancelled'
export type TaskState = 'pending' | 'leased' | 'done' | 'failed'

export interface VolunteerShare {
  peerId: string
  tasks: number
  records: number
  cpuMs: number
}

export interface JobInfo {
  id: string
  name: string
  bundleId: string
  requirements: TaskRequirements
  batch: number
  state: JobState
  createdAt: number
  finishedAt?: number
  records: { total: number, ok: number, failed: number }
  tasks: { total: number, pending: number, leased: number, done: number, failed: number }
  /** Who ran the finished tasks of this job (outvoted results not counted). */
  volunteers: VolunteerShare[]
  /** Every error an attempt reported or the submitter recorded, oldest first (at most 100). */
  failures: FailureInfo[]
  /** Replicas asked per task. */
  replicas: Replicas
  quorum: {
    /** Tasks accepted because a majority of two or more replicas agreed. */
    verified: number
    /** Tasks accepted on one result (replicas 1, or a trusted volunteer under 'auto'). */
    unreplicated: number
    /** Tasks whose replicas returned more than one distinct result. */
    disagreements: number
    /** Tasks failed because their replicas never reached a majority. */
    failed: number
  }
  /** Tasks with disagreeing replicas, with each distinct result and who returned it (at most 100). */
  disagreements: Disagreement[]
  credit: {
    /** Results whose receipt is still to be issued. */
    owed: number
    /** Results of this job paid by a receipt (one receipt may pay several). */
    receipts: number
    /** CPU ms credited in those receipts. */
    creditedMs: number
    /** Claims that were capped or refused (at most 100). */
    flags: CreditFlag[]
  }
}

/** A job's state and counts, without its lists: a few queries, against a dozen for JobInfo. */
export interface JobSummary {
  id: string
  name: string
  state: JobState
  records: { total: number, ok: number, failed: number }
  /** Volunteers whose results counted (JobInfo's `volunteers.length`). */
  volunteers: number
  /** As JobInfo's `credit`, with the number of capped or refused claims instead of the claims. */
  credit: { owed: number, receipts: number, creditedMs: number, flagged: number }
}

/** Which jobs jobs() lists. */
export interface JobListOptions {
  /** Most jobs listed: the newest that match. 1..MAX_JOBS_LISTED. @default DEFAULT_JOBS_LISTED */
  limit?: number
  /** Only jobs in this state. */
  state?: JobState
  /** Only jobs submitted before this one: the next page back from a list whose oldest job it was. */
  before?: string
}

/** Jobs jobs() lists when not told: a job's info costs ~75 µs of the daemon's only thread here. */
export const DEFAULT_JOBS_LISTED = 100
/** Most jobs one jobs() call lists. */
export const MAX_JOBS_LISTED = 10_000

const JOB_STATES: readonly JobState[] = ['running', 'done', 'cancelled']

/** pendingJobs() counts a job's waiting tasks up to this; announcements say "at least" beyond it. */
const PENDING_COUNTED = 1024

export interface NewJob {
  id: string
  name: string
  bundleId: string
  bundle: Uint8Array
  requirements: TaskRequirements
  batch: number
  /** JSON encoding of each input record, in input order. */
  records: Uint8Array[]
  createdAt: number
  /** Replicas per task: 1..16 or 'auto'. @default 1 */
  replicas?: Replicas
}

/** Bytes backed by a plain ArrayBuffer, as the generated codecs want them. */
export type Bytes = Uint8Array<ArrayBuffer>

export interface LeasedTask {
  taskId: string
  attempt: number
  firstRecord: number
  inputs: Bytes[]
  resumeFrom?: Bytes
  resumeRecord: number
  deadline: number
  leaseMs: number
}

export type LeaseOutcome =
  /**
   * remaining: how many other tasks of the job wait for this worker now,
   * when fewer than REMAINING_TOLD_BELOW (absent: that many or more; 0: none).
   * exhausted: no task of the job waits for any worker now (set only with
   * remaining 0).
   */
  | { status: 'granted', tasks: LeasedTask[], remaining?: number, exhausted?: true }
  | { status: 'none-left' | 'refused', reason: string, tasks: [] }

/** One record's outcome as a worker reported it; value is JSON bytes. */
export type ReportedOutcome = { value: Uint8Array } | { error: Omit<TaskErrorInfo, 'stack'> }

export interface CompleteOutcome {
  status: 'accepted' | 'duplicate' | 'refused'
  reason: string
  /** The task reached its final state with this report. */
  final: boolean
  /** The task went back to the queue (retryable failure). */
  requeued: boolean
}

/** A lease that ended without a result; the task is pending again or failed for good. */
export interface LostLease {
  taskId: string
  jobId: string
  attempt: number
  worker: string
  requeued: boolean
}

export interface JobStoreInit {
  /** Path of the SQLite file; created with its tables when missing. */
  path: string
  /**
   * Attempts that may end in a retryable error or an expired lease before the
   * task fails for good.
   *
   * @default 3
   */
  maxAttempts?: number
  /**
   * Leases a task may get in all, counting leases lost to a disconnect or a
   * submitter restart (which do not count as attempts that failed), not
   * leases its volunteer gave back unrun.
   *
   * @default 10
   */
  maxLeases?: number
  /** Extra lease time on top of the task's time limit. @default 5000 */
  leaseMarginMs?: number
  /**
   * Volunteers asked beyond the replicas when their results disagree, before
   * the task fails with the conflicting results.
   *
   * @default 2
   */
  maxExtraReplicas?: number
  /**
   * Under replicas 'auto': whether the first volunteer of a task must be
   * checked by a second one (the ledger's trust store answers this).
   *
   * @default always true
   */
  replicate?(worker: string): boolean
}

/** What a volunteer is owed for one result, waiting to be credited. */
export interface OwedCredit {
  jobId: string
  taskId: string
  worker: string
  /** 'valid': matched the quorum; 'invalid': outvoted (no credit); 'unchecked': accepted on one result. */
  verdict: 'valid' | 'invalid' | 'unchecked'
  /** CPU ms the volunteer reported. */
  claimedMs: number
  /** Lease grant to result, as the submitter saw it. */
  observedMs: number
  records: number
  requirements: TaskRequirements
}

/** What became of one owed credit (see JobStore.settleCredits). */
export interface CreditSettlement {
  taskId: string
  worker: string
  state: 'issued' | 'refused' | 'none'
  creditedMs: number
  receiptHash?: string
  note?: string
}

/** Receipts the claim cap's peer median is taken over: the latest ones, so a long job costs the same per credit as a short one. */
const MEDIAN_WINDOW = 999

export const DEFAULT_MAX_ATTEMPTS = 3
export const DEFAULT_MAX_EXTRA_REPLICAS = 2
export const DEFAULT_MAX_LEASES = 10
export const DEFAULT_LEASE_MARGIN_MS = 5_000

/**
 * Who ran a job's finished tasks (bound: the job id twice): every replica
 * whose result counted, plus volunteers of tasks that ended without a
 * stored result (retries given up).
 */
const VOLUNTEER_RUNS = `SELECT s.worker AS peerId, t.record_count AS records, s.cpu_ms AS cpuMs FROM submissions s JOIN tasks t ON t.id = s.task_id
    WHERE s.job_id = ? AND t.state IN ('done', 'failed') AND s.verdict IN ('valid', 'unchecked')
  UNION ALL
  SELECT t.done_by, t.record_count, t.cpu_ms FROM tasks t
    WHERE t.job_id = ? AND t.done_by IS NOT NULL AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.task_id = t.id)`
/** A job's results paid and owed, and its claims capped or refused (bound: the job id). */
const CREDIT_OF_JOB = `SELECT COALESCE(SUM(credit_state = 'owed'), 0) AS owed, COALESCE(SUM(credit_state = 'issued'), 0) AS receipts,
  COALESCE(SUM(CASE WHEN credit_state = 'issued' THEN credited_ms END), 0) AS creditedMs,
  COALESCE(SUM(credit_note IS NOT NULL), 0) AS flagged FROM submissions WHERE job_id = ?`
/** A job's records done and failed (bound: the job id). */
const RECORDS_OF_JOB = 'SELECT COALESCE(SUM(ok), 0) AS ok, COUNT(*) - COALESCE(SUM(ok), 0) AS failed FROM results WHERE job_id = ?'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bundles (id TEXT PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, bundle_id TEXT NOT NULL REFERENCES bundles(id),
  requirements TEXT NOT NULL, batch INTEGER NOT NULL, record_count INTEGER NOT NULL,
  state TEXT NOT NULL, created_at INTEGER NOT NULL, finished_at INTEGER
);
-- the running jobs (pendingJobs, on every submit and every volunteer's Ready):
-- without it that read scanned every job the file ever held
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state, created_at);
-- the newest jobs first (jobs()): a list of the last page without a scan
-- and sort of every job the file ever held
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at, id);
CREATE TABLE IF NOT EXISTS records (
  job_id TEXT NOT NULL, idx INTEGER NOT NULL, input BLOB NOT NULL, PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY, job_id TEXT NOT NULL, idx INTEGER NOT NULL,
  first_record INTEGER NOT NULL, record_count INTEGER NOT NULL,
  state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0,
  checkpoint_record INTEGER, checkpoint BLOB,
  done_by TEXT, cpu_ms INTEGER, wall_ms INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (job_id, state, idx);
CREATE TABLE IF NOT EXISTS leases (
  task_id TEXT NOT NULL, attempt INTEGER NOT NULL, job_id TEXT NOT NULL, worker TEXT NOT NULL,
  granted_at INTEGER NOT NULL, deadline INTEGER NOT NULL, state TEXT NOT NULL,
  PRIMARY KEY (task_id, attempt)
);
CREATE INDEX IF NOT EXISTS leases_active ON leases (state, deadline);
CREATE INDEX IF NOT EXISTS leases_worker ON leases (worker, state);
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, record INTEGER NOT NULL,
  task_id TEXT NOT NULL, ok INTEGER NOT NULL, value BLOB, error TEXT,
  UNIQUE (job_id, record)
);
-- results in the order they finished, per job (completed()): without it a
-- read of the newest results scanned and sorted all of the job's so far
CREATE INDEX IF NOT EXISTS results_seq ON results (job_id, seq);
CREATE TABLE IF NOT EXISTS errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, task_id TEXT NOT NULL,
  record INTEGER, attempt INTEGER, worker TEXT, error TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_job ON errors (job_id, id);
CREATE TABLE IF NOT EXISTS submissions (
  task_id TEXT NOT NULL, worker TEXT NOT NULL, job_id TEXT NOT NULL, attempt INTEGER NOT NULL,
  hash TEXT NOT NULL, outcomes TEXT NOT NULL, cpu_ms INTEGER NOT NULL, wall_ms INTEGER NOT NULL,
  observed_ms INTEGER NOT NULL, at INTEGER NOT NULL,
  verdict TEXT, credit_state TEXT, credited_ms INTEGER, receipt_hash TEXT, credit_note TEXT,
  PRIMARY KEY (task_id, worker)
) WITHOUT ROWID;
-- a job's submissions by state, the latest first (creditedMedian, per
-- credit): with only (job_id, credit_state) here, SQLite read a job's latest
-- receipts through submissions_owed_at instead, every issued row of the
-- file in turn (137 ms a one-record job after 50,000 no-op tasks)
DROP INDEX IF EXISTS submissions_job;
CREATE INDEX IF NOT EXISTS submissions_job_at ON submissions (job_id, credit_state, at);
-- the owed credits in the order they came (owedCredits, every credit round):
-- on (credit_state) alone, each round sorted every owed row to take 100, and
-- a busy job's backlog made each round slower (1.7 ms against 0.35 ms with
-- 2,000 owed); files made before it drop the old index on open
DROP INDEX IF EXISTS submissions_owed;
CREATE INDEX IF NOT EXISTS submissions_owed_at ON submissions (credit_state, at, attempt);
`

/** Columns added after the first release; added to older files on open. */
const ADDED_COLUMNS: Array<[table: string, column: string, definition: string]> = [
  ['jobs', 'replicas', 'INTEGER NOT NULL DEFAULT 1'],
  // results wanted now (NULL: 'auto' not decided yet), majority needed, most results asked for
  ['tasks', 'needed', 'INTEGER'],
  ['tasks', 'quorum', 'INTEGER'],
  ['tasks', 'max_needed', 'INTEGER'],
  ['tasks', 'accepted_hash', 'TEXT'],
  // 'single' | 'quorum' | 'no-quorum' once settled by results
  ['tasks', 'settled_by', 'TEXT']
]

interface TaskRow {
  id: string
  job_id: string
  idx: number
  first_record: number
  record_count: number
  state: TaskState
  attempt: number
  failures: number
  needed: number | null
  quorum: number | null
  max_needed: number | null
  accepted_hash: string | null
}

/** What lease() reads of a pending task. */
type PendingTaskRow = Pick<TaskRow, 'id' | 'first_record' | 'record_count' | 'attempt' | 'needed'> & { checkpoint: Buffer | null, checkpoint_record: number | null }

/**
 * The columns of a TaskRow, for reading a task by name rather than with *:
 * at the daemon's V8 settings each column read costs about half a
 * microsecond, and * also reads the checkpoint, which may be megabytes.
 */
const TASK_COLUMNS = 'id, job_id, idx, first_record, record_count, state, attempt, failures, needed, quorum, max_needed, accepted_hash'
const TASK_BY_ID = `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`

/** What a stored result needs of the lease it came on. */
type SubmittingLease = Pick<LeaseRow, 'worker' | 'attempt' | 'state' | 'granted_at'>

interface SubmissionRow {
  task_id: string
  worker: string
  job_id: string
  attempt: number
  hash: string
  outcomes: string
  cpu_ms: number
  wall_ms: number
  observed_ms: number
  at: number
  verdict: string | null
}

interface LeaseRow {
  task_id: string
  attempt: number
  job_id: string
  worker: string
  granted_at: number
  deadline: number
  state: string
}

interface JobRow {
  id: string
  name: string
  bundle_id: string
  requirements: string
  batch: number
  record_count: number
  state: JobState
  created_at: number
  finished_at: number | null
  replicas: number
}

const utf8 = new TextDecoder()

/** Majority of n: 1 of 1, 2 of 2, 2 of 3, 3 of 4. */
export function majorityOf (n: number): number {
  return Math.floor(n / 2) + 1
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson (value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(v => canonicalJson(v ?? null)).join(',')}]`
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value).sort()
      .filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    return `{${entries.join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/**
 * The hash replicas are compared by: sha256 of the canonical JSON of one
 * entry per record, `{"value": v}` or `{"error": {"kind", "name"}}` (error
 * messages may carry machine details, so they are not compared).
 */
export function resultHash (outcomes: ReportedOutcome[]): string {
  const canonical = outcomes.map(o => 'error' in o
    ? { error: { kind: o.error.kind, name: o.error.name } }
    : { value: JSON.parse(utf8.decode(o.value)) })
  return createHash('sha256').update(canonicalJson(canonical)).digest('hex')
}

/** Checks a replicas setting: a whole number 1..16 or 'auto'. */
export function checkReplicas (replicas: unknown): Replicas {
  if (replicas === 'auto') {
    return 'auto'
  }
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) {
    throw new InvalidInputError(`replicas must be a whole number from 1 to ${MAX_REPLICAS} or 'auto', got ${JSON.stringify(replicas)}`)
  }
  return replicas
}

/** Most replicas a job may ask for (as the bundle manifest allows). */
export const MAX_REPLICAS = 16

/** Task ids are `<jobId>:<index of the task's first record>`. */
export function taskIdOf (jobId: string, firstRecord: number): string {
  return `${jobId}:${firstRecord}`
}

export class JobStore {
  readonly maxAttempts: number
  readonly maxLeases: number
  readonly leaseMarginMs: number
  readonly maxExtraReplicas: number
  readonly #replicate: (worker: string) => boolean
  readonly #db: Database.Database
  /** Prepared statements by SQL text: preparing costs more than running most of them. */
  readonly #statements = new Map<string, Database.Statement>()
  /** jobs()' statements, by filter and then limit. */
  readonly #jobPages = new Map<string, (limit: number) => Database.Statement>()
  /**
   * Jobs created by this store that are still running, for state(): asked
   * several times per result (every result stream checks it), it was ~5 %
   * of a submitter's CPU in a one-record job's round trip. Set once a job's
   * commit is done; deleted by every statement that moves a job out of
   * 'running' (a rolled-back one included: a miss reads the file).
   */
  readonly #running = new Set<string>()
  /** Jobs created inside atomically(): running once its transaction commits. */
  #createdInside: string[] | null = null
  /** Inside completeMany(): the jobs whose tasks ended, to check for their end once at its close. */
  #endedLater: Set<string> | null = null
  readonly #wal: WalSync

  constructor (init: JobStoreInit) {
    this.maxAttempts = init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    this.maxLeases = init.maxLeases ?? DEFAULT_MAX_LEASES
    this.leaseMarginMs = init.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS
    this.maxExtraReplicas = init.maxExtraReplicas ?? DEFAULT_MAX_EXTRA_REPLICAS
    if (!Number.isSafeInteger(this.maxExtraReplicas) || this.maxExtraReplicas < 0 || this.maxExtraReplicas > MAX_REPLICAS) {
      throw new InvalidInputError(`maxExtraReplicas must be a whole number from 0 to ${MAX_REPLICAS}, got ${this.maxExtraReplicas}`)
    }
    this.#replicate = init.replicate ?? (() => true)
    this.#db = new Database(init.path)
    this.#db.pragma('journal_mode = WAL')
    // NORMAL: a commit survives a crash or kill -9 at once. What is promised
    // to someone else (a stored job, an acknowledged result) is made to
    // survive a power cut too before the promise, with sync(): one fsync off
    // the event loop for everything committed so far (docs/durability.md).
    this.#db.pragma('synchronous = NORMAL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(SCHEMA)
    for (const [table, column, definition] of ADDED_COLUMNS) {
      const columns = this.#sql(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>
      if (!columns.some(c => c.name === column)) {
        this.#db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`)
      }
    }
    this.#wal = walSync(this.#db)
  }

  /**
   * Resolves once every change made so far is on disk (it survives a power
   * cut, not just a crash). `withinMs`: the caller can wait that much longer
   * for a sync somebody else starts (WalSync.within).
   */
  async sync (withinMs?: number): Promise<void> {
    await (withinMs == null ? this.#wal() : this.#wal.within(withinMs))
  }

  close (): void {
    void this.#wal.close()
    this.#db.close()
  }

  /** Prepared once per text. A LIMIT goes into the text (sqlLimit): a bound one is prepared again at every run. */
  #sql (source: string): Database.Statement {
    let statement = this.#statements.get(source)
    if (statement == null) {
      statement = this.#db.prepare(source)
      this.#statements.set(source, statement)
    }
    return statement
  }

  /** Runs `fn` as one transaction that is on disk (fsync) when it returns: for the few callers that cannot await sync(). */
  #durable<T> (fn: () => T): T {
    this.#db.pragma('synchronous = FULL')
    try {
      return this.#db.transaction(fn)()
    } finally {
      this.#db.pragma('synchronous = NORMAL')
    }
  }

  /**
   * Runs `fn` in one transaction: the store's own transactions inside it
   * become savepoints, and everything commits (or rolls back) together.
   */
  atomically<T> (fn: () => T): T {
    if (this.#createdInside != null) {
      return this.#db.transaction(fn)()
    }
    const created: string[] = []
    this.#createdInside = created
    try {
      const result = this.#db.transaction(fn)()
      for (const id of created) {
        this.#running.add(id)
      }
      return result
    } finally {
      this.#createdInside = null
    }
  }

  /** Stores a job, its bundle, its records and its tasks in one transaction. */
  createJob (job: NewJob): void {
    const db = this.#db
    const insertRecord = this.#sql('INSERT INTO records (job_id, idx, input) VALUES (?, ?, ?)')
    const insertTask = this.#sql('INSERT INTO tasks (id, job_id, idx, first_record, record_count, state, needed, quorum, max_needed) VALUES (?, ?, ?, ?, ?, \'pending\', ?, ?, ?)')
    const replicas = checkReplicas(job.replicas ?? 1)
    // 'auto' decides per task at its first lease
    const needed = replicas === 'auto' ? null : replicas
    const quorum = replicas === 'auto' ? null : majorityOf(replicas)
    const maxNeeded = replicas === 'auto' ? null : replicas === 1 ? 1 : replicas + this.maxExtraReplicas
    this.#db.transaction(() => {
      this.#sql('INSERT OR IGNORE INTO bundles (id, bytes) VALUES (?, ?)').run(job.bundleId, job.bundle)
      this.#sql('INSERT INTO jobs (id, name, bundle_id, requirements, batch, record_count, state, created_at, finished_at, replicas) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(job.id, job.name, job.bundleId, JSON.stringify(job.requirements), job.batch, job.records.length,
          job.records.length === 0 ? 'done' : 'running', job.createdAt, job.records.length === 0 ? job.createdAt : null, replicas === 'auto' ? 0 : replicas)
      job.records.forEach((bytes, i) => insertRecord.run(job.id, i, bytes))
      for (let first = 0, idx = 0; first < job.records.length; first += job.batch, idx++) {
        insertTask.run(taskIdOf(job.id, first), job.id, idx, first, Math.min(job.batch, job.records.length - first), needed, quorum, maxNeeded)
      }
    })()
    if (job.records.length > 0) {
      // inside a caller's transaction the job exists once that commits
      if (!this.#db.inTransaction) {
        this.#running.add(job.id)
      } else {
        this.#createdInside?.push(job.id)
      }
    }
  }

  /** The encoded signed bundle, when a job of this store uses it. */
  bundle (id: string): Bytes | undefined {
    const row = this.#sql('SELECT bytes FROM bundles WHERE id = ?').get(id) as { bytes: Buffer } | undefined
    return row == null ? undefined : plainBytes(row.bytes)
  }

  /** The job's state, or undefined when no job has this id. */
  state (id: string): JobState | undefined {
    if (this.#running.has(id)) {
      return 'running'
    }
    return (this.#sql('SELECT state FROM jobs WHERE id = ?').get(id) as { state: JobState } | undefined)?.state
  }

  /** @throws NotFoundError when no job has this id */
  job (id: string): JobInfo {
    const row = this.#sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined
    if (row == null) {
      throw new NotFoundError(`no job ${id}: list jobs to see the ids this node knows`)
    }
    return this.#info(row)
  }

  /** Whether some task of the job waits for a lease (by any worker). */
  #hasPending (jobId: string): boolean {
    return this.#sql('SELECT 1 FROM tasks WHERE job_id = ? AND state = \'pending\' LIMIT 1').get(jobId) != null
  }

  /** @throws NotFoundError when no job has this id */
  summary (id: string): JobSummary {
    const row = this.#sql('SELECT name, state, record_count FROM jobs WHERE id = ?').get(id) as Pick<JobRow, 'name' | 'state' | 'record_count'> | undefined
    if (row == null) {
      throw new NotFoundError(`no job ${id}: list jobs to see the ids this node knows`)
    }
    const rec = this.#sql(RECORDS_OF_JOB).get(id) as { ok: number, failed: number }
    const volunteers = (this.#sql(`SELECT COUNT(DISTINCT peerId) AS n FROM (${VOLUNTEER_RUNS})`).get(id, id) as { n: number }).n
    return { id, name: row.name, state: row.state, records: { total: row.record_count, ok: rec.ok, failed: rec.failed }, volunteers, credit: this.credit(id) }
  }

  /** summary()'s `credit` alone: one query. A job id this store does not hold has no credit (all zero). */
  credit (id: string): JobSummary['credit'] {
    return this.#sql(CREDIT_OF_JOB).get(id) as JobSummary['credit']
  }

  /**
   * The newest jobs (`limit`, default 100) that match, oldest of them first.
   *
   * @throws InvalidInputError for a limit out of range, an unknown state, or a `before` that names no job
   */
  jobs (options: JobListOptions = {}): JobInfo[] {
    const limit = options.limit ?? DEFAULT_JOBS_LISTED
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_JOBS_LISTED) {
      throw new InvalidInputError(`a job list's limit must be a whole number from 1 to ${MAX_JOBS_LISTED}, got ${String(limit)}`)
    }
    const where: string[] = []
    const args: unknown[] = []
    if (options.state !== undefined) {
      if (!JOB_STATES.includes(options.state)) {
        throw new InvalidInputError(`a job's state is one of ${JOB_STATES.join(', ')}, got '${String(options.state)}'`)
      }
      where.push('state = ?')
      args.push(options.state)
    }
    if (options.before !== undefined) {
      const from = this.#sql('SELECT created_at, id FROM jobs WHERE id = ?').get(options.before) as { created_at: number, id: string } | undefined
      if (from == null) {
        throw new InvalidInputError(`no job ${options.before} on this node to list the jobs before: list jobs to see the ids it knows`)
      }
      where.push('(created_at, id) < (?, ?)')
      args.push(from.created_at, from.id)
    }
    const filter = where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`
    let page = this.#jobPages.get(filter)
    if (page == null) {
      page = byLimit(this.#db, n => `SELECT * FROM jobs ${filter} ORDER BY created_at DESC, id DESC LIMIT ${n}`)
      this.#jobPages.set(filter, page)
    }
    const rows = page(limit).all(...args) as JobRow[]
    return rows.reverse().map(row => this.#info(row))
  }

  /**
   * Jobs that still have tasks waiting for a lease, with how many (counted
   * up to PENDING_COUNTED: this runs on every volunteer's Ready, and counting
   * 100,000 waiting tasks took 14.5 ms of the daemon's thread).
   */
  pendingJobs (): Array<{ id: string, bundleId: string, requirements: TaskRequirements, pending: number }> {
    const rows = this.#sql(`
      SELECT j.id, j.bundle_id, j.requirements,
        (SELECT COUNT(*) FROM (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state = 'pending' LIMIT ${PENDING_COUNTED})) AS pending
      FROM jobs j
      WHERE j.state = 'running' AND EXISTS (SELECT 1 FROM tasks t WHERE t.job_id = j.id AND t.state = 'pending')
      ORDER BY j.created_at`).all() as Array<{ id: string, bundle_id: string, requirements: string, pending: number }>
    return rows.map(r => ({ id: r.id, bundleId: r.bundle_id, requirements: JSON.parse(r.requirements), pending: r.pending }))
  }

  /**
   * Grants up to `maxTasks` pending tasks of a job to `worker`, oldest first,
   * stopping before the encoded inputs would pass `maxBytes` (one task is
   * always granted when any is pending). A volunteer never gets a task it
   * holds or already returned a result for, so replicas run on different peers.
   */
  lease (jobId: string, worker: string, maxTasks: number, maxBytes: number, now = Date.now()): LeaseOutcome {
    const db = this.#db
    return db.transaction((): LeaseOutcome => {
      const job = this.#sql('SELECT state, requirements, replicas FROM jobs WHERE id = ?').get(jobId) as { state: JobState, requirements: string, replicas: number } | undefined
      if (job == null) {
        return { status: 'refused', reason: `no job ${jobId} on this submitter`, tasks: [] }
      }
      if (job.state !== 'running') {
        return { status: 'none-left', reason: `job ${jobId} is ${job.state}`, tasks: [] }
      }
      const requirements = JSON.parse(job.requirements) as TaskRequirements
      const rows = this.#sql(`SELECT id, first_record, record_count, attempt, needed, checkpoint, checkpoint_record FROM tasks t WHERE t.job_id = ? AND t.state = 'pending'
        AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.worker = ? AND l.state = 'active')
        AND NOT EXISTS (SELECT 1 FROM submissions s WHERE s.task_id = t.id AND s.worker = ?)
        ORDER BY t.idx LIMIT ${sqlLimit(maxTasks + REMAINING_TOLD_BELOW)}`).all(jobId, worker, worker) as PendingTaskRow[]
      // the rows beyond those asked for tell how many more wait for this worker (up to the bound)
      const seen = rows.length
      rows.length = Math.min(rows.length, maxTasks)
      const inputsOf = this.#sql('SELECT input FROM records WHERE job_id = ? AND idx >= ? AND idx < ? ORDER BY idx')
      const markLeased = this.#sql('UPDATE tasks SET attempt = ? WHERE id = ?')
      const markLeasedOne = this.#sql('UPDATE tasks SET attempt = ?, state = \'leased\' WHERE id = ?')
      const decide = this.#sql('UPDATE tasks SET needed = ?, quorum = ?, max_needed = ? WHERE id = ?')
      const insertLease = this.#sql('INSERT INTO leases (task_id, attempt, job_id, worker, granted_at, deadline, state) VALUES (?, ?, ?, ?, ?, ?, \'active\')')
      const tasks: LeasedTask[] = []
      let bytes = 0
      for (const row of rows) {
        const inputs = (inputsOf.all(jobId, row.first_record, row.first_record + row.record_count) as Array<{ input: Buffer }>).map(r => plainBytes(r.input))
        // a replica must not start from another volunteer's state: it could steer the result
        const resume = (row.needed ?? 1) <= 1 && row.checkpoint != null ? row.checkpoint : null
        const size = inputs.reduce((n, b) => n + b.byteLength, 0) + (resume?.byteLength ?? 0)
        if (tasks.length > 0 && bytes + size > maxBytes) {
          break
        }
        bytes += size
        let needed = row.needed
        if (needed == null) {
          // replicas 'auto': the volunteer that gets a fresh task decides whether it is checked
          const replicate = this.#replicate(worker)
          needed = replicate ? 2 : 1
          decide.run(needed, needed, replicate ? 2 + this.maxExtraReplicas : 1, row.id)
        }
        const attempt = row.attempt + 1
        // records of a batch run one after another, each with the full time limit
        const leaseMs = requirements.timeoutMs * row.record_count + this.leaseMarginMs
        insertLease.run(row.id, attempt, jobId, worker, now, now + leaseMs)
        if (needed === 1) {
          // one result wanted and this lease will bring it: what #settle would decide, without its three queries
          markLeasedOne.run(attempt, row.id)
        } else {
          markLeased.run(attempt, row.id)
          this.#settle(row.id)
        }
        tasks.push({
          taskId: row.id,
          attempt,
          firstRecord: row.first_record,
          inputs,
          resumeFrom: resume == null ? undefined : plainBytes(resume),
          resumeRecord: row.checkpoint_record ?? 0,
          deadline: now + leaseMs,
          leaseMs
        })
      }
      if (tasks.length === 0) {
        const others = this.#hasPending(jobId)
        return {
          status: 'none-left',
          reason: others
            ? `job ${jobId} has tasks waiting only for replicas on other volunteers (this peer already holds or ran them)`
            : `job ${jobId} has no task waiting for a lease`,
          tasks: []
        }
      }
      const left = seen - tasks.length
      // none left for this worker; replicas may still wait for others
      const exhausted = left === 0 && !this.#hasPending(jobId)
      return { status: 'granted', tasks, ...(left < REMAINING_TOLD_BELOW ? { remaining: left } : {}), ...(exhausted ? { exhausted } : {}) }
    })()
  }

  /** Stores the latest checkpoint of a task (`record` counts from the task's first record), if `worker` holds its active lease. */
  checkpoint (taskId: string, attempt: number, worker: string, record: number, state: Uint8Array): boolean {
    const lease = this.#activeLease(taskId, attempt, worker)
    if (lease == null) {
      return false
    }
    // replicated tasks keep no checkpoint: a replica never resumes from another volunteer's state
    const info = this.#sql('UPDATE tasks SET checkpoint_record = ?, checkpoint = ? WHERE id = ? AND state IN (\'pending\', \'leased\') AND COALESCE(needed, 1) = 1 AND ? < record_count')
      .run(record, state, taskId, record)
    return info.changes === 1
  }

  /** Whether `worker` holds the active lease of this task attempt. */
  holdsLease (taskId: string, attempt: number, worker: string): boolean {
    return this.#activeLease(taskId, attempt, worker) != null
  }

  /**
   * Stores what a worker reported for a task attempt. Values are stored once
   * per record (dedup by task); a report for an attempt that was never leased
   * to `worker` is refused. A retryable error requeues the task until it has
   * failed `maxAttempts` times. With replicas, each volunteer's result is kept
   * and the task is settled when a majority agree (see docs/replicas.md).
   */
  complete (taskId: string, attempt: number, worker: string, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number, now = Date.now()): CompleteOutcome {
    return this.#db.transaction(() => this.#complete(taskId, attempt, worker, outcomes, cpuMs, wallMs, now))()
  }

  /**
   * complete() for several results of one worker, in one transaction.
   * Outcomes come back in the order of `results`.
   */
  completeMany (worker: string, results: Array<{ taskId: string, attempt: number, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number }>, now = Date.now()): CompleteOutcome[] {
    return this.#db.transaction(() => {
      // whether a job has ended is asked once per job, after all its results here
      const ended = new Set<string>()
      this.#endedLater = ended
      try {
        const outcomes = results.map(r => this.#complete(r.taskId, r.attempt, worker, r.outcomes, r.cpuMs, r.wallMs, now))
        for (const jobId of ended) {
          this.#endIfDone(jobId, now)
        }
        return outcomes
      } finally {
        this.#endedLater = null
      }
    })()
  }

  #complete (taskId: string, attempt: number, worker: string, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number, now: number): CompleteOutcome {
    const lease = this.#sql('SELECT worker, attempt, state, granted_at FROM leases WHERE task_id = ? AND attempt = ?').get(taskId, attempt) as SubmittingLease | undefined
    if (lease?.worker !== worker) {
      return { status: 'refused', reason: `task ${taskId} attempt ${attempt} was not leased to this peer`, final: false, requeued: false }
    }
    const task = this.#sql(TASK_BY_ID).get(taskId) as TaskRow
    const others = this.#sql('SELECT worker FROM submissions WHERE task_id = ?').all(taskId) as Array<{ worker: string }>
    if (others.some(o => o.worker === worker)) {
      return { status: 'duplicate', reason: `this peer already returned a result for task ${taskId}`, final: false, requeued: false }
    }
    const retryable = outcomes.some(o => 'error' in o && o.error.retryable)
    if (task.state === 'done' || task.state === 'failed') {
      if (lease.state === 'outrun' && task.accepted_hash != null && !retryable && outcomes.length === task.record_count) {
        // a replica that was still running when the others settled the task: judged against the accepted result
        const hash = resultHash(outcomes)
        const verdict = hash === task.accepted_hash ? 'valid' : 'invalid'
        this.#insertSubmission(task, lease, outcomes, hash, cpuMs, wallMs, now, verdict)
        this.#sql('UPDATE leases SET state = \'completed\' WHERE task_id = ? AND attempt = ?').run(taskId, attempt)
        return {
          status: 'accepted',
          reason: verdict === 'valid' ? 'the task was already settled by a quorum; this result matches it' : 'the task was already settled by a quorum; this result disagrees with it and earns no credit',
          final: false,
          requeued: false
        }
      }
      return { status: 'duplicate', reason: `task ${taskId} already has its final result`, final: false, requeued: false }
    }
    if (outcomes.length !== task.record_count) {
      return { status: 'refused', reason: `task ${taskId} has ${task.record_count} record(s) but the result carries ${outcomes.length}`, final: false, requeued: false }
    }
    outcomes.forEach((o, i) => {
      if ('error' in o) {
        this.#recordError(task, attempt, worker, o.error, task.first_record + i, now)
      }
    })
    if (retryable) {
      this.#sql('UPDATE leases SET state = \'failed\' WHERE task_id = ? AND attempt = ?').run(taskId, attempt)
      const failures = task.failures + 1
      this.#sql('UPDATE tasks SET failures = ? WHERE id = ?').run(failures, taskId)
      if (this.#activeLeases(taskId) > 0) {
        // another lease holds the task; this report only adds to its history
        return { status: 'accepted', reason: 'error recorded; another lease holds the task', final: false, requeued: false }
      }
      if (failures < this.maxAttempts) {
        this.#forgetDecision(task)
        this.#settle(taskId)
        return { status: 'accepted', reason: `requeued after ${failures} failed attempt(s)`, final: false, requeued: true }
      }
      const last = outcomes.find(o => 'error' in o && o.error.retryable) as { error: TaskErrorInfo }
      this.#finish(task, outcomes.map(o => 'error' in o && o.error.retryable ? { error: giveUp(last.error, failures) } : o), worker, cpuMs, wallMs, now)
      return { status: 'accepted', reason: `failed for good after ${failures} attempt(s)`, final: true, requeued: false }
    }
    if ((task.needed ?? 1) <= 1 && others.length === 0) {
      // the common case, one result wanted and this is the first: what #evaluate
      // would store, in five statements fewer (no re-reads, verdict set at insert)
      this.#insertSubmission(task, lease, outcomes, resultHash(outcomes), cpuMs, wallMs, now, 'unchecked')
      this.#sql('UPDATE leases SET state = CASE WHEN attempt = ? THEN \'completed\' ELSE \'superseded\' END WHERE task_id = ? AND (attempt = ? OR state = \'active\')').run(attempt, taskId, attempt)
      this.#finish(task, outcomes, worker, cpuMs, wallMs, now, true, 'single')
      return { status: 'accepted', reason: '', final: true, requeued: false }
    }
    this.#insertSubmission(task, lease, outcomes, resultHash(outcomes), cpuMs, wallMs, now, null)
    this.#sql('UPDATE leases SET state = \'completed\' WHERE task_id = ? AND attempt = ?').run(taskId, attempt)
    return this.#evaluate(taskId, now)
  }

  /** Settles a task from the results its replicas returned so far, when they allow it. */
  #evaluate (taskId: string, now: number): CompleteOutcome {
    const db = this.#db
    const task = this.#sql(TASK_BY_ID).get(taskId) as TaskRow
    const subs = this.#sql('SELECT * FROM submissions WHERE task_id = ? ORDER BY at, attempt').all(taskId) as SubmissionRow[]
    const needed = task.needed ?? 1
    const setVerdicts = (accepted: string | null, verdictOfOthers: string, state: string): void => {
      const update = this.#sql('UPDATE submissions SET verdict = ?, credit_state = ? WHERE task_id = ? AND worker = ?')
      for (const sub of subs) {
        update.run(accepted == null ? verdictOfOthers : sub.hash === accepted ? (needed <= 1 ? 'unchecked' : 'valid') : verdictOfOthers, state, taskId, sub.worker)
      }
    }
    const endLeases = (state: string): void => {
      this.#sql('UPDATE leases SET state = ? WHERE task_id = ? AND state = \'active\'').run(state, taskId)
    }
    if (needed <= 1) {
      const sub = subs[subs.length - 1]
      setVerdicts(sub.hash, 'unchecked', 'owed')
      this.#sql('UPDATE tasks SET settled_by = \'single\' WHERE id = ?').run(taskId)
      this.#finish(task, parseOutcomes(sub.outcomes), sub.worker, sub.cpu_ms, sub.wall_ms, now)
      // a late result of an earlier attempt settles the task; the later lease is moot
      endLeases('superseded')
      return { status: 'accepted', reason: '', final: true, requeued: false }
    }
    const groups = groupResults(subs)
    const best = groups[0]
    const quorum = task.quorum ?? majorityOf(needed)
    if (best.workers.length >= quorum && best.workers.length * 2 > subs.length) {
      setVerdicts(best.hash, 'invalid', 'owed')
      const first = subs.find(s => s.hash === best.hash) as SubmissionRow
      this.#sql('UPDATE tasks SET accepted_hash = ?, settled_by = \'quorum\' WHERE id = ?').run(best.hash, taskId)
      this.#finish(task, parseOutcomes(first.outcomes), first.worker, first.cpu_ms, first.wall_ms, now)
      endLeases('outrun')
      return { status: 'accepted', reason: `accepted by quorum: ${best.workers.length} of ${subs.length} results agree`, final: true, requeued: false }
    }
    if (subs.length < needed) {
      this.#settle(taskId)
      return { status: 'accepted', reason: `stored; waiting for ${needed - subs.length} more replica result(s)`, final: false, requeued: false }
    }
    const maxNeeded = task.max_needed ?? needed
    if (needed < maxNeeded) {
      this.#sql('UPDATE tasks SET needed = ? WHERE id = ?').run(needed + 1, taskId)
      this.#settle(taskId)
      return { status: 'accepted', reason: `the ${subs.length} results disagree; asking one more volunteer`, final: false, requeued: true }
    }
    const error: FailureInfo = {
      name: 'QuorumFailedError',
      message: `no majority after ${subs.length} results from different volunteers: ${groups.map(g => `${g.hash.slice(0, 12)} from ${g.workers.join(', ')}`).join('; ')}. ` +
        'Make the task deterministic (manifest requirements.deterministic) or find out which volunteers misbehave',
      kind: 'task',
      retryable: false,
      results: groups
    }
    // nobody is known to be right: no credit, no change of trust
    setVerdicts(null, 'unsettled', 'none')
    this.#sql('UPDATE tasks SET settled_by = \'no-quorum\' WHERE id = ?').run(taskId)
    this.#recordError(task, null, null, error, null, now)
    this.#finish(task, new Array(task.record_count).fill({ error }), null, 0, 0, now)
    endLeases('superseded')
    return { status: 'accepted', reason: `the task failed: ${error.message}`, final: true, requeued: false }
  }

  #insertSubmission (task: TaskRow, lease: SubmittingLease, outcomes: ReportedOutcome[], hash: string, cpuMs: number, wallMs: number, now: number, verdict: string | null): void {
    const stored = outcomes.map(o => 'error' in o ? { error: plainError(o.error) } : { value: utf8.decode(o.value) })
    this.#sql(`INSERT INTO submissions (task_id, worker, job_id, attempt, hash, outcomes, cpu_ms, wall_ms, observed_ms, at, verdict, credit_state)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(task.id, lease.worker, task.job_id, lease.attempt, hash, JSON.stringify(stored), cpuMs, wallMs, Math.max(0, now - lease.granted_at), now, verdict, verdict == null ? null : 'owed')
  }

  #activeLeases (taskId: string): number {
    return (this.#sql('SELECT COUNT(*) AS n FROM leases WHERE task_id = ? AND state = \'active\'').get(taskId) as { n: number }).n
  }

  /** Moves a task that is not final to pending or leased, from how many results it still wants. */
  #settle (taskId: string): void {
    const db = this.#db
    const task = this.#sql('SELECT state, needed FROM tasks WHERE id = ?').get(taskId) as { state: TaskState, needed: number | null }
    if (task.state === 'done' || task.state === 'failed') {
      return
    }
    const subs = (this.#sql('SELECT COUNT(*) AS n FROM submissions WHERE task_id = ?').get(taskId) as { n: number }).n
    const state = task.needed != null && this.#activeLeases(taskId) + subs >= task.needed ? 'leased' : 'pending'
    this.#sql('UPDATE tasks SET state = ? WHERE id = ?').run(state, taskId)
  }

  /** Under 'auto', a task that lost its only lease before any result is decided again for its next volunteer. */
  #forgetDecision (task: TaskRow): void {
    const db = this.#db
    const job = this.#sql('SELECT replicas FROM jobs WHERE id = ?').get(task.job_id) as { replicas: number }
    if (job.replicas !== 0 || this.#activeLeases(task.id) > 0) {
      return
    }
    if (this.#sql('SELECT 1 FROM submissions WHERE task_id = ?').get(task.id) == null) {
      this.#sql('UPDATE tasks SET needed = NULL, quorum = NULL, max_needed = NULL WHERE id = ?').run(task.id)
    }
  }

  /** Whether some result of the job still owes its volunteer a receipt or a trust update. */
  owesCredit (jobId: string): boolean {
    return this.#sql('SELECT 1 FROM submissions WHERE job_id = ? AND credit_state = \'owed\' LIMIT 1').get(jobId) != null
  }

  /** Results that still owe their volunteer a receipt or a trust update, oldest first. */
  owedCredits (limit = 100): OwedCredit[] {
    const rows = this.#sql(`SELECT s.job_id, s.task_id, s.worker, s.verdict, s.cpu_ms, s.observed_ms, t.record_count, j.requirements
      FROM submissions s JOIN tasks t ON t.id = s.task_id JOIN jobs j ON j.id = s.job_id
      WHERE s.credit_state = 'owed' ORDER BY s.at, s.attempt LIMIT ${sqlLimit(limit)}`).all() as Array<{ job_id: string, task_id: string, worker: string, verdict: OwedCredit['verdict'], cpu_ms: number, observed_ms: number, record_count: number, requirements: string }>
    return rows.map(r => ({
      jobId: r.job_id,
      taskId: r.task_id,
      worker: r.worker,
      verdict: r.verdict,
      claimedMs: r.cpu_ms,
      observedMs: r.observed_ms,
      records: r.record_count,
      requirements: JSON.parse(r.requirements)
    }))
  }

  /** Records what became of an owed credit: a receipt, a refusal with its reason, or nothing (outvoted, own node). */
  settleCredit (taskId: string, worker: string, outcome: Omit<CreditSettlement, 'taskId' | 'worker'>): void {
    this.settleCredits([{ taskId, worker, ...outcome }])
  }

  /** settleCredit() for several credits in one transaction. */
  settleCredits (settlements: CreditSettlement[]): void {
    const settle = (): void => {
      const update = this.#sql('UPDATE submissions SET credit_state = ?, credited_ms = ?, receipt_hash = ?, credit_note = ? WHERE task_id = ? AND worker = ? AND credit_state = \'owed\'')
      for (const s of settlements) {
        update.run(s.state, s.creditedMs, s.receiptHash ?? null, s.note ?? null, s.taskId, s.worker)
      }
    }
    // lost to a power cut, a credit is decided again: the ledger pays each task once whatever is asked twice
    this.#db.transaction(settle)()
  }

  /**
   * Median credited CPU ms of the job's latest receipts (at most MEDIAN_WINDOW) to
   * volunteers other than `worker`, and how many it is taken over.
   */
  creditedMedian (jobId: string, worker: string): { medianMs: number, samples: number } {
    const rows = this.#sql(`SELECT credited_ms FROM (SELECT credited_ms FROM submissions WHERE job_id = ? AND worker != ? AND credit_state = 'issued'
      ORDER BY at DESC LIMIT ${MEDIAN_WINDOW}) ORDER BY credited_ms`)
      .all(jobId, worker) as Array<{ credited_ms: number }>
    if (rows.length === 0) {
      return { medianMs: 0, samples: 0 }
    }
    const mid = rows.length >> 1
    const medianMs = rows.length % 2 === 1 ? rows[mid].credited_ms : (rows[mid - 1].credited_ms + rows[mid].credited_ms) / 2
    return { medianMs, samples: rows.length }
  }

  /** Ends every active lease whose deadline has passed; counts as a failed attempt. */
  expire (now = Date.now()): LostLease[] {
    const rows = this.#sql('SELECT * FROM leases WHERE state = \'active\' AND deadline <= ?').all(now) as LeaseRow[]
    return this.#loseLeases(rows, 'expired', now)
  }

  /** Ends the active leases of a worker that went away; not a failed attempt. */
  releaseWorker (worker: string, now = Date.now()): LostLease[] {
    const rows = this.#sql('SELECT * FROM leases WHERE state = \'active\' AND worker = ?').all(worker) as LeaseRow[]
    return this.#loseLeases(rows, 'lost', now)
  }

  /** Ends the active leases `worker` gives back unrun; not a failed attempt. Leases it does not hold are ignored. */
  release (worker: string, tasks: Array<{ taskId: string, attempt: number }>, now = Date.now()): LostLease[] {
    const rows = tasks.flatMap(t => this.#activeLease(t.taskId, t.attempt, worker) ?? [])
    return this.#loseLeases(rows, 'released', now)
  }

  /** Ends every active lease: the submitter restarted and cannot know what ran meanwhile. */
  releaseAll (now = Date.now()): LostLease[] {
    const rows = this.#sql('SELECT * FROM leases WHERE state = \'active\'').all() as LeaseRow[]
    return this.#loseLeases(rows, 'lost', now)
  }

  /** Earliest deadline among active leases. */
  nextDeadline (): number | undefined {
    const row = this.#sql('SELECT MIN(deadline) AS d FROM leases WHERE state = \'active\'').get() as { d: number | null }
    return row.d ?? undefined
  }

  /** Fails every task of a job that is not final yet. @returns false when it had already ended */
  cancel (jobId: string, now = Date.now()): boolean {
    const db = this.#db
    return this.#durable(() => {
      const job = this.#sql('SELECT state FROM jobs WHERE id = ?').get(jobId) as { state: JobState } | undefined
      if (job == null) {
        throw new NotFoundError(`no job ${jobId}: list jobs to see the ids this node knows`)
      }
      if (job.state !== 'running') {
        return false
      }
      const open = this.#sql(`SELECT ${TASK_COLUMNS} FROM tasks WHERE job_id = ? AND state IN ('pending', 'leased')`).all(jobId) as TaskRow[]
      const error = { name: 'JobCancelledError', message: 'the submitter cancelled the job', kind: 'cancelled' as const, retryable: false }
      for (const task of open) {
        this.#finish(task, new Array(task.record_count).fill({ error }), null, 0, 0, now, false)
      }
      this.#sql('UPDATE leases SET state = \'cancelled\' WHERE job_id = ? AND state = \'active\'').run(jobId)
      this.#running.delete(jobId)
      this.#sql('UPDATE jobs SET state = \'cancelled\', finished_at = ? WHERE id = ?').run(now, jobId)
      return true
    })
  }

  /** Finished records from `from` on, in input order, stopping at the first record not finished yet. */
  resultsInOrder (jobId: string, from: number, limit = 1000): RecordResult[] {
    const rows = this.#sql(`SELECT record, ok, value, error FROM results WHERE job_id = ? AND record >= ? ORDER BY record LIMIT ${sqlLimit(limit)}`)
      .all(jobId, from) as Array<{ record: number, ok: number, value: Buffer | null, error: string | null }>
    const out: RecordResult[] = []
    for (const row of rows) {
      if (row.record !== from + out.length) {
        break
      }
      out.push(toResult(row))
    }
    return out
  }

  /** Records finished after sequence number `after`, in the order they finished. */
  resultsSince (jobId: string, after: number, limit = 1000): Array<RecordResult & { seq: number }> {
    const rows = this.#sql(`SELECT seq, record, ok, value, error FROM results WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ${sqlLimit(limit)}`)
      .all(jobId, after) as Array<{ seq: number, record: number, ok: number, value: Buffer | null, error: string | null }>
    return rows.map(row => ({ ...toResult(row), seq: row.seq }))
  }

  #activeLease (taskId: string, attempt: number, worker: string): LeaseRow | undefined {
    return this.#sql('SELECT * FROM leases WHERE task_id = ? AND attempt = ? AND worker = ? AND state = \'active\'')
      .get(taskId, attempt, worker) as LeaseRow | undefined
  }

  #loseLeases (rows: LeaseRow[], state: 'expired' | 'lost' | 'released', now: number): LostLease[] {
    const db = this.#db
    const lost: LostLease[] = []
    db.transaction(() => {
      for (const lease of rows) {
        this.#sql('UPDATE leases SET state = ? WHERE task_id = ? AND attempt = ?').run(state, lease.task_id, lease.attempt)
        const task = this.#sql(TASK_BY_ID).get(lease.task_id) as TaskRow
        if (task.state === 'done' || task.state === 'failed') {
          continue
        }
        let failures = task.failures
        let error: FailureInfo | undefined
        if (state === 'expired') {
          failures++
          error = { name: 'LeaseExpiredError', message: `no result before the lease deadline (${new Date(lease.deadline).toISOString()})`, kind: 'runner-lost', retryable: true }
          this.#recordError(task, lease.attempt, lease.worker, error, null, now)
          this.#sql('UPDATE tasks SET failures = ? WHERE id = ?').run(failures, task.id)
        }
        // replicated tasks get one lease per replica on top of the lease limit;
        // leases given back unrun (a volunteer's queue at the end of a job) do not count
        const maxLeases = this.maxLeases + Math.max(0, (task.max_needed ?? 1) - 1)
        const leases = task.attempt - (this.#sql('SELECT COUNT(*) AS n FROM leases WHERE task_id = ? AND state = \'released\'').get(task.id) as { n: number }).n
        let requeued = true
        if (this.#activeLeases(task.id) > 0) {
          // another replica still runs: the task waits for it
          this.#settle(task.id)
        } else if (failures >= this.maxAttempts || leases >= maxLeases) {
          const final = failures >= this.maxAttempts
            ? giveUp(error ?? { name: 'LeaseExpiredError', message: 'lease expired', kind: 'runner-lost', retryable: true }, failures)
            : { name: 'TooManyLeasesError', message: `task was leased ${leases} times without a result; the last lessee went away`, kind: 'runner-lost' as const, retryable: false }
          if (failures < this.maxAttempts) {
            this.#recordError(task, lease.attempt, lease.worker, final, null, now)
          }
          // results other replicas returned are not enough to settle it: nobody is credited
          this.#sql('UPDATE submissions SET verdict = \'unsettled\', credit_state = \'none\' WHERE task_id = ? AND credit_state IS NULL').run(task.id)
          this.#finish(task, new Array(task.record_count).fill({ error: final }), null, 0, 0, now)
          requeued = false
        } else {
          this.#forgetDecision(task)
          this.#settle(task.id)
        }
        lost.push({ taskId: task.id, jobId: task.job_id, attempt: lease.attempt, worker: lease.worker, requeued })
      }
    })()
    return lost
  }

  #recordError (task: TaskRow, attempt: number | null, worker: string | null, error: Omit<TaskErrorInfo, 'stack'>, record: number | null, now: number): void {
    this.#sql('INSERT INTO errors (job_id, task_id, record, attempt, worker, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(task.job_id, task.id, record, attempt, worker, JSON.stringify(plainError(error)), now)
  }

  /** Writes the records' outcomes (callers record the errors) and moves the task to its final state; ends the job when it was the last. */
  #finish (task: TaskRow, outcomes: Array<ReportedOutcome | { error: FailureInfo }>, worker: string | null, cpuMs: number, wallMs: number, now: number, settleJob = true, settledBy?: string): void {
    const db = this.#db
    const insert = this.#sql('INSERT OR IGNORE INTO results (job_id, record, task_id, ok, value, error) VALUES (?, ?, ?, ?, ?, ?)')
    let failed = false
    outcomes.forEach((o, i) => {
      const record = task.first_record + i
      if ('error' in o) {
        failed = true
        insert.run(task.job_id, record, task.id, 0, null, JSON.stringify(plainError(o.error)))
      } else {
        insert.run(task.job_id, record, task.id, 1, o.value, null)
      }
    })
    // settled_by as #settle left it, unless the caller settled the task itself
    this.#sql('UPDATE tasks SET state = ?, done_by = ?, cpu_ms = ?, wall_ms = ?, checkpoint = NULL, settled_by = COALESCE(?, settled_by) WHERE id = ?')
      .run(failed ? 'failed' : 'done', worker, cpuMs, wallMs, settledBy ?? null, task.id)
    if (!settleJob) {
      return
    }
    if (this.#endedLater != null) {
      this.#endedLater.add(task.job_id)
    } else {
      this.#endIfDone(task.job_id, now)
    }
  }

  /** Marks a running job done when none of its tasks is pending or leased. */
  #endIfDone (jobId: string, now: number): void {
    const open = this.#sql('SELECT 1 FROM tasks WHERE job_id = ? AND state IN (\'pending\', \'leased\') LIMIT 1').get(jobId)
    if (open == null) {
      this.#running.delete(jobId)
      this.#sql('UPDATE jobs SET state = \'done\', finished_at = ? WHERE id = ? AND state = \'running\'').run(now, jobId)
    }
  }

  #info (row: JobRow): JobInfo {
    const db = this.#db
    const tasks = { total: 0, pending: 0, leased: 0, done: 0, failed: 0 }
    for (const r of this.#sql('SELECT state, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY state').all(row.id) as Array<{ state: TaskState, n: number }>) {
      tasks[r.state] = r.n
      tasks.total += r.n
    }
    // A job with no task ended and no result in (one just submitted, say) has
    // no records done, volunteers, quorum or credit to count: the queries for
    // them are skipped (the answer to a submit, the daemon's log line).
    const untouched = tasks.done === 0 && tasks.failed === 0 &&
      this.#sql('SELECT 1 FROM submissions WHERE job_id = ? LIMIT 1').get(row.id) == null
    if (untouched) {
      return this.#infoOf(row, tasks, { ok: 0, failed: 0 }, [], this.#failures(row.id), { single: 0, quorum: 0, 'no-quorum': 0 }, [], { owed: 0, receipts: 0, creditedMs: 0 }, [])
    }
    const rec = this.#sql(RECORDS_OF_JOB).get(row.id) as { ok: number, failed: number }
    const volunteers = (this.#sql(`SELECT peerId, COUNT(*) AS tasks, SUM(records) AS records, COALESCE(SUM(cpuMs), 0) AS cpuMs FROM (${VOLUNTEER_RUNS})
      GROUP BY peerId ORDER BY tasks DESC, peerId`).all(row.id, row.id)) as VolunteerShare[]
    const failures = this.#failures(row.id)
    const settled = { single: 0, quorum: 0, 'no-quorum': 0 } as Record<string, number>
    for (const r of this.#sql('SELECT settled_by, COUNT(*) AS n FROM tasks WHERE job_id = ? AND settled_by IS NOT NULL GROUP BY settled_by').all(row.id) as Array<{ settled_by: string, n: number }>) {
      settled[r.settled_by] = r.n
    }
    const split = this.#sql(`SELECT t.id, t.state, t.accepted_hash FROM tasks t WHERE t.job_id = ?
      AND (SELECT COUNT(DISTINCT s.hash) FROM submissions s WHERE s.task_id = t.id) > 1 ORDER BY t.idx`).all(row.id) as Array<{ id: string, state: TaskState, accepted_hash: string | null }>
    const subsOf = this.#sql('SELECT hash, worker FROM submissions WHERE task_id = ? ORDER BY at, attempt')
    const disagreements = split.slice(0, 100).map(t => ({
      taskId: t.id,
      state: t.state,
      ...(t.accepted_hash != null ? { acceptedHash: t.accepted_hash } : {}),
      results: groupResults(subsOf.all(t.id) as Array<{ hash: string, worker: string }>)
    }))
    const { owed, receipts, creditedMs } = this.credit(row.id)
    const flags = (this.#sql(`SELECT task_id, worker, cpu_ms, credited_ms, credit_note FROM submissions
      WHERE job_id = ? AND credit_note IS NOT NULL ORDER BY at LIMIT 100`).all(row.id) as Array<{ task_id: string, worker: string, cpu_ms: number, credited_ms: number | null, credit_note: string }>)
      .map(f => ({ taskId: f.task_id, worker: f.worker, claimedMs: f.cpu_ms, creditedMs: f.credited_ms ?? 0, reason: f.credit_note }))
    return this.#infoOf(row, tasks, rec, volunteers, failures, settled, split, { owed, receipts, creditedMs }, flags, disagreements)
  }

  #failures (jobId: string): JobInfo['failures'] {
    return (this.#sql('SELECT task_id, record, attempt, worker, error FROM errors WHERE job_id = ? ORDER BY id LIMIT 100').all(jobId) as Array<{ task_id: string, record: number | null, attempt: number | null, worker: string | null, error: string }>)
      .map(e => ({ ...JSON.parse(e.error), taskId: e.task_id, record: e.record ?? undefined, attempt: e.attempt ?? undefined, worker: e.worker ?? undefined }))
  }

  #infoOf (row: JobRow, tasks: JobInfo['tasks'], rec: { ok: number, failed: number }, volunteers: VolunteerShare[], failures: JobInfo['failures'],
    settled: Record<string, number>, split: unknown[], credit: { owed: number, receipts: number, creditedMs: number }, flags: JobInfo['credit']['flags'], disagreements: JobInfo['disagreements'] = []): JobInfo {
    return {
      id: row.id,
      name: row.name,
      bundleId: row.bundle_id,
      requirements: JSON.parse(row.requirements),
      batch: row.batch,
      state: row.state,
      createdAt: row.created_at,
      finishedAt: row.finished_at ?? undefined,
      records: { total: row.record_count, ok: rec.ok, failed: rec.failed },
      tasks,
      volunteers,
      failures,
      replicas: row.replicas === 0 ? 'auto' : row.replicas,
      quorum: { verified: settled.quorum, unreplicated: settled.single, disagreements: split.length, failed: settled['no-quorum'] },
      disagreements,
      credit: { ...credit, flags }
    }
  }
}

/** SQLite hands out Buffers; callers get plain Uint8Array views of the same memory. */
function plainBytes (b: Buffer): Bytes {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength)
}

function plainError (e: Omit<TaskErrorInfo, 'stack'> & { results?: ReplicaResult[] }): Omit<TaskErrorInfo, 'stack'> & { results?: ReplicaResult[] } {
  const plain = { name: e.name, message: e.message, kind: e.kind, retryable: e.retryable }
  return e.results == null ? plain : { ...plain, results: e.results }
}

function parseOutcomes (stored: string): ReportedOutcome[] {
  const enc = new TextEncoder()
  return (JSON.parse(stored) as Array<{ value: string } | { error: Omit<TaskErrorInfo, 'stack'> }>)
    .map(o => 'error' in o ? { error: o.error } : { value: enc.encode(o.value) })
}

/** Submissions grouped by result hash, largest group first (ties: the earliest result first). */
function groupResults (subs: Array<{ hash: string, worker: string }>): ReplicaResult[] {
  const groups = new Map<string, string[]>()
  for (const sub of subs) {
    groups.set(sub.hash, [...(groups.get(sub.hash) ?? []), sub.worker])
  }
  return [...groups.entries()].map(([hash, workers]) => ({ hash, workers })).sort((a, b) => b.workers.length - a.workers.length)
}

function giveUp (last: Omit<TaskErrorInfo, 'stack'>, failures: number): FailureInfo {
  return { name: last.name, message: `${last.message} (gave up after ${failures} failed attempt(s))`, kind: last.kind, retryable: false }
}

function toResult (row: { record: number, ok: number, value: Buffer | null, error: string | null }): RecordResult {
  if (row.ok === 1) {
    return { index: row.record, value: JSON.parse(utf8.decode(row.value ?? new Uint8Array())) }
  }
  return { index: row.record, error: JSON.parse(row.error ?? '{}') }
}
