// Defaults of @idlegrid/node: timers, TTLs and the DHT protocol id.

/** DHT protocol of the open IdleGrid network; never the public IPFS DHT. */
export const DHT_PROTOCOL = '/idlegrid/kad/1.0.0'

/** Capability strings; the DHT key is the CID of their sha256. */
export const CAPABILITY_CPU = 'idlegrid:cap:cpu'
export const CAPABILITY_GPU = 'idlegrid:cap:gpu'

/** How often a volunteer re-announces its provider records, ms. */
export const DEFAULT_ADVERTISE_INTERVAL_MS = 150_000
/** Slot changes are re-advertised at most this often, ms. */
export const DEFAULT_REPUBLISH_DEBOUNCE_MS = 1_000

/**
 * How long this node keeps provider records other peers stored with it, ms.
 * Five refresh intervals: a volunteer that vanishes stops being listed
 * within minutes, one that is alive never lapses.
 */
export const DEFAULT_PROVIDER_TTL_MS = 5 * 60_000

/**
 * How often libp2p's connection monitor pings each connection, ms. libp2p's
 * own default, 10 s, costs more idle CPU than everything else a node does.
 */
export const DEFAULT_LIVENESS_INTERVAL_MS = 120_000

/** How long identify-push waits for more protocol changes before telling peers, ms. */
export const IDENTIFY_PUSH_DEBOUNCE_MS = 250

/**
 * How often the DHT looks up this node's own id to keep its neighbourhood in
 * the routing table fresh, ms (kad-dht's default, stated so it is visible).
 */
export const DHT_QUERY_SELF_INTERVAL_MS = 5 * 60_000

/** Limit of one outgoing dial, ms. */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000

/** Limit of one publish (provide or withdraw) round, ms. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000

/** Limit of one find() when the caller passes no signal, ms. */
export const DEFAULT_FIND_TIMEOUT_MS = 15_000

/** Capacity queries find() runs at once. */
export const FIND_QUERY_CONCURRENCY = 8

export const DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']
