// The JSON shapes the daemon's built-in routes answer with, shared by the
// route handlers and the typed client.
export interface StatusInfo {
  peerId: string
  /** Multiaddrs the node listens on, each ending in /p2p/<peerId>. */
  addresses: string[]
  /** Number of connected peers. */
  peerCount: number
  dataDir: string
  pid: number
  version: string
  startedAt: string
  uptimeMs: number
}

export interface PeerSummary {
  peerId: string
  addresses: string[]
  direction?: 'inbound' | 'outbound'
}

/** What `find` looks for; every field is a minimum. */
export interface FindQuery {
  cpu?: number
  memoryMb?: number
  gpu?: boolean
  /** Most volunteers to return. Default 20. */
  limit?: number
  /** How long the DHT search may take, ms. Default 10 000. */
  timeoutMs?: number
}

/** A volunteer's capacity as it answered the direct query. */
export interface VolunteerCapacity {
  status: 'ok' | 'full' | 'unavailable'
  reason?: string
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

export interface FoundVolunteer {
  peerId: string
  addresses: string[]
  capacity: VolunteerCapacity
}

export interface IdInfo {
  peerId: string
  /** The public key, protobuf-encoded, base64. */
  publicKey: string
}

/** The daemon's built-in route paths. */
export const ROUTES = {
  status: '/v1/status',
  peers: '/v1/peers',
  capacity: '/v1/capacity',
  find: '/v1/find',
  id: '/v1/id'
} as const
