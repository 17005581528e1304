import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Receipt {
  issuer: string
  worker: string
  jobId: string
  taskId: string
  cpuMs: number
  milliCredits: number
  seq: number
  prevHash: Uint8Array<ArrayBuffer>
  timestamp: number
  signature: Uint8Array<ArrayBuffer>
  moreTaskIds: string[]
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.issuer != null && obj.issuer !== '')) {
          w.uint32(10)
          w.string(obj.issuer)
        }

        if ((obj.worker != null && obj.worker !== '')) {
          w.uint32(18)
          w.string(obj.worker)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(26)
          w.string(obj.jobId)
        }

        if ((obj.taskId != null && obj.taskId !== '')) {
          w.uint32(34)
          w.string(obj.taskId)
        }

        if ((obj.cpuMs != null && obj.cpuMs !== 0)) {
          w.uint32(40)
          w.uint64Number(obj.cpuMs)
        }

        if ((obj.milliCredits != null && obj.milliCredits !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.milliCredits)
        }

        if ((obj.seq != null && obj.seq !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.seq)
        }

        if ((obj.prevHash != null && obj.prevHash.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.prevHash)
        }

        if ((obj.timestamp != null && obj.timestamp !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.timestamp)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.signature)
        }

        if (obj.moreTaskIds != null && obj.moreTaskIds.length > 0) {
          for (const value of obj.moreTaskIds) {
            w.uint32(90)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          issuer: '',
          worker: '',
          jobId: '',
          taskId: '',
          cpuMs: 0,
          milliCredits: 0,
          seq: 0,
          prevHash: uint8ArrayAlloc(0),
          timestamp: 0,
          signature: uint8ArrayAlloc(0),
          moreTaskIds: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.issuer = reader.string()
              break
            }
            case 2: {
              obj.worker = reader.string()
              break
            }
            case 3: {
              obj.jobId = reader.string()
              break
            }
            case 4: {
              obj.taskId = reader.string()
              break
            }
            case 5: {
              obj.cpuMs = reader.uint64Number()
              break
            }
            case 6: {
              obj.milliCredits = reader.uint64Number()
              break
            }
            case 7: {
              obj.seq = reader.uint64Number()
              break
            }
            case 8: {
              obj.prevHash = reader.bytes()
              break
            }
            case 9: {
              obj.timestamp = reader.uint64Number()
              break
            }
            case 10: {
              obj.signature = reader.bytes()
              break
            }
            case 11: {
              if (opts.limits?.moreTaskIds != null && obj.moreTaskIds.length === opts.limits.moreTaskIds) {
                throw new MaxLengthError('Decode error - repeated field "moreTaskIds" had too many elements')
              }

              obj.moreTaskIds.push(reader.string())
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
          moreTaskIds: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.issuer`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.worker`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.taskId`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.cpuMs`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.milliCredits`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.seq`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.prevHash`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.timestamp`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.signature`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              if (opts.limits?.moreTaskIds != null && obj.moreTaskIds === opts.limits.moreTaskIds) {
                throw new MaxLengthError('Streaming decode error - repeated field "moreTaskIds" had too many elements')
              }

              yield {
                field: `${prefix}.moreTaskIds[]`,
                index: obj.moreTaskIds,
                value: reader.string()
              }

              obj.moreTaskIds++

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

  export interface ReceiptIssuerFieldEvent {
    field: '$.issuer'
    value: string
  }

  export interface ReceiptWorkerFieldEvent {
    field: '$.worker'
    value: string
  }

  export interface ReceiptJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface ReceiptTaskIdFieldEvent {
    field: '$.taskId'
    value: string
  }

  export interface ReceiptCpuMsFieldEvent {
    field: '$.cpuMs'
    value: number
  }

  export interface ReceiptMilliCreditsFieldEvent {
    field: '$.milliCredits'
    value: number
  }

  export interface ReceiptSeqFieldEvent {
    field: '$.seq'
    value: number
  }

  export interface ReceiptPrevHashFieldEvent {
    field: '$.prevHash'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptTimestampFieldEvent {
    field: '$.timestamp'
    value: number
  }

  export interface ReceiptSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ReceiptMoreTaskIdsFieldEvent {
    field: '$.moreTaskIds[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Receipt>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptIssuerFieldEvent | ReceiptWorkerFieldEvent | ReceiptJobIdFieldEvent | ReceiptTaskIdFieldEvent | ReceiptCpuMsFieldEvent | ReceiptMilliCreditsFieldEvent | ReceiptSeqFieldEvent | ReceiptPrevHashFieldEvent | ReceiptTimestampFieldEvent | ReceiptSignatureFieldEvent | ReceiptMoreTaskIdsFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}
