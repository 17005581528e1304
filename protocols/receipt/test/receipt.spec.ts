// Tests of the generated receipt codec: round trip, defaults, limits.
import { describe, expect, it } from 'vitest'
import { MAX_RECEIPT_SIZE, Receipt } from '../src/index.js'

describe('Receipt codec', () => {
  it('round-trips every field, 64-bit numbers as JS numbers', () => {
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
      signature: new Uint8Array(64).fill(2)
    }
    const bytes = Receipt.encode(receipt)
    expect(bytes.byteLength).toBeLessThan(MAX_RECEIPT_SIZE)
    expect(Receipt.decode(bytes)).toEqual(receipt)
  })

  it('omits default values, so the encoding of a given receipt is unique', () => {
    const bytes = Receipt.encode({ issuer: 'a', seq: 1, prevHash: new Uint8Array(0), cpuMs: 0 })
    expect(Receipt.decode(bytes)).toMatchObject({ issuer: 'a', seq: 1, cpuMs: 0, worker: '', prevHash: new Uint8Array(0) })
    expect(Receipt.encode(Receipt.decode(bytes))).toEqual(bytes)
  })

  it('throws on truncated input', () => {
    const bytes = Receipt.encode({ issuer: 'issuer', worker: 'worker', seq: 3 })
    expect(() => Receipt.decode(bytes.subarray(0, 4))).toThrow()
  })
})
