import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Requirements {
  cores: number
  memoryMb: number
  timeoutMs: number
  gpu: boolean
  deterministic: boolean
}

export namespace Requirements {
  let _codec: Codec<Requirements>

  export const codec = (): Codec<Requirements> => {
    if (_codec == null) {
      _codec = message<Requirements>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.cores != null && obj.cores !== 0)) {
          w.uint32(8)
          w.uint32(obj.cores)
        }

        if ((obj.memoryMb != null && obj.memoryMb !== 0)) {
          w.uint32(16)
          w.uint32(obj.memoryMb)
        }

        if ((obj.timeoutMs != null && obj.timeoutMs !== 0)) {
          w.uint32(24)
          w.uint32(obj.timeoutMs)
        }

        if ((obj.gpu != null && obj.gpu !== false)) {
          w.uint32(32)
          w.bool(obj.gpu)
        }

        if ((obj.deterministic != null && obj.deterministic !== false)) {
          w.uint32(40)
          w.bool(obj.deterministic)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          cores: 0,
          memoryMb: 0,
          timeoutMs: 0,
          gpu: false,
          deterministic: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.cores = reader.uint32()
              break
            }
            case 2: {
              obj.memoryMb = reader.uint32()
              break
            }
            case 3: {
              obj.timeoutMs = reader.uint32()
              break
            }
            case 4: {
              obj.gpu = reader.bool()
              break
            }
            case 5: {
              obj.deterministic = reader.bool()
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
                field: `${prefix}.cores`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.memoryMb`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.timeoutMs`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.gpu`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.deterministic`,
                value: reader.bool()
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

  export interface RequirementsCoresFieldEvent {
    field: '$.cores'
    value: number
  }

  export interface RequirementsMemoryMbFieldEvent {
    field: '$.memoryMb'
    value: number
  }

  export interface RequirementsTimeoutMsFieldEvent {
    field: '$.timeoutMs'
    value: number
  }

  export interface RequirementsGpuFieldEvent {
    field: '$.gpu'
    value: boolean
  }

  export interface RequirementsDeterministicFieldEvent {
    field: '$.deterministic'
    value: boolean
  }

  export function encode (obj: Partial<Requirements>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Requirements.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Requirements>): Requirements {
    return decodeMessage(buf, Requirements.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Requirements>): Generator<RequirementsCoresFieldEvent | RequirementsMemoryMbFieldEvent | RequirementsTimeoutMsFieldEvent | RequirementsGpuFieldEvent | RequirementsDeterministicFieldEvent> {
    return streamMessage(buf, Requirements.codec(), opts)
  }
}

export interface Announce {
  jobId: string
  bundleId: string
  requirements?: Requirements
  pendingTasks: number
}

export namespace Announce {
  let _codec: Codec<Announce>

  export const codec = (): Codec<Announce> => {
    if (_codec == null) {
      _codec = message<Announce>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.bundleId != null && obj.bundleId !== '')) {
          w.uint32(18)
          w.string(obj.bundleId)
        }

        if (obj.requirements != null) {
          w.uint32(26)
          Requirements.codec().encode(obj.requirements, w)
        }

        if ((obj.pendingTasks != null && obj.pendingTasks !== 0)) {
          w.uint32(32)
          w.uint32(obj.pendingTasks)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          bundleId: '',
          pendingTasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.bundleId = reader.string()
              break
            }
            case 3: {
              obj.requirements = Requirements.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.requirements
              })
              break
            }
            case 4: {
              obj.pendingTasks = reader.uint32()
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
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.bundleId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield * Requirements.codec().stream(reader, reader.uint32(), `${prefix}.requirements`, {
                limits: opts.limits?.requirements
              })

              break
            }
            case 4: {
              yield {
                field: `${prefix}.pendingTasks`,
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

  export interface AnnounceJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface AnnounceBundleIdFieldEvent {
    field: '$.bundleId'
    value: string
  }

  export interface AnnounceRequirementsCoresFieldEvent {
    field: '$.requirements.cores'
    value: number
  }

  export interface AnnounceRequirementsMemoryMbFieldEvent {
    field: '$.requirements.memoryMb'
    value: number
  }

  export interface AnnounceRequirementsTimeoutMsFieldEvent {
    field: '$.requirements.timeoutMs'
    value: number
  }

  export interface AnnounceRequirementsGpuFieldEvent {
    field: '$.requirements.gpu'
    value: boolean
  }

  export interface AnnounceRequirementsDeterministicFieldEvent {
    field: '$.requirements.deterministic'
    value: boolean
  }

  export interface AnnouncePendingTasksFieldEvent {
    field: '$.pendingTasks'
    value: number
  }

  export function encode (obj: Partial<Announce>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Announce.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Announce {
    return decodeMessage(buf, Announce.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Announce>): Generator<AnnounceJobIdFieldEvent | AnnounceBundleIdFieldEvent | AnnounceRequirementsCoresFieldEvent | AnnounceRequirementsMemoryMbFieldEvent | AnnounceRequirementsTimeoutMsFieldEvent | AnnounceRequirementsGpuFieldEvent | AnnounceRequirementsDeterministicFieldEvent | AnnouncePendingTasksFieldEvent> {
    return streamMessage(buf, Announce.codec(), opts)
  }
}

export interface AnnounceResponse {
  status: AnnounceResponse.Status
  reason: string
}

export namespace AnnounceResponse {
  export enum Status {
    ACCEPTED = 'ACCEPTED',
    BUSY = 'BUSY',
    REFUSED = 'REFUSED'
  }

  enum __StatusValues {
    ACCEPTED = 0,
    BUSY = 1,
    REFUSED = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<AnnounceResponse>

  export const codec = (): Codec<AnnounceResponse> => {
    if (_codec == null) {
      _codec = message<AnnounceResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          AnnounceResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.ACCEPTED,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = AnnounceResponse.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
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
                field: `${prefix}.status`,
                value: AnnounceResponse.Status.codec().decode(reader)
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

  export interface AnnounceResponseStatusFieldEvent {
    field: '$.status'
    value: AnnounceResponse.Status
  }

  export interface AnnounceResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<AnnounceResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, AnnounceResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnounceResponse>): AnnounceResponse {
    return decodeMessage(buf, AnnounceResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<AnnounceResponse>): Generator<AnnounceResponseStatusFieldEvent | AnnounceResponseReasonFieldEvent> {
    return streamMessage(buf, AnnounceResponse.codec(), opts)
  }
}

export interface BundleRequest {
  bundleId: string
}

export namespace BundleRequest {
  let _codec: Codec<BundleRequest>

  export const codec = (): Codec<BundleRequest> => {
    if (_codec == null) {
      _codec = message<BundleRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.bundleId != null && obj.bundleId !== '')) {
          w.uint32(10)
          w.string(obj.bundleId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          bundleId: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.bundleId = reader.string()
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
                field: `${prefix}.bundleId`,
                value: reader.string()
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

  export interface BundleRequestBundleIdFieldEvent {
    field: '$.bundleId'
    value: string
  }

  export function encode (obj: Partial<BundleRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BundleRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BundleRequest>): BundleRequest {
    return decodeMessage(buf, BundleRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BundleRequest>): Generator<BundleRequestBundleIdFieldEvent> {
    return streamMessage(buf, BundleRequest.codec(), opts)
  }
}

export interface BundleChunk {
  status: BundleChunk.Status
  reason: string
  totalSize: number
  data: Uint8Array<ArrayBuffer>
}

export namespace BundleChunk {
  export enum Status {
    OK = 'OK',
    NOT_FOUND = 'NOT_FOUND',
    REFUSED = 'REFUSED'
  }

  enum __StatusValues {
    OK = 0,
    NOT_FOUND = 1,
    REFUSED = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<BundleChunk>

  export const codec = (): Codec<BundleChunk> => {
    if (_codec == null) {
      _codec = message<BundleChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(8)
          BundleChunk.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(18)
          w.string(obj.reason)
        }

        if ((obj.totalSize != null && obj.totalSize !== 0)) {
          w.uint32(24)
          w.uint32(obj.totalSize)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          status: Status.OK,
          reason: '',
          totalSize: 0,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.status = BundleChunk.Status.codec().decode(reader)
              break
            }
            case 2: {
              obj.reason = reader.string()
              break
            }
            case 3: {
              obj.totalSize = reader.uint32()
              break
            }
            case 4: {
              obj.data = reader.bytes()
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
                field: `${prefix}.status`,
                value: BundleChunk.Status.codec().decode(reader)
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
                field: `${prefix}.totalSize`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
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

  export interface BundleChunkStatusFieldEvent {
    field: '$.status'
    value: BundleChunk.Status
  }

  export interface BundleChunkReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface BundleChunkTotalSizeFieldEvent {
    field: '$.totalSize'
    value: number
  }

  export interface BundleChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<BundleChunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, BundleChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BundleChunk>): BundleChunk {
    return decodeMessage(buf, BundleChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<BundleChunk>): Generator<BundleChunkStatusFieldEvent | BundleChunkReasonFieldEvent | BundleChunkTotalSizeFieldEvent | BundleChunkDataFieldEvent> {
    return streamMessage(buf, BundleChunk.codec(), opts)
  }
}

export interface LeaseRequest {
  requestId: number
  jobId: string
  maxTasks: number
}

export namespace LeaseRequest {
  let _codec: Codec<LeaseRequest>

  export const codec = (): Codec<LeaseRequest> => {
    if (_codec == null) {
      _codec = message<LeaseRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if ((obj.maxTasks != null && obj.maxTasks !== 0)) {
          w.uint32(24)
          w.uint32(obj.maxTasks)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          jobId: '',
          maxTasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.maxTasks = reader.uint32()
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
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.maxTasks`,
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

  export interface LeaseRequestRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface LeaseRequestJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface LeaseRequestMaxTasksFieldEvent {
    field: '$.maxTasks'
    value: number
  }

  export function encode (obj: Partial<LeaseRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LeaseRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaseRequest>): LeaseRequest {
    return decodeMessage(buf, LeaseRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaseRequest>): Generator<LeaseRequestRequestIdFieldEvent | LeaseRequestJobIdFieldEvent | LeaseRequestMaxTasksFieldEvent> {
    return streamMessage(buf, LeaseRequest.codec(), opts)
  }
}

export interface TaskGrant {
  taskId: string
  attempt: number
  firstRecord: number
  inputs: Uint8Array<ArrayBuffer>[]
  resumeFrom?: Uint8Array<ArrayBuffer>
  resumeRecord: number
  deadline: number
  leaseMs: number
}

export namespace TaskGrant {
  let _codec: Codec<TaskGrant>

  export const codec = (): Codec<TaskGrant> => {
    if (_codec == null) {
      _codec = message<TaskGrant>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(16)
          w.uint32(obj.attempt)
        }

        if ((obj.firstRecord != null && obj.firstRecord !== 0)) {
          w.uint32(24)
          w.uint32(obj.firstRecord)
        }

        if (obj.inputs != null && obj.inputs.length > 0) {
          for (const value of obj.inputs) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.resumeFrom != null) {
          w.uint32(42)
          w.bytes(obj.resumeFrom)
        }

        if ((obj.resumeRecord != null && obj.resumeRecord !== 0)) {
          w.uint32(48)
          w.uint32(obj.resumeRecord)
        }

        if ((obj.deadline != null && obj.deadline !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.deadline)
        }

        if ((obj.leaseMs != null && obj.leaseMs !== 0)) {
          w.uint32(64)
          w.uint32(obj.leaseMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          attempt: 0,
          firstRecord: 0,
          inputs: [],
          resumeRecord: 0,
          deadline: 0,
          leaseMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.attempt = reader.uint32()
              break
            }
            case 3: {
              obj.firstRecord = reader.uint32()
              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs.length === opts.limits.inputs) {
                throw new MaxLengthError('Decode error - repeated field "inputs" had too many elements')
              }

              obj.inputs.push(reader.bytes())
              break
            }
            case 5: {
              obj.resumeFrom = reader.bytes()
              break
            }
            case 6: {
              obj.resumeRecord = reader.uint32()
              break
            }
            case 7: {
              obj.deadline = reader.uint64Number()
              break
            }
            case 8: {
              obj.leaseMs = reader.uint32()
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
          inputs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.attempt`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.firstRecord`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              if (opts.limits?.inputs != null && obj.inputs === opts.limits.inputs) {
                throw new MaxLengthError('Streaming decode error - repeated field "inputs" had too many elements')
              }

              yield {
                field: `${prefix}.inputs[]`,
                index: obj.inputs,
                value: reader.bytes()
              }

              obj.inputs++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.resumeFrom`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.resumeRecord`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.deadline`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.leaseMs`,
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

  export interface TaskGrantTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface TaskGrantAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface TaskGrantFirstRecordFieldEvent {
    field: '$.firstRecord'
    value: number
  }

  export interface TaskGrantInputsFieldEvent {
    field: '$.inputs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskGrantResumeFromFieldEvent {
    field: '$.resumeFrom'
    value: Uint8Array<ArrayBuffer>
  }

  export interface TaskGrantResumeRecordFieldEvent {
    field: '$.resumeRecord'
    value: number
  }

  export interface TaskGrantDeadlineFieldEvent {
    field: '$.deadline'
    value: number
  }

  export interface TaskGrantLeaseMsFieldEvent {
    field: '$.leaseMs'
    value: number
  }

  export function encode (obj: Partial<TaskGrant>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskGrant.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskGrant>): TaskGrant {
    return decodeMessage(buf, TaskGrant.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskGrant>): Generator<TaskGrantTaskIdFieldEvent | TaskGrantAttemptFieldEvent | TaskGrantFirstRecordFieldEvent | TaskGrantInputsFieldEvent | TaskGrantResumeFromFieldEvent | TaskGrantResumeRecordFieldEvent | TaskGrantDeadlineFieldEvent | TaskGrantLeaseMsFieldEvent> {
    return streamMessage(buf, TaskGrant.codec(), opts)
  }
}

export interface LeaseResponse {
  requestId: number
  status: LeaseResponse.Status
  reason: string
  tasks: TaskGrant[]
  remaining?: number
}

export namespace LeaseResponse {
  export enum Status {
    GRANTED = 'GRANTED',
    NONE_LEFT = 'NONE_LEFT',
    REFUSED = 'REFUSED'
  }

  enum __StatusValues {
    GRANTED = 0,
    NONE_LEFT = 1,
    REFUSED = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<LeaseResponse>

  export const codec = (): Codec<LeaseResponse> => {
    if (_codec == null) {
      _codec = message<LeaseResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(16)
          LeaseResponse.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if (obj.tasks != null && obj.tasks.length > 0) {
          for (const value of obj.tasks) {
            w.uint32(34)
            TaskGrant.codec().encode(value, w)
          }
        }

        if (obj.remaining != null) {
          w.uint32(40)
          w.uint32(obj.remaining)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          status: Status.GRANTED,
          reason: '',
          tasks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              obj.status = LeaseResponse.Status.codec().decode(reader)
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - repeated field "tasks" had too many elements')
              }

              obj.tasks.push(TaskGrant.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks$
              }))
              break
            }
            case 5: {
              obj.remaining = reader.uint32()
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
          tasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.status`,
                value: LeaseResponse.Status.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.tasks != null && obj.tasks === opts.limits.tasks) {
                throw new MaxLengthError('Streaming decode error - repeated field "tasks" had too many elements')
              }

              for (const evt of TaskGrant.codec().stream(reader, reader.uint32(), `${prefix}.tasks[]`, {
                limits: opts.limits?.tasks$
              })) {
                yield {
                  ...evt,
                  index: obj.tasks
                }
              }

              obj.tasks++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.remaining`,
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

  export interface LeaseResponseRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface LeaseResponseStatusFieldEvent {
    field: '$.status'
    value: LeaseResponse.Status
  }

  export interface LeaseResponseReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface LeaseResponseTasksTaskIdFieldEvent {
    field: '$.tasks[].taskId'
    value: string
    index: number
  }

  export interface LeaseResponseTasksAttemptFieldEvent {
    field: '$.tasks[].attempt'
    value: number
    index: number
  }

  export interface LeaseResponseTasksFirstRecordFieldEvent {
    field: '$.tasks[].firstRecord'
    value: number
    index: number
  }

  export interface LeaseResponseTasksInputsFieldEvent {
    field: '$.tasks[].inputs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface LeaseResponseTasksResumeFromFieldEvent {
    field: '$.tasks[].resumeFrom'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface LeaseResponseTasksResumeRecordFieldEvent {
    field: '$.tasks[].resumeRecord'
    value: number
    index: number
  }

  export interface LeaseResponseTasksDeadlineFieldEvent {
    field: '$.tasks[].deadline'
    value: number
    index: number
  }

  export interface LeaseResponseTasksLeaseMsFieldEvent {
    field: '$.tasks[].leaseMs'
    value: number
    index: number
  }

  export interface LeaseResponseRemainingFieldEvent {
    field: '$.remaining'
    value: number
  }

  export function encode (obj: Partial<LeaseResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, LeaseResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaseResponse>): LeaseResponse {
    return decodeMessage(buf, LeaseResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LeaseResponse>): Generator<LeaseResponseRequestIdFieldEvent | LeaseResponseStatusFieldEvent | LeaseResponseReasonFieldEvent | LeaseResponseTasksTaskIdFieldEvent | LeaseResponseTasksAttemptFieldEvent | LeaseResponseTasksFirstRecordFieldEvent | LeaseResponseTasksInputsFieldEvent | LeaseResponseTasksResumeFromFieldEvent | LeaseResponseTasksResumeRecordFieldEvent | LeaseResponseTasksDeadlineFieldEvent | LeaseResponseTasksLeaseMsFieldEvent | LeaseResponseRemainingFieldEvent> {
    return streamMessage(buf, LeaseResponse.codec(), opts)
  }
}

export interface Progress {
  taskId: string
  attempt: number
  fraction: number
}

export namespace Progress {
  let _codec: Codec<Progress>

  export const codec = (): Codec<Progress> => {
    if (_codec == null) {
      _codec = message<Progress>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(16)
          w.uint32(obj.attempt)
        }

        if ((obj.fraction != null && obj.fraction !== 0)) {
          w.uint32(29)
          w.float(obj.fraction)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          attempt: 0,
          fraction: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.attempt = reader.uint32()
              break
            }
            case 3: {
              obj.fraction = reader.float()
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
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.attempt`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.fraction`,
                value: reader.float()
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

  export interface ProgressTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface ProgressAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface ProgressFractionFieldEvent {
    field: '$.fraction'
    value: number
  }

  export function encode (obj: Partial<Progress>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Progress.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Progress>): Progress {
    return decodeMessage(buf, Progress.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Progress>): Generator<ProgressTaskIdFieldEvent | ProgressAttemptFieldEvent | ProgressFractionFieldEvent> {
    return streamMessage(buf, Progress.codec(), opts)
  }
}

export interface Checkpoint {
  taskId: string
  attempt: number
  record: number
  state: Uint8Array<ArrayBuffer>
}

export namespace Checkpoint {
  let _codec: Codec<Checkpoint>

  export const codec = (): Codec<Checkpoint> => {
    if (_codec == null) {
      _codec = message<Checkpoint>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(16)
          w.uint32(obj.attempt)
        }

        if ((obj.record != null && obj.record !== 0)) {
          w.uint32(24)
          w.uint32(obj.record)
        }

        if ((obj.state != null && obj.state.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.state)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          attempt: 0,
          record: 0,
          state: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.attempt = reader.uint32()
              break
            }
            case 3: {
              obj.record = reader.uint32()
              break
            }
            case 4: {
              obj.state = reader.bytes()
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
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.attempt`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.record`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.state`,
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

  export interface CheckpointTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface CheckpointAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface CheckpointRecordFieldEvent {
    field: '$.record'
    value: number
  }

  export interface CheckpointStateFieldEvent {
    field: '$.state'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Checkpoint>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Checkpoint.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Checkpoint>): Checkpoint {
    return decodeMessage(buf, Checkpoint.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Checkpoint>): Generator<CheckpointTaskIdFieldEvent | CheckpointAttemptFieldEvent | CheckpointRecordFieldEvent | CheckpointStateFieldEvent> {
    return streamMessage(buf, Checkpoint.codec(), opts)
  }
}

export interface TaskError {
  name: string
  message: string
  kind: TaskError.Kind
  retryable: boolean
}

export namespace TaskError {
  export enum Kind {
    TASK = 'TASK',
    LIMIT = 'LIMIT',
    RUNNER_LOST = 'RUNNER_LOST',
    CANCELLED = 'CANCELLED'
  }

  enum __KindValues {
    TASK = 0,
    LIMIT = 1,
    RUNNER_LOST = 2,
    CANCELLED = 3
  }

  export namespace Kind {
    export const codec = (): Codec<Kind> => {
      return enumeration<Kind>(__KindValues)
    }
  }

  let _codec: Codec<TaskError>

  export const codec = (): Codec<TaskError> => {
    if (_codec == null) {
      _codec = message<TaskError>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(10)
          w.string(obj.name)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (obj.kind != null && __KindValues[obj.kind] !== 0) {
          w.uint32(24)
          TaskError.Kind.codec().encode(obj.kind, w)
        }

        if ((obj.retryable != null && obj.retryable !== false)) {
          w.uint32(32)
          w.bool(obj.retryable)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          name: '',
          message: '',
          kind: Kind.TASK,
          retryable: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.name = reader.string()
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            case 3: {
              obj.kind = TaskError.Kind.codec().decode(reader)
              break
            }
            case 4: {
              obj.retryable = reader.bool()
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
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.kind`,
                value: TaskError.Kind.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.retryable`,
                value: reader.bool()
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

  export interface TaskErrorNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface TaskErrorMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface TaskErrorKindFieldEvent {
    field: '$.kind'
    value: TaskError.Kind
  }

  export interface TaskErrorRetryableFieldEvent {
    field: '$.retryable'
    value: boolean
  }

  export function encode (obj: Partial<TaskError>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskError.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskError>): TaskError {
    return decodeMessage(buf, TaskError.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskError>): Generator<TaskErrorNameFieldEvent | TaskErrorMessageFieldEvent | TaskErrorKindFieldEvent | TaskErrorRetryableFieldEvent> {
    return streamMessage(buf, TaskError.codec(), opts)
  }
}

export interface RecordOutcome {
  value?: Uint8Array<ArrayBuffer>
  error?: TaskError
}

export namespace RecordOutcome {
  let _codec: Codec<RecordOutcome>

  export const codec = (): Codec<RecordOutcome> => {
    if (_codec == null) {
      _codec = message<RecordOutcome>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.value != null) {
          w.uint32(10)
          w.bytes(obj.value)
        }

        if (obj.error != null) {
          w.uint32(18)
          TaskError.codec().encode(obj.error, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.value = reader.bytes()
              break
            }
            case 2: {
              obj.error = TaskError.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.error
              })
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
                field: `${prefix}.value`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * TaskError.codec().stream(reader, reader.uint32(), `${prefix}.error`, {
                limits: opts.limits?.error
              })

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

  export interface RecordOutcomeValueFieldEvent {
    field: '$.value'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RecordOutcomeErrorNameFieldEvent {
    field: '$.error.name'
    value: string
  }

  export interface RecordOutcomeErrorMessageFieldEvent {
    field: '$.error.message'
    value: string
  }

  export interface RecordOutcomeErrorKindFieldEvent {
    field: '$.error.kind'
    value: TaskError.Kind
  }

  export interface RecordOutcomeErrorRetryableFieldEvent {
    field: '$.error.retryable'
    value: boolean
  }

  export function encode (obj: Partial<RecordOutcome>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RecordOutcome.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RecordOutcome>): RecordOutcome {
    return decodeMessage(buf, RecordOutcome.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RecordOutcome>): Generator<RecordOutcomeValueFieldEvent | RecordOutcomeErrorNameFieldEvent | RecordOutcomeErrorMessageFieldEvent | RecordOutcomeErrorKindFieldEvent | RecordOutcomeErrorRetryableFieldEvent> {
    return streamMessage(buf, RecordOutcome.codec(), opts)
  }
}

export interface Result {
  requestId: number
  taskId: string
  attempt: number
  records: RecordOutcome[]
  cpuMs: number
  wallMs: number
}

export namespace Result {
  let _codec: Codec<Result>

  export const codec = (): Codec<Result> => {
    if (_codec == null) {
      _codec = message<Result>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(18)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(24)
          w.uint32(obj.attempt)
        }

        if (obj.records != null && obj.records.length > 0) {
          for (const value of obj.records) {
            w.uint32(34)
            RecordOutcome.codec().encode(value, w)
          }
        }

        if ((obj.cpuMs != null && obj.cpuMs !== 0)) {
          w.uint32(40)
          w.uint32(obj.cpuMs)
        }

        if ((obj.wallMs != null && obj.wallMs !== 0)) {
          w.uint32(48)
          w.uint32(obj.wallMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          taskId: '',
          attempt: 0,
          records: [],
          cpuMs: 0,
          wallMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              obj.taskId = reader.string()
              break
            }
            case 3: {
              obj.attempt = reader.uint32()
              break
            }
            case 4: {
              if (opts.limits?.records != null && obj.records.length === opts.limits.records) {
                throw new MaxLengthError('Decode error - repeated field "records" had too many elements')
              }

              obj.records.push(RecordOutcome.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.records$
              }))
              break
            }
            case 5: {
              obj.cpuMs = reader.uint32()
              break
            }
            case 6: {
              obj.wallMs = reader.uint32()
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
          records: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.attempt`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              if (opts.limits?.records != null && obj.records === opts.limits.records) {
                throw new MaxLengthError('Streaming decode error - repeated field "records" had too many elements')
              }

              for (const evt of RecordOutcome.codec().stream(reader, reader.uint32(), `${prefix}.records[]`, {
                limits: opts.limits?.records$
              })) {
                yield {
                  ...evt,
                  index: obj.records
                }
              }

              obj.records++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.cpuMs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.wallMs`,
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

  export interface ResultRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface ResultTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface ResultAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export interface ResultRecordsValueFieldEvent {
    field: '$.records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResultRecordsErrorNameFieldEvent {
    field: '$.records[].error.name'
    value: string
    index: number
  }

  export interface ResultRecordsErrorMessageFieldEvent {
    field: '$.records[].error.message'
    value: string
    index: number
  }

  export interface ResultRecordsErrorKindFieldEvent {
    field: '$.records[].error.kind'
    value: TaskError.Kind
    index: number
  }

  export interface ResultRecordsErrorRetryableFieldEvent {
    field: '$.records[].error.retryable'
    value: boolean
    index: number
  }

  export interface ResultCpuMsFieldEvent {
    field: '$.cpuMs'
    value: number
  }

  export interface ResultWallMsFieldEvent {
    field: '$.wallMs'
    value: number
  }

  export function encode (obj: Partial<Result>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Result.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Result {
    return decodeMessage(buf, Result.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Generator<ResultRequestIdFieldEvent | ResultTaskIdFieldEvent | ResultAttemptFieldEvent | ResultRecordsValueFieldEvent | ResultRecordsErrorNameFieldEvent | ResultRecordsErrorMessageFieldEvent | ResultRecordsErrorKindFieldEvent | ResultRecordsErrorRetryableFieldEvent | ResultCpuMsFieldEvent | ResultWallMsFieldEvent> {
    return streamMessage(buf, Result.codec(), opts)
  }
}

export interface ResultAck {
  requestId: number
  status: ResultAck.Status
  reason: string
}

export namespace ResultAck {
  export enum Status {
    ACCEPTED = 'ACCEPTED',
    DUPLICATE = 'DUPLICATE',
    REFUSED = 'REFUSED'
  }

  enum __StatusValues {
    ACCEPTED = 0,
    DUPLICATE = 1,
    REFUSED = 2
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<ResultAck>

  export const codec = (): Codec<ResultAck> => {
    if (_codec == null) {
      _codec = message<ResultAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(16)
          ResultAck.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          status: Status.ACCEPTED,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              obj.status = ResultAck.Status.codec().decode(reader)
              break
            }
            case 3: {
              obj.reason = reader.string()
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
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.status`,
                value: ResultAck.Status.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
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

  export interface ResultAckRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface ResultAckStatusFieldEvent {
    field: '$.status'
    value: ResultAck.Status
  }

  export interface ResultAckReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<ResultAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAck>): ResultAck {
    return decodeMessage(buf, ResultAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAck>): Generator<ResultAckRequestIdFieldEvent | ResultAckStatusFieldEvent | ResultAckReasonFieldEvent> {
    return streamMessage(buf, ResultAck.codec(), opts)
  }
}

export interface Receipts {
  receipts: Uint8Array<ArrayBuffer>[]
}

export namespace Receipts {
  let _codec: Codec<Receipts>

  export const codec = (): Codec<Receipts> => {
    if (_codec == null) {
      _codec = message<Receipts>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.receipts != null && obj.receipts.length > 0) {
          for (const value of obj.receipts) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          receipts: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.receipts != null && obj.receipts.length === opts.limits.receipts) {
                throw new MaxLengthError('Decode error - repeated field "receipts" had too many elements')
              }

              obj.receipts.push(reader.bytes())
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
          receipts: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.receipts != null && obj.receipts === opts.limits.receipts) {
                throw new MaxLengthError('Streaming decode error - repeated field "receipts" had too many elements')
              }

              yield {
                field: `${prefix}.receipts[]`,
                index: obj.receipts,
                value: reader.bytes()
              }

              obj.receipts++

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

  export interface ReceiptsReceiptsFieldEvent {
    field: '$.receipts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Receipts>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipts.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipts>): Receipts {
    return decodeMessage(buf, Receipts.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipts>): Generator<ReceiptsReceiptsFieldEvent> {
    return streamMessage(buf, Receipts.codec(), opts)
  }
}

export interface ReceiptStatus {
  hash: string
  status: ReceiptStatus.Status
  reason: string
}

export namespace ReceiptStatus {
  export enum Status {
    ACCEPTED = 'ACCEPTED',
    DUPLICATE = 'DUPLICATE',
    REFUSED = 'REFUSED',
    FORK = 'FORK'
  }

  enum __StatusValues {
    ACCEPTED = 0,
    DUPLICATE = 1,
    REFUSED = 2,
    FORK = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<ReceiptStatus>

  export const codec = (): Codec<ReceiptStatus> => {
    if (_codec == null) {
      _codec = message<ReceiptStatus>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.hash != null && obj.hash !== '')) {
          w.uint32(10)
          w.string(obj.hash)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(16)
          ReceiptStatus.Status.codec().encode(obj.status, w)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          hash: '',
          status: Status.ACCEPTED,
          reason: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.hash = reader.string()
              break
            }
            case 2: {
              obj.status = ReceiptStatus.Status.codec().decode(reader)
              break
            }
            case 3: {
              obj.reason = reader.string()
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
                field: `${prefix}.hash`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.status`,
                value: ReceiptStatus.Status.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
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

  export interface ReceiptStatusHashFieldEvent {
    field: '$.hash'
    value: string
  }

  export interface ReceiptStatusStatusFieldEvent {
    field: '$.status'
    value: ReceiptStatus.Status
  }

  export interface ReceiptStatusReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<ReceiptStatus>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReceiptStatus.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptStatus>): ReceiptStatus {
    return decodeMessage(buf, ReceiptStatus.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptStatus>): Generator<ReceiptStatusHashFieldEvent | ReceiptStatusStatusFieldEvent | ReceiptStatusReasonFieldEvent> {
    return streamMessage(buf, ReceiptStatus.codec(), opts)
  }
}

export interface ReceiptAck {
  statuses: ReceiptStatus[]
}

export namespace ReceiptAck {
  let _codec: Codec<ReceiptAck>

  export const codec = (): Codec<ReceiptAck> => {
    if (_codec == null) {
      _codec = message<ReceiptAck>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.statuses != null && obj.statuses.length > 0) {
          for (const value of obj.statuses) {
            w.uint32(10)
            ReceiptStatus.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          statuses: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.statuses != null && obj.statuses.length === opts.limits.statuses) {
                throw new MaxLengthError('Decode error - repeated field "statuses" had too many elements')
              }

              obj.statuses.push(ReceiptStatus.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.statuses$
              }))
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
          statuses: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.statuses != null && obj.statuses === opts.limits.statuses) {
                throw new MaxLengthError('Streaming decode error - repeated field "statuses" had too many elements')
              }

              for (const evt of ReceiptStatus.codec().stream(reader, reader.uint32(), `${prefix}.statuses[]`, {
                limits: opts.limits?.statuses$
              })) {
                yield {
                  ...evt,
                  index: obj.statuses
                }
              }

              obj.statuses++

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

  export interface ReceiptAckStatusesHashFieldEvent {
    field: '$.statuses[].hash'
    value: string
    index: number
  }

  export interface ReceiptAckStatusesStatusFieldEvent {
    field: '$.statuses[].status'
    value: ReceiptStatus.Status
    index: number
  }

  export interface ReceiptAckStatusesReasonFieldEvent {
    field: '$.statuses[].reason'
    value: string
    index: number
  }

  export function encode (obj: Partial<ReceiptAck>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ReceiptAck.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptAck>): ReceiptAck {
    return decodeMessage(buf, ReceiptAck.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptAck>): Generator<ReceiptAckStatusesHashFieldEvent | ReceiptAckStatusesStatusFieldEvent | ReceiptAckStatusesReasonFieldEvent> {
    return streamMessage(buf, ReceiptAck.codec(), opts)
  }
}

export interface Results {
  requestId: number
  results: Result[]
}

export namespace Results {
  let _codec: Codec<Results>

  export const codec = (): Codec<Results> => {
    if (_codec == null) {
      _codec = message<Results>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if (obj.results != null && obj.results.length > 0) {
          for (const value of obj.results) {
            w.uint32(18)
            Result.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          results: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              obj.results.push(Result.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.results$
              }))
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
          results: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              if (opts.limits?.results != null && obj.results === opts.limits.results) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              for (const evt of Result.codec().stream(reader, reader.uint32(), `${prefix}.results[]`, {
                limits: opts.limits?.results$
              })) {
                yield {
                  ...evt,
                  index: obj.results
                }
              }

              obj.results++

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

  export interface ResultsRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface ResultsResultsRequestIdFieldEvent {
    field: '$.results[].requestId'
    value: number
    index: number
  }

  export interface ResultsResultsTaskIdFieldEvent {
    field: '$.results[].taskId'
    value: string
    index: number
  }

  export interface ResultsResultsAttemptFieldEvent {
    field: '$.results[].attempt'
    value: number
    index: number
  }

  export interface ResultsResultsRecordsValueFieldEvent {
    field: '$.results[].records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface ResultsResultsRecordsErrorNameFieldEvent {
    field: '$.results[].records[].error.name'
    value: string
    index: number
  }

  export interface ResultsResultsRecordsErrorMessageFieldEvent {
    field: '$.results[].records[].error.message'
    value: string
    index: number
  }

  export interface ResultsResultsRecordsErrorKindFieldEvent {
    field: '$.results[].records[].error.kind'
    value: TaskError.Kind
    index: number
  }

  export interface ResultsResultsRecordsErrorRetryableFieldEvent {
    field: '$.results[].records[].error.retryable'
    value: boolean
    index: number
  }

  export interface ResultsResultsCpuMsFieldEvent {
    field: '$.results[].cpuMs'
    value: number
    index: number
  }

  export interface ResultsResultsWallMsFieldEvent {
    field: '$.results[].wallMs'
    value: number
    index: number
  }

  export function encode (obj: Partial<Results>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Results.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Results>): Results {
    return decodeMessage(buf, Results.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Results>): Generator<ResultsRequestIdFieldEvent | ResultsResultsRequestIdFieldEvent | ResultsResultsTaskIdFieldEvent | ResultsResultsAttemptFieldEvent | ResultsResultsRecordsValueFieldEvent | ResultsResultsRecordsErrorNameFieldEvent | ResultsResultsRecordsErrorMessageFieldEvent | ResultsResultsRecordsErrorKindFieldEvent | ResultsResultsRecordsErrorRetryableFieldEvent | ResultsResultsCpuMsFieldEvent | ResultsResultsWallMsFieldEvent> {
    return streamMessage(buf, Results.codec(), opts)
  }
}

export interface ResultAcks {
  requestId: number
  acks: ResultAck[]
}

export namespace ResultAcks {
  let _codec: Codec<ResultAcks>

  export const codec = (): Codec<ResultAcks> => {
    if (_codec == null) {
      _codec = message<ResultAcks>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.requestId != null && obj.requestId !== 0)) {
          w.uint32(8)
          w.uint32(obj.requestId)
        }

        if (obj.acks != null && obj.acks.length > 0) {
          for (const value of obj.acks) {
            w.uint32(18)
            ResultAck.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          requestId: 0,
          acks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.requestId = reader.uint32()
              break
            }
            case 2: {
              if (opts.limits?.acks != null && obj.acks.length === opts.limits.acks) {
                throw new MaxLengthError('Decode error - repeated field "acks" had too many elements')
              }

              obj.acks.push(ResultAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.acks$
              }))
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
          acks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.requestId`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              if (opts.limits?.acks != null && obj.acks === opts.limits.acks) {
                throw new MaxLengthError('Streaming decode error - repeated field "acks" had too many elements')
              }

              for (const evt of ResultAck.codec().stream(reader, reader.uint32(), `${prefix}.acks[]`, {
                limits: opts.limits?.acks$
              })) {
                yield {
                  ...evt,
                  index: obj.acks
                }
              }

              obj.acks++

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

  export interface ResultAcksRequestIdFieldEvent {
    field: '$.requestId'
    value: number
  }

  export interface ResultAcksAcksRequestIdFieldEvent {
    field: '$.acks[].requestId'
    value: number
    index: number
  }

  export interface ResultAcksAcksStatusFieldEvent {
    field: '$.acks[].status'
    value: ResultAck.Status
    index: number
  }

  export interface ResultAcksAcksReasonFieldEvent {
    field: '$.acks[].reason'
    value: string
    index: number
  }

  export function encode (obj: Partial<ResultAcks>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ResultAcks.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAcks>): ResultAcks {
    return decodeMessage(buf, ResultAcks.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ResultAcks>): Generator<ResultAcksRequestIdFieldEvent | ResultAcksAcksRequestIdFieldEvent | ResultAcksAcksStatusFieldEvent | ResultAcksAcksReasonFieldEvent> {
    return streamMessage(buf, ResultAcks.codec(), opts)
  }
}

export interface TaskRef {
  taskId: string
  attempt: number
}

export namespace TaskRef {
  let _codec: Codec<TaskRef>

  export const codec = (): Codec<TaskRef> => {
    if (_codec == null) {
      _codec = message<TaskRef>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(10)
          w.string(obj.taskId)
        }

        if ((obj.attempt != null && obj.attempt !== 0)) {
          w.uint32(16)
          w.uint32(obj.attempt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          taskId: '',
          attempt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.taskId = reader.string()
              break
            }
            case 2: {
              obj.attempt = reader.uint32()
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
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.attempt`,
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

  export interface TaskRefTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface TaskRefAttemptFieldEvent {
    field: '$.attempt'
    value: number
  }

  export function encode (obj: Partial<TaskRef>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, TaskRef.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskRef>): TaskRef {
    return decodeMessage(buf, TaskRef.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<TaskRef>): Generator<TaskRefTaskIdFieldEvent | TaskRefAttemptFieldEvent> {
    return streamMessage(buf, TaskRef.codec(), opts)
  }
}

export interface Release {
  tasks: TaskRef[]
}

export namespace Release {
  let _codec: Codec<Release>

  export const codec = (): Codec<Release> => {
    if (_codec == null) {
      _codec = message<Release>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.tasks != null && obj.tasks.length > 0) {
          for (const value of obj.tasks) {
            w.uint32(10)
            TaskRef.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tasks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - repeated field "tasks" had too many elements')
              }

              obj.tasks.push(TaskRef.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks$
              }))
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
          tasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.tasks != null && obj.tasks === opts.limits.tasks) {
                throw new MaxLengthError('Streaming decode error - repeated field "tasks" had too many elements')
              }

              for (const evt of TaskRef.codec().stream(reader, reader.uint32(), `${prefix}.tasks[]`, {
                limits: opts.limits?.tasks$
              })) {
                yield {
                  ...evt,
                  index: obj.tasks
                }
              }

              obj.tasks++

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

  export interface ReleaseTasksTaskIdFieldEvent {
    field: '$.tasks[].taskId'
    value: string
    index: number
  }

  export interface ReleaseTasksAttemptFieldEvent {
    field: '$.tasks[].attempt'
    value: number
    index: number
  }

  export function encode (obj: Partial<Release>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Release.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Release>): Release {
    return decodeMessage(buf, Release.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Release>): Generator<ReleaseTasksTaskIdFieldEvent | ReleaseTasksAttemptFieldEvent> {
    return streamMessage(buf, Release.codec(), opts)
  }
}

export interface Ready {
  maxTasks: number
  cores: number
}

export namespace Ready {
  let _codec: Codec<Ready>

  export const codec = (): Codec<Ready> => {
    if (_codec == null) {
      _codec = message<Ready>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.maxTasks != null && obj.maxTasks !== 0)) {
          w.uint32(8)
          w.uint32(obj.maxTasks)
        }

        if ((obj.cores != null && obj.cores !== 0)) {
          w.uint32(16)
          w.uint32(obj.cores)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          maxTasks: 0,
          cores: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.maxTasks = reader.uint32()
              break
            }
            case 2: {
              obj.cores = reader.uint32()
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
                field: `${prefix}.maxTasks`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cores`,
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

  export interface ReadyMaxTasksFieldEvent {
    field: '$.maxTasks'
    value: number
  }

  export interface ReadyCoresFieldEvent {
    field: '$.cores'
    value: number
  }

  export function encode (obj: Partial<Ready>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ready.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ready>): Ready {
    return decodeMessage(buf, Ready.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ready>): Generator<ReadyMaxTasksFieldEvent | ReadyCoresFieldEvent> {
    return streamMessage(buf, Ready.codec(), opts)
  }
}

export interface Offer {
  work?: Announce
  tasks: TaskGrant[]
  remaining?: number
}

export namespace Offer {
  let _codec: Codec<Offer>

  export const codec = (): Codec<Offer> => {
    if (_codec == null) {
      _codec = message<Offer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.work != null) {
          w.uint32(10)
          Announce.codec().encode(obj.work, w)
        }

        if (obj.tasks != null && obj.tasks.length > 0) {
          for (const value of obj.tasks) {
            w.uint32(18)
            TaskGrant.codec().encode(value, w)
          }
        }

        if (obj.remaining != null) {
          w.uint32(24)
          w.uint32(obj.remaining)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          tasks: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.work = Announce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.work
              })
              break
            }
            case 2: {
              if (opts.limits?.tasks != null && obj.tasks.length === opts.limits.tasks) {
                throw new MaxLengthError('Decode error - repeated field "tasks" had too many elements')
              }

              obj.tasks.push(TaskGrant.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.tasks$
              }))
              break
            }
            case 3: {
              obj.remaining = reader.uint32()
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
          tasks: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * Announce.codec().stream(reader, reader.uint32(), `${prefix}.work`, {
                limits: opts.limits?.work
              })

              break
            }
            case 2: {
              if (opts.limits?.tasks != null && obj.tasks === opts.limits.tasks) {
                throw new MaxLengthError('Streaming decode error - repeated field "tasks" had too many elements')
              }

              for (const evt of TaskGrant.codec().stream(reader, reader.uint32(), `${prefix}.tasks[]`, {
                limits: opts.limits?.tasks$
              })) {
                yield {
                  ...evt,
                  index: obj.tasks
                }
              }

              obj.tasks++

              break
            }
            case 3: {
              yield {
                field: `${prefix}.remaining`,
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

  export interface OfferWorkJobIdFieldEvent {
    field: '$.work.jobId'
    value: string
  }

  export interface OfferWorkBundleIdFieldEvent {
    field: '$.work.bundleId'
    value: string
  }

  export interface OfferWorkRequirementsCoresFieldEvent {
    field: '$.work.requirements.cores'
    value: number
  }

  export interface OfferWorkRequirementsMemoryMbFieldEvent {
    field: '$.work.requirements.memoryMb'
    value: number
  }

  export interface OfferWorkRequirementsTimeoutMsFieldEvent {
    field: '$.work.requirements.timeoutMs'
    value: number
  }

  export interface OfferWorkRequirementsGpuFieldEvent {
    field: '$.work.requirements.gpu'
    value: boolean
  }

  export interface OfferWorkRequirementsDeterministicFieldEvent {
    field: '$.work.requirements.deterministic'
    value: boolean
  }

  export interface OfferWorkPendingTasksFieldEvent {
    field: '$.work.pendingTasks'
    value: number
  }

  export interface OfferTasksTaskIdFieldEvent {
    field: '$.tasks[].taskId'
    value: string
    index: number
  }

  export interface OfferTasksAttemptFieldEvent {
    field: '$.tasks[].attempt'
    value: number
    index: number
  }

  export interface OfferTasksFirstRecordFieldEvent {
    field: '$.tasks[].firstRecord'
    value: number
    index: number
  }

  export interface OfferTasksInputsFieldEvent {
    field: '$.tasks[].inputs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface OfferTasksResumeFromFieldEvent {
    field: '$.tasks[].resumeFrom'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface OfferTasksResumeRecordFieldEvent {
    field: '$.tasks[].resumeRecord'
    value: number
    index: number
  }

  export interface OfferTasksDeadlineFieldEvent {
    field: '$.tasks[].deadline'
    value: number
    index: number
  }

  export interface OfferTasksLeaseMsFieldEvent {
    field: '$.tasks[].leaseMs'
    value: number
    index: number
  }

  export interface OfferRemainingFieldEvent {
    field: '$.remaining'
    value: number
  }

  export function encode (obj: Partial<Offer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Offer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Offer>): Offer {
    return decodeMessage(buf, Offer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Offer>): Generator<OfferWorkJobIdFieldEvent | OfferWorkBundleIdFieldEvent | OfferWorkRequirementsCoresFieldEvent | OfferWorkRequirementsMemoryMbFieldEvent | OfferWorkRequirementsTimeoutMsFieldEvent | OfferWorkRequirementsGpuFieldEvent | OfferWorkRequirementsDeterministicFieldEvent | OfferWorkPendingTasksFieldEvent | OfferTasksTaskIdFieldEvent | OfferTasksAttemptFieldEvent | OfferTasksFirstRecordFieldEvent | OfferTasksInputsFieldEvent | OfferTasksResumeFromFieldEvent | OfferTasksResumeRecordFieldEvent | OfferTasksDeadlineFieldEvent | OfferTasksLeaseMsFieldEvent | OfferRemainingFieldEvent> {
    return streamMessage(buf, Offer.codec(), opts)
  }
}

export interface WorkerMessage {
  lease?: LeaseRequest
  progress?: Progress
  checkpoint?: Checkpoint
  result?: Result
  receiptAck?: ReceiptAck
  results?: Results
  release?: Release
  ready?: Ready
}

export namespace WorkerMessage {
  let _codec: Codec<WorkerMessage>

  export const codec = (): Codec<WorkerMessage> => {
    if (_codec == null) {
      _codec = message<WorkerMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.lease != null) {
          w.uint32(10)
          LeaseRequest.codec().encode(obj.lease, w)
        }

        if (obj.progress != null) {
          w.uint32(18)
          Progress.codec().encode(obj.progress, w)
        }

        if (obj.checkpoint != null) {
          w.uint32(26)
          Checkpoint.codec().encode(obj.checkpoint, w)
        }

        if (obj.result != null) {
          w.uint32(34)
          Result.codec().encode(obj.result, w)
        }

        if (obj.receiptAck != null) {
          w.uint32(42)
          ReceiptAck.codec().encode(obj.receiptAck, w)
        }

        if (obj.results != null) {
          w.uint32(50)
          Results.codec().encode(obj.results, w)
        }

        if (obj.release != null) {
          w.uint32(58)
          Release.codec().encode(obj.release, w)
        }

        if (obj.ready != null) {
          w.uint32(66)
          Ready.codec().encode(obj.ready, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.lease = LeaseRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.lease
              })
              break
            }
            case 2: {
              obj.progress = Progress.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.progress
              })
              break
            }
            case 3: {
              obj.checkpoint = Checkpoint.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.checkpoint
              })
              break
            }
            case 4: {
              obj.result = Result.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.result
              })
              break
            }
            case 5: {
              obj.receiptAck = ReceiptAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.receiptAck
              })
              break
            }
            case 6: {
              obj.results = Results.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.results
              })
              break
            }
            case 7: {
              obj.release = Release.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.release
              })
              break
            }
            case 8: {
              obj.ready = Ready.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ready
              })
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
              yield * LeaseRequest.codec().stream(reader, reader.uint32(), `${prefix}.lease`, {
                limits: opts.limits?.lease
              })

              break
            }
            case 2: {
              yield * Progress.codec().stream(reader, reader.uint32(), `${prefix}.progress`, {
                limits: opts.limits?.progress
              })

              break
            }
            case 3: {
              yield * Checkpoint.codec().stream(reader, reader.uint32(), `${prefix}.checkpoint`, {
                limits: opts.limits?.checkpoint
              })

              break
            }
            case 4: {
              yield * Result.codec().stream(reader, reader.uint32(), `${prefix}.result`, {
                limits: opts.limits?.result
              })

              break
            }
            case 5: {
              yield * ReceiptAck.codec().stream(reader, reader.uint32(), `${prefix}.receiptAck`, {
                limits: opts.limits?.receiptAck
              })

              break
            }
            case 6: {
              yield * Results.codec().stream(reader, reader.uint32(), `${prefix}.results`, {
                limits: opts.limits?.results
              })

              break
            }
            case 7: {
              yield * Release.codec().stream(reader, reader.uint32(), `${prefix}.release`, {
                limits: opts.limits?.release
              })

              break
            }
            case 8: {
              yield * Ready.codec().stream(reader, reader.uint32(), `${prefix}.ready`, {
                limits: opts.limits?.ready
              })

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

  export interface WorkerMessageLeaseRequestIdFieldEvent {
    field: '$.lease.requestId'
    value: number
  }

  export interface WorkerMessageLeaseJobIdFieldEvent {
    field: '$.lease.jobId'
    value: string
  }

  export interface WorkerMessageLeaseMaxTasksFieldEvent {
    field: '$.lease.maxTasks'
    value: number
  }

  export interface WorkerMessageProgressTaskIdFieldEvent {
    field: '$.progress.taskId'
    value: string
  }

  export interface WorkerMessageProgressAttemptFieldEvent {
    field: '$.progress.attempt'
    value: number
  }

  export interface WorkerMessageProgressFractionFieldEvent {
    field: '$.progress.fraction'
    value: number
  }

  export interface WorkerMessageCheckpointTaskIdFieldEvent {
    field: '$.checkpoint.taskId'
    value: string
  }

  export interface WorkerMessageCheckpointAttemptFieldEvent {
    field: '$.checkpoint.attempt'
    value: number
  }

  export interface WorkerMessageCheckpointRecordFieldEvent {
    field: '$.checkpoint.record'
    value: number
  }

  export interface WorkerMessageCheckpointStateFieldEvent {
    field: '$.checkpoint.state'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WorkerMessageResultRequestIdFieldEvent {
    field: '$.result.requestId'
    value: number
  }

  export interface WorkerMessageResultTaskIdFieldEvent {
    field: '$.result.taskId'
    value: string
  }

  export interface WorkerMessageResultAttemptFieldEvent {
    field: '$.result.attempt'
    value: number
  }

  export interface WorkerMessageResultRecordsValueFieldEvent {
    field: '$.result.records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WorkerMessageResultRecordsErrorNameFieldEvent {
    field: '$.result.records[].error.name'
    value: string
    index: number
  }

  export interface WorkerMessageResultRecordsErrorMessageFieldEvent {
    field: '$.result.records[].error.message'
    value: string
    index: number
  }

  export interface WorkerMessageResultRecordsErrorKindFieldEvent {
    field: '$.result.records[].error.kind'
    value: TaskError.Kind
    index: number
  }

  export interface WorkerMessageResultRecordsErrorRetryableFieldEvent {
    field: '$.result.records[].error.retryable'
    value: boolean
    index: number
  }

  export interface WorkerMessageResultCpuMsFieldEvent {
    field: '$.result.cpuMs'
    value: number
  }

  export interface WorkerMessageResultWallMsFieldEvent {
    field: '$.result.wallMs'
    value: number
  }

  export interface WorkerMessageReceiptAckStatusesHashFieldEvent {
    field: '$.receiptAck.statuses[].hash'
    value: string
    index: number
  }

  export interface WorkerMessageReceiptAckStatusesStatusFieldEvent {
    field: '$.receiptAck.statuses[].status'
    value: ReceiptStatus.Status
    index: number
  }

  export interface WorkerMessageReceiptAckStatusesReasonFieldEvent {
    field: '$.receiptAck.statuses[].reason'
    value: string
    index: number
  }

  export interface WorkerMessageResultsRequestIdFieldEvent {
    field: '$.results.requestId'
    value: number
  }

  export interface WorkerMessageResultsResultsRequestIdFieldEvent {
    field: '$.results.results[].requestId'
    value: number
    index: number
  }

  export interface WorkerMessageResultsResultsTaskIdFieldEvent {
    field: '$.results.results[].taskId'
    value: string
    index: number
  }

  export interface WorkerMessageResultsResultsAttemptFieldEvent {
    field: '$.results.results[].attempt'
    value: number
    index: number
  }

  export interface WorkerMessageResultsResultsRecordsValueFieldEvent {
    field: '$.results.results[].records[].value'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface WorkerMessageResultsResultsRecordsErrorNameFieldEvent {
    field: '$.results.results[].records[].error.name'
    value: string
    index: number
  }

  export interface WorkerMessageResultsResultsRecordsErrorMessageFieldEvent {
    field: '$.results.results[].records[].error.message'
    value: string
    index: number
  }

  export interface WorkerMessageResultsResultsRecordsErrorKindFieldEvent {
    field: '$.results.results[].records[].error.kind'
    value: TaskError.Kind
    index: number
  }

  export interface WorkerMessageResultsResultsRecordsErrorRetryableFieldEvent {
    field: '$.results.results[].records[].error.retryable'
    value: boolean
    index: number
  }

  export interface WorkerMessageResultsResultsCpuMsFieldEvent {
    field: '$.results.results[].cpuMs'
    value: number
    index: number
  }

  export interface WorkerMessageResultsResultsWallMsFieldEvent {
    field: '$.results.results[].wallMs'
    value: number
    index: number
  }

  export interface WorkerMessageReleaseTasksTaskIdFieldEvent {
    field: '$.release.tasks[].taskId'
    value: string
    index: number
  }

  export interface WorkerMessageReleaseTasksAttemptFieldEvent {
    field: '$.release.tasks[].attempt'
    value: number
    index: number
  }

  export interface WorkerMessageReadyMaxTasksFieldEvent {
    field: '$.ready.maxTasks'
    value: number
  }

  export interface WorkerMessageReadyCoresFieldEvent {
    field: '$.ready.cores'
    value: number
  }

  export function encode (obj: Partial<WorkerMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, WorkerMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerMessage>): WorkerMessage {
    return decodeMessage(buf, WorkerMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkerMessage>): Generator<WorkerMessageLeaseRequestIdFieldEvent | WorkerMessageLeaseJobIdFieldEvent | WorkerMessageLeaseMaxTasksFieldEvent | WorkerMessageProgressTaskIdFieldEvent | WorkerMessageProgressAttemptFieldEvent | WorkerMessageProgressFractionFieldEvent | WorkerMessageCheckpointTaskIdFieldEvent | WorkerMessageCheckpointAttemptFieldEvent | WorkerMessageCheckpointRecordFieldEvent | WorkerMessageCheckpointStateFieldEvent | WorkerMessageResultRequestIdFieldEvent | WorkerMessageResultTaskIdFieldEvent | WorkerMessageResultAttemptFieldEvent | WorkerMessageResultRecordsValueFieldEvent | WorkerMessageResultRecordsErrorNameFieldEvent | WorkerMessageResultRecordsErrorMessageFieldEvent | WorkerMessageResultRecordsErrorKindFieldEvent | WorkerMessageResultRecordsErrorRetryableFieldEvent | WorkerMessageResultCpuMsFieldEvent | WorkerMessageResultWallMsFieldEvent | WorkerMessageReceiptAckStatusesHashFieldEvent | WorkerMessageReceiptAckStatusesStatusFieldEvent | WorkerMessageReceiptAckStatusesReasonFieldEvent | WorkerMessageResultsRequestIdFieldEvent | WorkerMessageResultsResultsRequestIdFieldEvent | WorkerMessageResultsResultsTaskIdFieldEvent | WorkerMessageResultsResultsAttemptFieldEvent | WorkerMessageResultsResultsRecordsValueFieldEvent | WorkerMessageResultsResultsRecordsErrorNameFieldEvent | WorkerMessageResultsResultsRecordsErrorMessageFieldEvent | WorkerMessageResultsResultsRecordsErrorKindFieldEvent | WorkerMessageResultsResultsRecordsErrorRetryableFieldEvent | WorkerMessageResultsResultsCpuMsFieldEvent | WorkerMessageResultsResultsWallMsFieldEvent | WorkerMessageReleaseTasksTaskIdFieldEvent | WorkerMessageReleaseTasksAttemptFieldEvent | WorkerMessageReadyMaxTasksFieldEvent | WorkerMessageReadyCoresFieldEvent> {
    return streamMessage(buf, WorkerMessage.codec(), opts)
  }
}

export interface SubmitterMessage {
  lease?: LeaseResponse
  ack?: ResultAck
  receipts?: Receipts
  acks?: ResultAcks
  work?: Announce
  offer?: Offer
}

export namespace SubmitterMessage {
  let _codec: Codec<SubmitterMessage>

  export const codec = (): Codec<SubmitterMessage> => {
    if (_codec == null) {
      _codec = message<SubmitterMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.lease != null) {
          w.uint32(10)
          LeaseResponse.codec().encode(obj.lease, w)
        }

        if (obj.ack != null) {
          w.uint32(18)
          ResultAck.codec().encode(obj.ack, w)
        }

        if (obj.receipts != null) {
          w.uint32(26)
          Receipts.codec().encode(obj.receipts, w)
        }

        if (obj.acks != null) {
          w.uint32(34)
          ResultAcks.codec().encode(obj.acks, w)
        }

        if (obj.work != null) {
          w.uint32(42)
          Announce.codec().encode(obj.work, w)
        }

        if (obj.offer != null) {
          w.uint32(50)
          Offer.codec().encode(obj.offer, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.lease = LeaseResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.lease
              })
              break
            }
            case 2: {
              obj.ack = ResultAck.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 3: {
              obj.receipts = Receipts.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.receipts
              })
              break
            }
            case 4: {
              obj.acks = ResultAcks.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.acks
              })
              break
            }
            case 5: {
              obj.work = Announce.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.work
              })
              break
            }
            case 6: {
              obj.offer = Offer.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.offer
              })
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
              yield * LeaseResponse.codec().stream(reader, reader.uint32(), `${prefix}.lease`, {
                limits: opts.limits?.lease
              })

              break
            }
            case 2: {
              yield * ResultAck.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 3: {
              yield * Receipts.codec().stream(reader, reader.uint32(), `${prefix}.receipts`, {
                limits: opts.limits?.receipts
              })

              break
            }
            case 4: {
              yield * ResultAcks.codec().stream(reader, reader.uint32(), `${prefix}.acks`, {
                limits: opts.limits?.acks
              })

              break
            }
            case 5: {
              yield * Announce.codec().stream(reader, reader.uint32(), `${prefix}.work`, {
                limits: opts.limits?.work
              })

              break
            }
            case 6: {
              yield * Offer.codec().stream(reader, reader.uint32(), `${prefix}.offer`, {
                limits: opts.limits?.offer
              })

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

  export interface SubmitterMessageLeaseRequestIdFieldEvent {
    field: '$.lease.requestId'
    value: number
  }

  export interface SubmitterMessageLeaseStatusFieldEvent {
    field: '$.lease.status'
    value: LeaseResponse.Status
  }

  export interface SubmitterMessageLeaseReasonFieldEvent {
    field: '$.lease.reason'
    value: string
  }

  export interface SubmitterMessageLeaseTasksTaskIdFieldEvent {
    field: '$.lease.tasks[].taskId'
    value: string
    index: number
  }

  export interface SubmitterMessageLeaseTasksAttemptFieldEvent {
    field: '$.lease.tasks[].attempt'
    value: number
    index: number
  }

  export interface SubmitterMessageLeaseTasksFirstRecordFieldEvent {
    field: '$.lease.tasks[].firstRecord'
    value: number
    index: number
  }

  export interface SubmitterMessageLeaseTasksInputsFieldEvent {
    field: '$.lease.tasks[].inputs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubmitterMessageLeaseTasksResumeFromFieldEvent {
    field: '$.lease.tasks[].resumeFrom'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SubmitterMessageLeaseTasksResumeRecordFieldEvent {
    field: '$.lease.tasks[].resumeRecord'
    value: number
    index: number
  }

  export interface SubmitterMessageLeaseTasksDeadlineFieldEvent {
    field: '$.lease.tasks[].deadline'
    value: number
    index: number
  }

  export interface SubmitterMessageLeaseTasksLeaseMsFieldEvent {
    field: '$.lease.tasks[].leaseMs'
    value: number
    index: number
  }

  export interface SubmitterMessageLeaseRemainingFieldEvent {
    field: '$.lease.remaining'
    value: number
  }

  export interface SubmitterMessageAckRequestIdFieldEvent {
    field: '$.ack.requestId'
    value: number
  }

  export interface SubmitterMessageAckStatusFieldEvent {
    field: '$.ack.status'
    value: ResultAck.Status
  }

  export interface SubmitterMessageAckReasonFieldEvent {
    field: '$.ack.reason'
    value: string
  }

  export interface SubmitterMessageReceiptsReceiptsFieldEvent {
    field: '$.receipts.receipts[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubmitterMessageAcksRequestIdFieldEvent {
    field: '$.acks.requestId'
    value: number
  }

  export interface SubmitterMessageAcksAcksRequestIdFieldEvent {
    field: '$.acks.acks[].requestId'
    value: number
    index: number
  }

  export interface SubmitterMessageAcksAcksStatusFieldEvent {
    field: '$.acks.acks[].status'
    value: ResultAck.Status
    index: number
  }

  export interface SubmitterMessageAcksAcksReasonFieldEvent {
    field: '$.acks.acks[].reason'
    value: string
    index: number
  }

  export interface SubmitterMessageWorkJobIdFieldEvent {
    field: '$.work.jobId'
    value: string
  }

  export interface SubmitterMessageWorkBundleIdFieldEvent {
    field: '$.work.bundleId'
    value: string
  }

  export interface SubmitterMessageWorkRequirementsCoresFieldEvent {
    field: '$.work.requirements.cores'
    value: number
  }

  export interface SubmitterMessageWorkRequirementsMemoryMbFieldEvent {
    field: '$.work.requirements.memoryMb'
    value: number
  }

  export interface SubmitterMessageWorkRequirementsTimeoutMsFieldEvent {
    field: '$.work.requirements.timeoutMs'
    value: number
  }

  export interface SubmitterMessageWorkRequirementsGpuFieldEvent {
    field: '$.work.requirements.gpu'
    value: boolean
  }

  export interface SubmitterMessageWorkRequirementsDeterministicFieldEvent {
    field: '$.work.requirements.deterministic'
    value: boolean
  }

  export interface SubmitterMessageWorkPendingTasksFieldEvent {
    field: '$.work.pendingTasks'
    value: number
  }

  export interface SubmitterMessageOfferWorkJobIdFieldEvent {
    field: '$.offer.work.jobId'
    value: string
  }

  export interface SubmitterMessageOfferWorkBundleIdFieldEvent {
    field: '$.offer.work.bundleId'
    value: string
  }

  export interface SubmitterMessageOfferWorkRequirementsCoresFieldEvent {
    field: '$.offer.work.requirements.cores'
    value: number
  }

  export interface SubmitterMessageOfferWorkRequirementsMemoryMbFieldEvent {
    field: '$.offer.work.requirements.memoryMb'
    value: number
  }

  export interface SubmitterMessageOfferWorkRequirementsTimeoutMsFieldEvent {
    field: '$.offer.work.requirements.timeoutMs'
    value: number
  }

  export interface SubmitterMessageOfferWorkRequirementsGpuFieldEvent {
    field: '$.offer.work.requirements.gpu'
    value: boolean
  }

  export interface SubmitterMessageOfferWorkRequirementsDeterministicFieldEvent {
    field: '$.offer.work.requirements.deterministic'
    value: boolean
  }

  export interface SubmitterMessageOfferWorkPendingTasksFieldEvent {
    field: '$.offer.work.pendingTasks'
    value: number
  }

  export interface SubmitterMessageOfferTasksTaskIdFieldEvent {
    field: '$.offer.tasks[].taskId'
    value: string
    index: number
  }

  export interface SubmitterMessageOfferTasksAttemptFieldEvent {
    field: '$.offer.tasks[].attempt'
    value: number
    index: number
  }

  export interface SubmitterMessageOfferTasksFirstRecordFieldEvent {
    field: '$.offer.tasks[].firstRecord'
    value: number
    index: number
  }

  export interface SubmitterMessageOfferTasksInputsFieldEvent {
    field: '$.offer.tasks[].inputs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface SubmitterMessageOfferTasksResumeFromFieldEvent {
    field: '$.offer.tasks[].resumeFrom'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SubmitterMessageOfferTasksResumeRecordFieldEvent {
    field: '$.offer.tasks[].resumeRecord'
    value: number
    index: number
  }

  export interface SubmitterMessageOfferTasksDeadlineFieldEvent {
    field: '$.offer.tasks[].deadline'
    value: number
    index: number
  }

  export interface SubmitterMessageOfferTasksLeaseMsFieldEvent {
    field: '$.offer.tasks[].leaseMs'
    value: number
    index: number
  }

  export interface SubmitterMessageOfferRemainingFieldEvent {
    field: '$.offer.remaining'
    value: number
  }

  export function encode (obj: Partial<SubmitterMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SubmitterMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubmitterMessage>): SubmitterMessage {
    return decodeMessage(buf, SubmitterMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SubmitterMessage>): Generator<SubmitterMessageLeaseRequestIdFieldEvent | SubmitterMessageLeaseStatusFieldEvent | SubmitterMessageLeaseReasonFieldEvent | SubmitterMessageLeaseTasksTaskIdFieldEvent | SubmitterMessageLeaseTasksAttemptFieldEvent | SubmitterMessageLeaseTasksFirstRecordFieldEvent | SubmitterMessageLeaseTasksInputsFieldEvent | SubmitterMessageLeaseTasksResumeFromFieldEvent | SubmitterMessageLeaseTasksResumeRecordFieldEvent | SubmitterMessageLeaseTasksDeadlineFieldEvent | SubmitterMessageLeaseTasksLeaseMsFieldEvent | SubmitterMessageLeaseRemainingFieldEvent | SubmitterMessageAckRequestIdFieldEvent | SubmitterMessageAckStatusFieldEvent | SubmitterMessageAckReasonFieldEvent | SubmitterMessageReceiptsReceiptsFieldEvent | SubmitterMessageAcksRequestIdFieldEvent | SubmitterMessageAcksAcksRequestIdFieldEvent | SubmitterMessageAcksAcksStatusFieldEvent | SubmitterMessageAcksAcksReasonFieldEvent | SubmitterMessageWorkJobIdFieldEvent | SubmitterMessageWorkBundleIdFieldEvent | SubmitterMessageWorkRequirementsCoresFieldEvent | SubmitterMessageWorkRequirementsMemoryMbFieldEvent | SubmitterMessageWorkRequirementsTimeoutMsFieldEvent | SubmitterMessageWorkRequirementsGpuFieldEvent | SubmitterMessageWorkRequirementsDeterministicFieldEvent | SubmitterMessageWorkPendingTasksFieldEvent | SubmitterMessageOfferWorkJobIdFieldEvent | SubmitterMessageOfferWorkBundleIdFieldEvent | SubmitterMessageOfferWorkRequirementsCoresFieldEvent | SubmitterMessageOfferWorkRequirementsMemoryMbFieldEvent | SubmitterMessageOfferWorkRequirementsTimeoutMsFieldEvent | SubmitterMessageOfferWorkRequirementsGpuFieldEvent | SubmitterMessageOfferWorkRequirementsDeterministicFieldEvent | SubmitterMessageOfferWorkPendingTasksFieldEvent | SubmitterMessageOfferTasksTaskIdFieldEvent | SubmitterMessageOfferTasksAttemptFieldEvent | SubmitterMessageOfferTasksFirstRecordFieldEvent | SubmitterMessageOfferTasksInputsFieldEvent | SubmitterMessageOfferTasksResumeFromFieldEvent | SubmitterMessageOfferTasksResumeRecordFieldEvent | SubmitterMessageOfferTasksDeadlineFieldEvent | SubmitterMessageOfferTasksLeaseMsFieldEvent | SubmitterMessageOfferRemainingFieldEvent> {
    return streamMessage(buf, SubmitterMessage.codec(), opts)
  }
}
