// The submitter's side of the control API for programs: submit a job file or
// bundle with its inputs and get a handle that streams results, waits for the
// end and cancels, in the spirit of Dask futures and Ray object refs.
import { InvalidInputError } from '@idlegrid/interface'
import type { ControlClient, RequestOptions } from './client.js'
import type { JobDetail, JobEvent, JobInfo, RecordResult, UnsignedBundle } from './types.js'
import type { TaskRequirements } from '@idlegrid/interface'

/** What `client.submit()` accepts besides the bundle and inputs. All optional. */
export interface SubmitOptions extends Partial<TaskRequirements> {
  /** Job name. Default: the job file's name without extension. */
  name?: string
  /** Volunteers per task. Default 1. */
  replicas?: number
  /** Input records per task. Default 1. */
  batch?: number
  signal?: AbortSignal
}

export interface ResultStreamOptions {
  /** First record index (input order only). Default 0. */
  from?: number
  /** Wait for records not finished yet until the job ends. Default true. */
  follow?: boolean
  signal?: AbortSignal
}

/**
 * A submitted job. Iterating it yields record results as they arrive (in the
 * order they finished, each with its record `index`); `results()` gives them
 * all in input order once the job has ended.
 */
export interface JobHandle extends AsyncIterable<RecordResult> {
  readonly id: string
  /** The job as stored now, with what runs right now. */
  info(options?: RequestOptions): Promise<JobDetail>
  /** Every record's result in input order; waits for the job to end. */
  results(options?: { signal?: AbortSignal }): Promise<RecordResult[]>
  /** Record results in input order, each as soon as it and all before it finished. */
  ordered(options?: ResultStreamOptions): AsyncIterable<RecordResult>
  /** Record results in the order they finished. */
  completed(options?: Omit<ResultStreamOptions, 'from'>): AsyncIterable<RecordResult>
  /** Progress snapshots until the job ends (see JobEvent). */
  events(options?: { intervalMs?: number, tasks?: boolean, signal?: AbortSignal }): AsyncIterable<JobEvent>
  /** Resolves with the final JobInfo when the job is done or cancelled. */
  done(options?: { signal?: AbortSignal }): Promise<JobInfo>
  /** Fails every unfinished task. Resolves false when the job had already ended. */
  cancel(options?: RequestOptions): Promise<boolean>
}

/**
 * The rest of the stream that submitted the job (`POST /v1/jobs?follow=completed`,
 * after its answer line): the job's results as they complete, and the
 * controller that closes it.
 */
export interface SubmitStream {
  completed: AsyncGenerator<RecordResult, void, undefined>
  cancel: AbortController
}

/**
 * A handle on job `id` through `client`; nothing is sent until a method is
 * called. With `submitted`, the first completed() (or iteration) that starts
 * before the next turn of the event loop reads the results from that stream
 * instead of asking again; after that turn the stream is closed.
 */
export function jobHandle (client: ControlClient, id: string, submitted?: SubmitStream): JobHandle {
  let kept = submitted
  if (kept != null) {
    setImmediate(() => {
      if (kept != null) {
        // as a consumer that stops early: the request is closed, the daemon stops following
        void kept.completed.return(undefined).catch(() => {})
        kept = undefined
      }
    })
  }
  /** The submit's stream, once, for a completed() that follows the submit at once. */
  const fromSubmit = (signal?: AbortSignal): AsyncIterable<RecordResult> | undefined => {
    const stream = kept
    kept = undefined
    if (stream == null) {
      return undefined
    }
    if (signal == null) {
      return stream.completed
    }
    if (signal.aborted) {
      stream.cancel.abort(signal.reason)
      return stream.completed
    }
    // the listener goes with the stream: the caller's signal may outlive many jobs (docs/abort-signals.md)
    const onAbort = (): void => { stream.cancel.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    return (async function * () {
      try {
        yield * stream.completed
      } finally {
        signal.removeEventListener('abort', onAbort)
      }
    })()
  }
  const handle: JobHandle = {
    id,
    async info (options) {
      return await client.jobInfo(id, options)
    },
    async results (options = {}) {
      const out: RecordResult[] = []
      for await (const r of client.jobResults(id, { follow: true, signal: options.signal })) {
        out.push(r)
      }
      return out
    },
    ordered (options = {}) {
      return client.jobResults(id, { ...options, order: 'input' })
    },
    completed (options = {}) {
      return (options.follow !== false ? fromSubmit(options.signal) : undefined) ?? client.jobResults(id, { ...options, order: 'completed' })
    },
    events (options = {}) {
      return client.jobEvents(id, options)
    },
    async done (options = {}) {
      for await (const event of client.jobEvents(id, { signal: options.signal, intervalMs: 1000 })) {
        if (event.type === 'done') {
          return event.job
        }
      }
      // The stream ended without a done line (daemon stopping): ask once more.
      const info = await client.jobInfo(id, { signal: options.signal })
      if (info.state === 'running') {
        throw new InvalidInputError(`the event stream of job ${id} ended while the job still runs (did the daemon stop?)`)
      }
      return info
    },
    async cancel (options) {
      return (await client.cancelJob(id, options)).cancelled
    },
    [Symbol.asyncIterator] () {
      return (fromSubmit() ?? client.jobResults(id, { order: 'completed' }))[Symbol.asyncIterator]()
    }
  }
  return handle
}

/**
 * Builds the bundle when `bundleOrPath` is a file path (esbuild runs in this
 * process; the daemon signs with its node key), with the daemon's PeerId as
 * submitter.
 */
export async function bundleFor (client: ControlClient, bundleOrPath: string | UnsignedBundle, options: SubmitOptions): Promise<UnsignedBundle> {
  if (typeof bundleOrPath !== 'string') {
    return bundleOrPath
  }
  const { peerId } = await client.id({ signal: options.signal })
  // Loaded on demand: esbuild is only needed to submit from a path.
  const { buildBundle } = await import('@idlegrid/bundle')
  const requirements: Partial<TaskRequirements> = {}
  for (const key of ['cores', 'memoryMb', 'timeoutMs', 'gpu', 'deterministic'] as const) {
    if (options[key] !== undefined) {
      (requirements as Record<string, unknown>)[key] = options[key]
    }
  }
  return await buildBundle(bundleOrPath, {
    submitter: peerId,
    requirements,
    ...(options.name != null ? { name: options.name } : {}),
    ...(options.replicas != null ? { replicas: options.replicas } : {}),
    ...(options.batch != null ? { batch: options.batch } : {})
  })
}
