// Tests of the runner process and the guest runtime over the runner's own IPC
// protocol, without the host pool: what crosses the boundary, and how.
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const RUNNER = fileURLToPath(new URL('../src/runner.js', import.meta.url))
let child: ChildProcess
let nextId = 1

interface End { t: 'end', id: number, ok: boolean, value?: unknown, kind?: string, error?: { name: string, message: string }, cpuMs: number, wallMs: number, retire: boolean }

beforeAll(async () => {
  child = fork(RUNNER, [JSON.stringify({ maxResultBytes: 4096 })], { execArgv: ['--no-node-snapshot'], serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m: { t: string }) => { m.t === 'ready' ? resolve() : reject(new Error('no ready')) })
    child.once('exit', () => { reject(new Error('runner exited')) })
  })
})
afterAll(() => { child.kill('SIGKILL') })

async function run (job: string, input: unknown = null, extra: Record<string, unknown> = {}): Promise<{ end: End, events: unknown[] }> {
  const id = nextId++
  const events: unknown[] = []
  return await new Promise(resolve => {
    const onMessage = (m: { t: string, id: number, evs?: unknown[] }): void => {
      if (m.id !== id) return
      if (m.t === 'evs') events.push(...(m.evs ?? []))
      if (m.t === 'end') { child.off('message', onMessage); resolve({ end: m as unknown as End, events }) }
    }
    child.on('message', onMessage)
    const source = `var __idlegridJob = { default: ${job} }`
    child.send({ t: 'run', id, taskId: `r${id}`, attempt: 0, bundleId: source, source, input, limits: { memoryMb: 32, timeoutMs: 2000 }, deterministic: false, seed: `r${id}`, maxRssMb: 0, ...extra })
  })
}

describe('sandbox runner', () => {
  it('copies JSON values and Uint8Array both ways, keeping __proto__ as a plain own key', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": 1}, "list": [1, "two", null, true]}')
    input.bytes = new Uint8Array([9, 8])
    const { end } = await run('async function (input) { return { same: input, proto: Object.getPrototypeOf(input) === Object.prototype, polluted: ({}).polluted === undefined, bytes: input.bytes instanceof Uint8Array, gone: undefined } }', input)
    expect(end.ok).toBe(true)
    const v = end.value as Record<string, any>
    expect(Object.hasOwn(v.same, '__proto__')).toBe(true)
    expect(v.same.list).toEqual([1, 'two', null, true])
    expect(v.same.bytes).toEqual(new Uint8Array([9, 8]))
    expect(v).toMatchObject({ proto: true, polluted: true, bytes: true })
    expect('gone' in v).toBe(false)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses results that are not plain data, with the path in the message', async () => {
    for (const [expr, what] of [['{ a: [1, () => 1] }', 'function at result.a[1]'], ['new Map()', 'non-plain object'], ['{ s: Symbol("x") }', 'symbol'], ['new Float64Array(2)', 'typed array'], ['1n', 'bigint'], ['(() => { const o = {}; o.o = o; return o })()', 'cyclic']]) {
      const { end } = await run(`async function () { return ${expr} }`)
      expect(end).toMatchObject({ ok: false, kind: 'task', error: { name: 'TypeError' } })
      expect(end.error?.message).toContain(what)
    }
  })

  it('keeps its result check when task code patches the intrinsics it would use', async () => {
    const { end } = await run(`async function () {
      Object.keys = () => []; Array.isArray = () => false; Set.prototype.has = () => false
      Object.defineProperty(Object.prototype, 'get', { value: 1, configurable: true })
      return { f: () => 1 }
    }`)
    expect(end).toMatchObject({ ok: false, kind: 'task' })
    expect(end.error?.message).toContain('function at result.f')
  })

  it('applies the result cap it was started with', async () => {
    const { end } = await run('async function () { return "x".repeat(5000) }')
    expect(end).toMatchObject({ ok: false, kind: 'limit', error: { name: 'SizeLimitError' } })
  })

  it('removes host reach and blocking primitives from the global scope', async () => {
    const { end } = await run(`async function () {
      return [typeof process, typeof require, typeof module, typeof setTimeout, typeof SharedArrayBuffer, typeof Atomics.wait, typeof fetch, typeof console.log]
    }`)
    expect(end.value).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'function'])
  })

  it('keeps Date subclassing and parsing working in deterministic mode', async () => {
    const job = 'async function () { class D extends Date {} const d = new D(); return [d instanceof Date, d.getTime() === Date.now(), Date.parse("2020-01-02T00:00:00Z"), new Date(5).getTime(), typeof Date()] }'
    const { end } = await run(job, null, { deterministic: true })
    expect(end.value).toEqual([true, true, 1577923200000, 5, 'string'])
  })

  it('reports cpuMs and wallMs for every task, including failed ones', async () => {
    const { end } = await run('async function () { let x = 0; for (let i = 0; i < 1e6; i++) x += i; throw new RangeError("r" + x) }')
    expect(end).toMatchObject({ ok: false, kind: 'task', error: { name: 'RangeError' } })
    expect(end.cpuMs).toBeGreaterThan(0)
    expect(end.wallMs).toBeGreaterThan(0)
  })
})
