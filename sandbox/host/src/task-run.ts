// One task attempt as the caller sees it: an async stream of SandboxEvents
// that ends with exactly one result or error event, plus cancel() and done().
// A batch attempt (RunRequest.inputs) also streams one `record` event per record.
import type { SandboxEvent, TaskErrorInfo, TaskErrorKind } from '@idlegrid/interface'

export type FinalEvent = Extract<SandboxEvent, { type: 'result' | 'error' }>

/** What became of one record of a batch. */
export type RecordOutcome = { ok: true, value: unknown } | { ok: false, error: TaskErrorInfo }

/** One record of a batch is done; `index` counts from 0 within RunRequest.inputs. */
export type RecordEvent = { type: 'record', index: number } & RecordOutcome

/**
 * The end of a batch attempt. `result`: every record has an outcome, in
 * input order (a record that threw has `ok: false`, kind 'task').
 * `error`: the attempt as a whole stopped (limit, cancel, lost runner, a
 * bundle that does not load); `records` holds the outcomes of the records
 * that finished before, the others have none.
 */
export type BatchFinalEvent =
  | { type: 'result', value: RecordOutcome[], cpuMs: number, wallMs: number }
  | { type: 'error', error: TaskErrorInfo, cpuMs: number, wallMs: number, records: RecordOutcome[] }

/** Events of a batch attempt, in order: progress/checkpoint/log name their record. */
export type BatchEvent =
  | { type: 'progress', fraction: number, record: number }
  | { type: 'checkpoint', state: unknown, record: number }
  | { type: 'log', line: string, record: number }
  | RecordEvent
  | BatchFinalEvent

/** A batch attempt: like TaskRun, plus record events and per-record outcomes at the end. */
export interface BatchRun extends AsyncIterable<BatchEvent> {
  readonly taskId: string
  /** Stops the attempt; it ends with an error of kind 'cancelled'. Idempotent. */
  cancel(reason?: string): void
  /** Resolves with the final result/error event; never rejects. */
  done(): Promise<BatchFinalEvent>
}

type AnyEvent = SandboxEvent | BatchEvent
type AnyFinal = FinalEvent | BatchFinalEvent

export interface TaskRun extends AsyncIterable<SandboxEvent> {
  readonly taskId: string
  /** Stops the attempt; it ends with an error of kind 'cancelled'. Idempotent. */
  cancel(reason?: string): void
  /** Resolves with the final result/error event; never rejects. */
  done(): Promise<FinalEvent>
}

const RETRYABLE: Record<TaskErrorKind, boolean> = {
  task: false,
  limit: false,
  'runner-lost': true,
  // A cancelled attempt says nothing about the task; the scheduler may run it elsewhere.
  cancelled: true
}

export function errorInfo (kind: TaskErrorKind, name: string, message: string, stack?: string): TaskErrorInfo {
  const info: TaskErrorInfo = { name, message, kind, retryable: RETRYABLE[kind] }
  if (stack !== undefined && stack !== '') info.stack = stack
  return info
}

/** The event buffer behind a TaskRun or BatchRun; the pool pushes, one consumer iterates. */
export class TaskRunStream {
  readonly taskId: string
  /** Outcomes of a batch so far, in record order; null for a single-input task. */
  readonly records: RecordOutcome[] | null
  private readonly events: AnyEvent[] = []
  private waiter: (() => void) | null = null
  private final: AnyFinal | null = null
  private readonly finalPromise: Promise<AnyFinal>
  private resolveFinal!: (ev: AnyFinal) => void
  private readonly onCancel: (run: TaskRunStream, reason: string) => void

  constructor (taskId: string, onCancel: (run: TaskRunStream, reason: string) => void, batch = false) {
    this.taskId = taskId
    this.onCancel = onCancel
    this.records = batch ? [] : null
    this.finalPromise = new Promise<AnyFinal>(resolve => { this.resolveFinal = resolve })
  }

  get ended (): boolean {
    return this.final !== null
  }

  push (event: AnyEvent): void {
    if (this.final !== null) return
    if (event.type === 'record') {
      const { type, index, ...outcome } = event
      this.records?.push(outcome as RecordOutcome)
    } else if (event.type === 'error' && this.records !== null) {
      event = { ...event, records: this.records.slice() }
    }
    if (event.type === 'result' || event.type === 'error') {
      this.final = event
      this.resolveFinal(event)
    }
    this.events.push(event)
    const w = this.waiter
    this.waiter = null
    w?.()
  }

  fail (kind: TaskErrorKind, name: string, message: string, cpuMs = 0, wallMs = 0, stack?: string): void {
    this.push({ type: 'error', error: errorInfo(kind, name, message, stack), cpuMs, wallMs })
  }

  cancel (reason = 'cancelled by the host'): void {
    if (this.final === null) this.onCancel(this, reason)
  }

  done (): Promise<AnyFinal> {
    return this.finalPromise
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<AnyEvent> {
    let i = 0
    while (true) {
      if (i < this.events.length) {
        const ev = this.events[i++]
        // Drop what was read so a long stream does not pin its history.
        if (i > 1024) { this.events.splice(0, i); i = 0 }
        yield ev
        if (ev.type === 'result' || ev.type === 'error') return
        continue
      }
      await new Promise<void>(resolve => { this.waiter = resolve })
    }
  }
}
