import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface CapacityRequest {
  nonce: Uint8Array<ArrayBuffer>
}

export namespace CapacityRequest {
  let _codec: Codec<CapacityRequest>

  export const codec = (): Codec<CapacityRequest> => {
    if (_codec == null) {
      _codec = message<CapacityRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.nonce)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nonce: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nonce = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CapacityRequestNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<CapacityRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapacityRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityRequest>): CapacityRequest {
    return decodeMessage(buf, CapacityRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityRequest>): Generator<CapacityRequestNonceFieldEvent> {
    return streamMessage(buf, CapacityRequest.codec(), opts)
  }
}

export interface CapacityResponse {
  status: CapacityResponse.Status
  reason: string
  nonce: Uint8Array<ArrayBuffer>
  freeCores: number
  freeMemoryMb: number
  freeGpus: number
  gpuModels: string[]
  totalSlots: number
  usedSlots: number
  cpuModel: string
  cpuCores: number
  totalMemoryMb: number
  maxMemoryMb: number
}

export namespace CapacityResponse {
  export enum Status {
    OK = 'OK',
    FULL = 'FULL',
    UNAVAILABLE = 'UNAVAILABLE'
  }

  enum __StatusValues {
    OK = 0,
    FULL = 1,
    UNAVAILABLE = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<CapacityResponse>

  export const codec = (): Codec<CapacityResponse> => {
    if (_codec == null) {
      _codec = message<CapacityResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          CapacityResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.nonce)
        }

        if ((obj.freeCores != null && obj.freeCores !== 0)) {
          w.uint32(32)
          w.uint32(obj.freeCores)
        }

        if ((obj.freeMemoryMb != null && obj.freeMemoryMb !== 0)) {
          w.uint32(40)
          w.uint32(obj.freeMemoryMb)
        }

        if ((obj.freeGpus != null && obj.freeGpus !== 0)) {
          w.uint32(48)
          w.uint32(obj.freeGpus)
        }

        if (obj.gpuModels != null && obj.gpuModels.length > 0) {
          for (const value of obj.gpuModels) {
            w.uint32(58)
            w.string(value)
          }
        }

        if ((obj.totalSlots != null && obj.totalSlots !== 0)) {
          w.uint32(64)
          w.uint32(obj.totalSlots)
        }

        if ((obj.usedSlots != null && obj.usedSlots !== 0)) {
          w.uint32(72)
          w.uint32(obj.usedSlots)
        }

        if ((obj.cpuModel != null && obj.cpuModel !== '')) {
          w.uint32(82)
          w.string(obj.cpuModel)
        }

        if ((obj.cpuCores != null && obj.cpuCores !== 0)) {
          w.uint32(88)
          w.uint32(obj.cpuCores)
        }

        if ((obj.totalMemoryMb != null && obj.totalMemoryMb !== 0)) {
          w.uint32(96)
          w.uint32(obj.totalMemoryMb)
        }

        if ((obj.maxMemoryMb != null && obj.maxMemoryMb !== 0)) {
          w.uint32(104)
          w.uint32(obj.maxMemoryMb)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          reason: '',
          nonce: uint8ArrayAlloc(0),
          freeCores: 0,
          freeMemoryMb: 0,
          freeGpus: 0,
          gpuModels: [],
          totalSlots: 0,
          usedSlots: 0,
          cpuModel: '',
          cpuCores: 0,
          totalMemoryMb: 0,
          maxMemoryMb: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = CapacityResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.nonce = reader.bytes()
              break
            }
            case 4: {
              obj.freeCores = reader.uint32()
              break
            }
            case 5: {
              obj.freeMemoryMb = reader.uint32()
              break
            }
            case 6: {
              obj.freeGpus = reader.uint32()
              break
            }
            case 7: {
              if (opts.limits?.gpuModels != null && obj.gpuModels.length === opts.limits.gpuModels) {
                throw new MaxLengthError('Decode error - repeated field "gpuModels" had too many elements')
              }

              if (obj.gpuModels.length === 64) {
                throw new MaxLengthError('Decode error - repeated field "gpuModels" had too many elements')
              }

              obj.gpuModels.push(reader.string())
              break
            }
            case 8: {
              obj.totalSlots = reader.uint32()
              break
            }
            case 9: {
              obj.usedSlots = reader.uint32()
              break
            }
            case 10: {
              obj.cpuModel = reader.string()
              break
            }
            case 11: {
              obj.cpuCores = reader.uint32()
              break
            }
            case 12: {
              obj.totalMemoryMb = reader.uint32()
              break
            }
            case 13: {
              obj.maxMemoryMb = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          gpuModels: 64
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.status`,
                value: CapacityResponse.Status.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.freeCores`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.freeMemoryMb`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.freeGpus`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              if (opts.limits?.gpuModels != null && obj.gpuModels === opts.limits.gpuModels) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuModels" had too many elements')
              }

              if (obj.gpuModels === 64) {
                throw new MaxLengthError('Streaming decode error - repeated field "gpuModels" had too many elements')
              }

              yield {
                field: `${prefix}.gpuModels[]`,
                index: obj.gpuModels,
                value: reader.string()
              }

              obj.gpuModels++

              break
            }
            case 8: {
              yield {
                field: `${prefix}.totalSlots`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.usedSlots`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.cpuModel`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.cpuCores`,
                value: reader.uint32()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.totalMemoryMb`,
                value: reader.uint32()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.maxMemoryMb`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface CapacityResponseStatusFieldEvent {
    field: '$.status'
    value: CapacityResponse.Status
  }

  export interface CapacityResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface CapacityResponseNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface CapacityResponseFreeCoresFieldEvent {
    field: '$.freeCores'
    value: number
  }

  export interface CapacityResponseFreeMemoryMbFieldEvent {
    field: '$.freeMemoryMb'
    value: number
  }

  export interface CapacityResponseFreeGpusFieldEvent {
    field: '$.freeGpus'
    value: number
  }

  export interface CapacityResponseGpuModelsFieldEvent {
    field: '$.gpuModels[]'
    index: number
    value: string
  }

  export interface CapacityResponseTotalSlotsFieldEvent {
    field: '$.totalSlots'
    value: number
  }

  export interface CapacityResponseUsedSlotsFieldEvent {
    field: '$.usedSlots'
    value: number
  }

  export interface CapacityResponseCpuModelFieldEvent {
    field: '$.cpuModel'
    value: string
  }

  export interface CapacityResponseCpuCoresFieldEvent {
    field: '$.cpuCores'
    value: number
  }

  export interface CapacityResponseTotalMemoryMbFieldEvent {
    field: '$.totalMemoryMb'
    value: number
  }

  export interface CapacityResponseMaxMemoryMbFieldEvent {
    field: '$.maxMemoryMb'
    value: number
  }

  export function encode (obj: Partial<CapacityResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, CapacityResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityResponse>): CapacityResponse {
    return decodeMessage(buf, CapacityResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CapacityResponse>): Generator<CapacityResponseStatusFieldEvent | CapacityResponseReasonFieldEvent | CapacityResponseNonceFieldEvent | CapacityResponseFreeCoresFieldEvent | CapacityResponseFreeMemoryMbFieldEvent | CapacityResponseFreeGpusFieldEvent | CapacityResponseGpuModelsFieldEvent | CapacityResponseTotalSlotsFieldEvent | CapacityResponseUsedSlotsFieldEvent | CapacityResponseCpuModelFieldEvent | CapacityResponseCpuCoresFieldEvent | CapacityResponseTotalMemoryMbFieldEvent | CapacityResponseMaxMemoryMbFieldEvent> {
    return streamMessage(buf, CapacityResponse.codec(), opts)
  }
}
