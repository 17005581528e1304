// `idlegrid jobs`: the newest jobs this node submitted, newest last.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { integerFlag } from '../flags.js'
import { UsageError } from '../errors.js'
import { json as toJson } from '../output.js'
import type { Command } from '../command.js'

const STATES = ['running', 'done', 'cancelled'] as const

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list the jobs this node submitted (the newest 100)',
  usage: 'jobs [--limit N] [--state running|done|cancelled] [--before JOB]',
  options: {
    limit: { type: 'string', valueName: 'N', description: 'how many of the newest jobs to list (default 100, up to 10,000)' },
    state: { type: 'string', valueName: 'STATE', description: 'only jobs in this state: running, done or cancelled' },
    before: { type: 'string', valueName: 'JOB', description: 'only jobs submitted before this one (the next page back)' }
  },
  details: 'See one job with `idlegrid job <id>`. --json prints the listed jobs\' JobInfo (docs/client-api.md).',

  async run ({ values, dataDir, json, io, signal }) {
    // the daemon checks the upper bound, and says it
    const limit = integerFlag('limit', values.limit, 1, Number.MAX_SAFE_INTEGER)
    const state = values.state as string | undefined
    if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state must be one of ${STATES.join(', ')}, got '${state}'`)
    }
    const before = values.before as string | undefined
    const client = createControlClient({ dataDir })
    const filter = state != null ? { state: state as typeof STATES[number] } : {}
    const jobs = await client.jobs({ signal, ...filter, ...(limit != null ? { limit } : {}), ...(before != null ? { before } : {}) })
    if (json) {
      io.stdout(toJson(jobs))
      return EXIT.OK
    }
    if (jobs.length === 0) {
      io.stdout(state != null || before != null
        ? 'no jobs match\n'
        : 'no jobs yet; submit one with `idlegrid submit job.ts --input records.jsonl`\n')
      return EXIT.OK
    }
    const { jobsTable } = await import('../job-output.js')
    io.stdout(jobsTable(jobs))
    // jobs before the oldest shown: say how to see them (one job's worth of asking)
    if ((await client.jobs({ signal, ...filter, limit: 1, before: jobs[0].id })).length > 0) {
      io.stdout(`the newest ${jobs.length} shown; older ones: idlegrid jobs --before ${jobs[0].id}${state != null ? ` --state ${state}` : ''}\n`)
    }
    return EXIT.OK
  }
}
