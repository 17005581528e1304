import { describe, expect, it } from 'vitest'
import { CapacityRequest, CapacityResponse, MAX_GPU_MODELS, MAX_MESSAGE_SIZE, MAX_NONCE_SIZE, PROTOCOL } from '../src/index.js'

const response = (over: Partial<CapacityResponse> = {}): CapacityResponse => ({
  status: CapacityResponse.Status.OK,
  reason: '',
  nonce: Uint8Array.from([1, 2, 3]),
  freeCores: 3,
  freeMemoryMb: 4096,
  freeGpus: 1,
  gpuModels: ['NVIDIA L4'],
  totalSlots: 4,
  usedSlots: 1,
  cpuModel: 'AMD EPYC',
  cpuCores: 8,
  totalMemoryMb: 16_000,
  maxMemoryMb: 8000,
  ...over
})

describe('capacity protocol codec', () => {
  it('has an IdleGrid protocol id', () => {
    expect(PROTOCOL).toBe('/idlegrid/capacity/1.0.0')
  })

  it('round-trips request and response', () => {
    const req = { nonce: Uint8Array.from([9, 8, 7]) }
    expect(CapacityRequest.decode(CapacityRequest.encode(req))).toEqual(req)
    expect(CapacityRequest.decode(CapacityRequest.encode({ nonce: new Uint8Array(0) })).nonce).toHaveLength(0)

    const res = response({ status: CapacityResponse.Status.FULL, reason: 'all slots in use' })
    expect(CapacityResponse.decode(CapacityResponse.encode(res))).toEqual(res)
  })

  it('keeps the largest legitimate response under MAX_MESSAGE_SIZE', () => {
    const biggest = response({
      nonce: new Uint8Array(MAX_NONCE_SIZE),
      reason: 'r'.repeat(200),
      cpuModel: 'c'.repeat(200),
      gpuModels: Array.from({ length: MAX_GPU_MODELS }, () => 'g'.repeat(100)),
      freeMemoryMb: 2 ** 32 - 1,
      totalMemoryMb: 2 ** 32 - 1
    })
    expect(CapacityResponse.encode(biggest).byteLength).toBeLessThan(MAX_MESSAGE_SIZE)
  })

  it('refuses more GPU models than the limit when decoding', () => {
    const tooMany = CapacityResponse.encode(response({ gpuModels: Array.from({ length: MAX_GPU_MODELS + 1 }, (_, i) => `gpu${i}`) }))
    expect(() => CapacityResponse.decode(tooMany)).toThrow(/too many elements/)
  })
})
