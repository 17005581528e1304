// The sandbox pool: queues task attempts, starts one runner per slot on
// demand, prefers a runner that already holds the task's bundle, watches
// wall time and memory of each runner from outside, and replaces runners
// that die or are killed. It never loads isolated-vm.
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { InvalidInputError } from '@idlegrid/interface'
import { logger } from '@libp2p/logger'
import * as C from './constants.js'
import { SandboxStoppedError } from './errors.js'
import { RunnerProcess, type KillReason, type RunnerMessage } from './runner-process.js'
import { errorInfo, TaskRunStream, type BatchRun, type TaskRun } from './task-run.js'
import { measureValue, ValueShapeError, ValueSizeError } from './values.js'
import type { SandboxPool, SandboxPoolInit, RunRequest, BatchRunRequest, RecordTask, SandboxStats } from './index.js'

const log = logger('idlegrid:sandbox-host:pool')

/** Fields that would smuggle V8 cached data or a snapshot past the source-only rule. */
const FORBIDDEN_FIELDS = ['cachedData', 'produceCachedData', 'cachedDataRejected', 'snapshot', 'code']

interface Entry {
  id: number
  req: RunRequest
  run: TaskRunStream
  runner: RunnerProcess | null
  watchdog: ReturnType<typeof setTimeout> | null
  maxRssMb: number
}

function runnerPath (): string {
  // By path, never by import: the daemon must not load isolated-vm.
  const require = createRequire(import.meta.url)
  return join(dirname(require.resolve('@idlegrid/sandbox-runner/package.json')), 'src', 'runner.js')
}

export class SandboxPoolImpl implements SandboxPool {
  readonly slots: number
  private readonly init: Required<Omit<SandboxPoolInit, 'runnerMaxRssMb'>> & { runnerMaxRssMb?: number }
  private readonly path: string
  private readonly runners = new Set<RunnerProcess>()
  private readonly queue: Entry[] = []
  private readonly active = new Map<RunnerProcess, Entry>()
  private nextId = 1
  private started = 0
  private killed = 0
  private startFailures = 0
  private stopped = false
  private memoryTimer: ReturnType<typeof setInterval> | null = null

  constructor (init: SandboxPoolInit) {
    if (!Number.isInteger(init.slots) || init.slots < 1) {
      throw new InvalidInputError(`SandboxPoolInit.slots must be a positive integer, got ${String(init.slots)}`)
    }
    if (init.runnerNice !== undefined && (!Number.isInteger(init.runnerNice) || init.runnerNice < -20 || init.runnerNice > 19)) {
      throw new InvalidInputError(`SandboxPoolInit.runnerNice must be an integer from -20 to 19, got ${String(init.runnerNice)}`)
    }
    this.slots = init.slots
    this.init = {
      slots: init.slots,
      idleTimeoutMs: init.idleTimeoutMs ?? C.DEFAULT_IDLE_TIMEOUT_MS,
      runnerHeapMb: init.runnerHeapMb ?? C.DEFAULT_RUNNER_HEAP_MB,
      runnerNice: init.runnerNice ?? C.DEFAULT_RUNNER_NICE,
      runnerMaxRssMb: init.runnerMaxRssMb,
      maxInputBytes: init.maxInputBytes ?? C.DEFAULT_MAX_INPUT_BYTES,
      maxResultBytes: init.maxResultBytes ?? C.DEFAULT_MAX_RESULT_BYTES,
      maxCheckpointBytes: init.maxCheckpointBytes ?? C.DEFAULT_MAX_CHECKPOINT_BYTES,
      maxLogLineBytes: init.maxLogLineBytes ?? C.DEFAULT_MAX_LOG_LINE_BYTES,
      maxLogLines: init.maxLogLines ?? C.DEFAULT_MAX_LOG_LINES,
      maxCheckpoints: init.maxCheckpoints ?? C.DEFAULT_MAX_CHECKPOINTS,
      logLinesPerSecond: init.logLinesPerSecond ?? C.DEFAULT_LOG_LINES_PER_SECOND,
      checkpointsPerSecond: init.checkpointsPerSecond ?? C.DEFAULT_CHECKPOINTS_PER_SECOND,
      maxSourceBytes: init.maxSourceBytes ?? C.DEFAULT_MAX_SOURCE_BYTES,
      graceMs: init.graceMs ?? C.DEFAULT_GRACE_MS,
      startTimeoutMs: init.startTimeoutMs ?? C.DEFAULT_START_TIMEOUT_MS,
      maxRecords: init.maxRecords ?? C.DEFAULT_MAX_RECORDS
    }
    this.path = runnerPath()
  }

  get busy (): number {
    return this.active.size
  }

  stats (): SandboxStats {
    return { runners: this.runners.size, busy: this.active.size, queued: this.queue.length, started: this.started, killed: this.killed }
  }

  pids (): number[] {
    return [...this.runners].flatMap(r => r.pid !== undefined && r.state !== 'dead' ? [r.pid] : [])
  }

  run (req: BatchRunRequest): BatchRun
  run (req: RunRequest): TaskRun
  run (req: RunRequest): TaskRun | BatchRun {
    if (this.stopped) throw new SandboxStoppedError('the sandbox pool is stopped; create a new pool to run tasks')
    this.validate(req)
    const id = this.nextId++
    const batch = req.inputs !== undefined
    const run = new TaskRunStream(req.taskId, (r, reason) => { this.cancel(entry, reason) }, batch)
    const entry: Entry = { id, req, run, runner: null, watchdog: null, maxRssMb: this.maxRssMb(req.limits.memoryMb) }
    try {
      if (batch) measureValue(req.inputs, this.init.maxInputBytes, 'inputs')
      else measureValue(req.input, this.init.maxInputBytes, 'input')
      if (req.resumeFrom !== undefined) measureValue(req.resumeFrom, this.init.maxCheckpointBytes, 'resumeFrom')
    } catch (err) {
      if (err instanceof ValueShapeError) throw new InvalidInputError(`RunRequest for task ${req.taskId}: ${err.message}`)
      if (err instanceof ValueSizeError) {
        run.fail('limit', 'SizeLimitError', err.message)
        return run as TaskRun | BatchRun
      }
      throw err
    }
    this.queue.push(entry)
    this.pump()
    // One stream class serves both; its events match the kind of request.
    return run as TaskRun | BatchRun
  }

  async stop (): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const entry of this.queue.splice(0)) entry.run.fail('cancelled', 'CancelledError', 'the sandbox pool stopped')
    const exits: Array<Promise<unknown>> = []
    for (const runner of this.runners) {
      if (runner.child.exitCode !== null || runner.child.signalCode !== null) continue
      exits.push(new Promise(resolve => runner.child.once('exit', resolve)))
      runner.kill({ kind: 'cancelled', name: 'CancelledError', message: 'the sandbox pool stopped' })
    }
    await Promise.all(exits)
    this.stopMemoryWatch()
  }

  private validate (req: RunRequest): void {
    const bad = (what: string): never => {
      throw new InvalidInputError(`invalid RunRequest${typeof req?.taskId === 'string' ? ` for task ${req.taskId}` : ''}: ${what}`)
    }
    if (req === null || typeof req !== 'object') bad('it must be an object')
    for (const f of FORBIDDEN_FIELDS) {
      if (Object.hasOwn(req, f)) bad(`field "${f}" is not accepted; bundles carry source only, never V8 cached data or snapshots`)
    }
    if (typeof req.taskId !== 'string' || req.taskId === '' || req.taskId.length > 256) bad('taskId must be a non-empty string of at most 256 characters')
    if (!Number.isInteger(req.attempt) || req.attempt < 0) bad('attempt must be a non-negative integer')
    if (typeof req.bundleId !== 'string' || req.bundleId === '' || req.bundleId.length > 256) bad('bundleId must be a non-empty string of at most 256 characters')
    if (typeof req.source !== 'string') bad('source must be a string of JavaScript (the esbuild iife bundle); bytes, cached data and snapshots are refused')
    if (req.source.length > this.init.maxSourceBytes) bad(`source is longer than the limit of ${this.init.maxSourceBytes} characters`)
    const l = req.limits
    if (l === null || typeof l !== 'object') bad('limits must be an object { memoryMb, timeoutMs, cpuMs? }')
    if (typeof l.memoryMb !== 'number' || !Number.isInteger(l.memoryMb) || l.memoryMb < C.MIN_MEMORY_MB || l.memoryMb > 65536) bad(`limits.memoryMb must be an integer from ${C.MIN_MEMORY_MB} to 65536`)
    if (typeof l.timeoutMs !== 'number' || !Number.isFinite(l.timeoutMs) || l.timeoutMs <= 0 || l.timeoutMs > 2 ** 31 - 1) bad('limits.timeoutMs must be a positive number of milliseconds below 2^31')
    if (l.cpuMs !== undefined && (typeof l.cpuMs !== 'number' || !Number.isFinite(l.cpuMs) || l.cpuMs <= 0)) bad('limits.cpuMs must be a positive number of milliseconds when given')
    if (req.deterministic !== undefined && typeof req.deterministic !== 'boolean') bad('deterministic must be a boolean when given')
    if (req.seed !== undefined && typeof req.seed !== 'string') bad('seed must be a string when given')
    if (req.contextKey !== undefined && (typeof req.contextKey !== 'string' || req.contextKey.length > 256)) bad('contextKey must be a string of at most 256 characters when given')
    const hasInput = Object.hasOwn(req, 'input') && req.input !== undefined
    if (req.inputs !== undefined) {
      if (hasInput) bad('input and inputs are both set; give input for one record or inputs for a batch, not both')
      if (!Array.isArray(req.inputs)) bad('inputs must be an array of records (batch mode)')
      const n = req.inputs.length
      if (n < 1 || n > this.init.maxRecords) bad(`inputs must hold from 1 to ${this.init.maxRecords} records, got ${n}; split the batch`)
      if (req.resumeRecord !== undefined && (!Number.isInteger(req.resumeRecord) || req.resumeRecord < 0 || req.resumeRecord >= n)) bad(`resumeRecord must be the index of a record in inputs (0 to ${n - 1})`)
      if (req.recordSeeds !== undefined && (!Array.isArray(req.recordSeeds) || req.recordSeeds.length !== n || !req.recordSeeds.every(x => typeof x === 'string' && x.length <= 1024))) bad(`recordSeeds must be an array of ${n} strings (one per record, at most 1024 characters each)`)
      if (req.recordTimeoutMs !== undefined && !(Number.isSafeInteger(req.recordTimeoutMs) && req.recordTimeoutMs > 0)) bad('recordTimeoutMs must be a whole number of ms above 0')
      if (req.recordTasks !== undefined && (!Array.isArray(req.recordTasks) || req.recordTasks.length !== n || !req.recordTasks.every(isRecordTask))) bad(`recordTasks must be an array of ${n} { taskId, attempt, record, records } (one per record)`)
    } else {
      if (!Object.hasOwn(req, 'input')) bad('neither input nor inputs is set; give input for one record or inputs (an array) for a batch')
      if (req.resumeRecord !== undefined) bad('resumeRecord is for batches only (with inputs)')
      if (req.recordSeeds !== undefined) bad('recordSeeds is for batches only (with inputs)')
      if (req.recordTimeoutMs !== undefined || req.recordTasks !== undefined) bad('recordTimeoutMs and recordTasks are for batches only (with inputs)')
    }
  }

  private maxRssMb (memoryMb: number): number {
    return this.init.runnerMaxRssMb ?? (this.init.runnerHeapMb + 2 * memoryMb + 192)
  }

  private caps (): Record<string, number> {
    const i = this.init
    return {
      maxResultBytes: i.maxResultBytes,
      maxCheckpointBytes: i.maxCheckpointBytes,
      maxLogLineBytes: i.maxLogLineBytes,
      maxLogLines: i.maxLogLines,
      maxCheckpoints: i.maxCheckpoints,
      logLinesPerSecond: i.logLinesPerSecond,
      checkpointsPerSecond: i.checkpointsPerSecond
    }
  }

  private pump (): void {
    if (this.stopped) return
    while (this.queue.length > 0) {
      const entry = this.queue[0]
      // An idle runner that holds this task's bundle, best with the warm
      // context of its job; else any idle one.
      let idle: RunnerProcess | undefined
      let sameBundle: RunnerProcess | undefined
      for (const r of this.runners) {
        if (r.state !== 'idle') continue
        if (r.bundleId === entry.req.bundleId) {
          if (entry.req.contextKey !== undefined && r.contextKey === entry.req.contextKey) { sameBundle = r; break }
          sameBundle ??= r
        }
        idle ??= r
      }
      idle = sameBundle ?? idle
      if (idle !== undefined) {
        this.queue.shift()
        this.dispatch(idle, entry)
        continue
      }
      const starting = [...this.runners].filter(r => r.state === 'starting').length
      if (this.runners.size < this.slots && starting < this.queue.length) {
        this.spawn()
        continue
      }
      break
    }
  }

  private spawn (): void {
    const runner = new RunnerProcess({
      path: this.path,
      heapMb: this.init.runnerHeapMb,
      nice: this.init.runnerNice,
      caps: this.caps(),
      onMessage: (r, msg) => { this.onMessage(r, msg) },
      onExit: (r, code, signal) => { this.onExit(r, code, signal) }
    })
    this.runners.add(runner)
    this.started++
    log('started runner pid %d (%d runners)', runner.pid, this.runners.size)
    const startTimer = setTimeout(() => {
      runner.kill({ kind: 'runner-lost', name: 'RunnerLostError', message: `the runner did not start within ${this.init.startTimeoutMs} ms` })
    }, this.init.startTimeoutMs)
    runner.ready.then(() => {
      clearTimeout(startTimer)
      this.startFailures = 0
      this.armIdle(runner)
      this.pump()
    }, () => { clearTimeout(startTimer) })
  }

  private dispatch (runner: RunnerProcess, entry: Entry): void {
    if (runner.idleTimer !== null) { clearTimeout(runner.idleTimer); runner.idleTimer = null }
    const { req } = entry
    // A runner keeps the last source it got: send it again only when it changed.
    const sameSource = runner.bundleId === req.bundleId && runner.source === req.source
    runner.state = 'busy'
    runner.bundleId = req.bundleId
    runner.contextKey = req.deterministic === true ? undefined : req.contextKey
    runner.source = req.source
    entry.runner = runner
    this.active.set(runner, entry)
    const sent = runner.send({
      t: 'run',
      id: entry.id,
      taskId: req.taskId,
      attempt: req.attempt,
      bundleId: req.bundleId,
      source: sameSource ? undefined : req.source,
      input: req.input,
      inputs: req.inputs,
      resumeFrom: req.resumeFrom,
      resumeRecord: req.resumeRecord,
      recordSeeds: req.recordSeeds,
      recordTimeoutMs: req.recordTimeoutMs,
      recordTasks: req.recordTasks,
      limits: { memoryMb: req.limits.memoryMb, timeoutMs: req.limits.timeoutMs, cpuMs: req.limits.cpuMs },
      deterministic: req.deterministic === true,
      seed: req.seed ?? req.taskId,
      maxRssMb: entry.maxRssMb,
      contextKey: req.contextKey
    })
    if (!sent) {
      runner.kill({ kind: 'runner-lost', name: 'RunnerLostError', message: 'the runner stopped taking messages' })
      return
    }
    // The runner enforces the limit itself; this is the outer clock for a
    // runner that cannot (a blocked main thread, a stuck native call).
    entry.watchdog = setTimeout(() => {
      this.killed++
      runner.kill({ kind: 'limit', name: 'TimeoutError', message: `task ran longer than its time limit of ${req.limits.timeoutMs} ms and its runner did not stop it; the runner was killed` })
    }, req.limits.timeoutMs + this.init.graceMs)
    this.startMemoryWatch()
  }

  private cancel (entry: Entry, reason: string): void {
    if (entry.run.ended) return
    const i = this.queue.indexOf(entry)
    if (i !== -1) {
      this.queue.splice(i, 1)
      entry.run.fail('cancelled', 'CancelledError', reason)
      return
    }
    const runner = entry.runner
    if (runner === null) return
    runner.send({ t: 'cancel', id: entry.id, reason })
    if (entry.watchdog !== null) clearTimeout(entry.watchdog)
    entry.watchdog = setTimeout(() => {
      this.killed++
      runner.kill({ kind: 'cancelled', name: 'CancelledError', message: reason })
    }, this.init.graceMs)
  }

  private onMessage (runner: RunnerProcess, msg: RunnerMessage): void {
    const entry = this.active.get(runner)
    if (entry === undefined || msg.t === 'ready' || msg.id !== entry.id) return
    if (msg.t === 'evs') {
      for (const ev of msg.evs) {
        if (ev.type === 'record' && !ev.ok) {
          // Built here, so kind and retryable come from the host, never the runner.
          entry.run.push({ type: 'record', index: ev.index, ok: false, error: errorInfo('task', ev.error.name, ev.error.message, ev.error.stack) })
        } else {
          entry.run.push(ev)
        }
      }
      return
    }
    if (msg.t !== 'end') return
    this.finish(runner, entry)
    if (msg.ok) {
      const records = entry.run.records
      entry.run.push(records !== null
        ? { type: 'result', value: records.slice(), cpuMs: msg.cpuMs, wallMs: msg.wallMs }
        : { type: 'result', value: msg.value, cpuMs: msg.cpuMs, wallMs: msg.wallMs })
    } else {
      entry.run.fail(msg.kind, msg.error.name, msg.error.message, msg.cpuMs, msg.wallMs, msg.error.stack)
    }
    if (msg.retire === true) {
      runner.state = 'retiring'
    } else if (runner.state === 'busy') {
      runner.state = 'idle'
      this.armIdle(runner)
    }
    this.pump()
  }

  private finish (runner: RunnerProcess, entry: Entry): void {
    if (entry.watchdog !== null) clearTimeout(entry.watchdog)
    entry.watchdog = null
    this.active.delete(runner)
    if (this.active.size === 0) this.stopMemoryWatch()
  }

  private onExit (runner: RunnerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (runner.idleTimer !== null) clearTimeout(runner.idleTimer)
    this.runners.delete(runner)
    const entry = this.active.get(runner)
    if (entry !== undefined) {
      this.finish(runner, entry)
      const reason: KillReason = runner.killReason ?? {
        kind: 'runner-lost',
        name: 'RunnerLostError',
        message: `the runner process died while running the task (code ${code}, signal ${signal})${runner.stderr !== '' ? `: ${runner.stderr.slice(-300)}` : ''}; the attempt can be retried`
      }
      entry.run.fail(reason.kind, reason.name, reason.message)
      log('runner pid %d lost with task %s: %s', runner.pid, entry.req.taskId, reason.message)
    } else if (runner.killReason === null && code !== 0 && !this.stopped) {
      // Died before ready or while idle: a runner that cannot start must not
      // loop forever, and must not leave queued tasks waiting.
      this.startFailures++
      log('runner pid %d exited (code %d, signal %s)', runner.pid, code, signal)
      if (this.startFailures >= 3) {
        const why = `the sandbox runner cannot start (code ${code}, signal ${signal})${runner.stderr !== '' ? `: ${runner.stderr.slice(-500)}` : ''}`
        for (const e of this.queue.splice(0)) e.run.fail('runner-lost', 'RunnerLostError', why)
        this.startFailures = 0
      }
    }
    this.pump()
  }

  private armIdle (runner: RunnerProcess): void {
    if (runner.idleTimer !== null) clearTimeout(runner.idleTimer)
    runner.idleTimer = setTimeout(() => {
      runner.idleTimer = null
      if (runner.state !== 'idle') return
      log('stopping idle runner pid %d', runner.pid)
      runner.state = 'retiring'
      runner.child.disconnect()
    }, this.init.idleTimeoutMs)
    runner.idleTimer.unref()
  }

  private startMemoryWatch (): void {
    if (this.memoryTimer !== null || process.platform !== 'linux') return
    this.memoryTimer = setInterval(() => {
      for (const [runner, entry] of this.active) {
        const rss = runner.rssMb()
        // The runner stops a task at maxRssMb itself; this is the hard stop.
        if (rss !== undefined && rss > entry.maxRssMb + 128) {
          this.killed++
          runner.kill({ kind: 'limit', name: 'MemoryLimitError', message: `task used more memory than allowed (runner at ${Math.round(rss)} MiB, limit ${entry.maxRssMb} MiB); the runner was killed` })
        }
      }
    }, C.MEMORY_POLL_MS)
    this.memoryTimer.unref()
  }

  private stopMemoryWatch (): void {
    if (this.memoryTimer !== null) clearInterval(this.memoryTimer)
    this.memoryTimer = null
  }
}

function isRecordTask (t: unknown): boolean {
  const r = t as RecordTask
  return typeof r === 'object' && r !== null && typeof r.taskId === 'string' && r.taskId.length > 0 && r.taskId.length <= 1024 &&
    Number.isSafeInteger(r.attempt) && r.attempt >= 0 && Number.isSafeInteger(r.records) && r.records > 0 &&
    Number.isSafeInteger(r.record) && r.record >= 0 && r.record < r.records
}
