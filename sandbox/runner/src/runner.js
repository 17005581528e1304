// The sandbox runner: the entry of a child process forked by the sandbox
// host, and the only code of IdleGrid that loads isolated-vm. It runs one
// task at a time in a fresh context of an isolate that is kept, with the
// bundle compiled once, for further tasks of the same bundle and memory limit.
// It speaks to the host over the IPC channel (see ../README.md, "IPC").
// Plain JavaScript with JSDoc on purpose: it starts without a TS loader.
import { readFileSync } from 'node:fs'
import ivm from 'isolated-vm'

/**
 * @typedef {{ memoryMb: number, timeoutMs: number, cpuMs?: number }} TaskLimits
 * @typedef {{ maxResultBytes: number, maxCheckpointBytes: number, maxLogLineBytes: number, maxLogLines: number, maxCheckpoints: number, logLinesPerSecond: number, checkpointsPerSecond: number, maxErrorChars: number, maxTasksPerIsolate: number }} Caps
 * @typedef {{ t: 'run', id: number, taskId: string, attempt: number, bundleId: string, source: string, input: unknown, resumeFrom?: unknown, limits: TaskLimits, deterministic: boolean, seed: string, maxRssMb: number }} RunMessage
 * @typedef {{ t: 'cancel', id: number, reason: string }} CancelMessage
 * @typedef {{ name: string, message: string, stack?: string }} ErrorFields
 */

const RUNTIME_SOURCE = readFileSync(new URL('./guest-runtime.js', import.meta.url), 'utf8')
const TASK_ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError'])
const LIMIT_ERROR_NAMES = new Set(['SizeLimitError', 'RateLimitError'])
const POLL_MS = 25
// Make the next task's context on the isolate thread while the host round trip runs.
const SPARE = true

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
 * @type {{ bundleId: string, source: string, memoryMb: number, isolate: ivm.Isolate, runtime: ivm.Script, bundle: ivm.Script | null, compileError: ErrorFields | null, tasks: number, spare: Promise<ivm.Context | null> | null } | null}
 */
let slot = null
/** @type {{ id: number, abort: (name: string, message: string, kind: string) => void } | null} */
let current = null

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

/** Seeds for deterministic mode: 128 bits and two clock values from a string (cyrb128). */
function seedWords (/** @type {string} */ str) {
  let h1 = 1779033703; let h2 = 3144134277; let h3 = 1013904242; let h4 = 2773480762
  for (let i = 0; i < str.length; i++) {
    const k = str.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= (h2 ^ h3 ^ h4); h2 ^= h1; h3 ^= h1; h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

function dropSlot () {
  if (slot === null) return
  const s = slot
  slot = null
  try { if (!s.isolate.isDisposed) s.isolate.dispose() } catch {}
}

/** The isolate for this bundle and memory limit: reused, or made and compiled now. */
function isolateFor (/** @type {RunMessage} */ msg) {
  if (slot !== null && (slot.bundleId !== msg.bundleId || slot.source !== msg.source ||
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
      bundle = isolate.compileScriptSync(msg.source, { filename: `idlegrid:bundle/${msg.bundleId}.js` })
    } catch (e) {
      compileError = fields(e)
    }
    slot = { bundleId: msg.bundleId, source: msg.source, memoryMb: msg.limits.memoryMb, isolate, runtime, bundle, compileError, tasks: 0, spare: null }
  }
  slot.tasks++
  return slot
}

function rssMb () {
  return process.memoryUsage.rss() / 1048576
}

/** Runs one task and reports its events and its end. @param {RunMessage} msg */
async function runTask (msg) {
  const id = msg.id
  const t0 = performance.now()
  const timeoutMs = msg.limits.timeoutMs
  const cpuBudgetMs = msg.limits.cpuMs ?? timeoutMs
  /** @type {{ name: string, message: string, kind: string } | null} */
  let aborted = null
  let cpuMs = 0
  /** @type {ReturnType<typeof isolateFor> | null} */
  let s = null
  let cpu0 = 0n
  let ended = false
  let exitAfter = false

  const end = (/** @type {any} */ body) => {
    if (ended) return
    ended = true
    // `retire` tells the host not to send this runner another task.
    send({ t: 'end', id, cpuMs, wallMs: performance.now() - t0, retire: exitAfter, ...body })
  }
  const readCpu = () => {
    if (s !== null && !s.isolate.isDisposed) {
      try { cpuMs = Number(s.isolate.cpuTime - cpu0) / 1e6 } catch {}
    }
    return cpuMs
  }
  const abort = (/** @type {string} */ name, /** @type {string} */ message, /** @type {string} */ kind) => {
    if (aborted !== null) return
    readCpu()
    aborted = { name, message, kind }
    // Disposing terminates whatever runs in the isolate, sync or microtask.
    if (s !== null) { try { s.isolate.dispose() } catch {} }
  }
  current = { id, abort }

  const wall = setTimeout(() => abort('TimeoutError', `task ran longer than its time limit of ${timeoutMs} ms`, 'limit'), Math.max(1, timeoutMs))
  const poll = setInterval(() => {
    if (readCpu() > cpuBudgetMs) abort('CpuLimitError', `task used more than its CPU budget of ${cpuBudgetMs} ms`, 'limit')
    else if (msg.maxRssMb > 0 && rssMb() > msg.maxRssMb) {
      // Memory outside the V8 heap (WebAssembly, array buffers): stop the
      // task, then let the host start a fresh process after this one.
      exitAfter = true
      abort('MemoryLimitError', `task used more memory than allowed (runner above ${msg.maxRssMb} MiB)`, 'limit')
    }
  }, POLL_MS)

  /** @type {ivm.Context | null} */
  let context = null
  try {
    s = isolateFor(msg)
    if (s.compileError !== null) {
      end({ ok: false, kind: 'task', error: taskError(s.compileError) })
      return
    }
    const iso = s.isolate
    cpu0 = iso.cpuTime
    // A context made on the isolate thread while the host sent this task.
    const spare = s.spare
    s.spare = null
    context = spare !== null ? await spare : null
    if (context === null) context = iso.createContextSync()
    const remaining = () => Math.max(1, Math.ceil(Math.min(timeoutMs - (performance.now() - t0), cpuBudgetMs - readCpu())))
    const setupFn = s.runtime.runSync(context, { reference: true, timeout: remaining() })
    const [w0, w1, w2, w3] = seedWords(`${msg.seed}`)
    const meta = {
      taskId: msg.taskId,
      attempt: msg.attempt,
      deterministic: msg.deterministic,
      seedWords: [w0, w1, w2, w3],
      fixedNow: 1577836800000 + (w0 % 31536000) * 1000 + (w1 % 1000),
      fixedPerf: (w2 % 100000000) / 1000,
      caps
    }
    const onProgress = new ivm.Callback((/** @type {number} */ fraction) => {
      if (!ended && typeof fraction === 'number') send({ t: 'ev', id, ev: { type: 'progress', fraction } })
    }, { ignored: true })
    const onCheckpoint = new ivm.Callback((/** @type {unknown} */ state) => {
      if (!ended) send({ t: 'ev', id, ev: { type: 'checkpoint', state } })
    }, { ignored: true })
    const onLog = new ivm.Callback((/** @type {unknown} */ line) => {
      if (!ended && typeof line === 'string') send({ t: 'ev', id, ev: { type: 'log', line: line.slice(0, caps.maxLogLineBytes) } })
    }, { ignored: true })
    const onFail = new ivm.Callback((/** @type {unknown} */ name, /** @type {unknown} */ message) => {
      if (!ended) abort(LIMIT_ERROR_NAMES.has(String(name)) ? String(name) : 'SizeLimitError', String(message), 'limit')
    }, { ignored: true })
    const start = setupFn.applySync(undefined, [onProgress, onCheckpoint, onLog, onFail, new ivm.ExternalCopy(meta).copyInto({ release: true })], {
      result: { reference: true }, timeout: remaining()
    })
    setupFn.release()
    const bundle = /** @type {ivm.Script} */ (s.bundle)
    bundle.runSync(context, { timeout: remaining() })
    const outcome = await start.apply(undefined, [msg.input, msg.resumeFrom], {
      arguments: { copy: true }, result: { promise: true, copy: true }, timeout: remaining()
    })
    start.release()
    readCpu()
    if (aborted !== null) {
      end({ ok: false, kind: aborted.kind, error: { name: aborted.name, message: aborted.message } })
    } else if (outcome.ok === true) {
      end({ ok: true, value: outcome.value })
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
    clearInterval(poll)
    current = null
    if (context !== null) { try { context.release() } catch {} }
    if (s !== null && (aborted !== null || s.isolate.isDisposed)) {
      if (slot === s) slot = null
      try { if (!s.isolate.isDisposed) s.isolate.dispose() } catch {}
    }
    if (!ended) end({ ok: false, kind: 'task', error: { name: 'Error', message: 'task ended without an outcome' } })
    if (exitAfter) { dropSlot(); setTimeout(() => process.exit(0), 50) } else if (SPARE && slot !== null && slot === s && slot.spare === null) {
      slot.spare = slot.isolate.createContext().catch(() => null)
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
