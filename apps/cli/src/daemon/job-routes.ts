// The daemon's job routes: submit (sign with the node key, store, answer
// with the id), list, inspect, results and progress as NDJSON, cancel.
import { createHash } from 'node:crypto'
import { InvalidInputError } from '@idlegrid/interface'
import { MAX_JOB_SUBMISSION_BYTES, ROUTES, ndjson, respond, withBodyLimit } from '@idlegrid/control-api'
import type { JobActivity } from './job-activity.js'
import type { DaemonContext, RouteFactory } from './routes.js'
import type { JobDetail, JobEvent, SubmittedJob, UnsignedBundle } from '@idlegrid/control-api'
import type { SignedBundle } from '@idlegrid/bundle'
import type { JobState, Submitter } from '@idlegrid/jobs'
import type { PrivateKey } from '@libp2p/interface'
import type { Worker } from '@idlegrid/worker'

/** The job services of a daemon, as route handlers need them. */
export interface DaemonJobs {
  submitter: Submitter
  worker: Worker
  activity: JobActivity
}

/** Bounds of the events stream's snapshot interval, ms. */
export const EVENT_INTERVAL = { default: 250, min: 50, max: 60_000 }

export const jobRoutes: RouteFactory = (context: DaemonContext) => {
  const jobsOf = (): DaemonJobs => {
    if (context.jobs == null) {
      throw new InvalidInputError('this daemon runs without its job services')
    }
    return context.jobs
  }

  const signOnce = signingCache(context.privateKey)

  return {
    [`POST ${ROUTES.jobs}`]: withBodyLimit(MAX_JOB_SUBMISSION_BYTES, async ({ body, query, signal }) => {
      const { submitter } = jobsOf()
      const follow = query.get('follow')
      if (follow != null && follow !== 'completed' && follow !== 'input') {
        throw new InvalidInputError(`follow must be 'completed' or 'input', got '${follow}'`)
      }
      const submission = checkSubmission(body, context.node.peerId)
      const signed = await signOnce(submission.bundle)
      const jobId = await submitter.submit({ signedBundle: signed, inputs: submission.inputs, ...(submission.batch != null ? { batch: submission.batch } : {}), ...(submission.replicas != null ? { replicas: submission.replicas } : {}) })
      const answer: SubmittedJob = { jobId, bundleId: signed.id, job: submitter.job(jobId) }
      if (follow == null) {
        return respond(201, answer)
      }
      // submit and follow in one request: the answer, then the record
      // results as the results route would stream them, until the job ends
      const results = follow === 'input' ? submitter.results(jobId, { signal }) : submitter.completed(jobId, { signal })
      return ndjson((async function * () { yield answer; yield * results })(), 201)
    }),

    [`GET ${ROUTES.jobs}`]: ({ query }) => {
      // the submitter checks the bounds, and says them
      const limit = integer(query.get('limit'), 'limit', 1, Number.MAX_SAFE_INTEGER)
      const state = query.get('state') ?? undefined
      const before = query.get('before') ?? undefined
      return jobsOf().submitter.jobs({ ...(limit != null ? { limit } : {}), ...(state != null ? { state: state as JobState } : {}), ...(before != null ? { before } : {}) })
    },

    [`GET ${ROUTES.job}`]: ({ params }): JobDetail => detailOf(jobsOf(), params.id),

    [`GET ${ROUTES.jobResults}`]: ({ params, query, signal }) => {
      const { submitter } = jobsOf()
      submitter.job(params.id) // NotFoundError now, as a 404, not inside the stream
      const follow = flag(query.get('follow'), 'follow', true)
      const order = query.get('order') ?? 'input'
      if (order !== 'input' && order !== 'completed') {
        throw new InvalidInputError(`order must be 'input' or 'completed', got '${order}'`)
      }
      if (order === 'completed') {
        return ndjson(submitter.completed(params.id, { signal, follow }))
      }
      const from = integer(query.get('from'), 'from', 0, Number.MAX_SAFE_INTEGER) ?? 0
      return ndjson(submitter.results(params.id, { signal, follow, from }))
    },

    [`GET ${ROUTES.jobEvents}`]: ({ params, query, signal }) => {
      const jobs = jobsOf()
      jobs.submitter.job(params.id)
      const intervalMs = integer(query.get('interval'), 'interval', EVENT_INTERVAL.min, EVENT_INTERVAL.max) ?? EVENT_INTERVAL.default
      const tasks = flag(query.get('tasks'), 'tasks', false)
      return ndjson(jobEvents(jobs, params.id, { intervalMs, tasks, signal }))
    },

    [`POST ${ROUTES.jobCancel}`]: ({ params }) => {
      const { submitter } = jobsOf()
      const cancelled = submitter.cancel(params.id)
      return { cancelled, job: submitter.job(params.id) }
    }
  }
}

/** Bundles signed lately, kept by the digest of their JSON. */
const SIGNED_BUNDLES = 16

/**
 * Signs bundles with the node key, once per content: a client that submits
 * the same job code again (a job per request, a retried submit) gets the
 * signature made the first time. Ed25519 signatures are deterministic, so
 * the answer is the one signing again would give; what saves time is
 * skipping the signature and the manifest checks, and handing the submitter
 * the same object, which it verified already and need not verify again.
 */
export function signingCache (privateKey: PrivateKey): (bundle: UnsignedBundle) => Promise<SignedBundle> {
  const signed = new Map<string, SignedBundle>()
  return async bundle => {
    const key = createHash('sha256').update(JSON.stringify(bundle)).digest('base64')
    const known = signed.get(key)
    if (known != null) {
      return known
    }
    // Loaded here: signing needs the bundle package, listing jobs does not.
    const { signBundle } = await import('@idlegrid/bundle')
    const fresh = await signBundle(bundle as Parameters<typeof signBundle>[0], privateKey)
    if (signed.size >= SIGNED_BUNDLES) {
      signed.delete(signed.keys().next().value as string)
    }
    signed.set(key, fresh)
    return fresh
  }
}

/** The stored job plus what runs now. */
export function detailOf (jobs: DaemonJobs, id: string): JobDetail {
  const job = jobs.submitter.job(id)
  return {
    ...job,
    running: jobs.submitter.running(id).map(({ taskId, attempt, worker, fraction }) => ({ taskId, attempt, worker, fraction })),
    activeVolunteers: jobs.activity.activeVolunteers(id),
    requeued: jobs.activity.requeued(id),
    refusals: jobs.submitter.refusals(id).map(({ worker, reason, at }) => ({ worker, reason, at }))
  }
}

/** A progress snapshot of a job now. */
export function progressOf (jobs: DaemonJobs, id: string): Extract<JobEvent, { type: 'progress' }> {
  const job = jobs.submitter.job(id)
  const active = jobs.activity.activeVolunteers(id)
  const total = new Set([...active, ...job.volunteers.map(v => v.peerId)])
  return {
    type: 'progress',
    jobId: id,
    state: job.state,
    at: Date.now(),
    records: job.records,
    tasks: job.tasks,
    volunteers: { active: active.length, total: total.size },
    requeued: jobs.activity.requeued(id)
  }
}

/** A snapshot goes out at least this often while a job runs, so a client sees it is alive. */
export const KEEPALIVE_MS = 5_000

/**
 * A snapshot reads the job's counts from the store, on the daemon's only
 * thread: ~14 ms for a job of 10,000 records, ~200 ms for one of 100,000.
 * The next one waits at least this many times as long as the last one
 * took, so one stream never takes more than a tenth of the daemon's time
 * (`idlegrid submit` asks for one every 250 ms).
 */
export const SNAPSHOT_SHARE = 10

/**
 * Snapshots on change, at most one per `intervalMs` (and one per
 * KEEPALIVE_MS when nothing changes); with `tasks`, per-task lines as they
 * happen. Ends with a last snapshot and a `done` line once the job ended.
 */
export async function * jobEvents (jobs: DaemonJobs, id: string, options: { intervalMs: number, tasks: boolean, signal: AbortSignal }): AsyncGenerator<JobEvent> {
  const { submitter } = jobs
  const queue: JobEvent[] = []
  let dirty = true
  let ended = false
  let wake: (() => void) | undefined
  const poke = (): void => { wake?.() }
  const listeners: Array<[string, (evt: CustomEvent<any>) => void]> = []
  const on = (name: 'task:leased' | 'task:final' | 'task:requeued' | 'task:progress' | 'job:ended', type?: 'leased' | 'final' | 'requeued'): void => {
    const listener = (evt: CustomEvent<any>): void => {
      const detail = evt.detail as { jobId?: string, id?: string }
      if ((detail.jobId ?? detail.id) !== id) {
        return
      }
      dirty = true
      if (name === 'job:ended') {
        ended = true
      }
      if (type != null && options.tasks) {
        const { jobId, taskId, attempt, worker, reason } = evt.detail
        queue.push({ type, jobId, taskId, attempt, worker, at: Date.now(), ...(type === 'requeued' ? { reason } : {}) } as JobEvent)
      }
      poke()
    }
    submitter.addEventListener(name, listener)
    listeners.push([name, listener])
  }
  on('task:leased', 'leased')
  on('task:final', 'final')
  on('task:requeued', 'requeued')
  on('task:progress')
  on('job:ended')
  options.signal.addEventListener('abort', poke)
  try {
    let last = 0
    // how long the last snapshot took to read: the next waits SNAPSHOT_SHARE times that at least
    let cost = 0
    while (!options.signal.aborted) {
      yield * queue.splice(0)
      const now = Date.now()
      const due = last + Math.max(dirty ? options.intervalMs : KEEPALIVE_MS, SNAPSHOT_SHARE * cost)
      if (ended || now >= due) {
        // Reading the store is the costly part, so it happens only when a line is due.
        const t0 = performance.now()
        const snapshot = progressOf(jobs, id)
        cost = performance.now() - t0
        dirty = false
        ended = false
        last = now
        yield snapshot
        if (snapshot.state !== 'running') {
          yield * queue.splice(0)
          // its info once its results are paid, as `idlegrid job` would show it a moment later
          yield { type: 'done', jobId: id, at: Date.now(), job: await submitter.done(id, { signal: options.signal }) }
          return
        }
        continue
      }
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, due - now)
        function done (): void {
          clearTimeout(timer)
          wake = undefined
          resolve()
        }
        wake = done
      })
    }
  } finally {
    options.signal.removeEventListener('abort', poke)
    for (const [name, listener] of listeners) {
      submitter.removeEventListener(name as 'task:leased', listener)
    }
  }
}

function checkSubmission (body: unknown, peerId: string): { bundle: UnsignedBundle, inputs: unknown[], batch?: number, replicas?: number | 'auto' } {
  if (typeof body !== 'object' || body == null || Array.isArray(body)) {
    throw new InvalidInputError('a job submission is a JSON object {"bundle": {"manifest", "source"}, "inputs": [...], "batch"?: N}')
  }
  const b = body as Record<string, unknown>
  for (const key of Object.keys(b)) {
    if (!['bundle', 'inputs', 'batch', 'replicas'].includes(key)) {
      throw new InvalidInputError(`job submission: unknown field '${key}'; allowed are bundle, inputs, batch, replicas`)
    }
  }
  const bundle = b.bundle as Record<string, unknown> | undefined
  if (typeof bundle !== 'object' || bundle == null || typeof bundle.manifest !== 'object' || typeof bundle.source !== 'string') {
    throw new InvalidInputError('job submission: bundle must be {"manifest": {...}, "source": "..."} as buildBundle makes it')
  }
  const submitterOfBundle = (bundle.manifest as { submitter?: unknown } | null)?.submitter
  if (submitterOfBundle !== peerId) {
    throw new InvalidInputError(`job submission: the bundle names submitter ${JSON.stringify(submitterOfBundle)}, but this daemon is ${peerId}; build it with this daemon's PeerId (GET /v1/id) as submitter`)
  }
  if (!Array.isArray(b.inputs)) {
    throw new InvalidInputError('job submission: inputs must be an array of records (any JSON values)')
  }
  if (b.batch !== undefined && (typeof b.batch !== 'number' || !Number.isInteger(b.batch))) {
    throw new InvalidInputError(`job submission: batch must be a whole number, got ${JSON.stringify(b.batch)}`)
  }
  if (b.replicas !== undefined && b.replicas !== 'auto' && (typeof b.replicas !== 'number' || !Number.isInteger(b.replicas))) {
    throw new InvalidInputError(`job submission: replicas must be a whole number or 'auto', got ${JSON.stringify(b.replicas)}`)
  }
  return { bundle: bundle as unknown as UnsignedBundle, inputs: b.inputs, batch: b.batch as number | undefined, replicas: b.replicas as number | 'auto' | undefined }
}

function flag (value: string | null, name: string, fallback: boolean): boolean {
  if (value == null || value === '') return fallback
  if (['1', 'true', 'yes'].includes(value)) return true
  if (['0', 'false', 'no'].includes(value)) return false
  throw new InvalidInputError(`${name} must be 1 or 0, got '${value}'`)
}

function integer (value: string | null, name: string, min: number, max: number): number | undefined {
  if (value == null || value === '') return undefined
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidInputError(`${name} must be a whole number from ${min} to ${max}, got '${value}'`)
  }
  return n
}
