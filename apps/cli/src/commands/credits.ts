// `idlegrid credits` (balance, earned and spent, per peer, recent receipts)
// and `idlegrid credits verify` (re-derive and re-check the whole ledger);
// also the quorum and credit lines `idlegrid job <id>` shows.
import { createControlClient } from '@idlegrid/control-api'
import { UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { integerFlag } from '../flags.js'
import { duration, fields, json as toJson, plural, table } from '../output.js'
import type { Command } from '../command.js'
import type { CreditsInfo, CreditsVerifyReport, JobInfo, PeerCreditInfo, ReceiptInfo } from '@idlegrid/control-api'

/** Milli-credits as credits with three decimals: 1234 -> '1.234', -5 -> '-0.005'. */
export function credits (milli: number, signed = false): string {
  const sign = milli < 0 ? '-' : signed && milli > 0 ? '+' : ''
  const abs = Math.abs(milli)
  return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`
}

/** '12D3KooWAbc…wxyz5': enough of a PeerId to tell peers apart in a wide table. */
export function shortPeer (peer: string): string {
  return peer.length <= 20 ? peer : `${peer.slice(0, 10)}…${peer.slice(-6)}`
}

/**
 * The TASK column of a receipt: its (first) task without the job id prefix,
 * and how many more tasks it pays ('17 +41 more').
 */
export function taskColumn (r: ReceiptInfo & { moreTaskIds?: string[] }): string {
  const task = r.taskId.startsWith(`${r.jobId}:`) ? r.taskId.slice(r.jobId.length + 1) : r.taskId
  const more = r.moreTaskIds?.length ?? 0
  return more > 0 ? `${task} +${more} more` : task
}

/** Everything `idlegrid credits` shows. */
export function creditsText (info: CreditsInfo, now = Date.now()): string {
  const out: string[] = []
  out.push(fields([
    ['node', info.peerId],
    ['net', `${credits(info.netMilli, true)} credits (earned ${credits(info.earnedMilli)} · spent ${credits(info.spentMilli)}); 1 credit = 1 CPU-second on one core`],
    ['receipts', `${info.receipts.received} received · ${info.receipts.issued} issued${info.receipts.unacknowledged > 0 ? ` (${info.receipts.unacknowledged} not yet acknowledged: re-sent when the volunteer is next in touch)` : ''}`]
  ]).trimEnd())
  out.push('')
  if (info.peers.length === 0) {
    out.push('per peer: no receipts yet (volunteer with `idlegrid daemon`, or submit a job with `idlegrid submit`)')
  } else {
    out.push('per peer:')
    out.push(table(['PEER ID', 'EARNED', 'SPENT', 'NET', 'RECEIVED', 'ISSUED'], info.peers.map((p: PeerCreditInfo) => [
      p.peer, credits(p.earnedMilli), credits(p.spentMilli), credits(p.netMilli, true), String(p.received), String(p.issued)
    ])).trimEnd())
  }
  if (info.recent.length > 0) {
    out.push('')
    out.push(`recent receipts (newest ${info.recent.length}, newest first):`)
    out.push(table(['WHEN', 'DIRECTION', 'PEER', 'JOB', 'TASK', 'CPU', 'CREDITS', 'SEQ', 'HASH'], info.recent.map((r: ReceiptInfo) => [
      `${duration(Math.max(0, now - r.timestamp))} ago`,
      r.direction === 'issued' ? `paid to${r.acknowledged ? '' : '*'}` : 'earned from',
      shortPeer(r.direction === 'issued' ? r.worker : r.issuer),
      r.jobId,
      taskColumn(r),
      `${(r.cpuMs / 1000).toFixed(1)}s`,
      credits(r.milliCredits),
      String(r.seq),
      r.hash.slice(0, 12)
    ])).trimEnd())
    if (info.recent.some(r => r.direction === 'issued' && !r.acknowledged)) {
      out.push('* not yet acknowledged by the volunteer')
    }
  }
  return out.join('\n') + '\n'
}

/** What `idlegrid credits verify` shows. */
export function verifyText (report: CreditsVerifyReport): string {
  const checked = `${plural(report.receipts, 'receipt')} checked (${report.issued} issued, ${report.received} received)`
  const out: string[] = []
  if (report.ok) {
    out.push(`ledger ok: ${checked}; every signature, hash and chain link holds, and the balances re-derived from the signed receipts match (net ${credits(report.balances.netMilli, true)} credits, earned ${credits(report.balances.earnedMilli)}, spent ${credits(report.balances.spentMilli)})`)
  } else {
    out.push(`ledger has ${plural(report.problems.length, 'problem')}: ${checked}`)
    for (const p of report.problems) {
      const where = [p.hash != null ? `receipt ${p.hash.slice(0, 12)}` : '', p.issuer != null ? `issuer ${p.issuer}` : '', p.seq != null ? `seq ${p.seq}` : ''].filter(Boolean).join(', ')
      out.push(`  ${p.kind}${where !== '' ? ` (${where})` : ''}: ${p.message}`)
    }
  }
  if (report.forks.length > 0) {
    out.push(`fork evidence (${report.forks.length}; an issuer signed two receipts that cannot both be in one history; neither counts in balances):`)
    for (const f of report.forks) {
      out.push(`  ${f.issuer} seq ${f.seq} (${f.kind}): kept ${f.knownHash.slice(0, 12)}, conflicting ${f.conflictingHash.slice(0, 12)}`)
    }
  }
  return out.join('\n') + '\n'
}

/** The quorum and credit part of `idlegrid job <id>`; empty for a job info without them. */
export function jobQuorumText (job: Pick<JobInfo, 'id' | 'replicas' | 'quorum' | 'disagreements' | 'credit'>): string {
  if (job.quorum == null || job.credit == null) {
    return ''
  }
  const q = job.quorum
  const c = job.credit
  const out: string[] = []
  out.push(fields([
    ['replicas', job.replicas === 'auto' ? 'auto (a second volunteer checks as often as the first one\'s trust record asks)' : String(job.replicas)],
    ['quorum', `${q.verified} verified by quorum · ${q.unreplicated} unreplicated · ${q.disagreements} with disagreements · ${q.failed} failed without a majority`],
    // c.receipts counts paid results; one receipt may pay several
    ['credit', `${plural(c.receipts, 'result')} paid for ${credits(c.creditedMs)} credits · ${c.owed} owed${c.flags.length > 0 ? ` · ${plural(c.flags.length, 'claim')} capped or refused` : ''}`]
  ]).trimEnd())
  if (job.disagreements.length > 0) {
    out.push('')
    out.push(`disagreements (${job.disagreements.length === 100 ? 'first 100' : job.disagreements.length}): each result hash and who returned it`)
    for (const d of job.disagreements.slice(0, 20)) {
      const verdict = d.acceptedHash != null ? `accepted ${d.acceptedHash.slice(0, 12)}` : d.state === 'failed' ? 'no majority: failed' : 'not settled yet'
      out.push(`  task ${d.taskId} (${d.state}, ${verdict}):`)
      for (const r of d.results) {
        out.push(`    ${r.hash.slice(0, 12)}${r.hash === d.acceptedHash ? ' (accepted)' : ''}: ${r.workers.join(', ')}`)
      }
    }
    if (job.disagreements.length > 20) {
      out.push(`  ... ${job.disagreements.length - 20} more in \`idlegrid job ${job.id} --json\``)
    }
  }
  if (c.flags.length > 0) {
    out.push('')
    out.push('claims capped or refused:')
    for (const f of c.flags.slice(0, 20)) {
      out.push(`  task ${f.taskId} on ${f.worker}: claimed ${(f.claimedMs / 1000).toFixed(1)}s, credited ${(f.creditedMs / 1000).toFixed(1)}s: ${f.reason}`)
    }
  }
  return out.join('\n') + '\n'
}

export const creditsCommand: Command = {
  name: 'credits',
  summary: 'credit balance, earned and spent, per peer, recent receipts; `credits verify` re-checks the ledger',
  usage: 'credits [--recent N]\n       idlegrid credits verify',
  positionals: { min: 0, max: 1 },
  options: {
    recent: { type: 'string', valueName: 'N', description: 'how many of the newest receipts to list (default 20, 0 for none)' }
  },
  details: `Balances are derived from the signed receipts in <data-dir>/ledger.sqlite on
every read: earned = receipts other submitters issued to this node, spent =
receipts this node issued to its volunteers, net = earned - spent, in total
and per peer. 1 credit = 1 CPU-second on one core (docs/credit.md). --json
prints the CreditsInfo object (docs/control-api.md).

\`credits verify\` re-reads every stored receipt: strict decode, hash,
signature, this node's own chain (1..N, every link), links between received
receipts, fork evidence, and the balances re-derived from the signed bytes
against the ones \`credits\` shows. Exit 0 when all holds; exit ${EXIT.CREDITS_INVALID} with
every problem listed otherwise. --json prints the whole report.`,

  async run ({ values, positionals, dataDir, json, io, signal }) {
    const [sub] = positionals
    if (sub != null && sub !== 'verify') {
      throw new UsageError(`unknown credits subcommand '${sub}'; use \`idlegrid credits\` or \`idlegrid credits verify\``)
    }
    const client = createControlClient({ dataDir })
    if (sub === 'verify') {
      if (values.recent !== undefined) {
        throw new UsageError('--recent applies to `idlegrid credits`, not to `credits verify`')
      }
      const report = await client.verifyCredits({ signal })
      io.stdout(json ? toJson(report) : verifyText(report))
      return report.ok ? EXIT.OK : EXIT.CREDITS_INVALID
    }
    const recent = integerFlag('recent', values.recent, 0, 100_000)
    const info = await client.credits({ signal, ...(recent != null ? { recent } : {}) })
    io.stdout(json ? toJson(info) : creditsText(info))
    return EXIT.OK
  }
}
