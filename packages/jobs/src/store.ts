// The submitter's SQLite store: jobs, their input records split into tasks,
// leases with deadlines, checkpoints, results and errors. Every state change
// is one transaction, so a kill -9 leaves either the old or the new state.
import Database from 'better-sqlite3'
import { NotFoundError } from '@idlegrid/interface'
import type { TaskErrorInfo, TaskRequirements } from '@idlegrid/interface'

/** What a finished record holds: the task's value, or why it failed for good. */
export type RecordResult =
  | { index: number, value: unknown }
  | { index: number, error: FailureInfo }

/** An error as the submitter keeps it: the task error plus where it happened. */
export interface FailureInfo extends Omit<TaskErrorInfo, 'stack'> {
  taskId?: string
  record?: number
  attempt?: number
  worker?: string
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
  /** Who ran the finished tasks of this job. */
  volunteers: VolunteerShare[]
  /** Every error an attempt reported or the submitter recorded, oldest first (at most 100). */
  failures: FailureInfo[]
}

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
  | { status: 'granted', tasks: LeasedTask[] }
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
   * submitter restart (which do not count as attempts that failed).
   *
   * @default 10
   */
  maxLeases?: number
  /** Extra lease time on top of the task's time limit. @default 5000 */
  leaseMarginMs?: number
}

export const DEFAULT_MAX_ATTEMPTS = 3
export const DEFAULT_MAX_LEASES = 10
export const DEFAULT_LEASE_MARGIN_MS = 5_000

const SCHEMA = `
CREATE TABLE IF NOT EXISTS bundles (id TEXT PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, bundle_id TEXT NOT NULL REFERENCES bundles(id),
  requirements TEXT NOT NULL, batch INTEGER NOT NULL, record_count INTEGER NOT NULL,
  state TEXT NOT NULL, created_at INTEGER NOT NULL, finished_at INTEGER
);
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
CREATE TABLE IF NOT EXISTS errors (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, task_id TEXT NOT NULL,
  record INTEGER, attempt INTEGER, worker TEXT, error TEXT NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_job ON errors (job_id, id);
`

interface TaskRow {
  id: string
  job_id: string
  idx: number
  first_record: number
  record_count: number
  state: TaskState
  attempt: number
  failures: number
  checkpoint_record: number | null
  checkpoint: Buffer | null
}

interface LeaseRow {
  task_id: string
  attempt: number
  job_id: string
  worker: string
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
}

const utf8 = new TextDecoder()

/** Task ids are `<jobId>:<index of the task's first record>`. */
export function taskIdOf (jobId: string, firstRecord: number): string {
  return `${jobId}:${firstRecord}`
}

export class JobStore {
  readonly maxAttempts: number
  readonly maxLeases: number
  readonly leaseMarginMs: number
  readonly #db: Database.Database

  constructor (init: JobStoreInit) {
    this.maxAttempts = init.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    this.maxLeases = init.maxLeases ?? DEFAULT_MAX_LEASES
    this.leaseMarginMs = init.leaseMarginMs ?? DEFAULT_LEASE_MARGIN_MS
    this.#db = new Database(init.path)
    this.#db.pragma('journal_mode = WAL')
    // results are acknowledged to workers only after they are on disk
    this.#db.pragma('synchronous = FULL')
    this.#db.pragma('busy_timeout = 5000')
    this.#db.exec(SCHEMA)
  }

  close (): void {
    this.#db.close()
  }

  /** Stores a job, its bundle, its records and its tasks in one transaction. */
  createJob (job: NewJob): void {
    const db = this.#db
    const insertRecord = db.prepare('INSERT INTO records (job_id, idx, input) VALUES (?, ?, ?)')
    const insertTask = db.prepare('INSERT INTO tasks (id, job_id, idx, first_record, record_count, state) VALUES (?, ?, ?, ?, ?, \'pending\')')
    db.transaction(() => {
      db.prepare('INSERT OR IGNORE INTO bundles (id, bytes) VALUES (?, ?)').run(job.bundleId, job.bundle)
      db.prepare('INSERT INTO jobs (id, name, bundle_id, requirements, batch, record_count, state, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(job.id, job.name, job.bundleId, JSON.stringify(job.requirements), job.batch, job.records.length,
          job.records.length === 0 ? 'done' : 'running', job.createdAt, job.records.length === 0 ? job.createdAt : null)
      job.records.forEach((bytes, i) => insertRecord.run(job.id, i, bytes))
      for (let first = 0, idx = 0; first < job.records.length; first += job.batch, idx++) {
        insertTask.run(taskIdOf(job.id, first), job.id, idx, first, Math.min(job.batch, job.records.length - first))
      }
    })()
  }

  /** The encoded signed bundle, when a job of this store uses it. */
  bundle (id: string): Bytes | undefined {
    const row = this.#db.prepare('SELECT bytes FROM bundles WHERE id = ?').get(id) as { bytes: Buffer } | undefined
    return row == null ? undefined : plainBytes(row.bytes)
  }

  /** The job's state, or undefined when no job has this id. */
  state (id: string): JobState | undefined {
    return (this.#db.prepare('SELECT state FROM jobs WHERE id = ?').get(id) as { state: JobState } | undefined)?.state
  }

  /** @throws NotFoundError when no job has this id */
  job (id: string): JobInfo {
    const row = this.#db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined
    if (row == null) {
      throw new NotFoundError(`no job ${id}: list jobs to see the ids this node knows`)
    }
    return this.#info(row)
  }

  jobs (): JobInfo[] {
    const rows = this.#db.prepare('SELECT * FROM jobs ORDER BY created_at, id').all() as JobRow[]
    return rows.map(row => this.#info(row))
  }

  /** Jobs that still have tasks waiting for a lease, with how many. */
  pendingJobs (): Array<{ id: string, bundleId: string, requirements: TaskRequirements, pending: number }> {
    const rows = this.#db.prepare(`
      SELECT j.id, j.bundle_id, j.requirements, COUNT(*) AS pending FROM jobs j
      JOIN tasks t ON t.job_id = j.id AND t.state = 'pending'
      WHERE j.state = 'running' GROUP BY j.id ORDER BY j.created_at`).all() as Array<{ id: string, bundle_id: string, requirements: string, pending: number }>
    return rows.map(r => ({ id: r.id, bundleId: r.bundle_id, requirements: JSON.parse(r.requirements), pending: r.pending }))
  }

  /**
   * Grants up to `maxTasks` pending tasks of a job to `worker`, oldest first,
   * stopping before the encoded inputs would pass `maxBytes` (one task is
   * always granted when any is pending).
   */
  lease (jobId: string, worker: string, maxTasks: number, maxBytes: number, now = Date.now()): LeaseOutcome {
    const db = this.#db
    return db.transaction((): LeaseOutcome => {
      const job = db.prepare('SELECT state, requirements FROM jobs WHERE id = ?').get(jobId) as { state: JobState, requirements: string } | undefined
      if (job == null) {
        return { status: 'refused', reason: `no job ${jobId} on this submitter`, tasks: [] }
      }
      if (job.state !== 'running') {
        return { status: 'none-left', reason: `job ${jobId} is ${job.state}`, tasks: [] }
      }
      const requirements = JSON.parse(job.requirements) as TaskRequirements
      const rows = db.prepare('SELECT * FROM tasks WHERE job_id = ? AND state = \'pending\' ORDER BY idx LIMIT ?').all(jobId, maxTasks) as TaskRow[]
      const inputsOf = db.prepare('SELECT input FROM records WHERE job_id = ? AND idx >= ? AND idx < ? ORDER BY idx')
      const markLeased = db.prepare('UPDATE tasks SET state = \'leased\', attempt = ? WHERE id = ?')
      const insertLease = db.prepare('INSERT INTO leases (task_id, attempt, job_id, worker, granted_at, deadline, state) VALUES (?, ?, ?, ?, ?, ?, \'active\')')
      const tasks: LeasedTask[] = []
      let bytes = 0
      for (const row of rows) {
        const inputs = (inputsOf.all(jobId, row.first_record, row.first_record + row.record_count) as Array<{ input: Buffer }>).map(r => plainBytes(r.input))
        const size = inputs.reduce((n, b) => n + b.byteLength, 0) + (row.checkpoint?.byteLength ?? 0)
        if (tasks.length > 0 && bytes + size > maxBytes) {
          break
        }
        bytes += size
        const attempt = row.attempt + 1
        // records of a batch run one after another, each with the full time limit
        const leaseMs = requirements.timeoutMs * row.record_count + this.leaseMarginMs
        markLeased.run(attempt, row.id)
        insertLease.run(row.id, attempt, jobId, worker, now, now + leaseMs)
        tasks.push({
          taskId: row.id,
          attempt,
          firstRecord: row.first_record,
          inputs,
          resumeFrom: row.checkpoint == null ? undefined : plainBytes(row.checkpoint),
          resumeRecord: row.checkpoint_record ?? 0,
          deadline: now + leaseMs,
          leaseMs
        })
      }
      if (tasks.length === 0) {
        return { status: 'none-left', reason: `job ${jobId} has no task waiting for a lease`, tasks: [] }
      }
      return { status: 'granted', tasks }
    })()
  }

  /** Stores the latest checkpoint of a task (`record` counts from the task's first record), if `worker` holds its active lease. */
  checkpoint (taskId: string, attempt: number, worker: string, record: number, state: Uint8Array): boolean {
    const lease = this.#activeLease(taskId, attempt, worker)
    if (lease == null) {
      return false
    }
    const info = this.#db.prepare('UPDATE tasks SET checkpoint_record = ?, checkpoint = ? WHERE id = ? AND state = \'leased\' AND attempt = ? AND ? < record_count')
      .run(record, state, taskId, attempt, record)
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
   * failed `maxAttempts` times.
   */
  complete (taskId: string, attempt: number, worker: string, outcomes: ReportedOutcome[], cpuMs: number, wallMs: number, now = Date.now()): CompleteOutcome {
    const db = this.#db
    return db.transaction((): CompleteOutcome => {
      const lease = db.prepare('SELECT * FROM leases WHERE task_id = ? AND attempt = ?').get(taskId, attempt) as LeaseRow | undefined
      if (lease?.worker !== worker) {
        return { status: 'refused', reason: `task ${taskId} attempt ${attempt} was not leased to this peer`, final: false, requeued: false }
      }
      const task = db.prepare('SELECT * FROM tasks WHERE id = ?').get(taskId) as TaskRow
      if (task.state === 'done' || task.state === 'failed') {
        return { status: 'duplicate', reason: `task ${taskId} already has its final result`, final: false, requeued: false }
      }
      if (outcomes.length !== task.record_count) {
        return { status: 'refused', reason: `task ${taskId} has ${task.record_count} record(s) but the result carries ${outcomes.length}`, final: false, requeued: false }
      }
      const current = task.state === 'leased' && task.attempt === attempt
      const retryable = outcomes.some(o => 'error' in o && o.error.retryable)
      if (retryable) {
        outcomes.forEach((o, i) => {
          if ('error' in o) {
            this.#recordError(task, attempt, worker, o.error, task.first_record + i, now)
          }
        })
        db.prepare('UPDATE leases SET state = \'failed\' WHERE task_id = ? AND attempt = ?').run(taskId, attempt)
        const failures = task.failures + 1
        db.prepare('UPDATE tasks SET failures = ? WHERE id = ?').run(failures, taskId)
        if (!current) {
          // a later attempt already holds the task; this report only adds to its history
          return { status: 'accepted', reason: 'error recorded; a later attempt holds the task', final: false, requeued: false }
        }
        if (failures < this.maxAttempts) {
          db.prepare('UPDATE tasks SET state = \'pending\' WHERE id = ?').run(taskId)
          return { status: 'accepted', reason: `requeued after ${failures} failed attempt(s)`, final: false, requeued: true }
        }
        const last = outcomes.find(o => 'error' in o && o.error.retryable) as { error: TaskErrorInfo }
        this.#finish(task, outcomes.map(o => 'error' in o && o.error.retryable ? { error: giveUp(last.error, failures) } : o), worker, cpuMs, wallMs, now)
        return { status: 'accepted', reason: `failed for good after ${failures} attempt(s)`, final: true, requeued: false }
      }
      outcomes.forEach((o, i) => {
        if ('error' in o) {
          this.#recordError(task, attempt, worker, o.error, task.first_record + i, now)
        }
      })
      this.#finish(task, outcomes, worker, cpuMs, wallMs, now)
      db.prepare('UPDATE leases SET state = \'completed\' WHERE task_id = ? AND attempt = ?').run(taskId, attempt)
      // a late result of an earlier attempt settles the task; the later lease is moot
      db.prepare('UPDATE leases SET state = \'superseded\' WHERE task_id = ? AND state = \'active\'').run(taskId)
      return { status: 'accepted', reason: '', final: true, requeued: false }
    })()
  }

  /** Ends every active lease whose deadline has passed; counts as a failed attempt. */
  expire (now = Date.now()): LostLease[] {
    const rows = this.#db.prepare('SELECT * FROM leases WHERE state = \'active\' AND deadline <= ?').all(now) as LeaseRow[]
    return this.#loseLeases(rows, 'expired', now)
  }

  /** Ends the active leases of a worker that went away; not a failed attempt. */
  releaseWorker (worker: string, now = Date.now()): LostLease[] {
    const rows = this.#db.prepare('SELECT * FROM leases WHERE state = \'active\' AND worker = ?').all(worker) as LeaseRow[]
    return this.#loseLeases(rows, 'lost', now)
  }

  /** Ends every active lease: the submitter restarted and cannot know what ran meanwhile. */
  releaseAll (now = Date.now()): LostLease[] {
    const rows = this.#db.prepare('SELECT * FROM leases WHERE state = \'active\'').all() as LeaseRow[]
    return this.#loseLeases(rows, 'lost', now)
  }

  /** Earliest deadline among active leases. */
  nextDeadline (): number | undefined {
    const row = this.#db.prepare('SELECT MIN(deadline) AS d FROM leases WHERE state = \'active\'').get() as { d: number | null }
    return row.d ?? undefined
  }

  /** Fails every task of a job that is not final yet. @returns false when it had already ended */
  cancel (jobId: string, now = Date.now()): boolean {
    const db = this.#db
    return db.transaction(() => {
      const job = db.prepare('SELECT state FROM jobs WHERE id = ?').get(jobId) as { state: JobState } | undefined
      if (job == null) {
        throw new NotFoundError(`no job ${jobId}: list jobs to see the ids this node knows`)
      }
      if (job.state !== 'running') {
        return false
      }
      const open = db.prepare('SELECT * FROM tasks WHERE job_id = ? AND state IN (\'pending\', \'leased\')').all(jobId) as TaskRow[]
      const error = { name: 'JobCancelledError', message: 'the submitter cancelled the job', kind: 'cancelled' as const, retryable: false }
      for (const task of open) {
        this.#finish(task, new Array(task.record_count).fill({ error }), null, 0, 0, now, false)
      }
      db.prepare('UPDATE leases SET state = \'cancelled\' WHERE job_id = ? AND state = \'active\'').run(jobId)
      db.prepare('UPDATE jobs SET state = \'cancelled\', finished_at = ? WHERE id = ?').run(now, jobId)
      return true
    })()
  }

  /** Finished records from `from` on, in input order, stopping at the first record not finished yet. */
  resultsInOrder (jobId: string, from: number, limit = 1000): RecordResult[] {
    const rows = this.#db.prepare('SELECT record, ok, value, error FROM results WHERE job_id = ? AND record >= ? ORDER BY record LIMIT ?')
      .all(jobId, from, limit) as Array<{ record: number, ok: number, value: Buffer | null, error: string | null }>
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
    const rows = this.#db.prepare('SELECT seq, record, ok, value, error FROM results WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?')
      .all(jobId, after, limit) as Array<{ seq: number, record: number, ok: number, value: Buffer | null, error: string | null }>
    return rows.map(row => ({ ...toResult(row), seq: row.seq }))
  }

  #activeLease (taskId: string, attempt: number, worker: string): LeaseRow | undefined {
    return this.#db.prepare('SELECT * FROM leases WHERE task_id = ? AND attempt = ? AND worker = ? AND state = \'active\'')
      .get(taskId, attempt, worker) as LeaseRow | undefined
  }

  #loseLeases (rows: LeaseRow[], state: 'expired' | 'lost', now: number): LostLease[] {
    const db = this.#db
    const lost: LostLease[] = []
    db.transaction(() => {
      for (const lease of rows) {
        db.prepare('UPDATE leases SET state = ? WHERE task_id = ? AND attempt = ?').run(state, lease.task_id, lease.attempt)
        const task = db.prepare('SELECT * FROM tasks WHERE id = ?').get(lease.task_id) as TaskRow
        if (task.state !== 'leased' || task.attempt !== lease.attempt) {
          continue
        }
        let failures = task.failures
        let error: FailureInfo | undefined
        if (state === 'expired') {
          failures++
          error = { name: 'LeaseExpiredError', message: `no result before the lease deadline (${new Date(lease.deadline).toISOString()})`, kind: 'runner-lost', retryable: true }
          this.#recordError(task, lease.attempt, lease.worker, error, null, now)
          db.prepare('UPDATE tasks SET failures = ? WHERE id = ?').run(failures, task.id)
        }
        let requeued = true
        if (failures >= this.maxAttempts || task.attempt >= this.maxLeases) {
          const final = failures >= this.maxAttempts
            ? giveUp(error ?? { name: 'LeaseExpiredError', message: 'lease expired', kind: 'runner-lost', retryable: true }, failures)
            : { name: 'TooManyLeasesError', message: `task was leased ${task.attempt} times without a result; the last lessee went away`, kind: 'runner-lost' as const, retryable: false }
          if (failures < this.maxAttempts) {
            this.#recordError(task, lease.attempt, lease.worker, final, null, now)
          }
          this.#finish(task, new Array(task.record_count).fill({ error: final }), null, 0, 0, now)
          requeued = false
        } else {
          db.prepare('UPDATE tasks SET state = \'pending\' WHERE id = ?').run(task.id)
        }
        lost.push({ taskId: task.id, jobId: task.job_id, attempt: lease.attempt, worker: lease.worker, requeued })
      }
    })()
    return lost
  }

  #recordError (task: TaskRow, attempt: number, worker: string | null, error: Omit<TaskErrorInfo, 'stack'>, record: number | null, now: number): void {
    this.#db.prepare('INSERT INTO errors (job_id, task_id, record, attempt, worker, error, at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(task.job_id, task.id, record, attempt, worker, JSON.stringify(plainError(error)), now)
  }

  /** Writes the records' outcomes (callers record the errors) and moves the task to its final state; ends the job when it was the last. */
  #finish (task: TaskRow, outcomes: Array<ReportedOutcome | { error: FailureInfo }>, worker: string | null, cpuMs: number, wallMs: number, now: number, settleJob = true): void {
    const db = this.#db
    const insert = db.prepare('INSERT OR IGNORE INTO results (job_id, record, task_id, ok, value, error) VALUES (?, ?, ?, ?, ?, ?)')
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
    db.prepare('UPDATE tasks SET state = ?, done_by = ?, cpu_ms = ?, wall_ms = ?, checkpoint = NULL WHERE id = ?')
      .run(failed ? 'failed' : 'done', worker, cpuMs, wallMs, task.id)
    if (settleJob) {
      const open = db.prepare('SELECT 1 FROM tasks WHERE job_id = ? AND state IN (\'pending\', \'leased\') LIMIT 1').get(task.job_id)
      if (open == null) {
        db.prepare('UPDATE jobs SET state = \'done\', finished_at = ? WHERE id = ? AND state = \'running\'').run(now, task.job_id)
      }
    }
  }

  #info (row: JobRow): JobInfo {
    const db = this.#db
    const tasks = { total: 0, pending: 0, leased: 0, done: 0, failed: 0 }
    for (const r of db.prepare('SELECT state, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY state').all(row.id) as Array<{ state: TaskState, n: number }>) {
      tasks[r.state] = r.n
      tasks.total += r.n
    }
    const rec = db.prepare('SELECT COALESCE(SUM(ok), 0) AS ok, COUNT(*) - COALESCE(SUM(ok), 0) AS failed FROM results WHERE job_id = ?').get(row.id) as { ok: number, failed: number }
    const volunteers = (db.prepare(`SELECT done_by AS peerId, COUNT(*) AS tasks, SUM(record_count) AS records, COALESCE(SUM(cpu_ms), 0) AS cpuMs
      FROM tasks WHERE job_id = ? AND done_by IS NOT NULL GROUP BY done_by ORDER BY tasks DESC, done_by`).all(row.id)) as VolunteerShare[]
    const failures = (db.prepare('SELECT task_id, record, attempt, worker, error FROM errors WHERE job_id = ? ORDER BY id LIMIT 100').all(row.id) as Array<{ task_id: string, record: number | null, attempt: number | null, worker: string | null, error: string }>)
      .map(e => ({ ...JSON.parse(e.error), taskId: e.task_id, record: e.record ?? undefined, attempt: e.attempt ?? undefined, worker: e.worker ?? undefined }))
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
      failures
    }
  }
}

/** SQLite hands out Buffers; callers get plain Uint8Array views of the same memory. */
function plainBytes (b: Buffer): Bytes {
  return new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength)
}

function plainError (e: Omit<TaskErrorInfo, 'stack'>): Omit<TaskErrorInfo, 'stack'> {
  return { name: e.name, message: e.message, kind: e.kind, retryable: e.retryable }
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
