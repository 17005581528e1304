// `idlegrid submit`: bundles a job file here, has the daemon sign and store
// it with the input records, then follows it: progress on stderr (a bar on a
// terminal, plain lines when piped, NDJSON with --json) and results in input
// order into --out or stdout.
import { readFile } from 'node:fs/promises'
import { InvalidInputError } from '@idlegrid/interface'
import { UsageError } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { integerFlag, secondsFlag } from '../flags.js'
import { count } from '../progress.js'
import type { Command, CommandContext } from '../command.js'
import type { ControlClient, JobEvent, JobInfo, RecordResult } from '@idlegrid/control-api'

/** How often the terminal bar is redrawn, and the least time between two piped lines, ms. */
const BAR_REDRAW_MS = 200
const PLAIN_LINE_MS = 1_000

export const submitCommand: Command = {
  name: 'submit',
  summary: 'run a job file over input records on volunteers; results in input order',
  usage: 'submit <job.ts|job.js> --input FILE|- [--out FILE] [--batch N] [--timeout S] [--memory MB] [--cores N] [--deterministic] [--replicas N|auto] [--wait S] [--detach]',
  positionals: { min: 1, max: 1 },
  options: {
    input: { type: 'string', short: 'i', valueName: 'FILE', description: 'input records: JSONL (one JSON value a line) or a JSON array; - reads them from standard input' },
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'write results here, one JSON line per input record (default: stdout)' },
    batch: { type: 'string', valueName: 'N', description: 'records per task (default 1)' },
    timeout: { type: 'string', valueName: 'SECONDS', description: 'time limit per record (default 60)' },
    memory: { type: 'string', valueName: 'MB', description: 'memory a task may use, MiB (default 256)' },
    cores: { type: 'string', valueName: 'N', description: 'cores a task needs (default 1)' },
    deterministic: { type: 'boolean', description: 'seeded Math.random and a fixed clock, so replicas agree' },
    replicas: { type: 'string', valueName: 'N|auto', description: 'volunteers per task, a majority must agree (default 1); auto: checked by a second volunteer as often as the first one\'s trust record asks (docs/replicas.md)' },
    name: { type: 'string', valueName: 'NAME', description: 'job name (default: the file name)' },
    wait: { type: 'string', valueName: 'SECONDS', description: 'give up (and cancel the job) when no volunteer took a task within this time (default: wait)' },
    detach: { type: 'boolean', short: 'd', description: 'print the job id and return at once' }
  },
  details: `The job file exports \`default async function (input, ctx)\`; it may import
local files and npm packages, which are bundled into one script here. The
daemon signs the bundle with its node key and stores the job before the id
is printed; from then on the job survives a restart of the daemon, and
Ctrl-C only stops following it (\`idlegrid job <id>\`, \`idlegrid job results <id>\`).

Output: line N of --out (or stdout) is record N's return value as JSON, or
{"error": {...}} for a record that failed for good. Progress goes to stderr:
a bar on a terminal, a line a second when piped. With --json, stdout carries
NDJSON events instead: submitted, waiting, progress, (result, without --out), done.

Exit codes: 0 every record ok, 8 some records failed (listed on stderr),
9 the job was cancelled or --wait gave up, 2 bad input (job file, input file,
flags), 3 no daemon, 130 interrupted (the job keeps running). See docs/submit.md.`,

  async run (ctx) {
    const { values, positionals, dataDir, json, io, signal } = ctx
    const file = positionals[0]
    const inputPath = values.input as string | undefined
    if (inputPath == null || inputPath === '') {
      throw new UsageError('--input FILE is required: a JSONL file (one JSON value a line) or a JSON array of records; see `idlegrid submit --help`')
    }
    const { MAX_RECORD_SIZE, MAX_RECORDS_PER_TASK } = await import('@idlegrid/protocol-work')
    const batch = integerFlag('batch', values.batch, 1, MAX_RECORDS_PER_TASK)
    const timeoutMs = secondsFlag('timeout', values.timeout, 0.001, 86_400)
    const memoryMb = integerFlag('memory', values.memory, 8, 1024 * 1024)
    const cores = integerFlag('cores', values.cores, 1, 1024)
    const autoReplicas = typeof values.replicas === 'string' && values.replicas.trim().toLowerCase() === 'auto'
    let replicas: number | undefined
    try {
      replicas = autoReplicas ? undefined : integerFlag('replicas', values.replicas, 1, 16)
    } catch {
      throw new UsageError(`--replicas must be a whole number from 1 to 16 or 'auto', got '${String(values.replicas)}'`)
    }
    const waitMs = secondsFlag('wait', values.wait, 0, 86_400)
    const out = values.out as string | undefined

    // Input first: it is the likeliest mistake and needs no daemon.
    const { parseInputs } = await import('../inputs.js')
    let text: string
    if (inputPath === '-') {
      if (io.readStdin == null) {
        throw new UsageError('--input - reads the records from standard input, and this caller gives none: name a file')
      }
      text = await io.readStdin()
    } else {
      try {
        text = await readFile(inputPath, 'utf8')
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw new InvalidInputError(code === 'ENOENT' ? `input file not found: ${inputPath}` : `cannot read the input file ${inputPath}: ${code ?? (err as Error).message}`)
      }
    }
    const { records } = parseInputs(text, { source: inputPath === '-' ? 'stdin' : inputPath, maxRecordBytes: MAX_RECORD_SIZE })

    const { createControlClient } = await import('@idlegrid/control-api')
    const client = createControlClient({ dataDir })
    const { peerId } = await client.id({ signal })
    const { buildBundle } = await import('@idlegrid/bundle')
    const bundle = await buildBundle(file, {
      submitter: peerId,
      requirements: {
        ...(cores != null ? { cores } : {}),
        ...(memoryMb != null ? { memoryMb } : {}),
        ...(timeoutMs != null ? { timeoutMs } : {}),
        ...(values.deterministic === true ? { deterministic: true } : {})
      },
      ...(values.name != null ? { name: values.name as string } : {}),
      ...(replicas != null ? { replicas } : {}),
      ...(batch != null ? { batch } : {})
    })
    const submitted = await client.submitJob({ bundle, inputs: records, ...(batch != null ? { batch } : {}), ...(autoReplicas ? { replicas: 'auto' as const } : replicas != null ? { replicas } : {}) }, { signal })
    const job = submitted.job
    const emit = (event: Record<string, unknown>): void => { io.stdout(JSON.stringify(event) + '\n') }

    if (json) {
      emit({ event: 'submitted', jobId: job.id, name: job.name, bundleId: submitted.bundleId, records: job.records.total, tasks: job.tasks.total, requirements: job.requirements, replicas: job.replicas })
    }
    if (values.detach === true) {
      if (!json) io.stdout(`${job.id}\n`)
      return EXIT.OK
    }
    if (!json) {
      io.stderr(`job ${job.id} submitted: ${count(job.records.total)} records in ${count(job.tasks.total)} tasks (${job.name}); Ctrl-C stops following, the job keeps running\n`)
    }
    return await follow({ ctx, client, job, out, waitMs, emit })
  }
}

interface FollowInit {
  ctx: CommandContext
  client: ControlClient
  job: JobInfo
  out?: string
  waitMs?: number
  emit: (event: Record<string, unknown>) => void
}

/** Follows a submitted job to its end: progress, results, the --wait watchdog and the summary. */
async function follow ({ ctx, client, job, out, waitMs, emit }: FollowInit): Promise<number> {
  const { io, json, signal } = ctx
  const { RateMeter, barLine, plainLine } = await import('../progress.js')
  const { fileSink, functionSink, resultLine, summary, exitCodeOfJob, wants, writeResults } = await import('../job-output.js')
  const id = job.id
  const stop = new AbortController()
  const streams = AbortSignal.any([signal, stop.signal])
  let gaveUp = false
  const target = out != null ? fileSink(out) : functionSink(io.stdout)
  // Once --wait gave up, the cancelled records are not worth printing.
  const sink = { ...target, write: async (line: string) => { if (!gaveUp) await target.write(line) } }
  const toLine = json && out == null
    ? (r: RecordResult) => JSON.stringify({ event: 'result', ...r }) + '\n'
    : resultLine

  // Progress state, fed by the events stream and drawn on its own clock.
  const meter = new RateMeter()
  let latest: Extract<JobEvent, { type: 'progress' }> | undefined
  let final: JobInfo | undefined
  let leasedOnce = false
  let lastPlain = 0
  let drawn = false
  const view = (): Parameters<typeof barLine>[0] | undefined => {
    if (latest == null) return undefined
    const done = latest.tasks.done + latest.tasks.failed
    return {
      done,
      total: latest.tasks.total,
      volunteers: latest.state === 'running' ? latest.volunteers.active : latest.volunteers.total,
      rate: meter.rate(),
      etaMs: meter.etaMs(done, latest.tasks.total),
      failed: latest.records.failed
    }
  }
  const draw = (force = false): void => {
    const v = view()
    if (v == null || json || gaveUp) return
    if (io.stderrIsTTY === true) {
      const width = Math.max(10, Math.min(30, (io.columns ?? 80) - 70))
      io.stderr(`\r${barLine(v, width)}\u001b[K`)
      drawn = true
    } else if (force || Date.now() - lastPlain >= PLAIN_LINE_MS) {
      lastPlain = Date.now()
      io.stderr(plainLine(v) + '\n')
    }
  }
  const clearBar = (): void => {
    if (drawn) {
      io.stderr('\r\u001b[K')
      drawn = false
    }
  }
  const redraw = io.stderrIsTTY === true && !json ? setInterval(() => { draw() }, BAR_REDRAW_MS) : undefined

  // --wait: a job nobody takes is cancelled after that long; say early why it waits.
  const requirements = job.requirements
  let waitTimer: ReturnType<typeof setTimeout> | undefined
  const noticeTimer = setTimeout(() => {
    if (leasedOnce || final != null) return
    void (async () => {
      const budget = waitMs != null ? Math.max(100, Math.min(3_000, waitMs - 600)) : 3_000
      let found: number | undefined
      try {
        found = (await client.find({ cpu: requirements.cores, memoryMb: requirements.memoryMb, ...(requirements.gpu ? { gpu: true } : {}), timeoutMs: budget, limit: 20 }, { signal: streams })).length
      } catch {}
      if (leasedOnce || final != null || streams.aborted) return
      const message = found === 0
        ? `no volunteer offers ${wants(requirements)}; waiting...`
        : found == null
          ? `waiting for a volunteer that offers ${wants(requirements)}...`
          : `${found === 1 ? '1 volunteer offers' : `${found} volunteers offer`} ${wants(requirements)}; waiting for one to take a task...`
      const until = waitMs != null ? ` (giving up after ${waitMs / 1000} s)` : ''
      if (json) {
        emit({ event: 'waiting', jobId: id, volunteersFound: found ?? null, message: message + until })
      } else {
        clearBar()
        io.stderr(`${message}${until}\n`)
      }
    })()
  }, Math.min(1_000, waitMs != null ? waitMs / 3 : 1_000))
  if (waitMs != null) {
    waitTimer = setTimeout(() => {
      if (leasedOnce || final != null) return
      gaveUp = true
      client.cancelJob(id).catch(() => {})
    }, waitMs)
  }

  const events = (async () => {
    for await (const event of client.jobEvents(id, { signal: streams, intervalMs: 250 })) {
      if (event.type === 'progress') {
        latest = event
        meter.add(event.at, event.tasks.done + event.tasks.failed)
        if (event.tasks.leased > 0 || event.tasks.done + event.tasks.failed > 0 || event.requeued > 0) {
          leasedOnce = true
        }
        if (gaveUp) {
          continue
        }
        if (json) {
          const v = view()!
          emit({ event: 'progress', jobId: id, state: event.state, done: v.done, total: v.total, failed: event.records.failed, volunteers: event.volunteers.active, rate: v.rate ?? null, etaMs: v.etaMs == null ? null : Math.round(v.etaMs), records: event.records, tasks: event.tasks, requeued: event.requeued, at: event.at })
        } else if (io.stderrIsTTY !== true) {
          draw()
        }
      } else if (event.type === 'done') {
        final = event.job
      }
    }
  })()
  const results = writeResults(client, id, sink, { follow: true, signal: streams, line: toLine })

  let written: Awaited<typeof results> | undefined
  try {
    const [outcome] = await Promise.allSettled([results, events])
    if (outcome.status === 'rejected') {
      stop.abort()
      throw outcome.reason
    }
    written = outcome.value
    await events
  } catch (err) {
    await sink.discard()
    if (signal.aborted) {
      clearBar()
      if (json) {
        emit({ event: 'interrupted', jobId: id })
      }
      io.stderr(`\nstopped following job ${id}; it keeps running in the daemon: \`idlegrid job ${id}\`, results with \`idlegrid job results ${id}${out != null ? ` --out ${out}` : ''}\`\n`)
      return EXIT.INTERRUPTED
    }
    throw err
  } finally {
    clearInterval(redraw)
    clearTimeout(waitTimer)
    clearTimeout(noticeTimer)
  }

  const ended = final ?? await client.jobInfo(id)
  if (gaveUp && ended.state === 'cancelled' && ended.records.ok === 0) {
    await sink.discard()
    clearBar()
    const message = `gave up after ${waitMs! / 1000} s: no volunteer took a task of job ${id} (it needs ${wants(requirements)} per task); the job was cancelled. Start a volunteer that offers that much, or lower --cores/--memory`
    if (json) {
      emit({ event: 'gave-up', jobId: id, message, exitCode: EXIT.JOB_CANCELLED })
    }
    io.stderr(`idlegrid: ${message}\n`)
    return EXIT.JOB_CANCELLED
  }
  await sink.commit()
  const code = exitCodeOfJob(ended)
  if (json) {
    emit({ event: 'done', jobId: id, state: ended.state, exitCode: code, out: out ?? null, records: ended.records, tasks: ended.tasks, volunteers: ended.volunteers, failures: ended.failures, job: ended })
  } else {
    if (latest != null) {
      latest = { ...latest, state: ended.state, tasks: ended.tasks, records: ended.records, volunteers: { active: 0, total: ended.volunteers.length } }
      if (io.stderrIsTTY === true) {
        draw()
        io.stderr('\n')
        drawn = false
      } else {
        draw(true)
      }
    }
    io.stderr(summary(ended, written) + (out != null ? `results: ${out} (${count(written?.records ?? 0)} lines, line N = record N)\n` : ''))
  }
  return code
}
