// The sandbox runner: the entry of a child process forked by the sandbox
// host, and the only code of IdleGrid that loads isolated-vm. It runs one
// task at a time in a context of an isolate that is kept, with the bundle
// compiled once, for further tasks of the same bundle and memory limit. The
// context of a non-deterministic task that names a `contextKey` (its job),
// bundle evaluated, serves the next task of that key too (warm code, no
// setup per task); any other task gets a fresh context.
// It speaks to the host over the IPC channel (see ../README.md, "IPC").
// Plain JavaScript with JSDoc on purpose: it starts without a TS loader.
import { readFileSync } from 'node:fs'

// Loaded here rather than imported above, so that an install made for
// another Node ends the runner with one line that says what to do, which the
// host shows as why the runner cannot start (docs/node-versions.md).
const ivm = await import('./isolated-vm.js').then(m => m.default, (/** @type {Error} */ err) => {
  process.stderr.write(`${err.message}\n`)
  process.exit(1)
})

/**
 * @typedef {{ memoryMb: number, timeoutMs: number, cpuMs?: number }} TaskLimits
 * @typedef {{ maxResultBytes: number, maxCheckpointBytes: number, maxLogLineBytes: number, maxLogLines: number, maxCheckpoints: number, logLinesPerSecond: number, checkpointsPerSecond: number, maxErrorChars: number, maxTasksPerIsolate: number }} Caps
 * @typedef {{ t: 'run', id: number, taskId: string, attempt: number, bundleId: string, source?: string, input: unknown, inputs?: unknown[], resumeFrom?: unknown, resumeRecord?: number, recordSeeds?: string[], recordTimeoutMs?: number, recordTasks?: Array<{ taskId: string, attempt: number, record: number, records: number }>, limits: TaskLimits, deterministic: boolean, seed: string, maxRssMb: number, contextKey?: string }} RunMessage
 * @typedef {{ t: 'cancel', id: number, reason: string }} CancelMessage
 * @typedef {{ name: string, message: string, stack?: string }} ErrorFields
 */

const RUNTIME_SOURCE = readFileSync(new URL('./guest-runtime.js', import.meta.url), 'utf8')
const TASK_ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'])
const LIMIT_ERROR_NAMES = new Set(['SizeLimitError', 'RateLimitError'])
// The watchdog's clocks and memory are read POLL_MS after a task starts,
// then up to every POLL_MAX_MS, but never later than the CPU budget or a
// record's limit runs out, nor than the resident memory could reach its cap
// growing RSS_MB_PER_MS (faster than page faults come on these machines),
// and never more often than every POLL_MS. A wake-up costs ~0.3-0.6 ms of
// CPU here, so a 25 ms poll alone was 1-2 % of a CPU-bound task.
const POLL_MS = 25
const POLL_MAX_MS = 100
const RSS_MB_PER_MS = 4
// Make the next task's context (with the guest runtime evaluated in it)
// right after the end is sent, while the host handles it: synchronously,
// since a context made on isolated-vm's thread costs the same CPU and two
// more thread hops (and its first use is slower).
const SPARE = true
// When the last task of an isolate ran within this time, the next one starts
// with a synchronous call: it saves two thread hops (~0.3-0.8 ms) per task.
// The first task of an isolate, batches, and every task after one that ran
// longer (or waited) go the asynchronous way, which keeps the main thread
// free for cancel and the memory poll while a long task runs.
const QUICK_MS = 10
// Longest wait for events the guest sent before its outcome.
const EVENT_WAIT_MS = 2000
// A task started with a synchronous call blocks this thread until it ends,
// so its events are sent from inside its callbacks, at most this often: a
// quick task still sends them in one message with its end, a long one
// streams its checkpoints and progress while it runs.
const SYNC_STREAM_MS = 100
// A runner whose daemon died is adopted by another process: seen from
// inside a synchronous task, where the IPC 'disconnect' event cannot fire.
const PARENT_PID = process.ppid

/** @type {Caps} */
const caps = {
  maxResultBytes: 8 * 1024 * 1024,
  maxCheckpointBytes: 1024 * 1024,
  maxLogLineBytes: 8 * 1024,
  maxLogLines: 1000,
  maxCheckpoints: 1000,
  logLinesPerSecond: 100,
  checkpointsPerSecond: 10,
  maxErrorChars: 4096,
  maxTasksPerIsolate: 5000,
  ...JSON.parse(process.argv[2] ?? '{}')
}

/**
 * The isolate of the bundle last run, kept while tasks of that bundle follow.
 * @type {{ bundleId: string, source: string, memoryMb: number, isolate: ivm.Isolate, runtime: ivm.Script, bundle: ivm.Script | null, compileError: ErrorFields | null, tasks: number, spare: { context: ivm.Context, setup: ivm.Reference } | null, warm: { key: string, context: ivm.Context, setup: ivm.Reference } | null, quick: boolean } | null}
 */
let slot = null
/** @type {{ id: number, abort: (name: string, message: string, kind: string) => void } | null} */
let current = null
/**
 * The last bundle source received: the host omits `source` when it sent
 * this bundle before, so a big bundle crosses the pipe once per runner.
 * @type {{ bundleId: string, source: string } | null}
 */
let known = null

function send (msg) {
  if (process.connected) process.send(msg)
}

/** @param {unknown} e @returns {ErrorFields} */
function fields (e) {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack }
  return { name: 'Error', message: String(e) }
}

/** Names from the guest are kept only when they are standard error names. */
function taskError (/** @type {ErrorFields} */ e) {
  return {
    name: TASK_ERROR_NAMES.has(e.name) ? e.name : 'Error',
    message: String(e.message ?? ''),
    stack: typeof e.stack === 'string' ? e.stack : undefined
  }
}

function dropSlot () {
  if (slot === null) return
  const s = slot
  slot = null
  try { if (!s.isolate.isDisposed) s.isolate.dispose() } catch {}
}

/** The isolate for this bundle and memory limit: reused, or made and compiled now. */
function isolateFor (/** @type {RunMessage} */ msg, /** @type {string} */ source) {
  if (slot !== null && (slot.bundleId !== msg.bundleId || slot.source !== source ||
      slot.memoryMb !== msg.limits.memoryMb || slot.isolate.isDisposed || slot.tasks >= caps.maxTasksPerIsolate)) {
    dropSlot()
  }
  if (slot === null) {
    const isolate = new ivm.Isolate({
      memoryLimit: msg.limits.memoryMb,
      onCatastrophicError: () => process.exit(70)
    })
    const runtime = isolate.compileScriptSync(RUNTIME_SOURCE, { filename: 'idlegrid:guest-runtime.js' })
    let bundle = null
    let compileError = null
    try {
      bundle = isolate.compileScriptSync(source, { filename: `idlegrid:bundle/${msg.bundleId}.js` })
    } catch (e) {
      compileError = fields(e)
    }
    slot = { bundleId: msg.bundleId, source, memoryMb: msg.limits.memoryMb, isolate, runtime, bundle, compileError, tasks: 0, spare: null, warm: null, quick: false }
  }
  slot.tasks++
  return slot
}

/**
 * A new context of the slot's isolate with the guest runtime evaluated in
 * it (no task code yet): the context and the runtime's setup function.
 */
function newContext (/** @type {NonNullable<typeof slot>} */ s, /** @type {number} */ timeout) {
  const context = s.isolate.createContextSync()
  try {
    return { context, setup: /** @type {ivm.Reference} */ (s.runtime.runSync(context, { reference: true, timeout })) }
  } catch (e) {
    context.release()
    throw e
  }
}

function rssMb () {
  return process.memoryUsage.rss() / 1048576
}

/** Runs one task and reports its events and its end. @param {RunMessage} msg */
async function runTask (msg) {
  const id = msg.id
  const t0 = performance.now()
  const timeoutMs = msg.limits.timeoutMs
  // Without a CPU budget of its own the wall-time limit is the task's only clock:
  // the process's CPU (GC and compiler threads too) may run ahead of the wall.
  const cpuBudgetMs = msg.limits.cpuMs ?? Infinity
  /** @type {{ name: string, message: string, kind: string } | null} */
  let aborted = null
  let cpuMs = 0
  /** @type {ReturnType<typeof isolateFor> | null} */
  let s = null
  // CPU time of this process since the task started: isolated-vm's
  // isolate.cpuTime runs on while the thread waits for a core (it read 13.3 s
  // for 10.4 s of CPU on a busy machine), which would charge a low-priority
  // runner for the time the volunteer's own programs took.
  const cpu0 = process.cpuUsage()
  let ended = false
  let exitAfter = false
  const batch = Array.isArray(msg.inputs)
  // Events wait here for the next turn of the event loop and leave in one
  // message: a batch of quick records costs one pipe write, not one each.
  /** @type {unknown[]} */
  let pending = []
  let flushing = false
  /** Set while the task runs in a synchronous call (the quick path). */
  let blocking = false
  let lastFlush = t0
  const flush = () => {
    flushing = false
    lastFlush = performance.now()
    if (pending.length === 0) return
    const evs = pending
    pending = []
    send({ t: 'evs', id, evs })
  }
  let received = 0
  /** @type {{ n: number, resolve: () => void } | null} */
  let eventWaiter = null
  /** Queues one event of the guest; null counts one that is dropped. */
  const emit = (/** @type {unknown} */ ev) => {
    received++
    if (eventWaiter !== null && received >= eventWaiter.n) eventWaiter.resolve()
    if (ev === null) return
    pending.push(ev)
    if (blocking) {
      if (process.ppid !== PARENT_PID) process.exit(0)
      if (performance.now() - lastFlush >= SYNC_STREAM_MS) flush()
    }
    if (!flushing) { flushing = true; setImmediate(flush) }
  }
  // Callbacks of the guest land on this thread a little after its calls
  // return; the end must not overtake them.
  const eventsIn = async (/** @type {number} */ n) => {
    if (received >= n) return
    await new Promise(resolve => {
      const timer = setTimeout(resolve, EVENT_WAIT_MS)
      eventWaiter = { n, resolve: () => { clearTimeout(timer); resolve(undefined) } }
    })
    eventWaiter = null
  }

  const end = (/** @type {any} */ body) => {
    if (ended) return
    flush()
    ended = true
    // `retire` tells the host not to send this runner another task.
    send({ t: 'end', id, cpuMs, wallMs: performance.now() - t0, retire: exitAfter, ...body })
  }
  const readCpu = () => {
    const u = process.cpuUsage(cpu0)
    cpuMs = (u.user + u.system) / 1000
    return cpuMs
  }
  const abort = (/** @type {string} */ name, /** @type {string} */ message, /** @type {string} */ kind) => {
    if (aborted !== null) return
    readCpu()
    aborted = { name, message, kind }
    // Events still in flight no longer matter: the end reports the abort.
    eventWaiter?.resolve()
    // Disposing terminates whatever runs in the isolate, sync or microtask.
    if (s !== null) { try { s.isolate.dispose() } catch {} }
  }
  current = { id, abort }

  const wall = setTimeout(() => abort('TimeoutError', `task ran longer than its time limit of ${timeoutMs} ms`, 'limit'), Math.max(1, timeoutMs))
  // Per-record limits of a batch: the clocks restart at each record's outcome.
  const recordLimitMs = batch ? msg.recordTimeoutMs ?? 0 : 0
  let recordAt = t0
  let recordCpuAt = 0
  let rss = 0
  const check = () => {
    if (readCpu() > cpuBudgetMs) abort('CpuLimitError', `task used more than its CPU budget of ${cpuBudgetMs} ms`, 'limit')
    else if (recordLimitMs > 0 && performance.now() - recordAt > recordLimitMs) abort('TimeoutError', `a record ran longer than its time limit of ${recordLimitMs} ms`, 'limit')
    else if (recordLimitMs > 0 && cpuMs - recordCpuAt > recordLimitMs) abort('CpuLimitError', `a record used more than its CPU budget of ${recordLimitMs} ms`, 'limit')
    else if (msg.maxRssMb > 0 && (rss = rssMb()) > msg.maxRssMb) {
      // Memory outside the V8 heap (WebAssembly, array buffers): stop the
      // task, then let the host start a fresh process after this one.
      exitAfter = true
      abort('MemoryLimitError', `task used more memory than allowed (runner above ${msg.maxRssMb} MiB)`, 'limit')
    }
  }
  const nextPoll = () => {
    const now = performance.now()
    let ms = Math.min(POLL_MAX_MS, cpuBudgetMs - cpuMs)
    if (msg.maxRssMb > 0) ms = Math.min(ms, (msg.maxRssMb - rss) / RSS_MB_PER_MS)
    if (recordLimitMs > 0) ms = Math.min(ms, recordLimitMs - (now - recordAt), recordLimitMs - (cpuMs - recordCpuAt))
    return Math.max(POLL_MS, ms)
  }
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let poll
  const tick = () => {
    check()
    if (aborted === null && !ended) poll = setTimeout(tick, nextPoll())
  }
  poll = setTimeout(tick, POLL_MS)

  // The job whose tasks may share this task's context (never a deterministic one's).
  const key = msg.deterministic ? undefined : msg.contextKey
  /** @type {ivm.Context | null} */
  let context = null
  /** @type {ivm.Reference | null} */
  let setupFn = null
  let warm = false
  // Set once the task's outcome came back from a context that is still sound.
  let reusable = false
  try {
    if (typeof msg.source === 'string') known = { bundleId: msg.bundleId, source: msg.source }
    else if (known === null || known.bundleId !== msg.bundleId) throw new Error('the host sent no source for a bundle this runner does not hold')
    s = isolateFor(msg, known.source)
    if (s.compileError !== null) {
      end({ ok: false, kind: 'task', error: taskError(s.compileError) })
      return
    }
    const iso = s.isolate
    // Per-call timeouts (isolated-vm's are wall time). A synchronous call
    // blocks the watchdog's poll, so it also stops where the CPU budget could
    // run out; an asynchronous one leaves the CPU budget to the poll, which
    // reads the CPU really used: a runner waiting for a core is not cut short.
    const remaining = () => Math.max(1, Math.ceil(Math.min(timeoutMs - (performance.now() - t0), cpuBudgetMs - readCpu())))
    const remainingWall = () => Math.max(1, Math.ceil(timeoutMs - (performance.now() - t0)))
    // The warm context of the last task of this job, else the spare made
    // after the last task ended, else a new one.
    if (s.warm !== null && key !== undefined && s.warm.key === key) {
      context = s.warm.context
      setupFn = s.warm.setup
      s.warm = null
      warm = true
    } else if (s.spare !== null) {
      context = s.spare.context
      setupFn = s.spare.setup
      s.spare = null
    } else {
      const fresh = newContext(s, remaining())
      context = fresh.context
      setupFn = fresh.setup
    }
    const meta = {
      taskId: msg.taskId,
      attempt: msg.attempt,
      deterministic: msg.deterministic,
      seed: `${msg.seed}`,
      caps
    }
    // In a synchronous start the guest's events must reach emit() while it
    // runs, not queue behind the blocked event loop as ignored calls would.
    blocking = !batch && s.quick
    const eventMode = blocking ? { sync: true } : { ignored: true }
    // In a batch every event names the record it belongs to.
    const onProgress = new ivm.Callback((/** @type {number} */ fraction, /** @type {number} */ record) => {
      if (!ended) emit(typeof fraction !== 'number' ? null : batch ? { type: 'progress', fraction, record } : { type: 'progress', fraction })
    }, eventMode)
    const onCheckpoint = new ivm.Callback((/** @type {unknown} */ state, /** @type {number} */ record) => {
      if (!ended) emit(batch ? { type: 'checkpoint', state, record } : { type: 'checkpoint', state })
    }, eventMode)
    const onLog = new ivm.Callback((/** @type {unknown} */ line, /** @type {number} */ record) => {
      if (ended) return
      if (typeof line !== 'string') { emit(null); return }
      const l = line.slice(0, caps.maxLogLineBytes)
      emit(batch ? { type: 'log', line: l, record } : { type: 'log', line: l })
    }, eventMode)
    let records = 0
    const onRecord = new ivm.Callback((/** @type {number} */ index, /** @type {boolean} */ ok, /** @type {unknown} */ a, /** @type {unknown} */ message, /** @type {unknown} */ stack) => {
      if (ended) return
      if (index !== records) { emit(null); return }
      records++
      recordAt = performance.now()
      recordCpuAt = readCpu()
      emit(ok === true
        ? { type: 'record', index, ok: true, value: a }
        : { type: 'record', index, ok: false, error: taskError({ name: String(a), message: String(message), stack: typeof stack === 'string' && stack !== '' ? stack : undefined }) })
    }, { ignored: true })
    const onFail = new ivm.Callback((/** @type {unknown} */ name, /** @type {unknown} */ message) => {
      if (!ended) abort(LIMIT_ERROR_NAMES.has(String(name)) ? String(name) : 'SizeLimitError', String(message), 'limit')
    }, { ignored: true })
    const setupArgs = () => [onProgress, onCheckpoint, onLog, onFail, new ivm.ExternalCopy(meta).copyInto({ release: true }), onRecord]
    /** @type {ivm.Reference} */
    let start
    try {
      start = setupFn.applySync(undefined, setupArgs(), { result: { reference: true }, timeout: remaining() })
    } catch (e) {
      // An earlier task of the job may have left its context unfit (a
      // global made read-only, say): that is no reason to fail this one.
      if (!warm || aborted !== null || iso.isDisposed) throw e
      warm = false
      try { setupFn.release(); context.release() } catch {}
      context = null
      setupFn = null
      const fresh = newContext(s, remaining())
      context = fresh.context
      setupFn = fresh.setup
      start = setupFn.applySync(undefined, setupArgs(), { result: { reference: true }, timeout: remaining() })
    }
    if (!warm) {
      const bundle = /** @type {ivm.Script} */ (s.bundle)
      bundle.runSync(context, { timeout: remaining() })
    }
    const batchInfo = batch ? { resumeRecord: msg.resumeRecord ?? 0, seeds: msg.recordSeeds ?? null, tasks: msg.recordTasks ?? null } : null
    let outcome = null
    const tStart = performance.now()
    if (!batch && s.quick) {
      start.applySync(undefined, [1, msg.input, msg.resumeFrom, null], { arguments: { copy: true }, timeout: remaining() })
      outcome = start.applySync(undefined, [2], { result: { copy: true }, timeout: remaining() })
      blocking = false
      if (outcome === null) {
        s.quick = false
        outcome = await start.apply(undefined, [3], { result: { promise: true, copy: true }, timeout: remainingWall() })
      }
    } else {
      outcome = await start.apply(undefined, [0, batch ? msg.inputs : msg.input, msg.resumeFrom, batchInfo], {
        arguments: { copy: true }, result: { promise: true, copy: true }, timeout: remainingWall()
      })
    }
    start.release()
    reusable = key !== undefined
    await eventsIn(outcome.emitted)
    if (!batch) s.quick = performance.now() - tStart < QUICK_MS
    readCpu()
    if (aborted !== null) {
      end({ ok: false, kind: aborted.kind, error: { name: aborted.name, message: aborted.message } })
    } else if (outcome.ok === true && batch && records !== outcome.records) {
      end({ ok: false, kind: 'task', error: { name: 'Error', message: `the batch ended with ${records} of ${outcome.records} record outcomes` } })
    } else if (outcome.ok === true) {
      end(batch ? { ok: true, records } : { ok: true, value: outcome.value })
    } else if (outcome.kind === 'limit') {
      const name = LIMIT_ERROR_NAMES.has(outcome.error.name) ? outcome.error.name : 'SizeLimitError'
      end({ ok: false, kind: 'limit', error: { name, message: String(outcome.error.message) } })
    } else {
      end({ ok: false, kind: 'task', error: taskError(outcome.error) })
    }
  } catch (e) {
    readCpu()
    const f = fields(e)
    if (aborted !== null) {
      end({ ok: false, kind: aborted.kind, error: { name: aborted.name, message: aborted.message } })
    } else if (/memory limit/.test(f.message)) {
      end({ ok: false, kind: 'limit', error: { name: 'MemoryLimitError', message: `task used more than its memory limit of ${msg.limits.memoryMb} MiB` } })
    } else if (/Script execution timed out/.test(f.message)) {
      // The per-call timeout is the smaller of wall time and CPU left.
      const overCpu = cpuBudgetMs < timeoutMs && performance.now() - t0 < timeoutMs - 5
      end(overCpu
        ? { ok: false, kind: 'limit', error: { name: 'CpuLimitError', message: `task used more than its CPU budget of ${cpuBudgetMs} ms` } }
        : { ok: false, kind: 'limit', error: { name: 'TimeoutError', message: `task ran longer than its time limit of ${timeoutMs} ms` } })
    } else if (s !== null && s.isolate.isDisposed) {
      end({ ok: false, kind: 'limit', error: { name: 'MemoryLimitError', message: `the isolate was disposed: ${f.message}` } })
    } else {
      end({ ok: false, kind: 'task', error: taskError(f) })
    }
  } finally {
    clearTimeout(wall)
    clearTimeout(poll)
    current = null
    if (s !== null && (aborted !== null || s.isolate.isDisposed)) {
      if (slot === s) slot = null
      try { if (!s.isolate.isDisposed) s.isolate.dispose() } catch {}
    }
    if (reusable && !exitAfter && s !== null && slot === s && context !== null && setupFn !== null && key !== undefined) {
      if (s.warm !== null) { try { s.warm.setup.release(); s.warm.context.release() } catch {} }
      s.warm = { key, context, setup: setupFn }
    } else {
      try { setupFn?.release() } catch {}
      try { context?.release() } catch {}
    }
    if (!ended) end({ ok: false, kind: 'task', error: { name: 'Error', message: 'task ended without an outcome' } })
    if (exitAfter) { dropSlot(); setTimeout(() => process.exit(0), 50) } else if (SPARE && slot !== null && slot === s && slot.spare === null) {
      // also after a task whose context stays warm for its job: the first
      // task of the next job (a client submitting job after job) finds one
      let spare = null
      try { spare = newContext(slot, 1000) } catch {}
      slot.spare = spare
    }
  }
}

process.on('message', (/** @type {RunMessage | CancelMessage} */ msg) => {
  if (msg.t === 'run') {
    void runTask(msg)
  } else if (msg.t === 'cancel') {
    if (current !== null && current.id === msg.id) current.abort('CancelledError', msg.reason, 'cancelled')
  }
})
process.on('disconnect', () => { dropSlot(); process.exit(0) })
send({ t: 'ready', pid: process.pid })
