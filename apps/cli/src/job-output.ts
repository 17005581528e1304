// Writing a job's results (one JSON line per input record, in input order)
// and describing jobs for people: the summary, the detail view and failures.
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { EXIT } from './exit-codes.js'
import { count } from './progress.js'
import { duration, fields, megabytes, plural, table } from './output.js'
import type { ControlClient, JobDetail, JobInfo, RecordResult } from '@idlegrid/control-api'

/** Where result lines go: a file (written as `<file>.partial`, renamed when complete) or a function. */
export interface ResultSink {
  write(line: string): Promise<void>
  /** Makes the output final (renames the file into place). */
  commit(): Promise<void>
  /** Drops what was written (removes the partial file). */
  discard(): Promise<void>
}

export function fileSink (path: string): ResultSink {
  const partial = `${path}.partial`
  const stream = createWriteStream(partial, { encoding: 'utf8', mode: 0o644 })
  let failed: Error | undefined
  stream.on('error', err => { failed = err })
  const end = async (): Promise<void> => {
    if (stream.closed) return
    await new Promise<void>(resolve => { stream.end(() => { resolve() }) })
  }
  return {
    async write (line) {
      if (failed != null) throw failed
      if (!stream.write(line)) {
        await new Promise<void>(resolve => { stream.once('drain', resolve) })
      }
    },
    async commit () {
      await end()
      if (failed != null) throw failed
      await rename(partial, path)
    },
    async discard () {
      await end()
      await rm(partial, { force: true })
    }
  }
}

export function functionSink (write: (text: string) => void): ResultSink {
  return {
    async write (line) { write(line) },
    async commit () {},
    async discard () {}
  }
}

/** The line for one record: its value, or `{"error": {...}}` for a record that failed for good. */
export function resultLine (r: RecordResult): string {
  return JSON.stringify('value' in r ? (r.value ?? null) : { error: r.error }) + '\n'
}

export interface WrittenResults {
  records: number
  failed: number
  /** The first failed records, for the summary. */
  failures: Array<{ index: number, error: Extract<RecordResult, { error: unknown }>['error'] }>
}

/** Streams a job's results in input order into `sink`, following until the job ends unless `follow` is false. */
export async function writeResults (client: ControlClient, id: string, sink: ResultSink, options: { follow?: boolean, signal?: AbortSignal, line?: (r: RecordResult) => string }): Promise<WrittenResults> {
  const out: WrittenResults = { records: 0, failed: 0, failures: [] }
  const line = options.line ?? resultLine
  for await (const r of client.jobResults(id, { follow: options.follow ?? true, signal: options.signal })) {
    await sink.write(line(r))
    out.records++
    if ('error' in r) {
      out.failed++
      if (out.failures.length < 10) {
        out.failures.push({ index: r.index, error: r.error })
      }
    }
  }
  return out
}

/** Exit code for a job that ended: 9 cancelled, 8 some records failed, else 0. */
export function exitCodeOfJob (job: Pick<JobInfo, 'state' | 'records'>): number {
  if (job.state === 'cancelled') return EXIT.JOB_CANCELLED
  if (job.records.failed > 0) return EXIT.RECORDS_FAILED
  return EXIT.OK
}

/** "4 cores and 2048 MB" (what a task needs, as the waiting message says it). */
export function wants (requirements: { cores: number, memoryMb: number, gpu?: boolean }): string {
  return `${plural(requirements.cores, 'core')} and ${requirements.memoryMb} MB${requirements.gpu === true ? ' and a GPU' : ''}`
}

/** One line per failed record: `record 5: TypeError: boom (task j:5, attempt 1, on 12D3...)`. */
export function failureLines (failures: WrittenResults['failures'] | JobInfo['failures'], max = 10): string[] {
  return failures.slice(0, max).map(f => {
    const error = 'index' in f ? f.error : f
    const index = 'index' in f ? f.index : f.record
    const where = [error.taskId != null ? `task ${error.taskId}` : '', error.attempt != null ? `attempt ${error.attempt}` : '', error.worker != null ? `on ${error.worker}` : ''].filter(Boolean).join(', ')
    return `${index != null ? `record ${index}` : `task ${error.taskId ?? '?'}`}: ${error.name}: ${error.message}${where !== '' ? ` (${where})` : ''}`
  })
}

/** The closing lines of a job, for stderr. */
export function summary (job: JobInfo, written?: WrittenResults): string {
  const took = job.finishedAt != null ? ` in ${duration(job.finishedAt - job.createdAt)}` : ''
  const lines = [`job ${job.id} ${job.state === 'cancelled' ? 'cancelled' : 'done'}${took}: ${count(job.records.ok)}/${count(job.records.total)} records ok, ${count(job.records.failed)} failed · ${plural(job.volunteers.length, 'volunteer')}`]
  const failures = written?.failures ?? job.failures.filter(f => f.retryable !== true)
  if (job.records.failed > 0 && failures.length > 0) {
    lines.push(`failed records${job.records.failed > failures.length ? ` (first ${failures.length} of ${count(job.records.failed)})` : ''}:`)
    lines.push(...failureLines(failures).map(l => `  ${l}`))
    lines.push(`  (\`idlegrid job ${job.id}\` lists every error with its volunteer and attempt)`)
  }
  return lines.join('\n') + '\n'
}

/** Everything `idlegrid job <id>` shows. */
export function jobDetailText (job: JobDetail, now = Date.now()): string {
  const finished = job.tasks.done + job.tasks.failed
  const percent = job.tasks.total === 0 ? 100 : Math.floor((finished / job.tasks.total) * 100)
  const r = job.requirements
  const out: string[] = []
  out.push(fields([
    ['job', `${job.id} (${job.name})`],
    ['state', `${job.state} · ${percent}% · submitted ${duration(now - job.createdAt)} ago${job.finishedAt != null ? ` · took ${duration(job.finishedAt - job.createdAt)}` : ''}`],
    ['records', `${count(job.records.ok)} ok · ${count(job.records.failed)} failed · ${count(job.records.total)} total`],
    ['tasks', `${count(job.tasks.done)} done · ${count(job.tasks.failed)} failed · ${count(job.tasks.leased)} running · ${count(job.tasks.pending)} pending · ${count(job.tasks.total)} total (batch ${job.batch})`],
    ['needs', `${plural(r.cores, 'core')}, ${megabytes(r.memoryMb)}, ${duration(r.timeoutMs)} per record${r.deterministic ? ', deterministic' : ''}${r.gpu ? ', GPU' : ''}`],
    ['running on', job.activeVolunteers.length === 0 ? '-' : job.activeVolunteers.join(', ')],
    ['requeued', `${count(job.requeued)} task(s) since the daemon started`]
  ]).trimEnd())
  out.push('')
  if (job.volunteers.length === 0) {
    out.push('volunteers: none has finished a task yet')
  } else {
    const tasks = job.volunteers.reduce((n, v) => n + v.tasks, 0)
    out.push('volunteers:')
    out.push(table(['PEER ID', 'TASKS', 'RECORDS', 'SHARE', 'CPU'], job.volunteers.map(v => [
      v.peerId, count(v.tasks), count(v.records), `${tasks === 0 ? 0 : Math.round((v.tasks / tasks) * 100)}%`, `${(v.cpuMs / 1000).toFixed(1)}s`
    ])).trimEnd())
  }
  if (job.refusals != null && job.refusals.length > 0) {
    // e.g. a private swarm's volunteer that does not trust this signer
    out.push('')
    out.push('refused by:')
    out.push(...job.refusals.map(r => `  ${r.worker}: ${r.reason}`))
  }
  if (job.failures.length > 0) {
    out.push('')
    out.push(`errors (${job.failures.length === 100 ? 'first 100' : job.failures.length}, oldest first; retryable ones were retried):`)
    out.push(...failureLines(job.failures, 20).map(l => `  ${l}`))
    if (job.failures.length > 20) {
      out.push(`  ... ${job.failures.length - 20} more in \`idlegrid job ${job.id} --json\``)
    }
  }
  return out.join('\n') + '\n'
}

/** The `idlegrid jobs` table. */
export function jobsTable (jobs: JobInfo[], now = Date.now()): string {
  return table(['JOB', 'NAME', 'STATE', 'RECORDS OK/FAILED/TOTAL', 'TASKS DONE', 'VOLUNTEERS', 'SUBMITTED'], jobs.map(j => [
    j.id,
    j.name,
    j.state,
    `${count(j.records.ok)}/${count(j.records.failed)}/${count(j.records.total)}`,
    `${count(j.tasks.done + j.tasks.failed)}/${count(j.tasks.total)}`,
    String(j.volunteers.length),
    `${duration(now - j.createdAt)} ago`
  ]))
}
