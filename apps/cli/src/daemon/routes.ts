// The daemon's control API routes. Each feature contributes a RouteFactory;
// later commands (jobs, credits, ...) add theirs to DAEMON_ROUTES.
import { InvalidInputError } from '@idlegrid/interface'
import { ROUTES } from '@idlegrid/control-api'
import { jobRoutes } from './job-routes.js'
import { swarmRoutes } from './swarm.js'
import type { DaemonConfig } from '../config.js'
import type { DaemonJobs } from './job-routes.js'
import type { DaemonSwarm } from './swarm.js'
import type { FindQuery, FoundVolunteer, IdInfo, PeerSummary, RouteTable, StatusInfo } from '@idlegrid/control-api'
import type { IdleGridNode } from '@idlegrid/node'
import type { PrivateKey } from '@libp2p/interface'

/** What route handlers can use. */
export interface DaemonContext {
  node: IdleGridNode
  dataDir: string
  config: DaemonConfig
  privateKey: PrivateKey
  version: string
  startedAt: Date
  /** The submitter, worker and job activity; set by startDaemon. */
  jobs?: DaemonJobs
  /** The private swarm the node runs in; undefined in the open network. */
  swarm?: DaemonSwarm
}

export type RouteFactory = (context: DaemonContext) => RouteTable

/** Default and bounds of a find request. */
export const FIND_DEFAULTS = { limit: 20, maxLimit: 1000, timeoutMs: 10_000, maxTimeoutMs: 120_000 }

/** status, peers, capacity, find, id. */
export const coreRoutes: RouteFactory = ({ node, dataDir, privateKey, version, startedAt }) => ({
  [`GET ${ROUTES.status}`]: (): StatusInfo => ({
    peerId: node.peerId,
    addresses: node.addresses(),
    peerCount: node.peers().length,
    dataDir,
    pid: process.pid,
    version,
    startedAt: startedAt.toISOString(),
    uptimeMs: Date.now() - startedAt.getTime()
  }),

  [`GET ${ROUTES.peers}`]: (): PeerSummary[] => node.peers().map(p => ({
    peerId: p.peerId,
    addresses: p.addresses,
    ...(p.direction === 'inbound' || p.direction === 'outbound' ? { direction: p.direction } : {})
  })),

  [`GET ${ROUTES.capacity}`]: () => node.capacity(),

  [`POST ${ROUTES.find}`]: async ({ body, signal }): Promise<FoundVolunteer[]> => {
    const query = checkFindQuery(body)
    // At the deadline find() answers with the volunteers that fit so far;
    // the request's own signal (the client went away) still aborts it.
    return await node.find(
      { cpu: query.cpu, memoryMb: query.memoryMb, gpu: query.gpu },
      { signal, deadlineMs: query.timeoutMs ?? FIND_DEFAULTS.timeoutMs, limit: query.limit ?? FIND_DEFAULTS.limit }
    )
  },

  [`GET ${ROUTES.id}`]: (): IdInfo => ({
    peerId: node.peerId,
    publicKey: Buffer.from(privateKey.publicKey.raw).toString('base64')
  })
})

/** Every route factory the daemon mounts, in order. */
export const DAEMON_ROUTES: RouteFactory[] = [coreRoutes, swarmRoutes, jobRoutes]

function checkFindQuery (body: unknown): FindQuery {
  const q = (body ?? {}) as Record<string, unknown>
  if (typeof q !== 'object' || Array.isArray(q)) {
    throw new InvalidInputError('find expects a JSON object such as {"cpu": 1}')
  }
  const allowed = new Set(['cpu', 'memoryMb', 'gpu', 'limit', 'timeoutMs'])
  for (const key of Object.keys(q)) {
    if (!allowed.has(key)) {
      throw new InvalidInputError(`find: unknown field '${key}'; allowed are ${[...allowed].join(', ')}`)
    }
  }
  const int = (key: string, min: number, max: number): number | undefined => {
    const v = q[key]
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new InvalidInputError(`find: ${key} must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`)
    }
    return v
  }
  if (q.gpu !== undefined && typeof q.gpu !== 'boolean') {
    throw new InvalidInputError(`find: gpu must be true or false, got ${JSON.stringify(q.gpu)}`)
  }
  return {
    cpu: int('cpu', 0, 100_000),
    memoryMb: int('memoryMb', 0, 1 << 30),
    gpu: q.gpu as boolean | undefined,
    limit: int('limit', 1, FIND_DEFAULTS.maxLimit),
    timeoutMs: int('timeoutMs', 100, FIND_DEFAULTS.maxTimeoutMs)
  }
}
