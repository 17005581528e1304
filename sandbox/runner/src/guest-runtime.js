// The guest runtime: the script evaluated once in each context, before the
// bundle. It captures the intrinsics it relies on and removes what task code
// must not have; per task it builds `ctx`, applies deterministic mode, and
// turns results, checkpoints and logs into plain copies with size and rate
// caps. It runs in the isolate (no Node, no isolated-vm); the runner compiles
// it once per isolate.
//
// Its completion value is `setup(progressCb, checkpointCb, logCb, failCb, meta, recordCb)`,
// called once per task (a context may serve several tasks of one job, see
// docs/sandbox.md), which returns `start(mode, input, resumeFrom, batch)`:
// mode 0 runs the task and returns the promise of its outcome; mode 1
// starts it and returns nothing, mode 2 then returns the outcome if it
// settled (else null), mode 3 the promise of it. The callbacks are
// isolated-vm Callbacks kept in this closure only: task code never sees
// them. Every outcome says how many events it sent (`emitted`), so the
// runner can wait for them before the end.
//
// Batch mode (`batch` not null, `input` an array of records): the job
// function is called once per record, in order, in this one context; each
// record's outcome goes out through recordCb as soon as it is known. A
// thrown error fails its record only; a limit fails the whole task.
(function runtime () {
  'use strict'
  // Intrinsics captured before any task code runs, so a task that patches
  // prototypes cannot change how its own result is checked.
  const G = globalThis
  const ReflectApply = Reflect.apply
  const ObjectKeys = Object.keys
  const ObjectGetPrototypeOf = Object.getPrototypeOf
  const ObjectDefineProperty = Object.defineProperty
  const ObjectFreeze = Object.freeze
  const ObjectPrototype = Object.prototype
  const ArrayIsArray = Array.isArray
  const SetCtor = Set
  const SetHas = Set.prototype.has
  const SetAdd = Set.prototype.add
  const SetDelete = Set.prototype.delete
  const Uint8ArrayCtor = Uint8Array
  const TypedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get
  const ArrayBufferIsView = ArrayBuffer.isView
  const JSONStringify = JSON.stringify
  const StringCtor = String
  const ArrayPrototypeJoin = Array.prototype.join
  const MathMin = Math.min
  const MathImul = Math.imul
  const realNow = Date.now
  const StringCharCodeAt = String.prototype.charCodeAt

  // Seeds of deterministic mode: 128 bits and two clock values from a string (cyrb128).
  function seedWords (str) {
    let h1 = 1779033703; let h2 = 3144134277; let h3 = 1013904242; let h4 = 2773480762
    for (let i = 0; i < str.length; i++) {
      const k = ReflectApply(StringCharCodeAt, str, [i])
      h1 = h2 ^ MathImul(h1 ^ k, 597399067)
      h2 = h3 ^ MathImul(h2 ^ k, 2869860233)
      h3 = h4 ^ MathImul(h3 ^ k, 951274213)
      h4 = h1 ^ MathImul(h4 ^ k, 2716044179)
    }
    h1 = MathImul(h3 ^ (h1 >>> 18), 597399067)
    h2 = MathImul(h4 ^ (h2 >>> 22), 2869860233)
    h3 = MathImul(h1 ^ (h3 >>> 17), 951274213)
    h4 = MathImul(h2 ^ (h4 >>> 19), 2716044179)
    h1 ^= (h2 ^ h3 ^ h4); h2 ^= h1; h3 ^= h1; h4 ^= h1
    return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
  }

  // What a task must not reach or block on: Atomics.wait would park the
  // isolate thread, SharedArrayBuffer has no use without threads.
  delete G.SharedArrayBuffer
  if (typeof Atomics === 'object') {
    delete Atomics.wait
    delete Atomics.waitAsync
  }

  class LimitSignal {
    constructor (name, message) { this.name = name; this.message = message }
  }

  function prop (obj, key, value) {
    ObjectDefineProperty(obj, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true })
  }

  // Copies a value into fresh plain data (JSON-compatible values and
  // Uint8Array), counting its size; throws LimitSignal or TypeError.
  // Bytes the last sanitize() counted, for the result budget of a batch.
  let sanitizedBytes = 0
  function sanitize (value, maxBytes, what, tooLarge) {
    let budget = maxBytes
    const ancestors = new SetCtor()
    function spend (n) {
      budget -= n
      if (budget < 0) throw new LimitSignal('SizeLimitError', tooLarge ?? `${what} is larger than the limit of ${maxBytes} bytes`)
    }
    function walk (v, path, depth) {
      switch (typeof v) {
        case 'string': spend(v.length + 2); return v
        case 'number': spend(8); return v
        case 'boolean': spend(5); return v
        case 'undefined': spend(4); return undefined
        case 'object': break
        default:
          throw new TypeError(`${what} contains a ${typeof v} at ${path}; only JSON-compatible values and Uint8Array can leave the sandbox`)
      }
      if (v === null) { spend(4); return null }
      if (depth > 256) throw new LimitSignal('SizeLimitError', `${what} is nested deeper than 256 levels at ${path}`)
      if (ReflectApply(SetHas, ancestors, [v])) throw new TypeError(`${what} is cyclic at ${path}`)
      if (ArrayBufferIsView(v)) {
        if (ReflectApply(TypedArrayTag, v, []) !== 'Uint8Array') {
          throw new TypeError(`${what} contains a typed array or DataView at ${path}; only Uint8Array can leave the sandbox`)
        }
        spend(v.byteLength + 2)
        return new Uint8ArrayCtor(v)
      }
      ReflectApply(SetAdd, ancestors, [v])
      let out
      if (ArrayIsArray(v)) {
        const n = v.length
        spend(2 + n)
        out = []
        for (let i = 0; i < n; i++) prop(out, i, walk(v[i], `${path}[${i}]`, depth + 1))
      } else {
        const proto = ObjectGetPrototypeOf(v)
        if (proto !== ObjectPrototype && proto !== null) {
          throw new TypeError(`${what} contains a non-plain object at ${path}; only plain objects, arrays and Uint8Array can leave the sandbox`)
        }
        const keys = ObjectKeys(v)
        spend(2)
        out = {}
        for (let i = 0; i < keys.length; i++) {
          const k = keys[i]
          spend(k.length + 4)
          const item = walk(v[k], `${path}.${k}`, depth + 1)
          if (item !== undefined) prop(out, k, item)
        }
      }
      ReflectApply(SetDelete, ancestors, [v])
      return out
    }
    const out = walk(value, what, 0)
    sanitizedBytes = maxBytes - budget
    return out
  }

  function format (args) {
    const parts = []
    for (let i = 0; i < args.length; i++) {
      const a = args[i]
      let s
      if (typeof a === 'string') s = a
      else {
        try { s = JSONStringify(a) } catch { s = undefined }
        if (typeof s !== 'string') s = StringCtor(a)
      }
      prop(parts, i, s)
    }
    return ReflectApply(ArrayPrototypeJoin, parts, [' '])
  }

  function describe (e, cap) {
    let name = 'Error'
    let message = ''
    let stack = ''
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
        const n = e.name; if (typeof n === 'string') name = n
        const m = e.message; message = typeof m === 'string' ? m : StringCtor(m)
        const s = e.stack; if (typeof s === 'string') stack = s
      } else {
        name = 'Error'
        message = `a non-error value was thrown: ${StringCtor(e)}`
      }
    } catch {
      message = 'an error was thrown whose fields could not be read'
    }
    return { __proto__: null, name: name.slice(0, 64), message: message.slice(0, cap), stack: stack.slice(0, cap * 2) }
  }

  const NOT_A_JOB = 'the bundle does not define __idlegridJob.default as a function; build it with esbuild format "iife" and globalName "__idlegridJob", exporting the job as default'

  return function setup (progressCb, checkpointCb, logCb, failCb, meta, recordCb) {
    const caps = meta.caps
    // The first limit a task breaks sticks: catching the thrown error does not
    // undo it, and `start` reports it instead of any later result.
    let failure = null
    function limit (name, message) {
      if (failure === null) {
        failure = { __proto__: null, ok: false, kind: 'limit', error: { __proto__: null, name, message, stack: '' } }
        // A task that catches the error and goes on is stopped by the runner.
        failCb(name, message)
      }
      const err = new Error(message)
      err.name = name
      throw err
    }

    function checked (value, maxBytes, what, tooLarge) {
      try {
        return sanitize(value, maxBytes, what, tooLarge)
      } catch (e) {
        if (e instanceof LimitSignal) limit(e.name, e.message)
        if (e instanceof RangeError) limit('SizeLimitError', `${what} is too deep or too large to copy`)
        throw e
      }
    }

    // A token bucket per stream of messages; the real clock stays in here even
    // in deterministic mode, so a flood is refused the same way in both modes.
    function bucket (perSecond, max, what) {
      let tokens = perSecond * 2
      let last = realNow()
      let count = 0
      function take () {
        if (++count > max) limit('RateLimitError', `too many ${what}: at most ${max} per ${batchMode ? 'record' : 'task'}`)
        const now = realNow()
        tokens = MathMin(perSecond * 2, tokens + (now - last) * perSecond / 1000)
        last = now
        if (tokens < 1) limit('RateLimitError', `too many ${what}: at most ${perSecond} per second`)
        tokens -= 1
      }
      // A batch record starts with full caps, as if it were its own task.
      take.reset = function reset () { tokens = perSecond * 2; last = realNow(); count = 0 }
      return take
    }
    // Events sent through the callbacks so far (failCb aside).
    let emitted = 0
    let batchMode = false
    // Index and count of the record running (0 and 1 outside batch mode).
    let recordIndex = 0
    let recordCount = 1
    const takeLog = bucket(caps.logLinesPerSecond, caps.maxLogLines, 'log lines')
    const takeCheckpoint = bucket(caps.checkpointsPerSecond, caps.maxCheckpoints, 'checkpoints')

    let lastProgress = -1
    let progressSent = 0
    function progress (fraction) {
      if (failure !== null) limit(failure.error.name, failure.error.message)
      if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
        throw new TypeError('ctx.progress(fraction) takes a number between 0 and 1')
      }
      // A record's fraction becomes the fraction of the whole batch.
      const overall = batchMode ? (recordIndex + fraction) / recordCount : fraction
      // Progress is advisory: small steps and floods are dropped, not refused.
      if ((overall - lastProgress >= 0.001 || lastProgress - overall >= 0.001 || (overall === 1 && lastProgress !== 1)) && progressSent < 10000) {
        lastProgress = overall
        progressSent++
        emitted++
        progressCb(overall, recordIndex)
      }
    }
    function checkpoint (state) {
      if (failure !== null) limit(failure.error.name, failure.error.message)
      takeCheckpoint()
      const copy = checked(state, caps.maxCheckpointBytes, 'checkpoint')
      emitted++
      checkpointCb(copy, recordIndex)
    }
    function log (...args) {
      if (failure !== null) limit(failure.error.name, failure.error.message)
      takeLog()
      const line = format(args)
      if (line.length > caps.maxLogLineBytes) limit('SizeLimitError', `log line is longer than the limit of ${caps.maxLogLineBytes} characters`)
      emitted++
      logCb(line, recordIndex)
    }

    const console = ObjectFreeze({ __proto__: null, log, info: log, warn: log, error: log, debug: log })
    ObjectDefineProperty(G, 'console', { value: console, writable: true, configurable: true, enumerable: false })

    // Re-seeds the PRNG and the fixed clock; a batch does it per record.
    let reseed = null
    if (meta.deterministic) {
      // Seeded PRNG (sfc32) and a frozen clock: replicas of a task agree byte
      // for byte, and a different seed gives a different stream.
      let a = 0; let b = 0; let c = 0; let d = 0
      let fixed = 0
      let perfNow = 0
      const random = function random () {
        a |= 0; b |= 0; c |= 0; d |= 0
        const t = (((a + b) | 0) + d) | 0
        d = (d + 1) | 0
        a = b ^ (b >>> 9)
        b = (c + (c << 3)) | 0
        c = (c << 21) | (c >>> 11)
        c = (c + t) | 0
        return (t >>> 0) / 4294967296
      }
      reseed = function (seed) {
        const w = seedWords(seed)
        a = w[0]; b = w[1]; c = w[2]; d = w[3]
        for (let i = 0; i < 16; i++) random()
        fixed = 1577836800000 + (w[0] % 31536000) * 1000 + (w[1] % 1000)
        perfNow = (w[2] % 100000000) / 1000
      }
      reseed(meta.seed)
      ObjectDefineProperty(Math, 'random', { value: random, writable: true, configurable: true, enumerable: false })
      const RealDate = Date
      const FixedDate = function Date (...args) {
        if (new.target === undefined) return new RealDate(fixed).toString()
        return Reflect.construct(RealDate, args.length === 0 ? [fixed] : args, new.target)
      }
      FixedDate.prototype = RealDate.prototype
      FixedDate.now = function now () { return fixed }
      FixedDate.parse = RealDate.parse
      FixedDate.UTC = RealDate.UTC
      ObjectDefineProperty(RealDate.prototype, 'constructor', { value: FixedDate, writable: true, configurable: true, enumerable: false })
      ObjectDefineProperty(G, 'Date', { value: FixedDate, writable: true, configurable: true, enumerable: false })
      ObjectDefineProperty(G, 'performance', { value: ObjectFreeze({ now () { return perfNow } }), writable: true, configurable: true, enumerable: false })
      // Garbage collection timing must not be observable.
      delete G.WeakRef
      delete G.FinalizationRegistry
    } else {
      const origin = realNow()
      ObjectDefineProperty(G, 'performance', { value: ObjectFreeze({ now () { return realNow() - origin } }), writable: true, configurable: true, enumerable: false })
    }

    function context (record, records, resumeFrom, task) {
      return ObjectFreeze({
        __proto__: null,
        taskId: task != null ? task.taskId : meta.taskId,
        attempt: task != null ? task.attempt : meta.attempt,
        record: task != null ? task.record : record,
        records: task != null ? task.records : records,
        resumeFrom,
        progress,
        checkpoint,
        log
      })
    }

    // Batch mode: records one after another; the outcome of each leaves at
    // once through recordCb. Returns the task's end: ok, or the limit failure.
    async function runBatch (fn, inputs, resumeFrom, batch) {
      batchMode = true
      const n = inputs.length
      recordCount = n
      const seeds = batch.seeds
      let budget = caps.maxResultBytes
      for (let i = 0; i < n; i++) {
        recordIndex = i
        takeLog.reset()
        takeCheckpoint.reset()
        if (reseed !== null) reseed(seeds != null ? seeds[i] : `${meta.seed}:${i}`)
        // records of several tasks: each task has its own result budget
        const task = batch.tasks != null ? batch.tasks[i] : null
        if (task != null && task.record === 0) budget = caps.maxResultBytes
        try {
          const value = await fn(inputs[i], context(i, n, i === batch.resumeRecord ? resumeFrom : undefined, task))
          if (failure !== null) return failure
          const out = checked(value, budget, `result of record ${i}`, `the results of the batch are larger than the limit of ${caps.maxResultBytes} bytes together (at record ${i})`)
          if (failure !== null) return failure
          budget -= sanitizedBytes
          emitted++
          recordCb(i, true, out)
        } catch (e) {
          if (failure !== null) return failure
          const err = describe(e, caps.maxErrorChars)
          emitted++
          recordCb(i, false, err.name, err.message, err.stack)
        }
      }
      return { __proto__: null, ok: true, records: n }
    }

    async function run (input, resumeFrom, batch) {
      let value
      try {
        const job = G.__idlegridJob
        const fn = job != null ? job.default : undefined
        if (typeof fn !== 'function') {
          return { __proto__: null, ok: false, kind: 'task', error: { __proto__: null, name: 'TypeError', message: NOT_A_JOB, stack: '' } }
        }
        if (batch != null) return await runBatch(fn, input, resumeFrom, batch)
        value = await fn(input, context(0, 1, resumeFrom))
        if (failure !== null) return failure
        const out = checked(value, caps.maxResultBytes, 'result')
        return failure !== null ? failure : { __proto__: null, ok: true, value: out }
      } catch (e) {
        if (failure !== null) return failure
        return { __proto__: null, ok: false, kind: 'task', error: describe(e, caps.maxErrorChars) }
      }
    }

    async function counted (input, resumeFrom, batch) {
      const o = await run(input, resumeFrom, batch)
      settled = { __proto__: null, ok: o.ok, kind: o.kind, error: o.error, value: o.value, records: o.records, emitted }
      return settled
    }

    let settled = null
    let pending = null
    return function start (mode, input, resumeFrom, batch) {
      if (mode === 0) return counted(input, resumeFrom, batch)
      if (mode === 1) { pending = counted(input, resumeFrom, batch); return undefined }
      if (mode === 2) return settled
      return pending
    }
  }
})()
