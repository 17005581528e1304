// createNode(): composes libp2p (transport, noise, yamux, identify, ping,
// IdleGrid's own kad-dht, bootstrap, mDNS, pnet) with the capacity service
// and owns the lifecycle of both.
import '@idlegrid/interface/polyfill'
import { probeMachine, resolveLimits, SlotTable } from '@idlegrid/capacity'
import { AddressInUseError, ConfigError, InvalidMultiaddrError } from '@idlegrid/interface'
import { noise } from '@chainsafe/libp2p-noise'
import { bootstrap } from '@libp2p/bootstrap'
import { identify, identifyPush } from '@libp2p/identify'
import { TypedEventEmitter } from '@libp2p/interface'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { logger } from '@libp2p/logger'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Libp2pOptions } from 'libp2p'
import { capacityService } from './capacity-service.js'
import {
  DEFAULT_ADVERTISE_INTERVAL_MS, DEFAULT_DIAL_TIMEOUT_MS, DEFAULT_LISTEN, DEFAULT_LIVENESS_INTERVAL_MS,
  DEFAULT_PROVIDER_TTL_MS, DHT_QUERY_SELF_INTERVAL_MS, IDENTIFY_PUSH_DEBOUNCE_MS
} from './constants.js'
import { nodeNoiseCrypto } from './noise-crypto.js'
import { dhtProtocol, parseSwarmKey } from './swarm.js'
import type { CapacityPublishedDetail, CapacityReportLike, CapacityService, CapacityWant, FindOptions, FoundPeer } from './capacity-service.js'
import type { Capability } from './capability.js'
import type { CapacityReport, MachineInfo, OwnerLimits } from '@idlegrid/interface'
import type { AbortOptions, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'

const log = logger('idlegrid:node')

export interface NodeInit {
  /** Ed25519 identity; the app loads or creates it. */
  privateKey: PrivateKey
  /** Listen addresses. @default ['/ip4/127.0.0.1/tcp/0'] (memory transport: a unique /memory address) */
  listen?: string[]
  /** Peers to join through, each a multiaddr ending in /p2p/<peer id>. @default [] */
  bootstrap?: string[]
  /** Find peers on the LAN by multicast DNS. @default false */
  mdns?: boolean
  /** @default 'tcp' */
  transport?: 'tcp' | 'memory'
  /** Owner limits; missing fields get defaults (see docs/capacity.md). */
  limits?: Partial<OwnerLimits>
  /** What the machine has; probed when absent. */
  machine?: MachineInfo
  /** Private swarm key in libp2p's PSK file format. */
  swarmKey?: Uint8Array
  /** How often provider records are re-announced, ms. @default 150_000 (twice per record lifetime) */
  advertiseIntervalMs?: number
  /**
   * Slot changes (a task taking or freeing a slot) are re-advertised at most
   * once per this many ms, with the state at the end of the window. @default 1_000
   */
  republishDebounceMs?: number
  /** How long provider records stored here for other peers stay valid, ms. @default 300_000 */
  providerTtlMs?: number
  /** Limit of one outgoing dial, ms. @default 10_000 */
  dialTimeoutMs?: number
  /**
   * How often each connection is pinged to find peers that vanished without
   * closing their socket (power loss, a dropped network), ms. A peer process
   * that exits closes its connections at once; this only bounds how long a
   * half-open connection lingers. @default 120_000
   */
  livenessIntervalMs?: number
  /** Where libp2p keeps peer store and DHT records. @default in memory */
  datastore?: Libp2pOptions['datastore']
  /** Extra libp2p services composed in (jobs, worker, ...). */
  services?: Record<string, (components: any) => unknown>
}

export interface PeerSummary {
  peerId: string
  addresses: string[]
  direction?: string
}

export interface IdleGridNodeEvents {
  'peer:joined': CustomEvent<string>
  'peer:left': CustomEvent<string>
  'capacity:published': CustomEvent<CapacityPublishedDetail>
}

export interface IdleGridNode extends TypedEventEmitter<IdleGridNodeEvents> {
  readonly peerId: string
  readonly libp2p: Libp2p
  readonly slots: SlotTable
  /** The DHT protocol id this node speaks. */
  readonly dhtProtocol: string
  start(): Promise<void>
  stop(): Promise<void>
  addresses(): string[]
  peers(): PeerSummary[]
  capacity(): CapacityReport
  find(want: CapacityWant, options?: FindOptions): Promise<FoundPeer[]>
  queryCapacity(peerId: string, options?: AbortOptions): Promise<CapacityReportLike>
  publishCapacity(): Promise<void>
  /** Peers the DHT lists as providers of a capability, without asking them anything. */
  providers(capability: Capability, options?: AbortOptions): Promise<string[]>
}

function checkBootstrap (list: string[]): string[] {
  return list.map(addr => {
    let ma
    try {
      ma = multiaddr(addr)
    } catch (err) {
      throw new InvalidMultiaddrError(`bootstrap address "${addr}" is not a multiaddr; expected e.g. /ip4/192.0.2.1/tcp/4001/p2p/12D3KooW...`, { cause: err })
    }
    if (!ma.getComponents().some(c => c.name === 'p2p')) {
      throw new InvalidMultiaddrError(`bootstrap address "${addr}" has no /p2p/<peer id> part; append the peer id the other node prints`)
    }
    return ma.toString()
  })
}

function checkListen (list: string[]): void {
  for (const addr of list) {
    try {
      multiaddr(addr)
    } catch (err) {
      throw new InvalidMultiaddrError(`listen address "${addr}" is not a multiaddr; expected e.g. /ip4/127.0.0.1/tcp/4001`, { cause: err })
    }
  }
}

function checkPositive (name: string, value: number | undefined): void {
  if (value != null && (!Number.isFinite(value) || value <= 0)) {
    throw new ConfigError(`${name} must be a positive number of milliseconds, got ${String(value)}`)
  }
}

let memoryCounter = 0

class Node extends TypedEventEmitter<IdleGridNodeEvents> implements IdleGridNode {
  readonly libp2p: Libp2p<{ capacity: CapacityService } & Record<string, unknown>>
  readonly slots: SlotTable
  readonly dhtProtocol: string
  private readonly capacityService: CapacityService
  private readonly bootstrapList: string[]
  private readonly dialTimeoutMs: number
  private readonly rejoinIntervalMs: number
  private rejoinTimer?: ReturnType<typeof setInterval>

  constructor (libp2p: Libp2p<{ capacity: CapacityService } & Record<string, unknown>>, slots: SlotTable, protocol: string, options: { bootstrap: string[], dialTimeoutMs: number, rejoinIntervalMs: number }) {
    super()
    this.libp2p = libp2p
    this.slots = slots
    this.dhtProtocol = protocol
    this.bootstrapList = options.bootstrap
    this.dialTimeoutMs = options.dialTimeoutMs
    this.rejoinIntervalMs = options.rejoinIntervalMs
    this.capacityService = libp2p.services.capacity

    libp2p.addEventListener('peer:connect', evt => {
      log('peer joined %p', evt.detail)
      this.safeDispatchEvent('peer:joined', { detail: evt.detail.toString() })
    })
    libp2p.addEventListener('peer:disconnect', evt => {
      log('peer left %p', evt.detail)
      this.safeDispatchEvent('peer:left', { detail: evt.detail.toString() })
    })
    this.capacityService.addEventListener('capacity:published', evt => {
      this.safeDispatchEvent('capacity:published', { detail: evt.detail })
    })
  }

  get peerId (): string {
    return this.libp2p.peerId.toString()
  }

  async start (): Promise<void> {
    await this.libp2p.start()
    this.joinBootstrap()
    clearInterval(this.rejoinTimer)
    if (this.bootstrapList.length > 0) {
      // a node that lost every connection tries its bootstrap peers again
      this.rejoinTimer = setInterval(() => {
        if (this.libp2p.getConnections().length === 0) {
          this.joinBootstrap()
        }
      }, this.rejoinIntervalMs)
      this.rejoinTimer.unref?.()
    }
  }

  async stop (): Promise<void> {
    clearInterval(this.rejoinTimer)
    this.rejoinTimer = undefined
    // Services drop their protocols one by one while libp2p stops; peers learn
    // that this node left from its closed connections, not from a push per drop.
    const push = this.libp2p.services.identifyPush as { stop?: () => Promise<void> } | undefined
    await push?.stop?.().catch(err => { log('stopping identify-push failed - %e', err) })
    await this.libp2p.stop()
  }

  /**
   * Dials every bootstrap peer in the background. The bootstrap discovery
   * module does this too, but only for IP/DNS addresses, not /memory ones.
   */
  private joinBootstrap (): void {
    for (const addr of this.bootstrapList) {
      this.libp2p.dial(multiaddr(addr), { signal: AbortSignal.timeout(this.dialTimeoutMs) })
        .then(() => { log('joined through bootstrap peer %s', addr) })
        .catch(err => { log('could not dial bootstrap peer %s - %e', addr, err) })
    }
  }

  addresses (): string[] {
    return this.libp2p.getMultiaddrs().map(ma => ma.toString())
  }

  peers (): PeerSummary[] {
    const byPeer = new Map<string, PeerSummary>()
    for (const conn of this.libp2p.getConnections()) {
      const id = conn.remotePeer.toString()
      const entry = byPeer.get(id) ?? { peerId: id, addresses: [], direction: conn.direction }
      entry.addresses.push(conn.remoteAddr.toString())
      byPeer.set(id, entry)
    }
    return [...byPeer.values()]
  }

  capacity (): CapacityReport {
    return this.capacityService.report()
  }

  async find (want: CapacityWant, options?: FindOptions): Promise<FoundPeer[]> {
    return this.capacityService.find(want, options)
  }

  async queryCapacity (peerId: string, options?: AbortOptions): Promise<CapacityReportLike> {
    return this.capacityService.query(peerId, options)
  }

  async publishCapacity (): Promise<void> {
    await this.capacityService.publish()
  }

  async providers (capability: Capability, options?: AbortOptions): Promise<string[]> {
    const out: string[] = []
    for await (const peer of this.capacityService.providers(capability, options)) {
      out.push(peer.peerId.toString())
    }
    return out
  }
}

/**
 * Creates and starts an IdleGrid node.
 *
 * @throws InvalidMultiaddrError for a bad bootstrap or listen address
 * @throws AddressInUseError when a listen address is taken
 * @throws ConfigError for limits the machine cannot meet or a bad swarm key
 */
export async function createNode (init: NodeInit): Promise<IdleGridNode> {
  const transport = init.transport ?? 'tcp'
  const listen = init.listen ?? (transport === 'memory' ? [`/memory/idlegrid-${process.pid}-${++memoryCounter}-${Date.now()}`] : DEFAULT_LISTEN)
  checkListen(listen)
  const bootstrapList = checkBootstrap(init.bootstrap ?? [])
  checkPositive('advertiseIntervalMs', init.advertiseIntervalMs)
  checkPositive('republishDebounceMs', init.republishDebounceMs)
  checkPositive('providerTtlMs', init.providerTtlMs)
  checkPositive('dialTimeoutMs', init.dialTimeoutMs)
  checkPositive('livenessIntervalMs', init.livenessIntervalMs)
  if (init.privateKey?.type !== 'Ed25519') {
    throw new ConfigError(`privateKey must be an Ed25519 key from @libp2p/crypto, got ${String(init.privateKey?.type)}`)
  }
  if (init.swarmKey != null) {
    parseSwarmKey(init.swarmKey)
  }

  const machine = init.machine ?? await probeMachine()
  const limits = resolveLimits(machine, init.limits)
  const slots = new SlotTable(limits.maxCores)
  const protocol = dhtProtocol(init.swarmKey)
  const providerTtlMs = init.providerTtlMs ?? DEFAULT_PROVIDER_TTL_MS
  const dialTimeoutMs = init.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS

  // loaded only when asked for: a node that does not use them keeps their modules out of memory
  const memory = transport === 'memory' ? (await import('@libp2p/memory')).memory : undefined
  const mdns = init.mdns === true ? (await import('@libp2p/mdns')).mdns : undefined
  const preSharedKey = init.swarmKey != null ? (await import('@libp2p/pnet')).preSharedKey : undefined

  const libp2p = await createLibp2p({
    privateKey: init.privateKey,
    start: false,
    ...(init.datastore != null ? { datastore: init.datastore } : {}),
    addresses: { listen },
    transports: [memory != null ? memory() : tcp()],
    connectionEncrypters: [noise({ crypto: nodeNoiseCrypto })],
    // yamux pings every connection every 30 s by default but never acts on a
    // missing answer; the connection monitor below both keeps connections
    // busy and closes dead ones, so the keep-alive only cost wake-ups
    streamMuxers: [yamux({ enableKeepAlive: false })],
    ...(init.swarmKey != null && preSharedKey != null ? { connectionProtector: preSharedKey({ psk: init.swarmKey, timeout: dialTimeoutMs }) } : {}),
    connectionManager: { dialTimeout: dialTimeoutMs },
    // libp2p pings every connection every 10 s by default: the largest idle cost of a node with peers
    connectionMonitor: { enabled: true, pingInterval: init.livenessIntervalMs ?? DEFAULT_LIVENESS_INTERVAL_MS },
    peerDiscovery: [
      // tags bootstrap peers in the peer store; the node dials them itself (see joinBootstrap)
      ...(bootstrapList.length > 0 ? [bootstrap({ list: bootstrapList, timeout: 0 })] : []),
      ...(mdns != null ? [mdns()] : [])
    ],
    services: {
      ...(init.services ?? {}),
      identify: identify(),
      // tells connected peers when this node starts or stops speaking a protocol (a worker starting after connecting)
      identifyPush: identifyPush({ debounce: IDENTIFY_PUSH_DEBOUNCE_MS }),
      ping: ping(),
      dht: kadDHT({
        protocol,
        clientMode: false,
        // loopback and LAN addresses are real addresses for a volunteer grid
        peerInfoMapper: passthroughMapper,
        initialQuerySelfInterval: 100,
        querySelfInterval: DHT_QUERY_SELF_INTERVAL_MS,
        allowQueryWithZeroPeers: false,
        reprovide: {
          validity: providerTtlMs,
          // also the cleanup period of records stored for others
          interval: Math.max(50, Math.floor(providerTtlMs / 4)),
          // our own timer refreshes records; the DHT only re-announces lapsed ones
          threshold: 0
        }
      }),
      capacity: capacityService({
        machine,
        limits,
        slots,
        advertiseIntervalMs: init.advertiseIntervalMs ?? DEFAULT_ADVERTISE_INTERVAL_MS,
        recordLifetimeMs: providerTtlMs,
        ...(init.republishDebounceMs != null ? { republishDebounceMs: init.republishDebounceMs } : {})
      })
    }
  }) as unknown as Libp2p<{ capacity: CapacityService } & Record<string, unknown>>

  const node = new Node(libp2p, slots, protocol, {
    bootstrap: bootstrapList,
    dialTimeoutMs,
    rejoinIntervalMs: init.advertiseIntervalMs ?? DEFAULT_ADVERTISE_INTERVAL_MS
  })

  try {
    await node.start()
  } catch (err: any) {
    await Promise.resolve(libp2p.stop()).catch(() => {})
    throw translateStartError(err, listen)
  }

  log('started %s listening on %s (dht %s)', node.peerId, node.addresses().join(', '), protocol)
  return node
}

function translateStartError (err: any, listen: string[]): Error {
  const text = `${String(err?.message)} ${String(err?.cause?.message ?? '')} ${String(err?.code ?? '')}`
  if (/EADDRINUSE|address already in use/i.test(text)) {
    const taken = listen.filter(addr => text.split('\n').some(line => line.includes(addr) && /EADDRINUSE/.test(line)))
    const which = (taken.length > 0 ? taken : listen).join(', ')
    return new AddressInUseError(`cannot listen on ${which}: address already in use; stop the other process or pick another port`, { cause: err })
  }
  return err
}

export type { PeerId }
