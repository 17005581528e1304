// The daemon's credit routes: balances and recent receipts from the node's
// ledger (GET /v1/credits), a full re-check of it (POST /v1/credits/verify),
// and the credit lines of the daemon log (one summary per job, not per receipt).
import { InvalidInputError } from '@idlegrid/interface'
import { ROUTES } from '@idlegrid/control-api'
import { credits } from '../commands/credits.js'
import { listen } from './listen.js'
import type { DaemonContext, RouteFactory } from './routes.js'
import type { CreditsInfo, CreditsVerifyReport, ReceiptInfo } from '@idlegrid/control-api'
import type { Submitter } from '@idlegrid/jobs'
import type { Balances, Ledger, StoredReceipt } from '@idlegrid/ledger'
import type { Worker } from '@idlegrid/worker'

/** Default and most receipts GET /v1/credits lists. */
export const RECENT_RECEIPTS = { default: 20, max: 100_000 }

/** The credit routes over the node's one ledger (startDaemon opens it). */
export function creditRoutes (ledger: Ledger | undefined): RouteFactory {
  return (_context: DaemonContext) => {
    const ledgerOf = (): Ledger => {
      if (ledger == null) {
        throw new InvalidInputError('this daemon runs without its credit ledger')
      }
      return ledger
    }

    return {
      [`GET ${ROUTES.credits}`]: ({ query }): CreditsInfo => {
        const l = ledgerOf()
        const recent = recentCount(query.get('recent'))
        const balances = l.balances()
        const issued = balances.peers.reduce((n, p) => n + p.issued, 0)
        const received = balances.peers.reduce((n, p) => n + p.received, 0)
        return {
          peerId: l.peerId,
          ...balancesInfo(balances),
          receipts: { issued, received, unacknowledged: countUnacknowledged(l, issued) },
          recent: l.recent(recent).map(receiptInfo)
        }
      },

      [`POST ${ROUTES.creditsVerify}`]: async (): Promise<CreditsVerifyReport> => {
        const l = ledgerOf()
        const report = await l.verify()
        const problems: CreditsVerifyReport['problems'] = report.problems.map(p => ({ ...p }))
        // verify() re-derives balances from the signed bytes; what `credits` serves comes
        // from the indexed columns. They must agree, or a column was changed behind the ledger's back.
        const served = l.balances()
        const derived = report.balances
        if (balanceKey(served) !== balanceKey(derived)) {
          problems.push({
            kind: 'balance-mismatch',
            message: `balances from the indexed columns (earned ${served.earnedMilli}, spent ${served.spentMilli} milli-credits) differ from those re-derived from the signed receipts (earned ${derived.earnedMilli}, spent ${derived.spentMilli})`
          })
        }
        return {
          ok: report.ok && problems.length === report.problems.length,
          receipts: report.receipts,
          issued: report.issued,
          received: report.received,
          balances: balancesInfo(derived),
          problems,
          forks: l.forks().map(({ issuer, seq, kind, knownHash, conflictingHash, detectedAt }) => ({ issuer, seq, kind, knownHash, conflictingHash, detectedAt })),
          trust: l.trust.list().map(r => ({ ...r, replicationProbability: l.trust.replicationProbability(r.peer) }))
        }
      }
    }
  }
}

/** A stored receipt as JSON: hashes in hex, no signature or raw bytes. */
export function receiptInfo (stored: StoredReceipt): ReceiptInfo {
  const r = stored.receipt
  return {
    hash: stored.hash,
    direction: stored.direction,
    issuer: r.issuer,
    worker: r.worker,
    jobId: r.jobId,
    taskId: r.taskId,
    moreTaskIds: r.moreTaskIds,
    cpuMs: r.cpuMs,
    milliCredits: r.milliCredits,
    seq: r.seq,
    prevHash: Buffer.from(r.prevHash).toString('hex'),
    timestamp: r.timestamp,
    acknowledged: stored.acknowledged,
    storedAt: stored.storedAt
  }
}

function balancesInfo (b: Balances): CreditsVerifyReport['balances'] {
  const peers = [...b.peers].sort((x, y) => (y.earnedMilli + y.spentMilli) - (x.earnedMilli + x.spentMilli) || x.peer.localeCompare(y.peer))
  return { earnedMilli: b.earnedMilli, spentMilli: b.spentMilli, netMilli: b.netMilli, peers: peers.map(p => ({ ...p })) }
}

/** The balances as one comparable string, independent of peer order. */
function balanceKey (b: Balances): string {
  const peers = [...b.peers].sort((x, y) => x.peer.localeCompare(y.peer)).map(p => `${p.peer}:${p.earnedMilli}:${p.spentMilli}:${p.received}:${p.issued}`)
  return `${b.earnedMilli}/${b.spentMilli}/${peers.join(',')}`
}

/** Issued receipts not yet acknowledged, through the ledger's own query. */
function countUnacknowledged (ledger: Ledger, issued: number): number {
  if (issued === 0) return 0
  return ledger.unacknowledged(undefined, issued).length
}

function recentCount (value: string | null): number {
  if (value == null || value === '') return RECENT_RECEIPTS.default
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < 0 || n > RECENT_RECEIPTS.max) {
    throw new InvalidInputError(`recent must be a whole number from 0 to ${RECENT_RECEIPTS.max}, got '${value}'`)
  }
  return n
}

/** How long a job's receipts may still be owed after it ended before its summary is logged anyway, ms. */
const OWED_GRACE_MS = 10_000
/** When an ended job's credit is first looked at: after the submitter's next credit round (500 ms after a result). */
const FIRST_LOOK_MS = 600
/** A volunteer logs what a submitter paid for a job once no receipt of that job came for this long, ms. */
const RECEIVED_QUIET_MS = 3_000

/**
 * Credit lines of the daemon log. Receipts come several per job (one per
 * volunteer and credit round, each paying up to 256 tasks), so they are not
 * logged one by one: as a submitter, one line per job once it ended and its
 * results are paid; as a volunteer, one line per job and submitter once its
 * receipts stop coming. Refused receipts and forks are logged as they
 * happen: they are rare and mean something is wrong.
 */
export function logCreditEvents (submitter: Submitter, worker: Worker, log: (line: string) => void): () => void {
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const later = (ms: number, fn: () => void): ReturnType<typeof setTimeout> => {
    const timer = setTimeout(() => { timers.delete(timer); fn() }, ms)
    timer.unref?.()
    timers.add(timer)
    return timer
  }

  // Submitter: a job that ended may still owe receipts (they are issued one
  // result at a time after acceptance); wait for them, within a bound. One
  // timer for all such jobs: a client running job after job ends several a
  // second, and a timer and a job summary per job and check were ~0.3 ms of
  // the submitter's CPU per one-record job.
  const ended = new Map<string, { volunteers: number, lookAt: number, deadline: number }>()
  let sweepTimer: ReturnType<typeof setTimeout> | undefined
  let sweepAt = Infinity
  const sweepBy = (at: number): void => {
    if (at >= sweepAt) return
    if (sweepTimer != null) { clearTimeout(sweepTimer); timers.delete(sweepTimer) }
    sweepAt = at
    sweepTimer = later(Math.max(0, at - Date.now()), sweep)
  }
  /** Logs the job's credit line when nothing is owed any more, or at its deadline; says whether it did. */
  const summarize = (jobId: string, job: { volunteers: number, deadline: number }, now: number): boolean => {
    let credit
    try {
      credit = submitter.credit(jobId)
    } catch {
      return true
    }
    const { owed, receipts, creditedMs, flagged } = credit
    if (owed > 0 && now < job.deadline) return false
    const paid = job.volunteers
    // job info counts paid results (a receipt may pay several), not receipts
    log(`job ${jobId} credit: ${receipts} result(s) paid for ${credits(creditedMs)} credits${paid > 0 ? ` to ${paid} volunteer(s)` : ''}${flagged > 0 ? `, ${flagged} claim(s) capped or refused` : ''}${owed > 0 ? `, ${owed} still owed (issued as soon as possible)` : ''}`)
    return true
  }
  function sweep (): void {
    sweepTimer = undefined
    sweepAt = Infinity
    const now = Date.now()
    let next = Infinity
    for (const [jobId, job] of ended) {
      if (job.lookAt <= now) {
        if (summarize(jobId, job, now)) {
          ended.delete(jobId)
          continue
        }
        // still owed: looked at again when a receipt of it is issued, or at its deadline
        job.lookAt = job.deadline
      }
      next = Math.min(next, job.lookAt)
    }
    if (next < Infinity) sweepBy(next)
  }
  const onDone = (evt: CustomEvent<{ id: string, volunteers: number }>): void => {
    const now = Date.now()
    // job:ended fires before the last results are paid (the submitter pays
    // them in a round half a second later); look once a round had time to run.
    const job = { volunteers: evt.detail.volunteers, lookAt: now + FIRST_LOOK_MS, deadline: now + OWED_GRACE_MS }
    ended.set(evt.detail.id, job)
    sweepBy(job.lookAt)
  }
  // receipt:issued fires per paid task: an ended job is looked at again once they pause, not once each
  const onIssued = (evt: CustomEvent<{ jobId: string }>): void => {
    const job = ended.get(evt.detail.jobId)
    if (job == null) return
    const at = Date.now() + 50
    if (job.lookAt > at) {
      job.lookAt = at
      sweepBy(at)
    }
  }
  const onRefusedBySubmitter = (evt: CustomEvent<{ worker: string, status: string, reason: string, hash: string }>): void => {
    const d = evt.detail
    log(`receipt ${d.hash.slice(0, 12)} ${d.status === 'FORK' ? 'conflicts with a receipt' : 'was refused by'} ${d.worker}${d.status === 'FORK' ? ' holds' : ''}: ${d.reason}`)
  }

  // Volunteer: receipts per (submitter, job), logged when they stop coming.
  const received = new Map<string, { submitter: string, jobId: string, receipts: number, milli: number, timer?: ReturnType<typeof setTimeout> }>()
  const flushReceived = (key: string): void => {
    const r = received.get(key)
    if (r == null) return
    received.delete(key)
    if (r.timer != null) { clearTimeout(r.timer); timers.delete(r.timer) }
    log(`earned ${credits(r.milli)} credits from ${r.submitter} for job ${r.jobId} (${r.receipts} receipt(s))`)
  }
  const onAccepted = (evt: CustomEvent<{ submitter: string, status: string, jobId: string, milliCredits: number }>): void => {
    const d = evt.detail
    if (d.status !== 'accepted') return
    const key = `${d.submitter} ${d.jobId}`
    const r = received.get(key) ?? { submitter: d.submitter, jobId: d.jobId, receipts: 0, milli: 0 }
    r.receipts++
    r.milli += d.milliCredits
    if (r.timer != null) { clearTimeout(r.timer); timers.delete(r.timer) }
    r.timer = later(RECEIVED_QUIET_MS, () => { r.timer = undefined; flushReceived(key) })
    received.set(key, r)
  }
  const onRefusedByWorker = (evt: CustomEvent<{ submitter: string, status: string, reason: string, hash: string }>): void => {
    const d = evt.detail
    log(d.status === 'FORK'
      ? `receipt ${d.hash.slice(0, 12)} from ${d.submitter} shows it forked its receipt chain (evidence kept; \`idlegrid credits verify\`): ${d.reason}`
      : `refused receipt ${d.hash.slice(0, 12)} from ${d.submitter}: ${d.reason}`)
  }

  const fromSubmitter = listen(submitter, {
    'job:ended': onDone,
    'receipt:issued': onIssued,
    'credit:flagged': onIssued,
    'receipt:refused': onRefusedBySubmitter
  })
  const fromWorker = listen(worker, { 'receipt:accepted': onAccepted, 'receipt:refused': onRefusedByWorker })
  return () => {
    fromSubmitter()
    fromWorker()
    // What was received but not yet logged still gets its line on a clean stop.
    for (const key of [...received.keys()]) flushReceived(key)
    for (const timer of timers) clearTimeout(timer)
    timers.clear()
    ended.clear()
  }
}
