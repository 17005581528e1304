// Codec round trips and the shape checks of the work protocol messages.
import { describe, expect, it } from 'vitest'
import {
  Announce, AnnounceResponse, BundleChunk, LeaseResponse, MalformedMessageError, ResultAck, SubmitterMessage, TaskError, WorkerMessage,
  decodeSubmitterMessage, decodeWorkerMessage, errorKindFromWire, errorKindToWire, MAX_TASKS_PER_LEASE,
  MAX_RECEIPTS_PER_MESSAGE, MAX_RECEIPT_BYTES, MAX_RESULTS_PER_MESSAGE, ReceiptStatus
} from '../src/index.js'

describe('work protocol messages', () => {
  it('round-trips an announce with requirements', () => {
    const a: Announce = {
      jobId: 'j1',
      bundleId: 'b1',
      requirements: { cores: 2, memoryMb: 256, timeoutMs: 60_000, gpu: false, deterministic: true },
      pendingTasks: 10
    }
    expect(Announce.decode(Announce.encode(a))).toEqual(a)
    expect(AnnounceResponse.decode(AnnounceResponse.encode({ status: AnnounceResponse.Status.BUSY, reason: 'no free slot' })).status).toBe('BUSY')
  })

  it('round-trips a lease response with a resume checkpoint and a large deadline', () => {
    const deadline = Date.now() + 3_600_000
    const msg: SubmitterMessage = {
      lease: {
        requestId: 7,
        status: LeaseResponse.Status.GRANTED,
        reason: '',
        tasks: [{
          taskId: 'j1:0', attempt: 2, firstRecord: 0, inputs: [new TextEncoder().encode('{"x":1}')],
          resumeFrom: new TextEncoder().encode('{"i":5}'), resumeRecord: 0, deadline, leaseMs: 65_000
        }]
      }
    }
    const { kind, message } = decodeSubmitterMessage(SubmitterMessage.encode(msg))
    expect(kind).toBe('lease')
    expect(message.lease?.tasks[0].deadline).toBe(deadline)
    expect(new TextDecoder().decode(message.lease?.tasks[0].resumeFrom)).toBe('{"i":5}')
  })

  it('leaves resumeFrom undefined when no checkpoint exists', () => {
    const buf = SubmitterMessage.encode({ lease: { requestId: 1, status: LeaseResponse.Status.GRANTED, reason: '', tasks: [{ taskId: 't', attempt: 1, firstRecord: 0, inputs: [], resumeRecord: 0, deadline: 1, leaseMs: 1 }] } })
    expect(decodeSubmitterMessage(buf).message.lease?.tasks[0].resumeFrom).toBeUndefined()
  })

  it('round-trips a result with one value and one error outcome', () => {
    const buf = WorkerMessage.encode({
      result: {
        requestId: 3, taskId: 'j1:0', attempt: 1, cpuMs: 5, wallMs: 6,
        records: [
          { value: new TextEncoder().encode('42') },
          { error: { name: 'TypeError', message: 'boom', kind: TaskError.Kind.TASK, retryable: false } }
        ]
      }
    })
    const { kind, message } = decodeWorkerMessage(buf)
    expect(kind).toBe('result')
    expect(message.result?.records[0].value).toBeDefined()
    expect(message.result?.records[0].error).toBeUndefined()
    expect(message.result?.records[1].error?.name).toBe('TypeError')
  })

  it('refuses a worker message with no field or two fields set', () => {
    expect(() => decodeWorkerMessage(WorkerMessage.encode({}))).toThrow(MalformedMessageError)
    const two = WorkerMessage.encode({
      lease: { requestId: 1, jobId: 'j', maxTasks: 1 },
      progress: { taskId: 't', attempt: 1, fraction: 0.5 }
    })
    expect(() => decodeWorkerMessage(two)).toThrow(/exactly one/)
  })

  it('refuses an empty or overlong id', () => {
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ lease: { requestId: 1, jobId: '', maxTasks: 1 } }))).toThrow(MalformedMessageError)
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ progress: { taskId: 'x'.repeat(500), attempt: 1, fraction: 0 } }))).toThrow(/id must be/)
  })

  it('caps the number of tasks in a lease response', () => {
    const task = { taskId: 't', attempt: 1, firstRecord: 0, inputs: [], resumeRecord: 0, deadline: 1, leaseMs: 1 }
    const buf = SubmitterMessage.encode({ lease: { requestId: 1, status: LeaseResponse.Status.GRANTED, reason: '', tasks: new Array(MAX_TASKS_PER_LEASE + 1).fill(task) } })
    expect(() => decodeSubmitterMessage(buf)).toThrow(/too many elements/)
  })

  it('throws on garbage bytes', () => {
    expect(() => decodeWorkerMessage(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow()
    expect(() => BundleChunk.decode(Uint8Array.from([0x22, 0x50, 1, 2]))).toThrow()
  })

  it('maps error kinds both ways', () => {
    for (const k of ['task', 'limit', 'runner-lost', 'cancelled'] as const) {
      expect(errorKindFromWire(errorKindToWire(k))).toBe(k)
    }
    expect(ResultAck.decode(ResultAck.encode({ requestId: 1, status: ResultAck.Status.REFUSED, reason: 'not leased' })).reason).toBe('not leased')
  })

  it('round-trips receipts and receipt acks, and bounds them', () => {
    const receipts = [Uint8Array.from([1, 2, 3]), new Uint8Array(100)]
    const pushed = decodeSubmitterMessage(SubmitterMessage.encode({ receipts: { receipts } }))
    expect(pushed.kind).toBe('receipts')
    expect(pushed.message.receipts?.receipts).toEqual(receipts)
    const hash = 'ab'.repeat(32)
    const acked = decodeWorkerMessage(WorkerMessage.encode({ receiptAck: { statuses: [{ hash, status: ReceiptStatus.Status.DUPLICATE, reason: '' }, { hash: '', status: ReceiptStatus.Status.REFUSED, reason: 'garbled' }] } }))
    expect(acked.kind).toBe('receiptAck')
    expect(acked.message.receiptAck?.statuses.map(s => s.status)).toEqual(['DUPLICATE', 'REFUSED'])

    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ receipts: { receipts: new Array(MAX_RECEIPTS_PER_MESSAGE + 1).fill(receipts[0]) } }))).toThrow(/too many elements/)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ receipts: { receipts: [new Uint8Array(MAX_RECEIPT_BYTES + 1)] } }))).toThrow(MalformedMessageError)
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ receiptAck: { statuses: [{ hash: 'not-hex', status: ReceiptStatus.Status.ACCEPTED, reason: '' }] } }))).toThrow(MalformedMessageError)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ ack: { requestId: 1, status: ResultAck.Status.ACCEPTED, reason: '' }, receipts: { receipts } }))).toThrow(MalformedMessageError)
  })

  it('round-trips results in groups with their acks, and bounds them', () => {
    const result = (taskId: string): any => ({ requestId: 0, taskId, attempt: 1, cpuMs: 1, wallMs: 1, records: [{ value: Uint8Array.from([0x31]) }] })
    const sent = decodeWorkerMessage(WorkerMessage.encode({ results: { requestId: 9, results: [result('j:0'), result('j:1')] } }))
    expect(sent.kind).toBe('results')
    expect(sent.message.results?.results.map(r => r.taskId)).toEqual(['j:0', 'j:1'])
    const acks = decodeSubmitterMessage(SubmitterMessage.encode({ acks: { requestId: 9, acks: [{ requestId: 0, status: ResultAck.Status.ACCEPTED, reason: '' }, { requestId: 0, status: ResultAck.Status.REFUSED, reason: 'not leased' }] } }))
    expect(acks.kind).toBe('acks')
    expect(acks.message.acks?.acks.map(a => a.status)).toEqual(['ACCEPTED', 'REFUSED'])

    expect(() => decodeWorkerMessage(WorkerMessage.encode({ results: { requestId: 1, results: [] } }))).toThrow(/at least one/)
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ results: { requestId: 1, results: [result('')] } }))).toThrow(/id must be/)
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ results: { requestId: 1, results: new Array(MAX_RESULTS_PER_MESSAGE + 1).fill(result('j:0')) } }))).toThrow(/too many elements/)
  })

  it('round-trips a release of leased tasks, and bounds it', () => {
    const released = decodeWorkerMessage(WorkerMessage.encode({ release: { tasks: [{ taskId: 'j:4', attempt: 2 }] } }))
    expect(released.kind).toBe('release')
    expect(released.message.release?.tasks).toEqual([{ taskId: 'j:4', attempt: 2 }])
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ release: { tasks: [{ taskId: '', attempt: 1 }] } }))).toThrow(/id must be/)
    expect(() => decodeWorkerMessage(WorkerMessage.encode({ release: { tasks: new Array(MAX_RESULTS_PER_MESSAGE + 1).fill({ taskId: 'j:0', attempt: 1 }) } }))).toThrow(/too many elements/)
  })

  it('round-trips work pushed on a session and checks its ids', () => {
    const work = { jobId: 'j1', bundleId: 'b1', requirements: { cores: 1, memoryMb: 64, timeoutMs: 1000, gpu: false, deterministic: false }, pendingTasks: 3 }
    const pushed = decodeSubmitterMessage(SubmitterMessage.encode({ work }))
    expect(pushed.kind).toBe('work')
    expect(pushed.message.work).toEqual(work)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ work: { ...work, bundleId: '' } }))).toThrow(/id must be/)
  })

  it('round-trips a standing Ready and an Offer answering it, and checks and bounds the offer', () => {
    const ready = decodeWorkerMessage(WorkerMessage.encode({ ready: { maxTasks: 2, cores: 2 } }))
    expect(ready.kind).toBe('ready')
    expect(ready.message.ready).toEqual({ maxTasks: 2, cores: 2 })
    const work = { jobId: 'j1', bundleId: 'b1', requirements: { cores: 1, memoryMb: 64, timeoutMs: 1000, gpu: false, deterministic: false }, pendingTasks: 3 }
    const task = { taskId: 'j1:0', attempt: 1, firstRecord: 0, inputs: [new TextEncoder().encode('1')], resumeRecord: 0, deadline: 1_700_000_000_000, leaseMs: 6000 }
    const offered = decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work, tasks: [task], remaining: 0 } }))
    expect(offered.kind).toBe('offer')
    expect(offered.message.offer).toEqual({ work, tasks: [task], remaining: 0 })
    expect(decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work, tasks: [task] } })).message.offer?.remaining).toBeUndefined()
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work, tasks: [] } }))).toThrow(/at least one task/)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work: { ...work, jobId: '' }, tasks: [task] } }))).toThrow(/offer job: id must be/)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work, tasks: [{ ...task, taskId: '' }] } }))).toThrow(/offer task: id must be/)
    expect(() => decodeSubmitterMessage(SubmitterMessage.encode({ offer: { work, tasks: new Array(MAX_TASKS_PER_LEASE + 1).fill(task) } }))).toThrow(/too many elements/)
    // a lease answer may say how many tasks are left; absent means not said
    const lease = { requestId: 1, status: LeaseResponse.Status.GRANTED, reason: '', tasks: [task] }
    expect(LeaseResponse.decode(LeaseResponse.encode({ ...lease, remaining: 0 })).remaining).toBe(0)
    expect(LeaseResponse.decode(LeaseResponse.encode(lease)).remaining).toBeUndefined()
  })
})
