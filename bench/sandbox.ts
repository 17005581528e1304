// Benchmark of the sandbox: CPU-bound kernels run as a bundled job in the
// sandbox against the same kernel body as `new Function` in a plain Node child
// (ratios of interleaved pairs), the fixed cost of a trivial task (context,
// runtime, copy in and out, IPC) against a plain Node IPC round trip, and
// records/s of no-op records in batches of 1, 10 and 100 on one and two slots.
// Run: node --no-node-snapshot --import tsx bench/sandbox.ts [--skip-kernels]
//        [--pairs=N] [--nice=N]
//        [--baseline=<path of another checkout's sandbox/host/src/index.ts>]
// --nice (default 0): OS priority of the runners and of the plain Node child
// here. Daemons run runners at 19; the bench puts both sides at the same
// value, so that neither loses wall time to the priority of the other or to
// other programs of a busy machine more than the other does.
// With --baseline, trivial tasks run through both pools in turn, in the same
// run, and the ratio new / baseline is printed.
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { getPriority, setPriority, tmpdir } from 'node:os'

import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildBundle } from '@idlegrid/bundle'
import { createSandboxPool, type RunRequest, type SandboxPool, type SandboxPoolInit } from '@idlegrid/sandbox-host'
import ivm from '@idlegrid/sandbox-runner/isolated-vm'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { load, median, sorted } from './stats.js'

const RUNS = 7
const args = process.argv.slice(2)
const skipKernels = args.includes('--skip-kernels')
const baselinePath = args.find(a => a.startsWith('--baseline='))?.slice('--baseline='.length)
const PAIRS = Number(args.find(a => a.startsWith('--pairs='))?.slice('--pairs='.length) ?? 15)
const NICE = Number(args.find(a => a.startsWith('--nice='))?.slice('--nice='.length) ?? 0)

// Sized to run 0.4-0.6 s each on this machine, so the fixed cost of a task
// (~1-2 ms, measured below) stays under half a percent of the ratio.
const KERNELS: Record<string, { body: string, input: number }> = {
  'trial-division primes': {
    input: 3_000_000,
    body: 'let c = 0; for (let n = 2; n < input; n++) { let p = true; for (let d = 2; d * d <= n; d++) { if (n % d === 0) { p = false; break } } if (p) c++ } return c'
  },
  sieve: {
    input: 50_000_000,
    body: 'const s = new Uint8Array(input + 1); let c = 0; for (let i = 2; i <= input; i++) { if (s[i] === 0) { c++; for (let j = i * i; j <= input; j += i) s[j] = 1 } } return c'
  },
  'Monte Carlo pi': {
    input: 60_000_000,
    body: 'let x = 123456789; const rnd = () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) / 4294967296 }; let hit = 0; for (let i = 0; i < input; i++) { const a = rnd(), b = rnd(); if (a * a + b * b <= 1) hit++ } return 4 * hit / input'
  }
}

const quantile = (xs: number[], q: number): number => sorted(xs)[Math.round(q * (xs.length - 1))]
const spread = (xs: number[]): string => `${median(xs).toFixed(3)}  IQR ${quantile(xs, 0.25).toFixed(3)}–${quantile(xs, 0.75).toFixed(3)}  range ${quantile(xs, 0).toFixed(3)}–${quantile(xs, 1).toFixed(3)}`
const brief = (xs: number[]): string => `${median(xs).toFixed(3)} [${quantile(xs, 0.25).toFixed(3)}–${quantile(xs, 0.75).toFixed(3)}]`
// The sandbox runs a kernel as a real job: a synchronous kernel function
// called by the async default export, bundled by @idlegrid/bundle (esbuild
// iife). The headline baseline is what issue #3 names: the kernel body as
// `new Function('input', 'ctx', body)` in plain Node. The quick tasks below
// use a bare function literal: their cost is the task, not the code.
const literal = (body: string): string => `var __idlegridJob = { default: function (input, ctx) { ${body} } }`
const fnSource = (body: string): string => `var __idlegridJob = { default: new Function('input', 'ctx', ${JSON.stringify(body)}) }`
const jobDir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-sandbox-'))
const submitter = (await generateKeyPair('Ed25519')).publicKey.toString()
async function jobSource (body: string): Promise<string> {
  const file = join(jobDir, `kernel-${readdirSync(jobDir).length}.js`)
  await writeFile(file, `function kernel (input) { ${body} }\nexport default async (input, ctx) => kernel(input)\n`)
  return (await buildBundle(file, { submitter })).source
}

// CPU time of every thread of a process, ns (Linux schedstat): the isolate's
// thread, the runner's main thread, V8's compiler and GC helpers alike, the
// same way for both sides.
function processCpuNs (pid: number, onlyMainThread = false): number {
  let ns = 0
  for (const tid of onlyMainThread ? [String(pid)] : readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) } catch {}
  }
  return ns
}

const poolInit: SandboxPoolInit = { slots: 1, idleTimeoutMs: 600_000, runnerNice: NICE }
const pool = createSandboxPool(poolInit)
// The secondary row (`new Function` inside the sandbox) runs in a runner of
// its own: a runner holds one bundle's isolate, and switching would make an
// isolate per task.
const fnPool = createSandboxPool(poolInit)
let seq = 0
// Tasks of one job name the job as their contextKey, as a volunteer's
// worker does: they share a context, code warm. `fresh` leaves it out: a
// new context per task, as for a deterministic job.
const req = (source: string, input: unknown, bundleId: string, memoryMb = 128, fresh = false): RunRequest => ({
  taskId: `bench-${++seq}`, attempt: 0, bundleId, source, input, limits: { memoryMb, timeoutMs: 120_000 }, contextKey: fresh ? undefined : `job-${bundleId}`
})

async function sandboxed (source: string, input: unknown, bundleId: string, memoryMb = 128, p: SandboxPool = pool, fresh = false): Promise<{ wall: number, inner: number, value: unknown }> {
  const t0 = performance.now()
  const ev = await p.run(req(source, input, bundleId, memoryMb, fresh)).done()
  const wall = performance.now() - t0
  if (ev.type !== 'result') throw new Error(`bench task failed: ${ev.error.message}`)
  return { wall, inner: ev.wallMs, value: ev.value }
}

// The baseline: a plain Node process forked like a runner (same flags, same
// empty environment, same priority) that makes the function per call,
// `new Function(body)` or the job bundle's default export, and calls it.
const PLAIN_CHILD = `const vm = require('node:vm')
process.on('message', async m => {
  const fn = m.source === undefined ? new Function('input', 'ctx', m.body) : vm.runInThisContext(m.source + ';__idlegridJob.default')
  const t0 = performance.now()
  const value = await fn(m.input, {})
  process.send({ value, inner: performance.now() - t0 })
})
process.on('disconnect', () => process.exit(0))
process.send({ ready: true })`
const plainChild: ChildProcess = spawn(process.execPath, ['--no-node-snapshot', '--max-old-space-size=192', '-e', PLAIN_CHILD], {
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', env: { TZ: 'UTC', LANG: 'C' }
})
// Lowering nice needs privileges; the line below prints what each side got.
try { setPriority(plainChild.pid as number, NICE) } catch {}
await new Promise(resolve => plainChild.once('message', resolve))
// Without a source the child calls new Function(body); with one, the bundle's default export.
async function plain (body: string, input: unknown, source?: string): Promise<{ wall: number, inner: number, value: unknown }> {
  const t0 = performance.now()
  const reply = new Promise<{ value: unknown, inner: number }>(resolve => plainChild.once('message', resolve))
  plainChild.send({ body, source, input })
  const r = await reply
  return { wall: performance.now() - t0, inner: r.inner, value: r.value }
}

// One measured call and the CPU its process used, read a little after the
// reply so work the process does right after answering (the runner makes
// the next task's context then) is counted on its side.
const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 30)) }
async function measured (pid: () => number, call: () => Promise<{ wall: number, inner: number, value: unknown }>): Promise<{ wall: number, inner: number, cpu: number, mainCpu: number, value: unknown }> {
  const c0 = processCpuNs(pid())
  const m0 = processCpuNs(pid(), true)
  const r = await call()
  await settle()
  return { ...r, cpu: (processCpuNs(pid()) - c0) / 1e6, mainCpu: (processCpuNs(pid(), true) - m0) / 1e6 }
}

await sandboxed(literal('return 1'), null, 'warm')
const runnerPid = (): number => pool.pids()[0]
console.log(`sandbox benchmark (node ${process.version}); load average ${load()}`)
console.log(`priorities (nice): bench ${getPriority()}, runner ${getPriority(runnerPid())}, plain Node child ${getPriority(plainChild.pid)} (daemons run runners at 19; --nice=N)`)
if (!skipKernels) {
  console.log(`\nCPU-bound kernels, ${PAIRS} rounds of J F J' F' J0 (reversed every other round), median of the per-pair ratios, IQR, range`)
  console.log('  J: the kernel as a job in the sandbox (function kernel (input) { body }, export default async (input, ctx) => kernel(input), bundled by @idlegrid/bundle), its tasks sharing a context as the tasks of one job do; J0: the same with a fresh context per task')
  console.log('  F: new Function(\'input\', \'ctx\', body) in a plain Node child (same flags, environment and priority as a runner); J\': the same bundle in that child; F\': new Function(body) made inside the sandbox')
  console.log('  wall: from the call to the answer as the caller sees it (IPC, context, copies included); CPU: all threads of each process (the runner\'s watchdog poll included)')
}
for (const [name, k] of Object.entries(skipKernels ? {} : KERNELS)) {
  const memoryMb = 256
  const job = await jobSource(k.body)
  const fn = fnSource(k.body)
  // Unmeasured first run of each: the isolate and the bundle's script are made once per runner.
  await sandboxed(job, k.input, `${name}-job`, memoryMb); await plain(k.body, k.input); await plain(k.body, k.input, job)
  await sandboxed(fn, k.input, `${name}-fn`, memoryMb, fnPool)
  type Run = Awaited<ReturnType<typeof measured>>
  const runs: Record<'job' | 'host' | 'hostJob' | 'fn' | 'fresh', Run[]> = { job: [], host: [], hostJob: [], fn: [], fresh: [] }
  const load0 = load()
  for (let i = 0; i < PAIRS; i++) {
    const steps: Array<[keyof typeof runs, () => Promise<Run>]> = [
      ['job', async () => await measured(runnerPid, async () => await sandboxed(job, k.input, `${name}-job`, memoryMb))],
      ['host', async () => await measured(() => plainChild.pid as number, async () => await plain(k.body, k.input))],
      ['hostJob', async () => await measured(() => plainChild.pid as number, async () => await plain(k.body, k.input, job))],
      ['fn', async () => await measured(() => fnPool.pids()[0], async () => await sandboxed(fn, k.input, `${name}-fn`, memoryMb, fnPool))],
      ['fresh', async () => await measured(runnerPid, async () => await sandboxed(job, k.input, `${name}-job`, memoryMb, pool, true))]
    ]
    for (const [key, step] of i % 2 === 0 ? steps : steps.reverse()) runs[key].push(await step())
    const values = Object.values(runs).map(r => JSON.stringify(r[i].value))
    if (new Set(values).size !== 1) throw new Error(`${name}: results differ: ${values.join(' ')}`)
  }
  const ratio = (a: keyof typeof runs, b: keyof typeof runs, f: (r: Run) => number): number[] => runs[a].map((r, i) => f(r) / f(runs[b][i]))
  const ms = (key: keyof typeof runs, f: (r: Run) => number): string => median(runs[key].map(f)).toFixed(0)
  const wall = (r: Run): number => r.wall
  const cpu = (r: Run): number => r.cpu
  console.log(`  ${name}: J ${ms('job', wall)} ms (CPU ${ms('job', cpu)}), F ${ms('host', wall)} ms (CPU ${ms('host', cpu)}); load ${load0} → ${load()}`)
  console.log(`    J ÷ F, the job in the sandbox ÷ new Function in the host  wall ${spread(ratio('job', 'host', wall))}`)
  console.log(`                                                            CPU  ${spread(ratio('job', 'host', cpu))}`)
  console.log(`    secondary: J' ÷ F, the same job in plain Node (the code form, no sandbox): wall ${brief(ratio('hostJob', 'host', wall))}, CPU ${brief(ratio('hostJob', 'host', cpu))}`)
  console.log(`    secondary: F' ÷ F, new Function in the sandbox: wall ${brief(ratio('fn', 'host', wall))}, CPU ${brief(ratio('fn', 'host', cpu))}`)
  console.log(`    secondary: J0 ÷ F, the job in a fresh context per task (deterministic jobs, no contextKey): wall ${brief(ratio('fresh', 'host', wall))}, CPU ${brief(ratio('fresh', 'host', cpu))}`)
  // The kernel runs on isolated-vm's thread; the runner's main thread sets the task up and polls its clocks and memory every 25 ms.
  console.log(`    runner main thread (setup, watchdog poll, next context): ${ms('job', r => r.mainCpu)} ms of the task's ${ms('job', cpu)} ms CPU`)
}
await rm(jobDir, { recursive: true, force: true })
await fnPool.stop()

// Fixed cost of one trivial task through the whole pool (IPC both ways),
// next to the same call through the plain Node child's IPC round trip.
const TRIVIAL = 'return input + 1'
const N = 1400
for (let i = 0; i < 200; i++) await sandboxed(literal(TRIVIAL), i, 'trivial')
const lat: number[] = []
const plainLat: number[] = []
const runnerCpu: number[] = []
const hostCpu: number[] = []
const latFresh: number[] = []
const runnerCpuFresh: number[] = []
for (let r = 0; r < RUNS; r++) {
  for (const fresh of [false, true]) {
    const c0 = processCpuNs(runnerPid())
    const h0 = process.cpuUsage()
    const t0 = performance.now()
    for (let i = 0; i < N / RUNS; i++) await pool.run(req(literal(TRIVIAL), i, 'trivial', 128, fresh)).done()
    ;(fresh ? latFresh : lat).push((performance.now() - t0) * 1000 / (N / RUNS))
    await settle()
    const h = process.cpuUsage(h0)
    ;(fresh ? runnerCpuFresh : runnerCpu).push((processCpuNs(runnerPid()) - c0) / 1000 / (N / RUNS))
    if (!fresh) hostCpu.push((h.user + h.system) / (N / RUNS))
  }
  const t0 = performance.now()
  for (let i = 0; i < N / RUNS; i++) await plain(TRIVIAL, i)
  plainLat.push((performance.now() - t0) * 1000 / (N / RUNS))
}
const thr: number[] = []
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now()
  await Promise.all(Array.from({ length: N / RUNS }, async (_, i) => await pool.run(req(literal(TRIVIAL), i, 'trivial')).done()))
  thr.push((N / RUNS) / ((performance.now() - t0) / 1000))
}
const inRunner: number[] = []
for (let i = 0; i < 200; i++) inRunner.push((await sandboxed(literal(TRIVIAL), i, 'trivial')).inner * 1000)
const direct = (() => { const f = new Function('input', TRIVIAL) as (x: number) => number; const t0 = performance.now(); let x = 0; for (let i = 0; i < 1e6; i++) x += f(i); return (performance.now() - t0) * 1000 / 1e6 + x * 0 })()
console.log(`\nTrivial task (${TRIVIAL}), one runner, median of ${RUNS} runs of ${N / RUNS}; load average ${load()}:`)
console.log(`  end to end, one at a time (incl. IPC round trip)     ${median(lat).toFixed(0).padStart(6)} µs  → ${(1e6 / median(lat)).toFixed(0)} tasks/s (tasks of one job: one context)`)
console.log(`  same, a fresh context per task (deterministic jobs)  ${median(latFresh).toFixed(0).padStart(6)} µs  → ${(1e6 / median(latFresh)).toFixed(0)} tasks/s; runner CPU ${median(runnerCpuFresh).toFixed(0)} µs per task`)
console.log(`  plain Node child, same call, IPC round trip          ${median(plainLat).toFixed(0).padStart(6)} µs  → sandbox fixed cost ${(median(lat) - median(plainLat)).toFixed(0)} µs over plain IPC`)
console.log(`  runner CPU per task, all threads (incl. the context made between tasks)  ${median(runnerCpu).toFixed(0)} µs; host (pool) CPU per task ${median(hostCpu).toFixed(0)} µs`)
console.log(`  inside the runner (runtime + copy in/out, context made before)  ${median(inRunner).toFixed(0).padStart(6)} µs`)
console.log(`  end to end, ${N / RUNS} queued at once                      ${''.padStart(6)}     → ${median(thr).toFixed(0)} tasks/s`)
console.log(`  plain call of the same function in this process      ${direct.toFixed(3).padStart(6)} µs`)
await pool.stop()
plainChild.disconnect()

// Before/after: the same trivial tasks through this checkout's pool and another's, in turn.
if (baselinePath !== undefined) {
  const mod = await import(pathToFileURL(resolve(baselinePath)).href) as { createSandboxPool: (init: SandboxPoolInit) => SandboxPool }
  const pools: Record<string, SandboxPool> = { this: createSandboxPool(poolInit), baseline: mod.createSandboxPool(poolInit) }
  for (const p of Object.values(pools)) for (let i = 0; i < 200; i++) await p.run(req(literal(TRIVIAL), i, 'trivial')).done()
  // An older checkout may not know runnerNice: set its runners' priority here.
  for (const p of Object.values(pools)) for (const pid of p.pids()) { try { setPriority(pid, NICE) } catch {} }
  const serial: Record<string, number[]> = { this: [], baseline: [] }
  const queued: Record<string, number[]> = { this: [], baseline: [] }
  const M = 300
  for (let r = 0; r < RUNS; r++) {
    for (const [name, p] of Object.entries(pools)) {
      let t0 = performance.now()
      for (let i = 0; i < M; i++) await p.run(req(literal(TRIVIAL), i, 'trivial')).done()
      serial[name].push(M / ((performance.now() - t0) / 1000))
      t0 = performance.now()
      await Promise.all(Array.from({ length: M }, async (_, i) => await p.run(req(literal(TRIVIAL), i, 'trivial')).done()))
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
  const bp = createSandboxPool({ ...poolInit, slots })
  await Promise.all(Array.from({ length: slots * 20 }, async (_, i) => await bp.run(req(literal(NOOP), i, 'noop')).done()))
  const rates: Record<number, number[]> = { 1: [], 10: [], 100: [] }
  for (let r = 0; r < BATCH_RUNS; r++) {
    for (const size of [1, 10, 100]) {
      const t0 = performance.now()
      let ok = 0
      await Promise.all(Array.from({ length: RECORDS / size }, async (_x, t) => {
        const base = req(literal(NOOP), t, 'noop')
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
