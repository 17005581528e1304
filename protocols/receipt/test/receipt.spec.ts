// Tests of the generated receipt codec: round trip, defaults, limits.
import { describe, expect, it } from 'vitest'
import { MAX_RECEIPT_ID_LENGTH, MAX_RECEIPT_SIZE, MAX_RECEIPT_TASKS, Receipt } from '../src/index.js'

const receipt: Receipt = {
  issuer: '12D3KooWissuer',
  worker: '12D3KooWworker',
  jobId: 'job',
  taskId: 'task-7',
  cpuMs: 2 ** 40 + 3,
  milliCredits: 1500,
  seq: 9,
  prevHash: new Uint8Array(32).fill(1),
  timestamp: 1_700_000_000_123,
  signature: new Uint8Array(64).fill(2),
  moreTaskIds: []
}

describe('Receipt codec', () => {
  it('round-trips every field, 64-bit numbers as JS numbers', () => {
    const bytes = Receipt.encode(receipt)
    expect(bytes.byteLength).toBeLessThan(MAX_RECEIPT_SIZE)
    expect(Receipt.decode(bytes)).toEqual(receipt)
    const several = { ...receipt, moreTaskIds: ['task-8', 'task-10', 'task-9'] }
    expect(Receipt.decode(Receipt.encode(several))).toEqual(several)
  })

  it('omits default values, so the encoding of a given receipt is unique', () => {
    const bytes = Receipt.encode({ issuer: 'a', seq: 1, prevHash: new Uint8Array(0), cpuMs: 0 })
    expect(Receipt.decode(bytes)).toMatchObject({ issuer: 'a', seq: 1, cpuMs: 0, worker: '', prevHash: new Uint8Array(0), moreTaskIds: [] })
    expect(Receipt.encode(Receipt.decode(bytes))).toEqual(bytes)
  })

  it('encodes a one-task receipt exactly as before more_task_ids existed (fields 1-10 only)', () => {
    const bytes = Receipt.encode(receipt)
    expect(Receipt.encode({ ...receipt, moreTaskIds: undefined } as unknown as Receipt)).toEqual(bytes)
    // field 11 (tag 90) appears only when there are more tasks, after the signature
    const several = Receipt.encode({ ...receipt, moreTaskIds: ['x'] })
    expect([...several.subarray(bytes.byteLength)]).toEqual([90, 1, 'x'.charCodeAt(0)])
    expect([...several.subarray(0, bytes.byteLength)]).toEqual([...bytes])
  })

  it('fits the largest receipt the limits allow: 256 tasks of 256-byte ids, every number at its largest', () => {
    const id = (c: string): string => c.repeat(MAX_RECEIPT_ID_LENGTH)
    const largest = Receipt.encode({
      ...receipt,
      issuer: 'I'.repeat(64),
      worker: 'W'.repeat(64),
      jobId: id('j'),
      taskId: id('t'),
      moreTaskIds: Array.from({ length: MAX_RECEIPT_TASKS - 1 }, (_, i) => `${i}`.padEnd(MAX_RECEIPT_ID_LENGTH, '.')),
      cpuMs: Number.MAX_SAFE_INTEGER,
      milliCredits: Number.MAX_SAFE_INTEGER,
      seq: Number.MAX_SAFE_INTEGER,
      timestamp: Number.MAX_SAFE_INTEGER
    })
    expect(largest.byteLength).toBeGreaterThan(64 * 1024)
    expect(largest.byteLength).toBeLessThanOrEqual(MAX_RECEIPT_SIZE)
  })

  it('caps the number of task ids when told to', () => {
    const bytes = Receipt.encode({ ...receipt, moreTaskIds: ['a', 'b', 'c'] })
    expect(Receipt.decode(bytes, { limits: { moreTaskIds: 3 } }).moreTaskIds).toEqual(['a', 'b', 'c'])
    expect(() => Receipt.decode(bytes, { limits: { moreTaskIds: 2 } })).toThrow(/too many elements/)
  })

  it('throws on truncated input', () => {
    const bytes = Receipt.encode({ issuer: 'issuer', worker: 'worker', seq: 3 })
    expect(() => Receipt.decode(bytes.subarray(0, 4))).toThrow()
  })
})
