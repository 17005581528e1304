// The volunteer's end of the session protocol: one long-lived stream to a
// submitter that carries lease requests, progress, checkpoints and results;
// answers are matched to requests by request id. Reopened on demand.
import {
  MAX_SESSION_MESSAGE_SIZE, REQUEST_TIMEOUT_MS, SESSION_PROTOCOL, WorkerMessage, decodeSubmitterMessage, timeoutSignal
} from '@idlegrid/protocol-work'
import { logger } from '@libp2p/logger'
import { lpStream } from '@libp2p/utils'
import { anySignal } from 'any-signal'
import { SessionClosedError } from './errors.js'
import type { Announce, LeaseRequest, LeaseResponse, Offer, Result, ResultAck, SubmitterMessage } from '@idlegrid/protocol-work'
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { LengthPrefixedStream } from '@libp2p/utils'

const log = logger('idlegrid:worker:session')

interface Pending {
  resolve(message: SubmitterMessage): void
  reject(err: Error): void
}

export interface SessionClientInit {
  /** Receipts the submitter pushed on the session (unsolicited); answer with notify({ receiptAck }). */
  onReceipts?(receipts: Uint8Array[]): void
  /** A job the submitter has work for, pushed on the session (what an announce stream would say). */
  onWork?(work: Announce): void
  /** Tasks the submitter leased to us unasked, answering our standing Ready. */
  onOffer?(offer: Offer): void
  /** The session's stream ended (a standing Ready ended with it). */
  onClosed?(): void
}

export class SessionClient {
  readonly peer: PeerId
  readonly #libp2p: Libp2p
  readonly #onReceipts?: (receipts: Uint8Array[]) => void
  readonly #onWork?: (work: Announce) => void
  readonly #onOffer?: (offer: Offer) => void
  readonly #onClosed?: () => void
  #opening?: Promise<LengthPrefixedStream<Stream>>
  #stream?: Stream
  #nextId = 1
  readonly #pending = new Map<number, Pending>()
  #closed = false

  constructor (libp2p: Libp2p, peer: PeerId, init: SessionClientInit = {}) {
    this.#libp2p = libp2p
    this.peer = peer
    this.#onReceipts = init.onReceipts
    this.#onWork = init.onWork
    this.#onOffer = init.onOffer
    this.#onClosed = init.onClosed
  }

  /** Whether the session's stream is open now (nothing is dialled to find out). */
  get open (): boolean {
    return !this.#closed && this.#stream != null && this.#stream.writeStatus === 'writable'
  }

  async lease (request: Omit<LeaseRequest, 'requestId'>, signal?: AbortSignal): Promise<LeaseResponse> {
    const answer = await this.#request(requestId => ({ lease: { ...request, requestId } }), signal)
    if (answer.lease == null) {
      throw new SessionClosedError('the submitter answered a lease request with a result ack')
    }
    return answer.lease
  }

  async deliver (result: Result, signal?: AbortSignal): Promise<ResultAck> {
    const answer = await this.#request(requestId => ({ result: { ...result, requestId } }), signal)
    if (answer.ack == null) {
      throw new SessionClosedError('the submitter answered a result with a lease response')
    }
    return answer.ack
  }

  /** Delivers several results in one message; one ack per result, in order. */
  async deliverMany (results: Result[], signal?: AbortSignal): Promise<ResultAck[]> {
    const answer = await this.#request(requestId => ({ results: { requestId, results } }), signal)
    if (answer.acks == null || answer.acks.acks.length !== results.length) {
      throw new SessionClosedError(`the submitter answered ${results.length} results with ${answer.acks == null ? 'another message' : `${answer.acks.acks.length} acks`}`)
    }
    return answer.acks.acks
  }

  /** Sends a message that has no answer (progress, checkpoint); losing it is harmless. */
  async notify (message: WorkerMessage): Promise<void> {
    try {
      const lp = await this.#open()
      await lp.write(WorkerMessage.encode(message), { signal: timeoutSignal(REQUEST_TIMEOUT_MS) })
    } catch (err) {
      log.trace('could not send a notification to %p: %e', this.peer, err)
    }
  }

  close (): void {
    this.#closed = true
    this.#fail(new SessionClosedError('the session was closed'))
    void this.#stream?.close().catch(() => {})
  }

  async #request (build: (requestId: number) => WorkerMessage, signal?: AbortSignal): Promise<SubmitterMessage> {
    const lp = await this.#open(signal)
    const requestId = this.#nextId++
    const { promise, resolve, reject } = Promise.withResolvers<SubmitterMessage>()
    const timeout = timeoutSignal(REQUEST_TIMEOUT_MS)
    // cleared below: a caller's signal may outlive the request (docs/abort-signals.md)
    const linked = signal == null ? undefined : anySignal([signal, timeout])
    const combined = linked ?? timeout
    const onAbort = (): void => { reject(new SessionClosedError(`no answer from ${this.peer.toString()} in time`, { cause: combined.reason })) }
    combined.addEventListener('abort', onAbort, { once: true })
    this.#pending.set(requestId, { resolve, reject })
    try {
      await lp.write(WorkerMessage.encode(build(requestId)), { signal: combined })
      return await promise
    } finally {
      this.#pending.delete(requestId)
      combined.removeEventListener('abort', onAbort)
      linked?.clear()
    }
  }

  async #open (signal?: AbortSignal): Promise<LengthPrefixedStream<Stream>> {
    if (this.#closed) {
      throw new SessionClosedError('the session was closed')
    }
    if (this.#stream != null && this.#stream.writeStatus !== 'writable') {
      // closed under us; the read loop may not have noticed yet
      this.#stream = undefined
      this.#opening = undefined
      this.#onClosed?.()
    }
    if (this.#opening == null) {
      this.#opening = (async () => {
        const stream = await this.#libp2p.dialProtocol(this.peer, SESSION_PROTOCOL, { signal: signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
        const lp = lpStream(stream, { maxDataLength: MAX_SESSION_MESSAGE_SIZE, maxBufferSize: MAX_SESSION_MESSAGE_SIZE + 64 * 1024 })
        this.#stream = stream
        void this.#readLoop(stream, lp)
        return lp
      })()
      this.#opening.catch(() => { this.#opening = undefined })
    }
    return await this.#opening
  }

  async #readLoop (stream: Stream, lp: LengthPrefixedStream<Stream>): Promise<void> {
    try {
      while (true) {
        const { message } = decodeSubmitterMessage(await lp.read())
        if (message.work != null) {
          this.#onWork?.(message.work)
          continue
        }
        if (message.offer != null) {
          this.#onOffer?.(message.offer)
          continue
        }
        if (message.receipts != null) {
          if (this.#onReceipts == null) {
            log.trace('%p sent %d receipt(s); this session keeps none', this.peer, message.receipts.receipts.length)
          } else {
            this.#onReceipts(message.receipts.receipts)
          }
          continue
        }
        const requestId = message.lease?.requestId ?? message.ack?.requestId ?? message.acks?.requestId ?? 0
        const pending = this.#pending.get(requestId)
        if (pending == null) {
          log('answer to unknown or expired request %d from %p', requestId, this.peer)
          continue
        }
        pending.resolve(message)
      }
    } catch (err: any) {
      if (stream.status === 'open') {
        log('session with %p broke, resetting it: %e', this.peer, err)
        stream.abort(err)
      }
      if (this.#stream === stream) {
        this.#stream = undefined
        this.#opening = undefined
        this.#fail(new SessionClosedError(`the session with ${this.peer.toString()} ended`, { cause: err }))
        this.#onClosed?.()
      }
    }
  }

  #fail (err: Error): void {
    for (const p of this.#pending.values()) {
      p.reject(err)
    }
    this.#pending.clear()
  }
}
