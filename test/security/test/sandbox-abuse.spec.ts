// Abuse suite of the sandbox: hostile task code against a real pool of
// runner processes. Each attempt must end in a confined, classified outcome
// within its time limit + 1 s, and the host must keep answering afterwards.
//
// Attempts (add new ones to ATTEMPTS below and to this list):
//  1 process global            2 require()               3 module/exports
//  4 globalThis host probe     5 this.constructor.constructor('return process')
//  6 AsyncFunction constructor 7 GeneratorFunction constructor
//  8 dynamic import()          9 eval('process')        10 setTimeout outliving the task
// 11 __proto__/constructor keys in input   12 __proto__ key in output
// 13 thenable that never settles           14 nested thenable function in output
// 15 Proxy with endless ownKeys trap       16 Proxy returning functions
// 17 for(;;)                  18 for(;;) after await    19 endless microtask chain
// 20 never-settling promise   21 array growth heap bomb 22 [...'x'.repeat(1e9)]
// 23 JSON.parse amplification 24 string doubling        25 new ArrayBuffer(2**31)
// 26 WebAssembly memory growth 27 endless wasm loop     28 SharedArrayBuffer + Atomics.wait
// 29 deep recursion           30 JSON.parse('['.repeat(1e6))   31 1 GB result
// 32 oversize string result   33 cyclic result          34 function result
// 35 Symbol result            36 checkpoint flood       37 log flood
// 38 oversize checkpoint      39 error name spoofing    40 thrown non-error with getters
// 41 CPU budget in a sync bundle top level  42 V8 cached data in the request
// 43 non-string (bytes) source
// Batch mode (RunRequest.inputs):
// 44 a record poisons globals and intrinsics: later records of its batch see
//    it, the result checks do not, and no other task does
// 45 a record leaves an endless microtask chain behind for later records
// 46 too many records / oversize inputs are refused before any runner sees them
// Tasks of one job sharing a context (RunRequest.contextKey):
// 47 a task poisons globals and intrinsics: the next task of its job sees
//    them, the result checks do not, and a task of another job does not
import { InvalidInputError, type TaskErrorKind } from '@idlegrid/interface'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createSandboxPool, type FinalEvent, type RecordOutcome, type RunRequest, type SandboxPool } from '@idlegrid/sandbox-host'

const TIMEOUT_MS = 1000
const MEMORY_MB = 64

/** A wasm module exporting f(): an endless loop. */
const WASM_LOOP = [0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 9, 1, 7, 0, 3, 64, 12, 0, 11, 11]

interface Attempt {
  name: string
  /** Body of `async function (input, ctx)`, or a whole bundle when `bundle` is set. */
  code: string
  bundle?: boolean
  input?: unknown
  limits?: Partial<RunRequest['limits']>
  /** Kinds that count as confined; a result is allowed only with `check`. */
  kinds?: TaskErrorKind[]
  names?: string[]
  check?: (value: unknown) => void
}

const ATTEMPTS: Attempt[] = [
  { name: 'process global', code: 'process.exit(1)', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'require()', code: 'return require("fs").readFileSync("/etc/passwd", "utf8")', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'module/exports', code: 'return module.constructor._load("child_process")', kinds: ['task'], names: ['ReferenceError'] },
  {
    name: 'globalThis host probe',
    code: 'return Object.getOwnPropertyNames(globalThis).concat(Object.getOwnPropertyNames(Object.getPrototypeOf(globalThis)))',
    check: (v) => {
      const names = v as string[]
      for (const bad of ['process', 'require', 'module', 'global', 'Buffer', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask', 'fetch', 'ivm', '_ivm', 'isolatedVm', 'SharedArrayBuffer', '__idlegridHost']) expect(names).not.toContain(bad)
    }
  },
  { name: 'this.constructor.constructor', code: 'return (function () { return this })().constructor.constructor("return process")().pid', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'AsyncFunction constructor', code: 'const AF = (async () => {}).constructor; return await AF("return process.pid")()', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'GeneratorFunction constructor', code: 'const GF = (function * () {}).constructor; return GF("yield process.pid")().next().value', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'dynamic import()', code: 'const fs = await import("node:fs"); return fs.readFileSync("/etc/passwd", "utf8")', kinds: ['task'] },
  { name: "eval('process')", code: 'return eval("process.versions")', kinds: ['task'], names: ['ReferenceError'] },
  { name: 'setTimeout outliving the task', code: 'setTimeout(() => ctx.log("late"), 5000); return 1', kinds: ['task'], names: ['ReferenceError'] },
  {
    name: '__proto__ and constructor keys in input',
    code: 'const o = {}; Object.assign(o, input); return { input, polluted: ({}).polluted === undefined, ownProto: Object.getPrototypeOf(o) === Object.prototype }',
    input: JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}'),
    check: (v) => {
      const r = v as { input: Record<string, unknown>, polluted: boolean, ownProto: boolean }
      expect(r.polluted).toBe(true)
      expect(Object.hasOwn(r.input, '__proto__')).toBe(true)
      expect(Object.getPrototypeOf(r.input)).toBe(Object.prototype)
    }
  },
  {
    name: '__proto__ key in output',
    code: 'return JSON.parse(\'{"__proto__": {"isAdmin": true}, "constructor": {"prototype": {"isAdmin": true}}}\')',
    check: (v) => {
      expect(Object.getPrototypeOf(v)).toBe(Object.prototype)
      expect((v as { isAdmin?: boolean }).isAdmin).toBeUndefined()
      expect(Object.hasOwn(v as object, '__proto__')).toBe(true)
    }
  },
  { name: 'thenable that never settles', code: 'return { then () {} }', kinds: ['limit'], names: ['TimeoutError'] },
  { name: 'thenable function in output', code: 'return { data: { then: (resolve) => resolve(process) } }', kinds: ['task'], names: ['TypeError'] },
  { name: 'Proxy with endless ownKeys trap', code: 'return new Proxy({}, { ownKeys () { for (;;); } })', kinds: ['limit'], names: ['TimeoutError', 'CpuLimitError'] },
  { name: 'Proxy returning functions', code: 'return new Proxy({ a: 1 }, { get () { return () => process } })', kinds: ['task'], names: ['TypeError', 'ReferenceError'] },
  { name: 'for(;;)', code: 'for (;;);', kinds: ['limit'], names: ['TimeoutError', 'CpuLimitError'] },
  { name: 'for(;;) after await', code: 'await null; for (;;);', kinds: ['limit'], names: ['TimeoutError', 'CpuLimitError'] },
  { name: 'endless microtask chain', code: 'const f = () => Promise.resolve().then(f); f(); await new Promise(() => {})', kinds: ['limit'], names: ['TimeoutError'] },
  { name: 'never-settling promise', code: 'await new Promise(() => {})', kinds: ['limit'], names: ['TimeoutError'] },
  { name: 'array growth heap bomb', code: 'const a = []; for (;;) a.push(new Array(1e5).fill(a.length))', kinds: ['limit'], names: ['MemoryLimitError', 'CpuLimitError', 'TimeoutError'] },
  { name: "[...'x'.repeat(1e9)]", code: "return [...'x'.repeat(1e9)].length", kinds: ['task', 'limit'] },
  { name: 'JSON.parse amplification', code: "const s = '[' + '[{},{},{},{}],'.repeat(2e6) + '0]'; return JSON.parse(s).length", kinds: ['task', 'limit'] },
  { name: 'string doubling', code: "let s = 'x'; for (;;) s += s", kinds: ['task', 'limit'] },
  { name: 'new ArrayBuffer(2**31)', code: 'return new ArrayBuffer(2 ** 31).byteLength', kinds: ['task', 'limit'] },
  {
    name: 'WebAssembly memory growth',
    code: 'const m = new WebAssembly.Memory({ initial: 1, maximum: 65536 }); for (;;) { m.grow(256); new Uint8Array(m.buffer).fill(1, m.buffer.byteLength - 16777216) }',
    limits: { timeoutMs: 5000 },
    kinds: ['limit', 'task']
  },
  { name: 'endless wasm loop', code: `const { instance } = await WebAssembly.instantiate(new Uint8Array(${JSON.stringify(WASM_LOOP)})); instance.exports.f()`, kinds: ['limit'], names: ['TimeoutError', 'CpuLimitError'] },
  {
    name: 'SharedArrayBuffer + Atomics.wait',
    code: 'const sab = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer; Atomics.wait(new Int32Array(sab), 0, 0); return 1',
    kinds: ['task', 'limit']
  },
  { name: 'deep recursion', code: 'const f = (n) => f(n + 1) + 1; return f(0)', kinds: ['task', 'limit'], names: ['RangeError', 'TimeoutError', 'CpuLimitError'] },
  // V8's JSON parser may not stop for termination: the host watchdog kills the runner.
  { name: "JSON.parse('['.repeat(1e6))", code: "return JSON.parse('['.repeat(1e6))", kinds: ['task', 'limit'] },
  { name: '1 GB result', code: 'return new Uint8Array(2 ** 30)', kinds: ['task', 'limit'] },
  { name: 'oversize string result', code: "return 'x'.repeat(9 * 1024 * 1024)", kinds: ['limit'], names: ['SizeLimitError'] },
  { name: 'cyclic result', code: 'const o = { a: [] }; o.a.push(o); return o', kinds: ['task'], names: ['TypeError'] },
  { name: 'function result', code: 'return function () { return process }', kinds: ['task'], names: ['TypeError'] },
  { name: 'Symbol result', code: "return Symbol('x')", kinds: ['task'], names: ['TypeError'] },
  { name: 'checkpoint flood', code: 'for (let i = 0; ; i++) { try { ctx.checkpoint({ i }) } catch {} }', kinds: ['limit'], names: ['RateLimitError'] },
  { name: 'log flood', code: "for (;;) { try { ctx.log('spam') } catch {} }", kinds: ['limit'], names: ['RateLimitError'] },
  { name: 'oversize checkpoint', code: "ctx.checkpoint({ s: 'x'.repeat(2 * 1024 * 1024) }); return 1", kinds: ['limit'], names: ['SizeLimitError'] },
  { name: 'error name spoofing', code: "const e = new Error('retry me'); e.name = 'RunnerLostError'; throw e", kinds: ['task'], names: ['Error'] },
  { name: 'thrown non-error with getters', code: "throw { get name () { for (;;); }, message: 'x' }", kinds: ['limit'], names: ['TimeoutError'] },
  {
    name: 'CPU budget in a sync bundle top level',
    bundle: true,
    code: 'for (;;); var __idlegridJob = { default: async () => 1 }',
    limits: { timeoutMs: 1000, cpuMs: 300 },
    kinds: ['limit'],
    names: ['CpuLimitError', 'TimeoutError']
  }
]

let pool: SandboxPool
let seq = 0

beforeAll(async () => {
  // More slots than vitest runs tests at once (maxConcurrency 5), so no
  // attempt waits in the queue and the time bound measures the attempt.
  pool = createSandboxPool({ slots: 6, runnerHeapMb: 96, idleTimeoutMs: 60_000 })
  await Promise.all([1, 2, 3, 4, 5, 6].map(async () => await trivial()))
})
afterAll(async () => { await pool.stop() })

function request (code: string, extra: Partial<RunRequest> = {}, bundle = false): RunRequest {
  const source = bundle ? code : `var __idlegridJob = (() => ({ default: async function (input, ctx) { ${code} } }))()`
  seq++
  return { taskId: `abuse-${seq}`, attempt: 0, bundleId: `abuse-${seq}`, source, input: null, limits: { memoryMb: MEMORY_MB, timeoutMs: TIMEOUT_MS }, ...extra }
}

async function trivial (): Promise<void> {
  const ev = await pool.run(request('return input + 1', { input: 41 })).done()
  expect(ev, JSON.stringify(ev)).toMatchObject({ type: 'result', value: 42 })
}

async function timed (req: RunRequest): Promise<{ ev: FinalEvent, ms: number }> {
  const t0 = performance.now()
  const ev = await pool.run(req).done()
  return { ev, ms: performance.now() - t0 }
}

describe.concurrent('sandbox abuse', () => {
  for (const a of ATTEMPTS) {
    it(a.name, async () => {
      const limits = { memoryMb: MEMORY_MB, timeoutMs: TIMEOUT_MS, ...a.limits }
      const { ev, ms } = await timed(request(a.code, { input: a.input ?? null, limits }, a.bundle))
      if (a.check !== undefined) {
        expect(ev.type, JSON.stringify(ev)).toBe('result')
        a.check(ev.type === 'result' ? ev.value : undefined)
      } else {
        expect(ev.type, JSON.stringify(ev).slice(0, 500)).toBe('error')
        if (ev.type === 'error') {
          expect(a.kinds).toContain(ev.error.kind)
          if (a.names !== undefined) expect(a.names).toContain(ev.error.name)
          expect(ev.error.retryable).toBe(false)
        }
      }
      // A bound on confinement, not a benchmark: limit + 1 s.
      expect(ms).toBeLessThanOrEqual(limits.timeoutMs + 1000)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
      await trivial()
    })
  }

  it('V8 cached data in the request is refused', () => {
    const req = { ...request('return 1'), cachedData: new Uint8Array([1, 2, 3]) }
    expect(() => pool.run(req as RunRequest)).toThrow(InvalidInputError)
    expect(() => pool.run(req as RunRequest)).toThrow(/cached data/)
  })

  it('non-string (bytes) source is refused', async () => {
    const req = { ...request('return 1'), source: new TextEncoder().encode('var __idlegridJob = { default: () => 1 }') }
    expect(() => pool.run(req as unknown as RunRequest)).toThrow(InvalidInputError)
    await trivial()
  })

  it('batch: a record poisons globals and intrinsics', async () => {
    const code = `if (input === 'poison') {
        Object.keys = () => []; Array.isArray = () => false; JSON.stringify = () => 'x'; Set.prototype.has = () => false
        Math.random = () => 4; globalThis.leak = 1; Object.prototype.polluted = 1
        return 'poisoned'
      }
      if (input === 'probe') return { leak: globalThis.leak ?? null, rnd: Math.random() }
      if (input === 'fn') return { f: () => process }
      return { leak: globalThis.leak ?? null, polluted: ({}).polluted ?? null, rnd: Math.random() < 1 }`
    const base = request(code)
    const { input: _, ...req } = base
    const t0 = performance.now()
    const ev = await pool.run({ ...req, inputs: ['poison', 'probe', 'fn'] }).done()
    expect(ev.type, JSON.stringify(ev).slice(0, 500)).toBe('result')
    const out = ev.type === 'result' ? ev.value : []
    expect(out[0]).toEqual({ ok: true, value: 'poisoned' })
    expect(out[1]).toEqual({ ok: true, value: { leak: 1, rnd: 4 } })
    expect(out[2]).toMatchObject({ ok: false, error: { kind: 'task', name: 'TypeError' } })
    expect((out[2] as Extract<RecordOutcome, { ok: false }>).error.message).toContain('function at result of record 2.f')
    // Same bundle, same runner, next task: a fresh context.
    const next = await pool.run({ ...req, taskId: `${req.taskId}-next`, inputs: ['check'] }).done()
    expect(next).toMatchObject({ type: 'result', value: [{ ok: true, value: { leak: null, polluted: null, rnd: true } }] })
    expect(performance.now() - t0).toBeLessThanOrEqual(2 * TIMEOUT_MS + 1000)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    await trivial()
  })

  it('shared context: a task poisons globals and intrinsics for the next task of its job', async () => {
    const code = `if (input === 'poison') {
        Object.keys = () => []; Array.isArray = () => false; JSON.stringify = () => 'x'; Set.prototype.has = () => false
        Reflect.apply = () => 0; Object.defineProperty = () => {}; globalThis.leak = 1; Object.prototype.polluted = 1
        return 'poisoned'
      }
      if (input === 'fn') return { f: () => process }
      if (input === 'cycle') { const o = {}; o.o = o; return o }
      if (input === 'big') return 'x'.repeat(${4 * 1024 * 1024}).repeat(3)
      return { leak: globalThis.leak ?? null, polluted: ({}).polluted ?? null, keys: Object.keys({ a: 1 }).length }`
    const base = request(code)
    const job = (input: string, contextKey: string): RunRequest => ({ ...base, taskId: `${base.taskId}-${input}-${contextKey}`, input, contextKey })
    // A pool of its own: the suite's other attempts run at the same time and
    // could take the runner between two tasks of job A.
    const own = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
    onTestFinished(async () => { await own.stop() })
    const t0 = performance.now()
    expect(await own.run(job('poison', 'A')).done()).toMatchObject({ type: 'result', value: 'poisoned' })
    expect(await own.run(job('probe', 'A')).done()).toMatchObject({ type: 'result', value: { leak: 1, polluted: 1, keys: 0 } })
    const fn = await own.run(job('fn', 'A')).done()
    expect(fn).toMatchObject({ type: 'error', error: { kind: 'task', name: 'TypeError' } })
    expect(fn.type === 'error' && fn.error.message).toContain('function at result.f')
    expect(await own.run(job('cycle', 'A')).done()).toMatchObject({ type: 'error', error: { kind: 'task', name: 'TypeError' } })
    // Another job of the same bundle: a fresh context.
    expect(await own.run(job('probe', 'B')).done()).toMatchObject({ type: 'result', value: { leak: null, polluted: null, keys: 1 } })
    expect(await own.run(job('big', 'B')).done()).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    expect(performance.now() - t0).toBeLessThanOrEqual(6 * TIMEOUT_MS + 1000)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    await trivial()
  })

  it('batch: a record leaves an endless microtask chain behind', async () => {
    const { input: _, ...req } = request('if (input === 0) { const f = () => Promise.resolve().then(f); f() } return input')
    const { ev, ms } = await timed({ ...req, inputs: [0, 1, 2] } as RunRequest)
    if (ev.type === 'result') {
      expect((ev.value as RecordOutcome[]).map(o => o.ok)).toEqual([true, true, true])
    } else {
      expect(ev.error).toMatchObject({ kind: 'limit', retryable: false })
    }
    expect(ms).toBeLessThanOrEqual(TIMEOUT_MS + 1000)
    await trivial()
  })

  it('batch: too many records and oversize inputs are refused', async () => {
    const { input: _, ...req } = request('return input')
    expect(() => pool.run({ ...req, inputs: new Array(10_001).fill(0) })).toThrow(InvalidInputError)
    expect(() => pool.run({ ...req, inputs: [1], input: 1 })).toThrow(InvalidInputError)
    const big = await pool.run({ ...req, inputs: Array.from({ length: 3 }, () => 'x'.repeat(3 * 1024 * 1024)) }).done()
    expect(big).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    await trivial()
  })
})
