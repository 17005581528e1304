// Integration tests of the sandbox pool with real runner processes and real
// isolates: lifecycle, limits, checkpoints, determinism, cancel, queueing.
import { InvalidInputError, type SandboxEvent } from '@idlegrid/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { createSandboxPool, SandboxStoppedError, type RunRequest, type SandboxPool, type SandboxPoolInit } from '../src/index.js'

/** A bundle shaped like esbuild's iife output with globalName __idlegridJob. */
function bundle (job: string): string {
  return `var __idlegridJob = (() => { const exports = {}; exports.default = ${job}; return exports })();`
}

const DOUBLE = bundle('async function (input) { return input * 2 }')
let n = 0
function req (source: string, input: unknown = 1, extra: Partial<RunRequest> = {}): RunRequest {
  return { taskId: `t${++n}`, attempt: 0, bundleId: `b-${source.length}-${source.slice(40, 80)}`, source, input, limits: { memoryMb: 64, timeoutMs: 2000 }, ...extra }
}

let pool: SandboxPool | undefined
function make (init: Partial<SandboxPoolInit> = {}): SandboxPool {
  pool = createSandboxPool({ slots: 1, runnerHeapMb: 96, ...init })
  return pool
}
afterEach(async () => { await pool?.stop(); pool = undefined })

async function waitFor (cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function collect (run: AsyncIterable<SandboxEvent>): Promise<SandboxEvent[]> {
  const out: SandboxEvent[] = []
  for await (const ev of run) out.push(ev)
  return out
}

describe('sandbox pool lifecycle', () => {
  it('starts runners lazily and reuses them across tasks', async () => {
    const p = make({ slots: 2 })
    expect(p.stats()).toMatchObject({ runners: 0, started: 0 })
    for (let i = 0; i < 5; i++) {
      const ev = await p.run(req(DOUBLE, i)).done()
      expect(ev).toMatchObject({ type: 'result', value: i * 2 })
    }
    expect(p.stats()).toMatchObject({ started: 1, runners: 1, busy: 0, queued: 0 })
  })

  it('stops idle runners after idleTimeoutMs and starts again on demand', async () => {
    const p = make({ idleTimeoutMs: 150 })
    await p.run(req(DOUBLE)).done()
    expect(p.stats().runners).toBe(1)
    await waitFor(() => p.stats().runners === 0)
    expect(await p.run(req(DOUBLE, 4)).done()).toMatchObject({ type: 'result', value: 8 })
    expect(p.stats().started).toBe(2)
  })

  it('fails the attempt as retryable runner-lost when the runner dies, and replaces it', async () => {
    const p = make()
    const run = p.run(req(bundle('async function (i, ctx) { ctx.log("up"); await new Promise(() => {}) }')))
    const it = run[Symbol.asyncIterator]()
    expect((await it.next()).value).toMatchObject({ type: 'log', line: 'up' })
    const [pid] = p.pids()
    process.kill(pid, 'SIGKILL')
    const ev = await run.done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'runner-lost', retryable: true, name: 'RunnerLostError' } })
    expect(await p.run(req(DOUBLE, 5)).done()).toMatchObject({ type: 'result', value: 10 })
    expect(p.stats().started).toBe(2)
    expect(p.pids()).not.toContain(pid)
  })

  it('queues when all slots are busy and runs the queue in order', async () => {
    const p = make({ slots: 1 })
    const slow = bundle('async function (i) { const end = Date.now() + 150; while (Date.now() < end); return i }')
    const runs = [p.run(req(slow, 1)), p.run(req(slow, 2)), p.run(req(slow, 3))]
    expect(p.stats()).toMatchObject({ queued: 3 })
    await waitFor(() => p.busy === 1)
    expect(p.stats()).toMatchObject({ busy: 1, queued: 2 })
    const order: number[] = []
    await Promise.all(runs.map(async r => { const ev = await r.done(); if (ev.type === 'result') order.push(ev.value as number) }))
    expect(order).toEqual([1, 2, 3])
  })

  it('refuses run() after stop()', async () => {
    const p = make()
    await p.stop()
    expect(() => p.run(req(DOUBLE))).toThrow(SandboxStoppedError)
  })
})

describe('task contract', () => {
  it('streams progress, log and checkpoint events in order, then the result with cpuMs and wallMs', async () => {
    const p = make()
    const src = bundle(`async function (input, ctx) {
      ctx.progress(0.25); ctx.log('a', { b: 1 }, 2); ctx.checkpoint({ at: 1 }); ctx.progress(0.5)
      console.log('via console'); ctx.checkpoint({ at: 2 }); ctx.progress(1)
      return { taskId: ctx.taskId, attempt: ctx.attempt, bytes: new Uint8Array([1, 2, 3]) }
    }`)
    const events = await collect(p.run(req(src, null, { taskId: 'order', attempt: 3 })))
    expect(events.map(e => e.type)).toEqual(['progress', 'log', 'checkpoint', 'progress', 'log', 'checkpoint', 'progress', 'result'])
    expect(events[1]).toEqual({ type: 'log', line: 'a {"b":1} 2' })
    expect(events[5]).toEqual({ type: 'checkpoint', state: { at: 2 } })
    const last = events.at(-1) as Extract<SandboxEvent, { type: 'result' }>
    expect(last.value).toEqual({ taskId: 'order', attempt: 3, bytes: new Uint8Array([1, 2, 3]) })
    expect(last.cpuMs).toBeGreaterThan(0)
    expect(last.wallMs).toBeGreaterThanOrEqual(last.cpuMs * 0.5)
  })

  it('hands resumeFrom to ctx.resumeFrom, and undefined when not resuming', async () => {
    const p = make()
    const src = bundle('async function (input, ctx) { const from = ctx.resumeFrom; ctx.checkpoint({ i: (from?.i ?? 0) + 1 }); return from === undefined ? "fresh" : from }')
    const first = await collect(p.run(req(src)))
    expect(first.at(-1)).toMatchObject({ type: 'result', value: 'fresh' })
    const state = (first.find(e => e.type === 'checkpoint') as { state: unknown }).state
    expect(state).toEqual({ i: 1 })
    expect(await p.run(req(src, 1, { resumeFrom: state })).done()).toMatchObject({ type: 'result', value: { i: 1 } })
  })

  it('gives each task fresh globals even when the compiled bundle is reused', async () => {
    const p = make()
    const src = bundle('async function () { const seen = globalThis.marker; globalThis.marker = 1; Array.prototype.evil = 1; return [seen === undefined, [].evil] }')
    expect(await p.run(req(src)).done()).toMatchObject({ value: [true, 1] })
    expect(await p.run(req(src)).done()).toMatchObject({ value: [true, 1] })
    expect(p.stats().started).toBe(1)
  })

  it('lets tasks of one contextKey share a context, evaluated once; another key, a deterministic task or none gets a fresh one', async () => {
    const p = make()
    // The bundle's top level counts its evaluations in the context.
    const src = `globalThis.loads = (globalThis.loads ?? 0) + 1; ${bundle('async function (input) { const seen = globalThis.seen ?? []; globalThis.seen = [...seen, input]; return { loads: globalThis.loads, seen: globalThis.seen } }')}`
    const value = async (input: string, extra: Partial<RunRequest> = {}): Promise<unknown> => {
      const ev = await p.run(req(src, input, extra)).done()
      expect(ev.type, JSON.stringify(ev)).toBe('result')
      return ev.type === 'result' ? ev.value : undefined
    }
    expect(await value('a', { contextKey: 'job-1' })).toEqual({ loads: 1, seen: ['a'] })
    expect(await value('b', { contextKey: 'job-1' })).toEqual({ loads: 1, seen: ['a', 'b'] })
    expect(await value('c', { contextKey: 'job-2' })).toEqual({ loads: 1, seen: ['c'] })
    expect(await value('d', { contextKey: 'job-2', deterministic: true })).toEqual({ loads: 1, seen: ['d'] })
    expect(await value('e')).toEqual({ loads: 1, seen: ['e'] })
    // job-2's context was kept through the deterministic and keyless tasks.
    expect(await value('f', { contextKey: 'job-2' })).toEqual({ loads: 1, seen: ['c', 'f'] })
    expect(p.stats().started).toBe(1)
  })

  it('keeps a shared context after a task error, and starts afresh when the last task left it unfit or broke a limit', async () => {
    const p = make()
    const src = bundle(`async function (input) {
      globalThis.count = (globalThis.count ?? 0) + 1
      if (input === 'throw') throw new Error('boom')
      if (input === 'seal') Object.defineProperty(globalThis, 'console', { value: 1, writable: false, configurable: false })
      if (input === 'spin') for (;;) {}
      return globalThis.count
    }`)
    const run = async (input: string): Promise<SandboxEvent> => await p.run(req(src, input, { contextKey: 'job', limits: { memoryMb: 64, timeoutMs: 500 } })).done()
    expect(await run('one')).toMatchObject({ type: 'result', value: 1 })
    expect(await run('throw')).toMatchObject({ type: 'error', error: { kind: 'task', message: 'boom' } })
    expect(await run('two')).toMatchObject({ type: 'result', value: 3 })
    expect(await run('seal')).toMatchObject({ type: 'result', value: 4 })
    // The runtime cannot set up ctx.log in that context: a fresh one runs the task.
    expect(await run('after-seal')).toMatchObject({ type: 'result', value: 1 })
    expect(await run('spin')).toMatchObject({ type: 'error', error: { kind: 'limit' } })
    expect(await run('after-limit')).toMatchObject({ type: 'result', value: 1 })
  })

  it('refuses a contextKey that is not a short string', () => {
    const p = make()
    expect(() => p.run(req(DOUBLE, 1, { contextKey: 7 as unknown as string }))).toThrow(/contextKey must be a string/)
    expect(() => p.run(req(DOUBLE, 1, { contextKey: 'k'.repeat(257) }))).toThrow(InvalidInputError)
  })

  it('deterministic mode gives identical output for the same seed and different output for another', async () => {
    const p = make()
    const src = bundle('async function () { return [Math.random(), Math.random(), Date.now(), new Date().toISOString(), performance.now(), typeof WeakRef] }')
    const run = async (extra: Partial<RunRequest>): Promise<string> => JSON.stringify((await p.run(req(src, null, { deterministic: true, ...extra })).done()))
    const a = await run({ taskId: 'same' })
    const b = await run({ taskId: 'same', attempt: 2 })
    const c = await run({ taskId: 'same', seed: 'other' })
    const strip = (s: string): string => JSON.stringify(JSON.parse(s).value)
    expect(strip(a)).toBe(strip(b))
    expect(strip(a)).not.toBe(strip(c))
    expect(JSON.parse(a).value[5]).toBe('undefined')
    const free1 = await p.run(req(src)).done()
    const free2 = await p.run(req(src)).done()
    expect(JSON.stringify(free1.type === 'result' && free1.value)).not.toBe(JSON.stringify(free2.type === 'result' && free2.value))
  })

  it('classifies thrown errors as task errors and keeps only allow-listed names', async () => {
    const p = make()
    const typeErr = await p.run(req(bundle('async function () { null.x }'))).done()
    expect(typeErr).toMatchObject({ type: 'error', error: { kind: 'task', retryable: false, name: 'TypeError' } })
    expect(typeErr.type === 'error' && typeErr.error.stack).toContain('TypeError')
    const spoof = await p.run(req(bundle('async function () { const e = new Error("x"); e.name = "RunnerLostError"; throw e }'))).done()
    expect(spoof).toMatchObject({ type: 'error', error: { kind: 'task', name: 'Error', message: 'x' } })
    const bad = await p.run(req('var __idlegridJob = {}')).done()
    expect(bad).toMatchObject({ type: 'error', error: { kind: 'task', name: 'TypeError' } })
    const syntax = await p.run(req('var __idlegridJob = {')).done()
    expect(syntax).toMatchObject({ type: 'error', error: { kind: 'task', name: 'SyntaxError' } })
  })
})

describe('limits', () => {
  it('stops a task at its wall-time limit', async () => {
    const p = make()
    const ev = await p.run(req(bundle('async function () { await new Promise(() => {}) }'), 1, { limits: { memoryMb: 64, timeoutMs: 300 } })).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'TimeoutError', retryable: false } })
    expect(await p.run(req(DOUBLE, 2)).done()).toMatchObject({ value: 4 })
  })

  it('stops a task at its CPU budget', async () => {
    const p = make()
    const ev = await p.run(req(bundle('async function () { await 1; for (;;); }'), 1, { limits: { memoryMb: 64, timeoutMs: 5000, cpuMs: 200 } })).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'CpuLimitError' } })
    expect(ev.cpuMs).toBeGreaterThanOrEqual(150)
  })

  it('stops a task at its memory limit', async () => {
    const p = make()
    const ev = await p.run(req(bundle('async function () { const a = []; for (;;) a.push({ n: a.length, s: "x" + a.length }) }'), 1, { limits: { memoryMb: 32, timeoutMs: 10_000 } })).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'MemoryLimitError' } })
    expect(await p.run(req(DOUBLE, 3)).done()).toMatchObject({ value: 6 })
  })

  it('caps result, checkpoint, log line and input sizes with limit errors', async () => {
    const p = make({ maxResultBytes: 1000, maxCheckpointBytes: 100, maxLogLineBytes: 50, maxInputBytes: 100 })
    const big = await p.run(req(bundle('async function () { return "x".repeat(2000) }'))).done()
    expect(big).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    const cp = await p.run(req(bundle('async function (i, ctx) { try { ctx.checkpoint("x".repeat(200)) } catch {} return 1 }'))).done()
    expect(cp).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    const line = await p.run(req(bundle('async function (i, ctx) { ctx.log("x".repeat(60)) }'))).done()
    expect(line).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    const input = await p.run(req(DOUBLE, 'y'.repeat(200))).done()
    expect(input).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
  })

  it('refuses malformed requests with InvalidInputError', () => {
    const p = make()
    expect(() => p.run({ ...req(DOUBLE), cachedData: new Uint8Array(4) } as RunRequest)).toThrow(InvalidInputError)
    expect(() => p.run({ ...req(DOUBLE), source: new Uint8Array(4) as unknown as string })).toThrow(/source must be a string/)
    expect(() => p.run({ ...req(DOUBLE), limits: { memoryMb: 1, timeoutMs: 10 } })).toThrow(/memoryMb/)
    expect(() => p.run(req(DOUBLE, { f: () => 1 }))).toThrow(/function at input.f/)
    expect(p.stats().started).toBe(0)
  })
})

describe('cancellation', () => {
  it('cancels a running task and a queued one', async () => {
    const p = make()
    const running = p.run(req(bundle('async function (i, ctx) { ctx.log("go"); for (;;); }'), 1, { limits: { memoryMb: 64, timeoutMs: 10_000 } }))
    const queued = p.run(req(DOUBLE))
    const it = running[Symbol.asyncIterator]()
    await it.next()
    queued.cancel('not needed')
    running.cancel('lease lost')
    expect(await running.done()).toMatchObject({ type: 'error', error: { kind: 'cancelled', name: 'CancelledError', message: 'lease lost' } })
    expect(await queued.done()).toMatchObject({ type: 'error', error: { kind: 'cancelled', message: 'not needed' } })
    expect(await p.run(req(DOUBLE, 7)).done()).toMatchObject({ value: 14 })
  })
})
