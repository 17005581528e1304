// `idlegrid job <id>`, `job results <id>`, `job cancel <id>`: one job's
// state, counts, volunteers and errors; its results in input order; cancel.
import { createControlClient } from '@idlegrid/control-api'
import { UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { json as toJson } from '../output.js'
import type { Command } from '../command.js'

const SUBCOMMANDS = ['results', 'cancel']

export const jobCommand: Command = {
  name: 'job',
  summary: 'show one job (state, counts, volunteers, errors); `job results <id>`, `job cancel <id>`',
  usage: 'job <id> | job results <id> [--out FILE] [--no-follow] | job cancel <id>',
  positionals: { min: 1, max: 2 },
  options: {
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'results: write here instead of stdout' },
    follow: { type: 'boolean', description: 'results: wait for records still running (default; --no-follow prints what is finished now)' }
  },
  details: `\`job <id>\`: state, record and task counts, who ran what (per-volunteer
share), every error with its volunteer and attempt, replicas and quorum
(tasks verified by quorum, unreplicated, disagreements with each result hash
and who returned it) and credit (results paid, owed, capped claims).
--json prints the whole JobDetail (JobInfo + running tasks, active
volunteers, requeues; quorum, disagreements and credit as in docs/replicas.md).

\`job results <id>\`: one JSON line per input record in input order (the
value, or {"error": {...}}), as submit writes them. It waits for the job to
end unless --no-follow, which stops at the first record not finished yet.
Exit 0 all ok, 8 some records failed, 9 the job was cancelled.

\`job cancel <id>\`: fails every unfinished task; finished results stay.`,

  async run ({ values, positionals, dataDir, json, io, signal }) {
    const [first, second] = positionals
    const sub = SUBCOMMANDS.includes(first) && second != null ? first : undefined
    const id = sub != null ? second : first
    if (sub == null && second != null) {
      throw new UsageError(`unknown job subcommand '${first}'; use \`idlegrid job <id>\`, \`idlegrid job results <id>\` or \`idlegrid job cancel <id>\``)
    }
    if (sub == null && SUBCOMMANDS.includes(first)) {
      throw new UsageError(`\`idlegrid job ${first}\` needs a job id; \`idlegrid jobs\` lists them`)
    }
    const client = createControlClient({ dataDir })
    const output = await import('../job-output.js')

    if (sub === 'cancel') {
      const { cancelled, job } = await client.cancelJob(id, { signal })
      if (json) {
        io.stdout(toJson({ cancelled, job }))
      } else {
        io.stdout(cancelled
          ? `job ${id} cancelled: ${job.records.ok} records had finished ok and keep their results; the other ${job.records.total - job.records.ok} were cancelled\n`
          : `job ${id} had already ended (${job.state}); nothing to cancel\n`)
      }
      return EXIT.OK
    }

    if (sub === 'results') {
      const detail = await client.jobInfo(id, { signal })
      const out = values.out as string | undefined
      const sink = out != null ? output.fileSink(out) : output.functionSink(io.stdout)
      const follow = values.follow !== false
      let written
      try {
        written = await output.writeResults(client, id, sink, { follow, signal })
      } catch (err) {
        await sink.discard()
        throw err
      }
      await sink.commit()
      const job = await client.jobInfo(id, { signal })
      if (out != null || json) {
        io.stderr(`${out != null ? `${out}: ` : ''}${written.records} of ${detail.records.total} records written, ${written.failed} failed${job.state === 'running' ? ' (the job still runs; the rest come with --follow)' : ''}\n`)
      }
      return job.state === 'running' ? (written.failed > 0 ? EXIT.RECORDS_FAILED : EXIT.OK) : output.exitCodeOfJob(job)
    }

    const detail = await client.jobInfo(id, { signal })
    if (json) {
      io.stdout(toJson(detail))
    } else {
      const { jobQuorumText } = await import('./credits.js')
      const quorum = jobQuorumText(detail)
      io.stdout(output.jobDetailText(detail) + (quorum !== '' ? '\n' + quorum : ''))
    }
    return EXIT.OK
  }
}
