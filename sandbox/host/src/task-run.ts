// One task attempt as the caller sees it: an async stream of SandboxEvents
// that ends with exactly one result or error event, plus cancel() and done().
import type { SandboxEvent, TaskErrorInfo, TaskErrorKind } from '@idlegrid/interface'

export type FinalEvent = Extract<SandboxEvent, { type: 'result' | 'error' }>

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

/** The event buffer behind a TaskRun; the pool pushes, one consumer iterates. */
export class TaskRunStream implements TaskRun {
  readonly taskId: string
  private readonly events: SandboxEvent[] = []
  private waiter: (() => void) | null = null
  private final: FinalEvent | null = null
  private readonly finalPromise: Promise<FinalEvent>
  private resolveFinal!: (ev: FinalEvent) => void
  private readonly onCancel: (run: TaskRunStream, reason: string) => void

  constructor (taskId: string, onCancel: (run: TaskRunStream, reason: string) => void) {
    this.taskId = taskId
    this.onCancel = onCancel
    this.finalPromise = new Promise<FinalEvent>(resolve => { this.resolveFinal = resolve })
  }

  get ended (): boolean {
    return this.final !== null
  }

  push (event: SandboxEvent): void {
    if (this.final !== null) return
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

  done (): Promise<FinalEvent> {
    return this.finalPromise
  }

  async * [Symbol.asyncIterator] (): AsyncIterator<SandboxEvent> {
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
