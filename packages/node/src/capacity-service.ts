// The capacity service: answers the direct capacity query, advertises this
// node's free capacity as DHT provider records, and finds volunteers that fit.
import { capacityReport } from '@idlegrid/capacity'
import { InvalidInputError, ProtocolError } from '@idlegrid/interface'
import {
  CapacityRequest, CapacityResponse, MAX_GPU_MODELS, MAX_INBOUND_STREAMS, MAX_MESSAGE_SIZE,
  MAX_NONCE_SIZE, MAX_OUTBOUND_STREAMS, PROTOCOL, TIMEOUT
} from '@idlegrid/protocol-capacity'
import { TypedEventEmitter, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { pbStream } from '@libp2p/utils'
import { anySignal } from 'any-signal'
import { capabilityKey } from './capability.js'
import {
  DEFAULT_ADVERTISE_INTERVAL_MS, DEFAULT_FIND_TIMEOUT_MS, DEFAULT_PROVIDER_TTL_MS, DEFAULT_PUBLISH_TIMEOUT_MS, DEFAULT_REPUBLISH_DEBOUNCE_MS,
  FIND_QUERY_CONCURRENCY
} from './constants.js'
import { CapacityQueryError } from './errors.js'
import type { Capability } from './capability.js'
import type { SlotTable } from '@idlegrid/capacity'
import type { CapacityReport, MachineInfo, OwnerLimits, VolunteerCapacity } from '@idlegrid/interface'
import type {
  AbortOptions, ComponentLogger, Connection, ContentRouting, Logger, PeerId, Startable, Stream
} from '@libp2p/interface'
import type { CID } from 'multiformats/cid'

/** A peer's capacity as it answers the direct query (the shared wire-level shape). */
export type CapacityReportLike = VolunteerCapacity

/** What a caller needs from a volunteer. */
export interface CapacityWant {
  /** Free cores (slots) needed. @default 1 */
  cpu?: number
  /** Free memory in MiB needed. @default 0 */
  memoryMb?: number
  /** Whether a shared GPU is needed. @default false */
  gpu?: boolean
}

export interface FoundPeer {
  peerId: string
  addresses: string[]
  capacity: CapacityReportLike
}

export interface FindOptions extends AbortOptions {
  /** Stop after this many fitting peers. @default unlimited */
  limit?: number
  /**
   * Return the peers that fit so far once this many ms have passed, instead of
   * throwing: the DHT walk and the capacity queries still running are
   * abandoned. An aborted `signal` still throws. Without a deadline and
   * without a signal, a find is bounded to 15 s and returns what it has then.
   * @default none
   */
  deadlineMs?: number
  /**
   * Peer ids (strings) to leave out: they are neither asked for their
   * capacity nor returned, and do not count towards `limit`. For a caller
   * that already reached some peers another way (a submitter whose
   * connected volunteers heard of the job on their sessions).
   * @default none
   */
  skip?: ReadonlySet<string>
}

export interface CapacityPublishedDetail {
  /**
   * The capability strings announced or withdrawn. A slot freed soon after
   * the last announcement is told without DHT messages: the records it
   * stored on other nodes still stand.
   */
  keys: string[]
  /** True when the records were withdrawn because no slot is free. */
  withdrawn: boolean
}

export interface CapacityServiceEvents {
  'capacity:published': CustomEvent<CapacityPublishedDetail>
}

export interface CapacityServiceInit {
  machine: MachineInfo
  limits: OwnerLimits
  slots: SlotTable
  /** How often provider records are re-announced, ms. @default 150_000 (twice per record lifetime) */
  advertiseIntervalMs?: number
  /** Limit of one publish round, ms. @default 30_000 */
  publishTimeoutMs?: number
  /**
   * How long nodes keep the records this node stores with them, ms (the
   * DHT's provider TTL). @default 300_000
   */
  recordLifetimeMs?: number
  /**
   * Slot changes are published at most once per this many ms, with the state
   * at the end of the window: a slot taken and freed within it costs no DHT
   * traffic. @default 1_000
   */
  republishDebounceMs?: number
}

export interface CapacityServiceComponents {
  peerId: PeerId
  logger: ComponentLogger
  contentRouting: ContentRouting
  registrar: {
    handle(protocol: string, handler: (stream: Stream, connection: Connection) => void | Promise<void>, options?: { maxInboundStreams?: number, maxOutboundStreams?: number }): Promise<void>
    unhandle(protocol: string): Promise<void>
  }
  connectionManager: {
    openStream(peer: PeerId, protocol: string | string[], options?: AbortOptions): Promise<Stream>
  }
}

const CAPABILITY_NAMES: Record<Capability, string> = { cpu: 'idlegrid:cap:cpu', gpu: 'idlegrid:cap:gpu' }

export class CapacityService extends TypedEventEmitter<CapacityServiceEvents> implements Startable {
  readonly machine: MachineInfo
  readonly limits: OwnerLimits
  readonly slots: SlotTable
  private readonly components: CapacityServiceComponents
  private readonly log: Logger
  private readonly advertiseIntervalMs: number
  private readonly publishTimeoutMs: number
  private readonly republishDebounceMs: number
  private readonly recordLifetimeMs: number
  private timer?: ReturnType<typeof setTimeout>
  /** When the next timed round is due (ms since the epoch). */
  private nextRoundAt?: number
  private debounceTimer?: ReturnType<typeof setTimeout>
  private shutdown?: AbortController
  private publishing?: Promise<void>
  private publishAgain = false
  private lastWithdrawn?: boolean
  /** When a round last stored this node's records on other nodes (ms since the epoch). */
  private announcedAt?: number
  private stopping = false
  private readonly onSlotChange: () => void

  readonly [Symbol.toStringTag] = '@idlegrid/capacity-service'
  readonly [serviceDependencies] = ['@libp2p/kad-dht']

  constructor (components: CapacityServiceComponents, init: CapacityServiceInit) {
    super()
    this.components = components
    this.machine = init.machine
    this.limits = init.limits
    this.slots = init.slots
    this.log = components.logger.forComponent('idlegrid:node:capacity')
    this.advertiseIntervalMs = init.advertiseIntervalMs ?? DEFAULT_ADVERTISE_INTERVAL_MS
    this.publishTimeoutMs = init.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS
    this.republishDebounceMs = init.republishDebounceMs ?? DEFAULT_REPUBLISH_DEBOUNCE_MS
    this.recordLifetimeMs = init.recordLifetimeMs ?? DEFAULT_PROVIDER_TTL_MS
    this.handleQuery = this.handleQuery.bind(this)
    // every task takes and frees a slot: publishing each change would be two
    // DHT rounds per task, so changes are coalesced and only the state at the
    // end of the window is compared with what the DHT was last told
    this.onSlotChange = () => {
      if (this.debounceTimer != null || this.stopping) {
        return
      }
      this.debounceTimer = setTimeout(() => {
        this.debounceTimer = undefined
        if (this.stopping) {
          return
        }
        // only a change between "some free" and "none free" changes what the DHT should say
        const withdrawn = this.slots.free === 0
        if (withdrawn === this.lastWithdrawn) {
          return
        }
        if (!withdrawn && this.publishing == null && this.recordsLive()) {
          this.keepRecords()
          return
        }
        this.publish().catch(err => { this.log.error('publish after slot change failed - %e', err) })
      }, this.republishDebounceMs)
      this.debounceTimer.unref?.()
    }
  }

  async start (): Promise<void> {
    this.stopping = false
    this.shutdown = new AbortController()
    await this.components.registrar.handle(PROTOCOL, this.handleQuery, {
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS
    })
    this.slots.addEventListener('change', this.onSlotChange)
  }

  afterStart (): void {
    this.schedule(0)
  }

  async beforeStop (): Promise<void> {
    this.stopping = true
    clearTimeout(this.timer)
    clearTimeout(this.debounceTimer)
    this.debounceTimer = undefined
    this.shutdown?.abort()
    this.slots.removeEventListener('change', this.onSlotChange)
    await this.publishing?.catch(() => {})
  }

  async stop (): Promise<void> {
    this.stopping = true
    clearTimeout(this.timer)
    clearTimeout(this.debounceTimer)
    this.debounceTimer = undefined
    this.shutdown?.abort()
    await this.components.registrar.unhandle(PROTOCOL)
  }

  /** This node's capacity now. */
  report (): CapacityReport {
    return capacityReport(this.machine, this.limits, this.slots.state())
  }

  /** The capabilities this node announces while a slot is free. */
  capabilities (): Capability[] {
    return this.limits.shareGpu && this.machine.gpus.length > 0 ? ['cpu', 'gpu'] : ['cpu']
  }

  /**
   * Announces (or withdraws, when no slot is free) this node's provider
   * records now. Concurrent calls share one round plus at most one more, so a
   * change during a round is never lost.
   */
  async publish (): Promise<void> {
    if (this.publishing != null) {
      this.publishAgain = true
      return this.publishing
    }

    this.publishing = (async () => {
      try {
        do {
          this.publishAgain = false
          await this.publishOnce()
        } while (this.publishAgain && !this.stopping)
      } finally {
        this.publishing = undefined
      }
    })()

    return this.publishing
  }

  private schedule (delay: number): void {
    clearTimeout(this.timer)
    if (this.stopping) {
      return
    }
    this.nextRoundAt = Date.now() + delay
    this.timer = setTimeout(() => {
      this.publish()
        .catch(err => { this.log.error('publish failed - %e', err) })
        .finally(() => { this.schedule(this.advertiseIntervalMs) })
    }, delay)
  }

  private async publishOnce (): Promise<void> {
    if (this.stopping || this.shutdown == null) {
      return
    }

    const withdrawn = this.slots.free === 0
    const capabilities = withdrawn ? (['cpu', 'gpu'] as Capability[]) : this.capabilities()
    const keys = capabilities.map(c => CAPABILITY_NAMES[c])
    // cleared when the publish ends: shutdown lives as long as the node (docs/abort-signals.md)
    const signal = anySignal([this.shutdown.signal, AbortSignal.timeout(this.publishTimeoutMs)])
    this.lastWithdrawn = withdrawn

    try {
      if (withdrawn) {
        // stop re-announcing; records already stored elsewhere lapse after their TTL
        await Promise.all(capabilities.map(async c => {
          await this.components.contentRouting.cancelReprovide(await capabilityKey(c), { signal })
        }))
        this.log('withdrew %s: no free slot', keys.join(', '))
      } else {
        if (!capabilities.includes('gpu')) {
          await this.components.contentRouting.cancelReprovide(await capabilityKey('gpu'), { signal })
        }
        await Promise.all(capabilities.map(async c => {
          await this.components.contentRouting.provide(await capabilityKey(c), { signal })
        }))
        this.announcedAt = Date.now()
        this.log('announced %s with %d free slot(s)', keys.join(', '), this.slots.free)
      }
    } finally {
      signal.clear()
    }

    if (!this.stopping) {
      this.safeDispatchEvent('capacity:published', { detail: { keys, withdrawn } })
    }
  }

  /**
   * Whether the records the last announcement stored on other nodes outlive
   * the next timed round, which renews them, by half an interval at least.
   * With the defaults (records kept 5 min, a round every 150 s) that holds
   * until the first timed round that finds every slot taken.
   */
  private recordsLive (): boolean {
    return this.announcedAt != null && this.nextRoundAt != null &&
      this.announcedAt + this.recordLifetimeMs > this.nextRoundAt + this.advertiseIntervalMs / 2
  }

  /**
   * A slot freed soon after the last announcement: the copies other nodes
   * hold still say "ask me", so no round of DHT messages to say it again.
   * The timed round renews them as usual; until then only this node's own
   * copy, dropped at the withdrawal, is missing.
   */
  private keepRecords (): void {
    this.lastWithdrawn = false
    const keys = this.capabilities().map(c => CAPABILITY_NAMES[c])
    this.log('free again: the records announced %d ms ago still stand', Date.now() - (this.announcedAt ?? 0))
    this.safeDispatchEvent('capacity:published', { detail: { keys, withdrawn: false } })
  }

  /** Peers listed in the DHT as providers of a capability, without querying them. */
  async * providers (capability: Capability, options: AbortOptions = {}): AsyncGenerator<{ peerId: PeerId, addresses: string[] }> {
    const key: CID = await capabilityKey(capability)
    for await (const peer of this.components.contentRouting.findProviders(key, options)) {
      yield { peerId: peer.id, addresses: [...new Set(peer.multiaddrs.map(ma => ma.toString()))] }
    }
  }

  /**
   * Volunteers that can take the wanted work now: providers of the
   * capability in the DHT, each asked for its capacity directly. Peers that do
   * not answer (a record that outlived its node) are dropped.
   */
  async find (want: CapacityWant = {}, options: FindOptions = {}): Promise<FoundPeer[]> {
    const need = checkWant(want)
    const limit = options.limit ?? Infinity
    if (!(limit >= 1)) {
      throw new InvalidInputError(`find: limit must be at least 1, got ${String(options.limit)}`)
    }
    const deadlineMs = options.deadlineMs
    if (deadlineMs != null && !(Number.isFinite(deadlineMs) && deadlineMs > 0)) {
      throw new InvalidInputError(`find: deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}`)
    }
    const userSignal = options.signal
    userSignal?.throwIfAborted()
    // ends the walk without failing the find: the deadline, the default bound, or the limit
    const lookup = new AbortController()
    const deadline = deadlineMs ?? (userSignal == null ? DEFAULT_FIND_TIMEOUT_MS : undefined)
    let deadlineReached = false
    const deadlineTimer = deadline == null
      ? undefined
      : setTimeout(() => {
        deadlineReached = true
        lookup.abort()
      }, deadline)
    // cleared when the find ends (docs/abort-signals.md)
    const lookupSignal = anySignal([lookup.signal, userSignal, this.shutdown?.signal])
    const found: FoundPeer[] = []
    const seen = new Set<string>()
    const running = new Set<Promise<void>>()
    const self = this.components.peerId.toString()

    const started = Date.now()
    const ask = async (peerId: PeerId, addresses: string[]): Promise<void> => {
      try {
        const capacity = await this.queryPeer(peerId, { signal: lookupSignal })
        this.log('find: %p answered after %d ms', peerId, Date.now() - started)
        if (fits(capacity, need) && found.length < limit && !lookup.signal.aborted) {
          found.push({ peerId: peerId.toString(), addresses, capacity })
          if (found.length >= limit) {
            lookup.abort()
          }
        }
      } catch (err: any) {
        this.log('dropping candidate %p: %s', peerId, err.message)
      }
    }
    // resolves when the walk is ended early, so a deadline never waits for a slow query or DHT hop
    const ended = new Promise<void>(resolve => {
      if (lookupSignal.aborted) resolve()
      lookupSignal.addEventListener('abort', () => { resolve() }, { once: true })
    })

    try {
      const walk = async (): Promise<void> => {
        for await (const peer of this.providers(need.gpu ? 'gpu' : 'cpu', { signal: lookupSignal })) {
          const id = peer.peerId.toString()
          if (id === self || seen.has(id) || options.skip?.has(id) === true) {
            continue
          }
          seen.add(id)
          this.log('find: provider %p listed after %d ms', peer.peerId, Date.now() - started)
          const p = ask(peer.peerId, peer.addresses).finally(() => running.delete(p))
          running.add(p)
          if (running.size >= FIND_QUERY_CONCURRENCY) {
            await Promise.race([...running, ended])
          }
          if (lookupSignal.aborted) {
            return
          }
        }
      }
      const walking = walk()
      walking.catch(() => {})
      try {
        await Promise.race([walking, ended])
      } catch (err) {
        if (!lookupSignal.aborted) {
          throw err
        }
      }
      userSignal?.throwIfAborted()
      this.log('find: DHT walk ended after %d ms', Date.now() - started)
      await Promise.race([Promise.all(running), ended])
      userSignal?.throwIfAborted()
    } finally {
      clearTimeout(deadlineTimer)
      // whatever is still in flight is no longer wanted
      lookup.abort()
      lookupSignal.clear()
    }

    this.log('find: done after %d ms, %d of %d candidates fit%s', Date.now() - started, found.length, seen.size,
      deadlineReached ? ' (deadline reached)' : '')
    return [...found]
  }

  /** Asks one peer for its capacity over /idlegrid/capacity/1.0.0. */
  async query (peer: string | PeerId, options: AbortOptions = {}): Promise<CapacityReportLike> {
    let peerId: PeerId
    try {
      peerId = typeof peer === 'string' ? peerIdFromString(peer) : peer
    } catch (err) {
      throw new InvalidInputError(`"${String(peer)}" is not a peer id; pass the id a node prints as its PeerId`, { cause: err })
    }
    return this.queryPeer(peerId, options)
  }

  private async queryPeer (peerId: PeerId, options: AbortOptions): Promise<CapacityReportLike> {
    // cleared when the query ends (docs/abort-signals.md)
    const signal = anySignal([AbortSignal.timeout(TIMEOUT), options.signal])
    const nonce = crypto.getRandomValues(new Uint8Array(8))
    let stream: Stream | undefined

    try {
      stream = await this.components.connectionManager.openStream(peerId, PROTOCOL, { signal })
      const pb = pbStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
      await pb.write({ nonce }, CapacityRequest, { signal })
      const res = await pb.read(CapacityResponse, { signal, limits: { gpuModels: MAX_GPU_MODELS } })
      await stream.close({ signal }).catch(() => {})

      if (!equalBytes(res.nonce, nonce)) {
        throw new ProtocolError(`peer ${peerId.toString()} answered a capacity query with the wrong nonce`)
      }
      return fromResponse(res)
    } catch (err: any) {
      stream?.abort(err)
      if (options.signal?.aborted === true) {
        throw err
      }
      if (err.name === 'ProtocolError') {
        throw err
      }
      throw new CapacityQueryError(`capacity query to ${peerId.toString()} failed: ${String(err.message)}`, { retryable: true, cause: err })
    } finally {
      signal.clear()
    }
  }

  private async handleQuery (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(TIMEOUT)
    try {
      const pb = pbStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
      const req = await pb.read(CapacityRequest, { signal })
      if (req.nonce.byteLength > MAX_NONCE_SIZE) {
        throw new ProtocolError(`capacity request nonce of ${req.nonce.byteLength} bytes exceeds ${MAX_NONCE_SIZE}`)
      }
      await pb.write(this.response(req.nonce), CapacityResponse, { signal })
      await stream.close({ signal })
      this.log.trace('answered capacity query from %p', connection.remotePeer)
    } catch (err: any) {
      this.log('capacity query from %p failed - %e', connection.remotePeer, err)
      stream.abort(err)
    }
  }

  private response (nonce: Uint8Array): CapacityResponse {
    const report = this.report()
    const status = this.stopping
      ? CapacityResponse.Status.UNAVAILABLE
      : report.slots.free === 0 ? CapacityResponse.Status.FULL : CapacityResponse.Status.OK
    return {
      status,
      reason: this.stopping ? 'node is stopping' : report.slots.free === 0 ? 'all slots in use' : '',
      nonce: Uint8Array.from(nonce),
      freeCores: report.freeCores,
      freeMemoryMb: report.freeMemoryMb,
      freeGpus: report.freeGpus,
      gpuModels: report.limits.shareGpu ? report.machine.gpus.slice(0, MAX_GPU_MODELS).map(g => g.model.slice(0, 100)) : [],
      totalSlots: report.slots.total,
      usedSlots: report.slots.used,
      cpuModel: report.machine.cpuModel.slice(0, 200),
      cpuCores: report.machine.cpuCores,
      totalMemoryMb: report.machine.totalMemoryMb,
      maxMemoryMb: report.limits.maxMemoryMb
    }
  }
}

/** The wire form of a CapacityReport, as another peer would read it. */
export function toCapacityReportLike (report: CapacityReport): CapacityReportLike {
  const out = fromResponse({
    status: report.slots.free === 0 ? CapacityResponse.Status.FULL : CapacityResponse.Status.OK,
    reason: report.slots.free === 0 ? 'all slots in use' : '',
    nonce: new Uint8Array(0),
    freeCores: report.freeCores,
    freeMemoryMb: report.freeMemoryMb,
    freeGpus: report.freeGpus,
    gpuModels: report.limits.shareGpu ? report.machine.gpus.map(g => g.model) : [],
    totalSlots: report.slots.total,
    usedSlots: report.slots.used,
    cpuModel: report.machine.cpuModel,
    cpuCores: report.machine.cpuCores,
    totalMemoryMb: report.machine.totalMemoryMb,
    maxMemoryMb: report.limits.maxMemoryMb
  })
  return out
}

function fromResponse (res: CapacityResponse): CapacityReportLike {
  const status = res.status === CapacityResponse.Status.OK
    ? 'ok'
    : res.status === CapacityResponse.Status.FULL ? 'full' : 'unavailable'
  return {
    status,
    ...(res.reason !== '' ? { reason: res.reason } : {}),
    freeCores: res.freeCores,
    freeMemoryMb: res.freeMemoryMb,
    freeGpus: res.freeGpus,
    gpuModels: [...res.gpuModels],
    totalSlots: res.totalSlots,
    usedSlots: res.usedSlots,
    cpuModel: res.cpuModel,
    cpuCores: res.cpuCores,
    totalMemoryMb: res.totalMemoryMb,
    maxMemoryMb: res.maxMemoryMb
  }
}

function checkWant (want: CapacityWant): Required<CapacityWant> {
  const cpu = want.cpu ?? 1
  const memoryMb = want.memoryMb ?? 0
  if (!Number.isInteger(cpu) || cpu < 1) {
    throw new InvalidInputError(`find: cpu must be a whole number of cores of at least 1, got ${String(want.cpu)}`)
  }
  if (!Number.isFinite(memoryMb) || memoryMb < 0) {
    throw new InvalidInputError(`find: memoryMb must be a number of MiB of 0 or more, got ${String(want.memoryMb)}`)
  }
  return { cpu, memoryMb, gpu: want.gpu === true }
}

/** Whether a reported capacity can take the wanted work now. */
export function fits (capacity: CapacityReportLike, want: Required<CapacityWant>): boolean {
  return capacity.status === 'ok' &&
    capacity.freeCores >= want.cpu &&
    capacity.freeMemoryMb >= want.memoryMb &&
    (!want.gpu || capacity.freeGpus > 0)
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((v, i) => v === b[i])
}

export function capacityService (init: CapacityServiceInit): (components: CapacityServiceComponents) => CapacityService {
  return (components) => new CapacityService(components, init)
}
