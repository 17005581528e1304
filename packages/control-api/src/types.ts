// The JSON shapes the daemon's built-in routes answer with, shared by the
// route handlers and the typed client.
import type { JobInfo, RecordResult } from '@idlegrid/jobs'
import type { TaskRequirements } from '@idlegrid/interface'

export type { JobInfo, RecordResult }
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

/** An unsigned bundle as buildBundle makes it; the daemon signs it with its node key. */
export interface UnsignedBundle {
  manifest: {
    version: 1
    name: string
    entry: string
    requirements: TaskRequirements
    replicas: number
    batch: number
    /** Must be the daemon's PeerId (GET /v1/id). */
    submitter: string
    createdAt: number
  }
  source: string
}

/** Body of POST /v1/jobs. */
export interface JobSubmission {
  bundle: UnsignedBundle
  /** Input records, each any JSON value, in order. */
  inputs: unknown[]
  /** Records per task. Default: the manifest's batch. */
  batch?: number
}

/** Answer of POST /v1/jobs (201): the stored job. */
export interface SubmittedJob {
  jobId: string
  bundleId: string
  job: JobInfo
}

/** A task running now, as its volunteer last reported it. */
export interface RunningTaskInfo {
  taskId: string
  attempt: number
  worker: string
  /** 0..1 over the task's records. */
  fraction: number
}

/** Answer of GET /v1/jobs/:id: the stored job plus what runs right now. */
export interface JobDetail extends JobInfo {
  running: RunningTaskInfo[]
  /** Distinct volunteers holding a lease of this job now. */
  activeVolunteers: string[]
  /** Tasks requeued since this daemon started (lease expired, volunteer lost, retryable error). */
  requeued: number
  /** Volunteers whose last answer to the job's announcement was a refusal (e.g. an untrusted signer in a private swarm), with their reason. */
  refusals?: JobRefusalInfo[]
}

/** A volunteer that declined a job, and why. */
export interface JobRefusalInfo {
  worker: string
  reason: string
  /** When it last said so, ms since the epoch. */
  at: number
}

/**
 * One line of GET /v1/jobs/:id/events. `progress` lines are snapshots sent
 * on change (at most every `interval` ms); the stream ends after `done`.
 * With `tasks=1`, per-task `leased`, `requeued` and `final` lines come too.
 */
export type JobEvent =
  | {
    type: 'progress'
    jobId: string
    state: JobInfo['state']
    /** ms since the epoch, on the daemon's clock. */
    at: number
    records: JobInfo['records']
    tasks: JobInfo['tasks']
    /** Distinct volunteers holding a lease now, and that have finished tasks of this job. */
    volunteers: { active: number, total: number }
    requeued: number
  }
  | { type: 'leased', jobId: string, taskId: string, attempt: number, worker: string, at: number }
  | { type: 'requeued', jobId: string, taskId: string, attempt: number, worker: string, reason: string, at: number }
  | { type: 'final', jobId: string, taskId: string, attempt: number, worker: string, at: number }
  | { type: 'done', jobId: string, at: number, job: JobInfo }

/** The daemon's built-in route paths. */
export const ROUTES = {
  status: '/v1/status',
  peers: '/v1/peers',
  capacity: '/v1/capacity',
  find: '/v1/find',
  id: '/v1/id',
  jobs: '/v1/jobs',
  job: '/v1/jobs/:id',
  jobResults: '/v1/jobs/:id/results',
  jobEvents: '/v1/jobs/:id/events',
  jobCancel: '/v1/jobs/:id/cancel'
} as const

/** Largest POST /v1/jobs body the daemon accepts: 256 MiB. */
export const MAX_JOB_SUBMISSION_BYTES = 256 * 1024 * 1024

/** A route path with its `:id` filled in. */
export function jobPath (route: string, id: string): string {
  return route.replace(':id', encodeURIComponent(id))
}
