// The typed client of the control API: finds the daemon through its data
// directory (or a URL and token), and rebuilds named errors from answers.
import { statSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { join } from 'node:path'
import { anySignal } from 'any-signal'
import { InvalidInputError } from '@idlegrid/interface'
import { PayloadTooLargeError, errorFromBody } from './errors.js'
import { CONTROL_FILE, notRunning, readControlFiles } from './control-files.js'
import { bundleFor, jobHandle } from './job-handle.js'
import { MAX_JOB_SUBMISSION_BYTES, ROUTES, jobPath } from './types.js'
import type { JobHandle, ResultStreamOptions, SubmitOptions } from './job-handle.js'
import type {
  CreditsInfo, CreditsVerifyReport, FindQuery, FoundVolunteer, IdInfo, JobDetail, JobEvent, JobInfo, JobListQuery, JobSubmission, PeerSummary, RecordResult, StatusInfo,
  SubmittedJob, UnsignedBundle
} from './types.js'
import type { CapacityReport } from '@idlegrid/interface'
import type { IncomingMessage } from 'node:http'

/**
 * `keepAliveMs`: how long an idle connection to the daemon is kept for the
 * next request (default 60 s); keep it under the daemon's (65 s).
 */
export type ControlClientInit =
  | { dataDir: string, timeoutMs?: number, keepAliveMs?: number }
  | { url: string, token: string, timeoutMs?: number, keepAliveMs?: number }

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown
  query?: Record<string, string | number | boolean | undefined>
  signal?: AbortSignal
  /** Overrides the client's timeout for this request. */
  timeoutMs?: number
}

export interface ControlClient {
  /** One JSON request; resolves with the parsed answer (undefined for 204). */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<T>
  /** One NDJSON request; yields each line's value. */
  stream<T = unknown>(method: string, path: string, options?: RequestOptions): AsyncGenerator<T, void, undefined>
  status(options?: RequestOptions): Promise<StatusInfo>
  peers(options?: RequestOptions): Promise<PeerSummary[]>
  capacity(options?: RequestOptions): Promise<CapacityReport>
  find(query: FindQuery, options?: RequestOptions): Promise<FoundVolunteer[]>
  id(options?: RequestOptions): Promise<IdInfo>

  /**
   * Submits a job: `bundleOrPath` is a job file (bundled here with esbuild)
   * or an unsigned bundle; the daemon signs it with its node key and stores
   * the job before this resolves.
   */
  submit(bundleOrPath: string | UnsignedBundle, inputs: unknown[], options?: SubmitOptions): Promise<JobHandle>
  /** A handle on an existing job. */
  job(id: string): JobHandle
  /** POST /v1/jobs as is. */
  submitJob(submission: JobSubmission, options?: RequestOptions): Promise<SubmittedJob>
  /**
   * The newest jobs this node submitted, oldest of them first: 100 unless
   * `limit` says (up to 10,000); `state` keeps one state; `before` (a job
   * id) lists the jobs submitted before that one, the next page back.
   */
  jobs(options?: RequestOptions & JobListQuery): Promise<JobInfo[]>
  /** @throws NotFoundError */
  jobInfo(id: string, options?: RequestOptions): Promise<JobDetail>
  /** Record results; `order` 'input' (default) or 'completed'. */
  jobResults(id: string, options?: ResultStreamOptions & { order?: 'input' | 'completed' }): AsyncGenerator<RecordResult, void, undefined>
  jobEvents(id: string, options?: { intervalMs?: number, tasks?: boolean, signal?: AbortSignal }): AsyncGenerator<JobEvent, void, undefined>
  /** @returns cancelled false when the job had already ended */
  cancelJob(id: string, options?: RequestOptions): Promise<{ cancelled: boolean, job: JobInfo }>
  /** Balances per peer and the newest `recent` receipts (default 20). */
  credits(options?: RequestOptions & { recent?: number }): Promise<CreditsInfo>
  /** Re-derives every balance from the stored receipts and checks every signature and chain. */
  verifyCredits(options?: RequestOptions): Promise<CreditsVerifyReport>
}

/** Default time a request may take, ms. */
export const DEFAULT_TIMEOUT_MS = 30_000
/**
 * An idle kept-alive connection is closed after this, before the daemon's
 * server would (DEFAULT_KEEP_ALIVE_MS, 65 s), so a request never goes out on
 * a connection the server is closing.
 */
const IDLE_SOCKET_MS = 60_000

interface Endpoint { url: URL, token: string }

/**
 * Creates a client. With `dataDir`, control.json and the token are read
 * again whenever control.json changed, so a restarted daemon is picked up;
 * requests share one kept-alive connection.
 *
 * Errors: DaemonNotRunningError when nothing answers for the data directory,
 * UnauthorizedError for a wrong token, and the daemon's named errors
 * (InvalidInputError, NotFoundError, ...) as it reported them.
 */
export function createControlClient (init: ControlClientInit): ControlClient {
  const defaultTimeout = init.timeoutMs ?? DEFAULT_TIMEOUT_MS
  if (init.keepAliveMs != null && !(Number.isSafeInteger(init.keepAliveMs) && init.keepAliveMs > 0)) {
    throw new InvalidInputError(`keepAliveMs must be a whole number of milliseconds above 0, got ${String(init.keepAliveMs)}`)
  }
  const dataDir = 'dataDir' in init ? init.dataDir : undefined
  // One connection kept between requests: a new one cost 1-3 ms of a round
  // trip here. Idle sockets do not keep a process alive (Node unrefs them).
  const agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: init.keepAliveMs ?? IDLE_SOCKET_MS })
  // The control files as last read, and control.json's state then: a
  // daemon that restarts writes it anew, and is read again.
  let known: { stamp: string, endpoint: Endpoint } | undefined

  async function endpoint (): Promise<Endpoint> {
    if ('url' in init) {
      return { url: new URL(init.url), token: init.token }
    }
    let stamp = ''
    try {
      const st = statSync(join(init.dataDir, CONTROL_FILE))
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`
    } catch {}
    if (known != null && stamp !== '' && known.stamp === stamp) {
      return known.endpoint
    }
    const { info, token } = await readControlFiles(init.dataDir)
    const host = info.host.includes(':') ? `[${info.host}]` : info.host
    const fresh = { url: new URL(`http://${host}:${info.port}`), token }
    known = stamp === '' ? undefined : { stamp, endpoint: fresh }
    return fresh
  }

  /**
   * Sends a request. The timeout covers the whole exchange for JSON requests;
   * for streams (`untilHeaders`) it covers only the wait for the answer's
   * headers, so a followed stream may stay open as long as the job runs.
   */
  async function send (method: string, path: string, options: RequestOptions, accept: string, untilHeaders = false): Promise<{ res: IncomingMessage, cleanup: () => void }> {
    const { url: base, token } = await endpoint()
    const query = Object.entries(options.query ?? {}).filter(([, value]) => value !== undefined).map(([key, value]): [string, string] => [key, String(value)])
    const payload = options.body === undefined ? undefined : options.body instanceof EncodedJson ? options.body.bytes : Buffer.from(JSON.stringify(options.body))
    const timeoutMs = options.timeoutMs ?? defaultTimeout

    return new Promise((resolve, reject) => {
      // The timeout destroys the request itself, and only a caller's signal
      // goes to Node: a signal per request cost a controller, its wiring
      // into the request and its removal, ~45 µs of every request here.
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        req.destroy(Object.assign(new Error(`control API did not answer ${method} ${path} within ${timeoutMs} ms`), { name: 'TimeoutError' }))
      }, timeoutMs)
      timer.unref?.()
      const req = httpRequest({
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        path: query.length === 0 ? path : `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(query).toString()}`,
        method,
        agent,
        // removed by Node when the exchange ends: a caller's signal may live
        // as long as the program, its Ctrl-C say (docs/abort-signals.md)
        signal: options.signal,
        headers: {
          authorization: `Bearer ${token}`,
          accept,
          ...(payload == null ? {} : { 'content-type': 'application/json', 'content-length': payload.length })
        }
      }, res => {
        if (untilHeaders) {
          clearTimeout(timer)
        } else {
          res.once('close', () => { clearTimeout(timer) })
        }
        resolve({
          res,
          cleanup: () => {
            clearTimeout(timer)
            // a response read to its last byte keeps its connection for
            // the next request once its end is processed (a consumer that
            // breaks at a job's last result is one tick before it); a new
            // connection per request cost more than the request itself
            if (res.complete) {
              res.resume()
            } else {
              req.destroy()
            }
          }
        })
      })
      req.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer)
        if (timedOut) {
          reject(err)
        } else if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') {
          reject(dataDir != null ? notRunning(dataDir, `${base.host} refused the connection`) : Object.assign(err, { message: `control API at ${base.origin} is not answering: ${err.message}` }))
        } else {
          reject(err)
        }
      })
      req.end(payload)
    })
  }

  async function readAll (res: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk)
    }
    return Buffer.concat(chunks).toString('utf8')
  }

  async function failure (res: IncomingMessage): Promise<Error> {
    const text = await readAll(res).catch(() => '')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
    return errorFromBody(res.statusCode ?? 500, body)
  }

  /**
   * A submission as the body of its POST, encoded once (it may be hundreds
   * of MiB), its size checked, and the time the POST may take: a large one
   * takes a while to store.
   */
  function encodeSubmission (submission: JobSubmission): { body: EncodedJson, timeoutMs: number } {
    const bytes = Buffer.from(JSON.stringify(submission))
    if (bytes.byteLength > MAX_JOB_SUBMISSION_BYTES) {
      throw new PayloadTooLargeError(`the job is ${bytes.byteLength} bytes of JSON, over the ${MAX_JOB_SUBMISSION_BYTES} bytes one submission may carry: split the input into several jobs`)
    }
    return { body: new EncodedJson(bytes), timeoutMs: Math.max(defaultTimeout, 60_000 + Math.ceil(bytes.byteLength / (1024 * 1024)) * 1000) }
  }

  const client: ControlClient = {
    async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
      const { res } = await send(method, path, options, 'application/json')
      const status = res.statusCode ?? 500
      if (status >= 400) {
        throw await failure(res)
      }
      const text = await readAll(res)
      return (text.length === 0 ? undefined : JSON.parse(text)) as T
    },

    async * stream<T>(method: string, path: string, options: RequestOptions = {}): AsyncGenerator<T, void, undefined> {
      const { res, cleanup } = await send(method, path, options, 'application/x-ndjson', true)
      try {
        if ((res.statusCode ?? 500) >= 400) {
          throw await failure(res)
        }
        for await (const line of ndjsonLines(res)) {
          if (line.trim().length === 0) {
            continue
          }
          const value = JSON.parse(line) as unknown
          if (isErrorLine(value)) {
            throw errorFromBody(500, value)
          }
          yield value as T
        }
      } finally {
        cleanup()
      }
    },

    async status (options) {
      return client.request<StatusInfo>('GET', ROUTES.status, options)
    },

    async peers (options) {
      return client.request<PeerSummary[]>('GET', ROUTES.peers, options)
    },

    async capacity (options) {
      return client.request<CapacityReport>('GET', ROUTES.capacity, options)
    },

    async find (query, options = {}) {
      // Give the HTTP request room beyond the DHT search's own deadline.
      const timeoutMs = options.timeoutMs ?? Math.max(defaultTimeout, (query.timeoutMs ?? 10_000) + 5_000)
      return client.request<FoundVolunteer[]>('POST', ROUTES.find, { ...options, timeoutMs, body: query })
    },

    async id (options) {
      return client.request<IdInfo>('GET', ROUTES.id, options)
    },

    async submit (bundleOrPath, inputs, options = {}) {
      const bundle = await bundleFor(client, bundleOrPath, options)
      const submission = { bundle, inputs, ...(options.batch != null ? { batch: options.batch } : {}) }
      // One request: the answer, then the job's results as they complete,
      // kept for the handle's completed() when it is called at once (the
      // usual submit-then-iterate); otherwise closed (jobHandle).
      const cancel = new AbortController()
      // cleared when the stream ends (docs/abort-signals.md)
      const signal = options.signal == null ? undefined : anySignal([options.signal, cancel.signal])
      const results = client.stream<SubmittedJob | RecordResult>('POST', ROUTES.jobs, { ...encodeSubmission(submission), signal: signal ?? cancel.signal, query: { follow: 'completed' } })
      const stream = (async function * () {
        try {
          yield * results
        } finally {
          signal?.clear()
        }
      })()
      const first = await stream.next()
      if (first.done === true || typeof (first.value as SubmittedJob).jobId !== 'string') {
        await stream.return(undefined)
        throw new Error('the daemon answered the submission without the job it stored')
      }
      return jobHandle(client, (first.value as SubmittedJob).jobId, { completed: stream as AsyncGenerator<RecordResult, void, undefined>, cancel })
    },

    job (id) {
      return jobHandle(client, id)
    },

    async submitJob (submission, options = {}) {
      const { body, timeoutMs } = encodeSubmission(submission)
      return client.request<SubmittedJob>('POST', ROUTES.jobs, { ...options, timeoutMs: options.timeoutMs ?? timeoutMs, body })
    },

    async jobs (options = {}) {
      const { limit, state, before, ...rest } = options
      return client.request<JobInfo[]>('GET', ROUTES.jobs, { ...rest, query: { ...rest.query, limit, state, before } })
    },

    async jobInfo (id, options) {
      return client.request<JobDetail>('GET', jobPath(ROUTES.job, id), options)
    },

    jobResults (id, options = {}) {
      return client.stream<RecordResult>('GET', jobPath(ROUTES.jobResults, id), {
        signal: options.signal,
        query: { follow: options.follow === false ? 0 : 1, from: options.from, order: options.order }
      })
    },

    jobEvents (id, options = {}) {
      return client.stream<JobEvent>('GET', jobPath(ROUTES.jobEvents, id), {
        signal: options.signal,
        query: { interval: options.intervalMs, tasks: options.tasks === true ? 1 : undefined }
      })
    },

    async cancelJob (id, options) {
      return client.request<{ cancelled: boolean, job: JobInfo }>('POST', jobPath(ROUTES.jobCancel, id), options)
    },

    async credits (options = {}) {
      const { recent, ...rest } = options
      return client.request<CreditsInfo>('GET', ROUTES.credits, { ...rest, query: { ...rest.query, recent } })
    },

    async verifyCredits (options = {}) {
      // verify re-reads and re-checks every receipt: allow it longer than a plain read.
      return client.request<CreditsVerifyReport>('POST', ROUTES.creditsVerify, { ...options, timeoutMs: options.timeoutMs ?? Math.max(defaultTimeout, 120_000) })
    }
  }
  return client
}

/**
 * The lines of a response. readline's interface and its async iterator
 * cost ~190 µs more of every streamed request here (client and server in
 * one process: 370 against 180 µs of CPU for a submit and its result).
 */
async function * ndjsonLines (res: IncomingMessage): AsyncGenerator<string, void, undefined> {
  res.setEncoding('utf8')
  let rest = ''
  // the request's cleanup decides what happens to a response left early
  for await (const chunk of res.iterator({ destroyOnReturn: false }) as AsyncIterable<string>) {
    rest += chunk
    let end: number
    while ((end = rest.indexOf('\n')) >= 0) {
      const line = rest.slice(0, end)
      rest = rest.slice(end + 1)
      yield line.endsWith('\r') ? line.slice(0, -1) : line
    }
  }
  if (rest.length > 0) {
    yield rest
  }
}

/** A request body already encoded as JSON (a large submission is not encoded twice). */
class EncodedJson {
  constructor (readonly bytes: Buffer) {}
}

function isErrorLine (value: unknown): boolean {
  return typeof value === 'object' && value != null && !Array.isArray(value) &&
    Object.keys(value).length === 1 && typeof (value as { error?: unknown }).error === 'object'
}
