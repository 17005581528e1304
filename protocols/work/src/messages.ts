// Decoding with element limits, and the shape checks a well-formed message
// must pass beyond what protobuf itself checks (exactly one union field set,
// ids within length). A failed check means the peer broke the protocol.
import { MAX_ID_LENGTH, MAX_RECEIPTS_PER_MESSAGE, MAX_RECEIPT_BYTES, MAX_RECORDS_PER_TASK, MAX_RESULTS_PER_MESSAGE, MAX_TASKS_PER_LEASE } from './constants.js'
import { SubmitterMessage, TaskError, WorkerMessage } from './work.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/** A message decoded fine as protobuf but is not a valid message of this protocol. */
export class MalformedMessageError extends Error {
  static override name = 'MalformedMessageError'
  override name = 'MalformedMessageError'
}

export type WorkerMessageKind = 'lease' | 'progress' | 'checkpoint' | 'result' | 'receiptAck' | 'results' | 'release' | 'ready'
export type SubmitterMessageKind = 'lease' | 'ack' | 'receipts' | 'acks' | 'work' | 'offer'

/** Decodes a WorkerMessage, capping repeated fields, and checks that exactly one field is set. */
export function decodeWorkerMessage (buf: Uint8Array | Uint8ArrayList): { kind: WorkerMessageKind, message: WorkerMessage } {
  const message = WorkerMessage.decode(buf, {
    limits: {
      result: { records: MAX_RECORDS_PER_TASK },
      receiptAck: { statuses: MAX_RECEIPTS_PER_MESSAGE },
      results: { results: MAX_RESULTS_PER_MESSAGE, results$: { records: MAX_RECORDS_PER_TASK } },
      release: { tasks: MAX_RESULTS_PER_MESSAGE }
    }
  })
  const kind = onlyField(message, ['lease', 'progress', 'checkpoint', 'result', 'receiptAck', 'results', 'release', 'ready'] as const)
  if (kind === 'ready') {
    return { kind, message }
  }
  if (kind === 'release') {
    for (const t of message.release?.tasks ?? []) {
      checkId(t.taskId, 'release')
    }
    return { kind, message }
  }
  if (kind === 'results') {
    const results = message.results?.results ?? []
    if (results.length === 0) {
      throw new MalformedMessageError('results: at least one result')
    }
    for (const r of results) {
      checkId(r.taskId, 'results')
    }
    return { kind, message }
  }
  if (kind === 'receiptAck') {
    for (const status of message.receiptAck?.statuses ?? []) {
      if (status.hash.length !== 0 && !/^[0-9a-f]{64}$/.test(status.hash)) {
        throw new MalformedMessageError('receipt ack: a hash is 64 lowercase hex characters or empty')
      }
    }
    return { kind, message }
  }
  const body = message[kind] as { taskId?: string, jobId?: string }
  checkId(body.taskId ?? body.jobId ?? '', kind)
  return { kind, message }
}

/** Decodes a SubmitterMessage, capping repeated fields, and checks that exactly one field is set. */
export function decodeSubmitterMessage (buf: Uint8Array | Uint8ArrayList): { kind: SubmitterMessageKind, message: SubmitterMessage } {
  const message = SubmitterMessage.decode(buf, {
    limits: {
      lease: { tasks: MAX_TASKS_PER_LEASE, tasks$: { inputs: MAX_RECORDS_PER_TASK } },
      offer: { tasks: MAX_TASKS_PER_LEASE, tasks$: { inputs: MAX_RECORDS_PER_TASK } },
      receipts: { receipts: MAX_RECEIPTS_PER_MESSAGE },
      acks: { acks: MAX_RESULTS_PER_MESSAGE }
    }
  })
  const kind = onlyField(message, ['lease', 'ack', 'receipts', 'acks', 'work', 'offer'] as const)
  const work = kind === 'work' ? message.work : kind === 'offer' ? message.offer?.work : undefined
  if (kind === 'work' || kind === 'offer') {
    checkId(work?.jobId ?? '', `${kind} job`)
    checkId(work?.bundleId ?? '', `${kind} bundle`)
  }
  if (kind === 'offer') {
    const tasks = message.offer?.tasks ?? []
    if (tasks.length === 0) {
      throw new MalformedMessageError('offer: at least one task')
    }
    for (const t of tasks) {
      checkId(t.taskId, 'offer task')
    }
  }
  if (kind === 'receipts' && (message.receipts?.receipts ?? []).some(r => r.byteLength > MAX_RECEIPT_BYTES)) {
    throw new MalformedMessageError(`receipts: a receipt is over ${MAX_RECEIPT_BYTES} bytes`)
  }
  return { kind, message }
}

/** Checks an id string read from the wire. */
export function checkId (id: string, what: string): void {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) {
    throw new MalformedMessageError(`${what}: id must be 1..${MAX_ID_LENGTH} characters, got ${id.length}`)
  }
}

const KINDS: Record<string, TaskError.Kind> = {
  task: TaskError.Kind.TASK,
  limit: TaskError.Kind.LIMIT,
  'runner-lost': TaskError.Kind.RUNNER_LOST,
  cancelled: TaskError.Kind.CANCELLED
}

/** The wire enum for a TaskErrorKind string. */
export function errorKindToWire (kind: string): TaskError.Kind {
  return KINDS[kind] ?? TaskError.Kind.TASK
}

/** The TaskErrorKind string for a wire enum value. */
export function errorKindFromWire (kind: TaskError.Kind): 'task' | 'limit' | 'runner-lost' | 'cancelled' {
  switch (kind) {
    case TaskError.Kind.LIMIT: return 'limit'
    case TaskError.Kind.RUNNER_LOST: return 'runner-lost'
    case TaskError.Kind.CANCELLED: return 'cancelled'
    default: return 'task'
  }
}

function onlyField<T extends object, K extends keyof T & string> (message: T, fields: readonly K[]): K {
  const set = fields.filter(f => message[f] != null)
  if (set.length !== 1) {
    throw new MalformedMessageError(`expected exactly one of ${fields.join(', ')}, got ${set.length === 0 ? 'none' : set.join(', ')}`)
  }
  return set[0]
}
