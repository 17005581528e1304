// Benchmark of the sandbox: CPU-bound kernels in the sandbox against the same
// code as `new Function` in this process (ratio, median of runs), the fixed
// cost of a trivial task (context setup, copy in, copy out, IPC), and records/s
// of no-op records in batches of 1, 10 and 100 on one and two slots.
// Run: node --no-node-snapshot --import tsx bench/sandbox.ts [--skip-kernels]
//        [--baseline=<path of another checkout's sandbox/host/src/index.ts>]
// With --baseline, trivial tasks run through both pools in turn, in the same
// run, and the ratio new / baseline is printed.
import { createRequire } from 'node:module'
import { loadavg, setPriority } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createSandboxPool, type RunRequest, type SandboxPool, type SandboxPoolInit } from '@idlegrid/sandbox-host'

const RUNS = 7
const args = process.argv.slice(2)
const skipKernels = args.includes('--skip-kernels')
const baselinePath = args.find(a => a.startsWith('--baseline='))?.slice('--baseline='.length)
const load = (): string => loadavg().map(x => x.toFixed(1)).join(' ')

const KERNELS: Record<string, { body: string, input: number }> = {
  'trial-division primes': {
    input: 1_000_000,
    body: 'let c = 0; for (let n = 2; n < input; n++) { let p = true; for (let d = 2; d * d <= n; d++) { if (n % d === 0) { p = false; break } } if (p) c++ } return c'
  },
  sieve: {
    input: 12_000_000,
    body: 'const s = new Uint8Array(input + 1); let c = 0; for (let i = 2; i <= input; i++) { if (s[i] === 0) { c++; for (let j = i * i; j <= input; j += i) s[j] = 1 } } return c'
  },
  'Monte Carlo pi': {
    input: 20_000_000,
    body: 'let x = 123456789; const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 4294967296 }; let hit = 0; for (let i = 0; i < input; i++) { const a = rnd(), b = rnd(); if (a * a + b * b <= 1) hit++ } return 4 * hit / input'
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const source = (body: string): string => `var __idlegridJob = (() => ({ default: async function (input, ctx) { ${body} } }))()`

const pool = createSandboxPool({ slots: 1, idleTimeoutMs: 60_000 })
let seq = 0
const req = (body: string, input: unknown, bundleId: string): RunRequest => ({
  taskId: `bench-${++seq}`, attempt: 0, bundleId, source: source(body), input, limits: { memoryMb: 128, timeoutMs: 60_000 }
})

async function sandboxed (body: string, input: unknown, bundleId: string): Promise<{ wall: number, cpu: number, value: unknown }> {
  const ev = await pool.run(req(body, input, bundleId)).done()
  if (ev.type !== 'result') throw new Error(`bench task failed: ${ev.error.message}`)
  return { wall: ev.wallMs, cpu: ev.cpuMs, value: ev.value }
}

function host (body: string, input: unknown): { wall: number, cpu: number, value: unknown } {
  const fn = new Function('input', 'ctx', body) as (input: unknown, ctx: unknown) => unknown
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const value = fn(input, {})
  const wall = performance.now() - t0
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000, value }
}

// Runners run at priority 19; so does this process, so both get the same share
// of a busy machine and the wall-time ratio compares code, not scheduling.
try { setPriority(19) } catch {}

console.log(`sandbox benchmark (node ${process.version}, median of ${RUNS} runs, baseline in the same run); load average ${load()}`)
await sandboxed('return 1', null, 'warm')
if (!skipKernels) console.log('\nCPU-bound kernels: sandbox task wall time (runner-measured, incl. context setup) / new Function in the host')
for (const [name, k] of Object.entries(skipKernels ? {} : KERNELS)) {
  const s: number[] = []; const sc: number[] = []; const h: number[] = []; const hc: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const a = await sandboxed(k.body, k.input, name)
    const b = host(k.body, k.input)
    if (JSON.stringify(a.value) !== JSON.stringify(b.value)) throw new Error(`${name}: results differ`)
    s.push(a.wall); sc.push(a.cpu); h.push(b.wall); hc.push(b.cpu)
  }
  const ms = median(s); const mh = median(h)
  console.log(`  ${name.padEnd(22)} sandbox ${ms.toFixed(1).padStart(7)} ms  host ${mh.toFixed(1).padStart(7)} ms  wall ratio ${(ms / mh).toFixed(3)}  cpu ratio ${(median(sc) / median(hc)).toFixed(3)}`)
}

// Fixed cost of one trivial task through the whole pool (IPC both ways).
const TRIVIAL = 'return input + 1'
const N = 1400
for (let i = 0; i < 200; i++) await sandboxed(TRIVIAL, i, 'trivial')
const lat: number[] = []
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now()
  for (let i = 0; i < N / RUNS; i++) await pool.run(req(TRIVIAL, i, 'trivial')).done()
  lat.push((performance.now() - t0) * 1000 / (N / RUNS))
}
const thr: number[] = []
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now()
  await Promise.all(Array.from({ length: N / RUNS }, async (_, i) => await pool.run(req(TRIVIAL, i, 'trivial')).done()))
  thr.push((N / RUNS) / ((performance.now() - t0) / 1000))
}
const inRunner: number[] = []
for (let i = 0; i < 200; i++) inRunner.push((await sandboxed(TRIVIAL, i, 'trivial')).wall * 1000)
const plain = (() => { const f = new Function('input', TRIVIAL) as (x: number) => number; const t0 = performance.now(); let x = 0; for (let i = 0; i < 1e6; i++) x += f(i); return (performance.now() - t0) * 1000 / 1e6 + x * 0 })()
console.log('\nTrivial task, one runner:')
console.log(`  inside the runner (context + runtime + copy in/out)  ${median(inRunner).toFixed(0).padStart(6)} µs`)
console.log(`  end to end, one at a time (incl. IPC round trip)     ${median(lat).toFixed(0).padStart(6)} µs  → ${(1e6 / median(lat)).toFixed(0)} tasks/s`)
console.log(`  end to end, ${N / RUNS} queued at once                      ${''.padStart(6)}     → ${median(thr).toFixed(0)} tasks/s`)
console.log(`  plain Node call of the same function                 ${plain.toFixed(3).padStart(6)} µs`)
await pool.stop()

// Before/after: the same trivial tasks through this checkout's pool and another's, in turn.
if (baselinePath !== undefined) {
  const mod = await import(pathToFileURL(resolve(baselinePath)).href) as { createSandboxPool: (init: SandboxPoolInit) => SandboxPool }
  const pools: Record<string, SandboxPool> = { this: createSandboxPool({ slots: 1, idleTimeoutMs: 600_000 }), baseline: mod.createSandboxPool({ slots: 1, idleTimeoutMs: 600_000 }) }
  for (const p of Object.values(pools)) for (let i = 0; i < 200; i++) await p.run(req(TRIVIAL, i, 'trivial')).done()
  const serial: Record<string, number[]> = { this: [], baseline: [] }
  const queued: Record<string, number[]> = { this: [], baseline: [] }
  const M = 300
  for (let r = 0; r < RUNS; r++) {
    for (const [name, p] of Object.entries(pools)) {
      let t0 = performance.now()
      for (let i = 0; i < M; i++) await p.run(req(TRIVIAL, i, 'trivial')).done()
      serial[name].push(M / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      await Promise.all(Array.from({ length: M }, async (_, i) => await p.run(req(TRIVIAL, i, 'trivial')).done()))
      queued[name].push(M / ((performance.now() - t0) / 1000))
    }
  }
  for (const p of Object.values(pools)) await p.stop()
  console.log(`\nTrivial tasks, this checkout / baseline (${baselinePath}), one runner, taken in turn:`)
  console.log(`  one at a time  ${median(serial.this).toFixed(0).padStart(6)} vs ${median(serial.baseline).toFixed(0).padStart(6)} tasks/s  ratio ${(median(serial.this) / median(serial.baseline)).toFixed(2)}`)
  console.log(`  ${M} queued     ${median(queued.this).toFixed(0).padStart(6)} vs ${median(queued.baseline).toFixed(0).padStart(6)} tasks/s  ratio ${(median(queued.this) / median(queued.baseline)).toFixed(2)}`)
}

// Batches: 10,000 no-op records queued at once, as tasks of 1 (input), 10 or 100 (inputs) records.
const RECORDS = 10_000
const BATCH_RUNS = 3
const NOOP = 'return input'
console.log(`\nNo-op records, ${RECORDS} queued at once (median of ${BATCH_RUNS}; ratio to batch 1 on the same slots); load average ${load()}:`)
for (const slots of [1, 2]) {
  const bp = createSandboxPool({ slots, idleTimeoutMs: 600_000 })
  await Promise.all(Array.from({ length: slots * 20 }, async (_, i) => await bp.run(req(NOOP, i, 'noop')).done()))
  const rates: Record<number, number[]> = { 1: [], 10: [], 100: [] }
  for (let r = 0; r < BATCH_RUNS; r++) {
    for (const size of [1, 10, 100]) {
      const t0 = performance.now()
      let ok = 0
      await Promise.all(Array.from({ length: RECORDS / size }, async (_x, t) => {
        const base = req(NOOP, t, 'noop')
        if (size === 1) {
          if ((await bp.run(base).done()).type === 'result') ok++
          return
        }
        const { input: _, ...rest } = base
        const ev = await bp.run({ ...rest, inputs: Array.from({ length: size }, (_, i) => t * size + i) }).done()
        if (ev.type === 'result') ok += ev.value.filter(o => o.ok).length
      }))
      if (ok !== RECORDS) throw new Error(`batch ${size}: ${ok} of ${RECORDS} records ok`)
      rates[size].push(RECORDS / ((performance.now() - t0) / 1000))
    }
  }
  await bp.stop()
  const one = median(rates[1])
  for (const size of [1, 10, 100]) {
    const m = median(rates[size])
    console.log(`  ${slots} slot${slots > 1 ? 's' : ' '}, batch ${String(size).padStart(3)}  ${m.toFixed(0).padStart(7)} records/s  ratio ${(m / one).toFixed(1).padStart(5)}   (${rates[size].map(x => x.toFixed(0)).join(' ')})`)
  }
}
console.log(`  load average at the end ${load()}`)

// The parts, measured on isolated-vm directly (the runner's library).
// Loaded from the runner's dependencies: isolated-vm is no dependency of bench/.
interface Ivm {
  Isolate: new (o: { memoryLimit: number }) => { createContextSync: () => { release: () => void, evalSync: (code: string, o: { reference: true }) => { applySync: (r: undefined, a: unknown[], o: object) => unknown } }, dispose: () => void }
}
const ivm = createRequire(new URL('../sandbox/runner/package.json', import.meta.url))('isolated-vm') as Ivm
const part = (f: () => void, n = 200): number => { const xs: number[] = []; for (let i = 0; i < n; i++) { const t0 = performance.now(); f(); xs.push((performance.now() - t0) * 1000) } return median(xs) }
const iso = new ivm.Isolate({ memoryLimit: 64 })
const ctx = iso.createContextSync()
const fn = ctx.evalSync('(function (x) { return x })', { reference: true })
const input = { id: 1, name: 'x'.repeat(100), values: Array.from({ length: 50 }, (_, i) => i) }
console.log('\nParts (isolated-vm directly, 1 KB value):')
console.log(`  new isolate + context   ${part(() => { const i = new ivm.Isolate({ memoryLimit: 64 }); i.createContextSync(); i.dispose() }, 30).toFixed(0).padStart(6)} µs`)
console.log(`  new context             ${part(() => { iso.createContextSync().release() }).toFixed(0).padStart(6)} µs`)
console.log(`  copy in + out (sync)    ${part(() => { fn.applySync(undefined, [input], { arguments: { copy: true }, result: { copy: true } }) }).toFixed(0).padStart(6)} µs`)
iso.dispose()
