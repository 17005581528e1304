// The claim check: caps the CPU time a volunteer reports at what is
// plausible before the submitter pays for it. Pure; see docs/credit.md.

/** A claim above k times the median of other volunteers on the same job is capped to k times it. */
export const PEER_MEDIAN_FACTOR = 4

/** The median cap applies once this many other volunteers' figures on the job are known. */
export const MIN_PEER_SAMPLES = 5

/** A claim over 24 h of CPU per core is refused outright. */
export const MAX_CLAIM_MS_PER_CORE = 24 * 60 * 60 * 1000

export interface ClaimLimits {
  /** The task's wall-time limit from the manifest, ms. */
  timeoutMs: number
  /** Cores the manifest grants the task. */
  cores: number
  /** Wall time of the attempt as the submitter saw it (lease to result), ms, when known. */
  wallMs?: number
  /** Median credited CPU ms of other volunteers' results on the same job, when known. */
  peerMedianMs?: number
  /** How many results the median is drawn from. Default 0 (the median cap is then off). */
  peerSamples?: number
}

export interface ClaimResult {
  /** CPU ms to credit (whole ms). 0 when refused. */
  creditedMs: number
  /** True when creditedMs is below the claim. */
  capped: boolean
  /** True when the claim was absurd and nothing is credited. */
  refused: boolean
  /** Why the claim was capped or refused. */
  reason?: string
}

/** The median of a list of numbers (mean of the middle two for even lengths); NaN for an empty list. */
export function median (values: readonly number[]): number {
  if (values.length === 0) {
    return Number.NaN
  }
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function positive (value: number | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

/**
 * Caps a claimed CPU time at: timeoutMs × cores; wallMs × cores when known;
 * PEER_MEDIAN_FACTOR × the peer median once MIN_PEER_SAMPLES are known.
 * Negative, non-finite and over-24-h-per-core claims are refused (creditedMs 0).
 */
export function capCpuClaim (claimedMs: number, limits: ClaimLimits): ClaimResult {
  const cores = positive(limits.cores) ? limits.cores : 1
  if (typeof claimedMs !== 'number' || !Number.isFinite(claimedMs) || claimedMs < 0) {
    return { creditedMs: 0, capped: true, refused: true, reason: `claimed CPU time ${String(claimedMs)} is not a non-negative number` }
  }
  if (claimedMs > MAX_CLAIM_MS_PER_CORE * cores) {
    return { creditedMs: 0, capped: true, refused: true, reason: `claimed CPU time ${claimedMs} ms is over 24 h per core (${cores} cores): refused` }
  }
  const claim = Math.floor(claimedMs)
  let credited = claim
  let reason: string | undefined

  const apply = (limit: number, why: string): void => {
    const whole = Math.floor(limit)
    if (whole < credited) {
      credited = whole
      reason = why
    }
  }

  if (positive(limits.timeoutMs)) {
    apply(limits.timeoutMs * cores, `over the task limit of ${limits.timeoutMs} ms × ${cores} cores`)
  }
  if (positive(limits.wallMs)) {
    apply(limits.wallMs * cores, `over the observed wall time of ${limits.wallMs} ms × ${cores} cores`)
  }
  if (positive(limits.peerMedianMs) && (limits.peerSamples ?? 0) >= MIN_PEER_SAMPLES) {
    apply(limits.peerMedianMs * PEER_MEDIAN_FACTOR, `over ${PEER_MEDIAN_FACTOR}× the median ${limits.peerMedianMs} ms of ${limits.peerSamples} other results on this job`)
  }
  return { creditedMs: credited, capped: credited < claim, refused: false, ...(reason != null && credited < claim ? { reason } : {}) }
}
