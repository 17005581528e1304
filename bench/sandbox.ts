// Benchmark of the sandbox: CPU-bound kernels in the sandbox against the same
// code as `new Function` in this process (ratio, median of runs), and the
// fixed cost of a trivial task (context setup, copy in, copy out, IPC).
// Run: node --no-node-snapshot --import tsx bench/sandbox.ts
import { createRequire } from 'node:module'
import { setPriority } from 'node:os'
import { createSandboxPool, type RunRequest } from '../sandbox/host/src/index.js'

const RUNS = 7

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

console.log(`sandbox benchmark (node ${process.version}, median of ${RUNS} runs, baseline in the same run)`)
console.log('\nCPU-bound kernels: sandbox task wall time (runner-measured, incl. context setup) / new Function in the host')
await sandboxed('return 1', null, 'warm')
for (const [name, k] of Object.entries(KERNELS)) {
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
