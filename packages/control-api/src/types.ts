// The JSON shapes the daemon's built-in routes answer with, shared by the
// route handlers and the typed client.
import type { Bundle } from '@idlegrid/bundle'
import type { JobInfo, JobListOptions, RecordResult } from '@idlegrid/jobs'
import type { PeerBalance } from '@idlegrid/ledger'
import type { VolunteerCapacity } from '@idlegrid/interface'

export type { VolunteerCapacity }

export type { JobInfo, RecordResult }

/** The query of GET /v1/jobs (JobListOptions): limit (default 100, up to 10,000), state, before (a job id). */
export type JobListQuery = JobListOptions

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

/**
 * An unsigned bundle as buildBundle makes it; the daemon signs it with its
 * node key, so `manifest.submitter` must be the daemon's PeerId (GET /v1/id).
 */
export type UnsignedBundle = Bundle

/** Body of POST /v1/jobs. */
export interface JobSubmission {
  bundle: UnsignedBundle
  /** Input records, each any JSON value, in order. */
  inputs: unknown[]
  /** Records per task. Default: the manifest's batch. */
  batch?: number
  /** Volunteers per task, 1..16, or 'auto' (adaptive, by trust: docs/replicas.md). Default: the manifest's replicas. */
  replicas?: number | 'auto'
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
  jobCancel: '/v1/jobs/:id/cancel',
  credits: '/v1/credits',
  creditsVerify: '/v1/credits/verify'
} as const

/** Largest POST /v1/jobs body the daemon accepts: 256 MiB. */
export const MAX_JOB_SUBMISSION_BYTES = 256 * 1024 * 1024

/** A route path with its `:id` filled in. */
export function jobPath (route: string, id: string): string {
  return route.replace(':id', encodeURIComponent(id))
}

/** One stored receipt as the control API shows it (hashes as lowercase hex; the signature stays in the ledger). */
export interface ReceiptInfo {
  /** sha256 of the unsigned encoding: the receipt's name. */
  hash: string
  /** 'issued': this node paid `worker`; 'received': `issuer` paid this node. */
  direction: 'issued' | 'received'
  issuer: string
  worker: string
  jobId: string
  /** The first task the receipt pays. */
  taskId: string
  /** The other tasks it pays, in order (empty for a one-task receipt). */
  moreTaskIds: string[]
  /** CPU ms of all the tasks it pays. */
  cpuMs: number
  milliCredits: number
  /** Position in the issuer's chain, from 1. */
  seq: number
  /** Hash of the issuer's receipt seq - 1; '' for seq 1. */
  prevHash: string
  /** Issue time, ms since the epoch (issuer's clock). */
  timestamp: number
  /** Issued receipts: the worker confirmed it holds it. Received: always true. */
  acknowledged: boolean
  /** When this ledger stored it, ms since the epoch. */
  storedAt: number
}

/** Credit exchanged with one peer, in milli-credits (1 credit = 1 CPU-second on one core). */
export type PeerCreditInfo = PeerBalance

/** Answer of GET /v1/credits: balances derived from the ledger's receipts, and the newest receipts. */
export interface CreditsInfo {
  peerId: string
  earnedMilli: number
  spentMilli: number
  netMilli: number
  receipts: {
    issued: number
    received: number
    /** Issued receipts their worker has not confirmed yet (re-sent on its next contact). */
    unacknowledged: number
  }
  /** Per peer, largest exchange first. */
  peers: PeerCreditInfo[]
  /** The newest `recent` receipts (query, default 20), newest first. */
  recent: ReceiptInfo[]
}

/** What the ledger's verify found wrong with one receipt or chain. */
export interface CreditProblemInfo {
  kind: 'garbled' | 'tampered' | 'bad-signature' | 'wrong-direction' | 'chain-gap' | 'chain-link' | 'fork' | 'balance-mismatch'
  hash?: string
  issuer?: string
  seq?: number
  message: string
}

/** Proof that an issuer signed two receipts that cannot both be in one history. */
export interface ForkInfo {
  issuer: string
  seq: number
  kind: 'conflicting-seq' | 'broken-link'
  knownHash: string
  conflictingHash: string
  detectedAt: number
}

/** Adaptive-trust record of one volunteer (docs/trust.md). */
export interface TrustRecordInfo {
  peer: string
  consecutiveValid: number
  totalValid: number
  totalInvalid: number
  lastInvalidAt?: number
  /** Probability that its next result is replicated under replicas 'auto'. */
  replicationProbability: number
}

/** Answer of POST /v1/credits/verify. */
export interface CreditsVerifyReport {
  /** No problem found: every receipt decodes, hashes, verifies, chains, and the balances re-derived from the signed bytes equal the ones served. */
  ok: boolean
  receipts: number
  issued: number
  received: number
  /** Balances re-derived from the signed receipt bytes. */
  balances: Omit<CreditsInfo, 'peerId' | 'receipts' | 'recent'>
  problems: CreditProblemInfo[]
  forks: ForkInfo[]
  trust: TrustRecordInfo[]
}
