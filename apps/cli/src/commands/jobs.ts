// `idlegrid jobs`: the jobs this node submitted, newest last.
import { createControlClient } from '@idlegrid/control-api'
import { EXIT } from '../exit-codes.js'
import { json as toJson } from '../output.js'
import type { Command } from '../command.js'

export const jobsCommand: Command = {
  name: 'jobs',
  summary: 'list the jobs this node submitted',
  usage: 'jobs',
  options: {},
  details: 'See one job with `idlegrid job <id>`. --json prints every job\'s JobInfo (docs/client-api.md).',

  async run ({ dataDir, json, io, signal }) {
    const jobs = await createControlClient({ dataDir }).jobs({ signal })
    if (json) {
      io.stdout(toJson(jobs))
      return EXIT.OK
    }
    if (jobs.length === 0) {
      io.stdout('no jobs yet; submit one with `idlegrid submit job.ts --input records.jsonl`\n')
      return EXIT.OK
    }
    const { jobsTable } = await import('../job-output.js')
    io.stdout(jobsTable(jobs))
    return EXIT.OK
  }
}
