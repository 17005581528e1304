// Integration tests of batch mode (RunRequest.inputs) with real runner
// processes: order, per-record failures, whole-task limits, per-record
// determinism, resume, validation, and the synchronous start of quick tasks.
import { InvalidInputError } from '@idlegrid/interface'
import { afterEach, describe, expect, it } from 'vitest'
import { createSandboxPool, type BatchEvent, type BatchRunRequest, type RecordOutcome, type RunRequest, type SandboxPool, type SandboxPoolInit } from '../src/index.js'

function bundle (job: string): string {
  return `var __idlegridJob = (() => { const exports = {}; exports.default = ${job}; return exports })();`
}

let n = 0
function batch (source: string, inputs: unknown[], extra: Partial<RunRequest> = {}): BatchRunRequest {
  return { taskId: `b${++n}`, attempt: 0, bundleId: `bundle-${source.length}-${source.slice(60, 120)}`, source, inputs, limits: { memoryMb: 64, timeoutMs: 3000 }, ...extra }
}

let pool: SandboxPool | undefined
function make (init: Partial<SandboxPoolInit> = {}): SandboxPool {
  pool = createSandboxPool({ slots: 1, runnerHeapMb: 96, ...init })
  return pool
}
afterEach(async () => { await pool?.stop(); pool = undefined })

async function collect (run: AsyncIterable<BatchEvent>): Promise<BatchEvent[]> {
  const out: BatchEvent[] = []
  for await (const ev of run) out.push(ev)
  return out
}

const values = (outcomes: RecordOutcome[]): unknown[] => outcomes.map(o => o.ok ? o.value : o.error.name)

describe('batch mode', () => {
  it('calls the job once per record, in order, and fails only the records that throw', async () => {
    const p = make()
    const src = bundle(`async function (input, ctx) {
      if (input === 'throw') throw new RangeError('bad record ' + ctx.record)
      if (input === 'fn') return () => 1
      return { input, record: ctx.record, records: ctx.records, taskId: ctx.taskId, bytes: new Uint8Array([ctx.record]) }
    }`)
    const events = await collect(p.run(batch(src, ['a', 'throw', 'fn', 'd'], { taskId: 'order' })))
    const records = events.filter(e => e.type === 'record')
    expect(records.map(e => e.type === 'record' && e.index)).toEqual([0, 1, 2, 3])
    const last = events.at(-1)
    expect(last?.type).toBe('result')
    const outcomes = (last as { value: RecordOutcome[] }).value
    expect(outcomes).toHaveLength(4)
    expect(outcomes[0]).toEqual({ ok: true, value: { input: 'a', record: 0, records: 4, taskId: 'order', bytes: new Uint8Array([0]) } })
    expect(outcomes[1]).toMatchObject({ ok: false, error: { name: 'RangeError', message: 'bad record 1', kind: 'task', retryable: false } })
    expect(outcomes[2]).toMatchObject({ ok: false, error: { name: 'TypeError', kind: 'task' } })
    expect(outcomes[3]).toMatchObject({ ok: true, value: { input: 'd', record: 3 } })
    // The streamed record events and the final array agree.
    expect(records.map(({ type, index, ...o }) => o)).toEqual(outcomes)
  })

  it('names the record in progress, checkpoint and log events; progress is the fraction of the batch', async () => {
    const p = make()
    const src = bundle('async function (input, ctx) { ctx.progress(0.5); ctx.checkpoint({ at: input }); ctx.log("rec", ctx.record); return input }')
    const events = await collect(p.run(batch(src, [10, 20])))
    expect(events.slice(0, -1)).toEqual([
      { type: 'progress', fraction: 0.25, record: 0 },
      { type: 'checkpoint', state: { at: 10 }, record: 0 },
      { type: 'log', line: 'rec 0', record: 0 },
      { type: 'record', index: 0, ok: true, value: 10 },
      { type: 'progress', fraction: 0.75, record: 1 },
      { type: 'checkpoint', state: { at: 20 }, record: 1 },
      { type: 'log', line: 'rec 1', record: 1 },
      { type: 'record', index: 1, ok: true, value: 20 }
    ])
  })

  it('stops the whole batch at a time limit, keeping the records done before', async () => {
    const p = make()
    const src = bundle('async function (input) { if (input === 2) for (;;); return input }')
    const run = p.run(batch(src, [0, 1, 2, 3], { limits: { memoryMb: 64, timeoutMs: 400 } }))
    const ev = await run.done()
    expect(ev.type).toBe('error')
    if (ev.type !== 'error') return
    expect(ev.error).toMatchObject({ kind: 'limit', name: 'TimeoutError', retryable: false })
    expect(values(ev.records)).toEqual([0, 1])
    expect(await p.run(batch(src, [5])).done()).toMatchObject({ type: 'result', value: [{ ok: true, value: 5 }] })
  })

  it('holds each record to recordTimeoutMs when asked, while the batch as a whole may take longer', async () => {
    const p = make()
    const src = bundle('async function (input) { const end = Date.now() + input; while (Date.now() < end); return input }')
    // four records of 150 ms: 600 ms in all, each well within its 400 ms
    expect(await p.run(batch(src, [150, 150, 150, 150], { limits: { memoryMb: 64, timeoutMs: 4000 }, recordTimeoutMs: 400 })).done())
      .toMatchObject({ type: 'result' })
    const ev = await p.run(batch(src, [10, 10, 3000, 10], { limits: { memoryMb: 64, timeoutMs: 8000 }, recordTimeoutMs: 400 })).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: expect.stringMatching(/^(TimeoutError|CpuLimitError)$/) } })
    if (ev.type === 'error') {
      expect(values(ev.records)).toEqual([10, 10])
      expect(ev.wallMs).toBeLessThan(3000)
    }
  })

  it('tells each record its own task through recordTasks, with a result cap per task', async () => {
    const p = make({ maxResultBytes: 1000 })
    const src = bundle('async function (input, ctx) { return { id: ctx.taskId, attempt: ctx.attempt, record: ctx.record, records: ctx.records, pad: "x".repeat(input) } }')
    const tasks = [
      { taskId: 'job:0', attempt: 2, record: 0, records: 1 },
      { taskId: 'job:1', attempt: 1, record: 0, records: 2 },
      { taskId: 'job:1', attempt: 1, record: 1, records: 2 },
      { taskId: 'job:3', attempt: 1, record: 0, records: 1 }
    ]
    // 600 bytes a record: over the cap for the batch together, within it for each task but job:1
    const ev = await p.run(batch(src, [600, 10, 10, 600], { recordTasks: tasks })).done()
    expect(ev.type).toBe('result')
    if (ev.type === 'result') {
      expect(ev.value.map(o => o.ok && { ...(o.value as object), pad: undefined })).toEqual(tasks.map(t => ({ id: t.taskId, attempt: t.attempt, record: t.record, records: t.records, pad: undefined })))
    }
  })

  it('stops the whole batch when its results together pass the result cap', async () => {
    const p = make({ maxResultBytes: 1000 })
    const ev = await p.run(batch(bundle('async function () { return "x".repeat(400) }'), [1, 2, 3, 4])).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'SizeLimitError' } })
    if (ev.type === 'error') expect(ev.records).toHaveLength(2)
  })

  it('gives every record full log caps, as if it were its own task', async () => {
    const p = make({ maxLogLines: 3 })
    const src = bundle('async function (input, ctx) { for (let i = 0; i < input; i++) ctx.log(i); return input }')
    expect(await p.run(batch(src, [3, 3, 3])).done()).toMatchObject({ type: 'result' })
    const over = await p.run(batch(src, [3, 4, 3])).done()
    expect(over).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'RateLimitError' } })
    if (over.type === 'error') expect(values(over.records)).toEqual([3])
  })

  it('cancels a running batch and reports the records done before', async () => {
    const p = make()
    const run = p.run(batch(bundle('async function (input, ctx) { if (input === 1) { ctx.log("spin"); for (;;); } return input }'), [0, 1, 2], { limits: { memoryMb: 64, timeoutMs: 10_000 } }))
    for await (const ev of run) if (ev.type === 'log') break
    run.cancel('lease lost')
    const ev = await run.done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'cancelled', message: 'lease lost' } })
    if (ev.type === 'error') expect(values(ev.records)).toEqual([0])
  })

  it('re-seeds deterministic mode per record: a record does not depend on what earlier records drew', async () => {
    const p = make()
    const src = bundle('async function (input) { for (let i = 0; i < input; i++) Math.random(); return [Math.random(), Date.now(), performance.now()] }')
    const run = async (inputs: number[], extra: Partial<RunRequest> = {}): Promise<unknown[]> => {
      const ev = await p.run(batch(src, inputs, { taskId: 'det', deterministic: true, ...extra })).done()
      expect(ev.type).toBe('result')
      return ev.type === 'result' ? ev.value.map(o => o.ok ? (o.value as unknown[]) : null) : []
    }
    const a = await run([0, 0, 0])
    const b = await run([1000, 0, 0])
    expect(b[1]).toEqual(a[1])
    expect(b[2]).toEqual(a[2])
    expect(a[0]).not.toEqual(a[1])
    expect(await run([0, 0, 0], { attempt: 3 })).toEqual(a)
    expect(await run([0, 0, 0], { seed: 'other' })).not.toEqual(a)
    // With recordSeeds a record gives the same output in any batch.
    const alone = await run([0], { recordSeeds: ['rec-7'] })
    const inside = await run([5, 0], { recordSeeds: ['rec-6', 'rec-7'] })
    expect(inside[1]).toEqual(alone[0])
  })

  it('hands resumeFrom to the record named by resumeRecord only', async () => {
    const p = make()
    const src = bundle('async function (input, ctx) { return ctx.resumeFrom === undefined ? null : ctx.resumeFrom }')
    const ev = await p.run(batch(src, [0, 1, 2], { resumeFrom: { done: 5 }, resumeRecord: 1 })).done()
    expect(ev).toMatchObject({ type: 'result', value: [{ ok: true, value: null }, { ok: true, value: { done: 5 } }, { ok: true, value: null }] })
    const first = await p.run(batch(src, [0, 1], { resumeFrom: 'x' })).done()
    expect(first).toMatchObject({ type: 'result', value: [{ ok: true, value: 'x' }, { ok: true, value: null }] })
  })

  it('lets a record change globals for later records of its batch, never for another task', async () => {
    const p = make()
    const src = bundle('async function (input) { const seen = globalThis.mark ?? null; globalThis.mark = input; return seen }')
    const ev = await p.run(batch(src, ['a', 'b'])).done()
    expect(ev).toMatchObject({ type: 'result', value: [{ ok: true, value: null }, { ok: true, value: 'a' }] })
    expect(await p.run(batch(src, ['c'])).done()).toMatchObject({ type: 'result', value: [{ ok: true, value: null }] })
  })

  it('fails the whole batch as a task error when the bundle defines no job', async () => {
    const p = make()
    const ev = await p.run(batch('var __idlegridJob = {}', [1, 2])).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'task', name: 'TypeError' }, records: [] })
  })

  it('refuses malformed batch requests with InvalidInputError', () => {
    const p = make({ maxRecords: 3 })
    const src = bundle('async function (i) { return i }')
    expect(() => p.run({ ...batch(src, [1]), input: 1 })).toThrow(/input and inputs are both set/)
    const neither = { ...batch(src, [1]) } as Partial<RunRequest>
    delete neither.inputs
    expect(() => p.run(neither as RunRequest)).toThrow(/neither input nor inputs/)
    expect(() => p.run(batch(src, []))).toThrow(/from 1 to 3 records/)
    expect(() => p.run(batch(src, [1, 2, 3, 4]))).toThrow(InvalidInputError)
    expect(() => p.run(batch(src, [1, 2], { resumeRecord: 2 }))).toThrow(/resumeRecord/)
    expect(() => p.run(batch(src, [1, 2], { recordSeeds: ['a'] }))).toThrow(/recordSeeds/)
    expect(() => p.run(batch(src, [1, 2], { recordTimeoutMs: 0 }))).toThrow(/recordTimeoutMs/)
    expect(() => p.run(batch(src, [1, 2], { recordTasks: [{ taskId: 't', attempt: 1, record: 0, records: 1 }] }))).toThrow(/recordTasks/)
    expect(() => p.run(batch(src, [1], { recordTasks: [{ taskId: 't', attempt: 1, record: 1, records: 1 }] }))).toThrow(/recordTasks/)
    expect(() => p.run({ taskId: 'x', attempt: 0, bundleId: 'x', source: src, input: 1, resumeRecord: 0, limits: { memoryMb: 64, timeoutMs: 1000 } })).toThrow(/batches only/)
    expect(() => p.run(batch(src, [() => 1]))).toThrow(/function at inputs\[0\]/)
    expect(p.stats().started).toBe(0)
  })
})

describe('quick tasks (synchronous start)', () => {
  it('keeps events before the result, falls back for a task that waits, and still stops it at its limit', async () => {
    const p = make()
    const src = bundle(`async function (input, ctx) {
      if (input === 'wait') await new Promise(() => {})
      ctx.log('a'); ctx.checkpoint({ i: input }); ctx.progress(1)
      return input
    }`)
    // Enough quick tasks that the isolate takes the synchronous start.
    for (let i = 0; i < 5; i++) {
      const events: string[] = []
      for await (const ev of p.run({ taskId: `q${i}`, attempt: 0, bundleId: 'quick', source: src, input: i, limits: { memoryMb: 64, timeoutMs: 2000 } })) events.push(ev.type)
      expect(events).toEqual(['log', 'checkpoint', 'progress', 'result'])
    }
    const waiting = await p.run({ taskId: 'qw', attempt: 0, bundleId: 'quick', source: src, input: 'wait', limits: { memoryMb: 64, timeoutMs: 300 } }).done()
    expect(waiting).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'TimeoutError' } })
    expect(await p.run({ taskId: 'q9', attempt: 0, bundleId: 'quick', source: src, input: 9, limits: { memoryMb: 64, timeoutMs: 2000 } }).done()).toMatchObject({ type: 'result', value: 9 })
    expect(p.stats().started).toBe(1)
  })

  it('stops a quick isolate\'s task that loops at its time limit', async () => {
    const p = make()
    const src = bundle('async function (input) { if (input === 1) for (;;); return input }')
    for (let i = 0; i < 3; i++) expect(await p.run({ taskId: `l${i}`, attempt: 0, bundleId: 'loop', source: src, input: 0, limits: { memoryMb: 64, timeoutMs: 2000 } }).done()).toMatchObject({ type: 'result' })
    const ev = await p.run({ taskId: 'l9', attempt: 0, bundleId: 'loop', source: src, input: 1, limits: { memoryMb: 64, timeoutMs: 300 } }).done()
    expect(ev).toMatchObject({ type: 'error', error: { kind: 'limit', name: 'TimeoutError' } })
  })

  it('gives a single-input task ctx.record 0 of 1', async () => {
    const p = make()
    const ev = await p.run({ taskId: 's', attempt: 0, bundleId: 's', source: bundle('async function (i, ctx) { return [ctx.record, ctx.records] }'), input: null, limits: { memoryMb: 64, timeoutMs: 2000 } }).done()
    expect(ev).toMatchObject({ type: 'result', value: [0, 1] })
  })
})
