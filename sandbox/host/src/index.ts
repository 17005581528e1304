// Public API of @idlegrid/sandbox-host: a pool of forked sandbox runners that
// runs task bundles and streams their events. Types and the factory only.
import { SandboxPoolImpl } from './pool.js'
import type { BatchRun, TaskRun } from './task-run.js'
import type { TaskLimits } from '@idlegrid/interface'

export type { TaskRun, FinalEvent, BatchRun, BatchEvent, BatchFinalEvent, RecordEvent, RecordOutcome } from './task-run.js'
export { SandboxStoppedError } from './errors.js'

export interface SandboxPoolInit {
  /** Runner processes at most, one task each. */
  slots: number
  /** A runner idle this long is stopped. Default 30_000 ms. */
  idleTimeoutMs?: number
  /**
   * OS priority (nice, -20..19) of each runner process. Default 19: the
   * volunteer's own programs come first. A benchmark that compares the
   * sandbox with plain Node sets both to the same value.
   */
  runnerNice?: number
  /** V8 heap cap of each runner process (--max-old-space-size), MiB. Default 192. */
  runnerHeapMb?: number
  /**
   * Resident memory a runner may reach while running a task, MiB; the runner
   * stops the task there and the host kills it 128 MiB above. Default
   * runnerHeapMb + 2 × the task's memoryMb + 192.
   */
  runnerMaxRssMb?: number
  /** Cap on a task's input. Default 8 MiB. */
  maxInputBytes?: number
  /** Cap on a task's result. Default 8 MiB. */
  maxResultBytes?: number
  /** Cap on one checkpoint and on resumeFrom. Default 1 MiB. */
  maxCheckpointBytes?: number
  /** Cap on one log line, characters. Default 8 KiB. */
  maxLogLineBytes?: number
  /** Log lines per attempt. Default 1000. */
  maxLogLines?: number
  /** Checkpoints per attempt. Default 1000. */
  maxCheckpoints?: number
  /** Sustained log lines per second (bursts of twice that). Default 100. */
  logLinesPerSecond?: number
  /** Sustained checkpoints per second (bursts of twice that). Default 10. */
  checkpointsPerSecond?: number
  /** Cap on bundle source, characters. Default 16 MiB. */
  maxSourceBytes?: number
  /** Time past a task's limit before the host kills its runner. Default 500 ms. */
  graceMs?: number
  /** Time a new runner has to report ready. Default 10_000 ms. */
  startTimeoutMs?: number
  /** Records in one batch (RunRequest.inputs) at most. Default 10_000. */
  maxRecords?: number
}

export interface RunRequest {
  taskId: string
  attempt: number
  /** Content id of the bundle; runners keep the compiled script per id. */
  bundleId: string
  /** The esbuild iife bundle defining `__idlegridJob`; source only, never cached data. */
  source: string
  /** JSON-compatible value or Uint8Array (nested anywhere). Exactly one of input and inputs. */
  input?: unknown
  /**
   * Batch mode: records, each a value like `input`. One context for the
   * task; the job function is called once per record, in order. See
   * BatchRun and docs/task-contract.md. Exactly one of input and inputs.
   */
  inputs?: unknown[]
  /** Limits of the whole attempt; in batch mode, of all its records together. */
  limits: TaskLimits
  /** State of the last checkpoint, handed to the task as ctx.resumeFrom. */
  resumeFrom?: unknown
  /** Batch mode: the record (index in inputs) that resumeFrom belongs to. Default 0. */
  resumeRecord?: number
  /** Seeded Math.random and a fixed clock, so replicas agree byte for byte. */
  deterministic?: boolean
  /** Seed of deterministic mode. Default: taskId. */
  seed?: string
  /**
   * Batch mode, deterministic: the seed of each record (one per input), so a
   * record's output does not depend on the batch it travels in. Default:
   * `${seed}:${index}`.
   */
  recordSeeds?: string[]
  /**
   * Batch mode: the wall and CPU time each record may take, ms. A record
   * past it ends the attempt with TimeoutError (or CpuLimitError); the
   * records before it keep their outcomes. Default: none, the limits hold
   * for all records together.
   */
  recordTimeoutMs?: number
  /**
   * Batch mode: whose record each input is, as its `ctx` says (one entry per
   * input), for a volunteer that runs the records of several tasks of one
   * job together; the result size cap then holds per task. Default: every
   * record belongs to this request's task, at its index in inputs.
   */
  recordTasks?: RecordTask[]
  /**
   * Tasks that give the same key (a job id, say) may share one context, one
   * after another: the runner keeps the context of a non-deterministic task
   * that named a key, its bundle evaluated and its code warm, for the next
   * task of the same bundle and key. Globals may then carry over between
   * those tasks (docs/task-contract.md). Deterministic tasks and tasks
   * without a key always get a fresh context. At most 256 characters.
   */
  contextKey?: string
}

/** The task a record of a batch belongs to (RunRequest.recordTasks). */
export interface RecordTask {
  taskId: string
  attempt: number
  /** The record's index within its task. */
  record: number
  /** Records of that task. */
  records: number
}

/** A RunRequest in batch mode. */
export type BatchRunRequest = RunRequest & { inputs: unknown[] }

export interface SandboxStats {
  runners: number
  busy: number
  queued: number
  /** Runner processes started since the pool was created. */
  started: number
  /** Runner processes the host killed (watchdog, memory, unanswered cancel). */
  killed: number
}

export interface SandboxPool {
  /**
   * Starts (or queues, when every slot is busy) one task attempt. Throws
   * InvalidInputError for a malformed request. With `inputs` it is a batch
   * attempt and returns a BatchRun.
   */
  run(req: BatchRunRequest): BatchRun
  run(req: RunRequest): TaskRun
  readonly slots: number
  readonly busy: number
  stats(): SandboxStats
  /** Process ids of the live runners (for supervision and tests). */
  pids(): number[]
  /** Cancels queued and running tasks and stops every runner. */
  stop(): Promise<void>
}

export function createSandboxPool (init: SandboxPoolInit): SandboxPool {
  return new SandboxPoolImpl(init)
}
