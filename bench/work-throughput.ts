// Benchmark of the per-task hot path of the work protocols: one submitter and
// two volunteers (one slot each) in this process, as in the jobs-* integration
// suites, run a job of no-op single-record tasks; prints tasks/s (median of
// runs) and, with --baseline, the same job through another checkout's jobs and
// worker packages in the same run, alternating, as a ratio. Asserts nothing.
//
//   node --no-node-snapshot --import tsx bench/work-throughput.ts [--tasks N] [--runs N]
//        [--baseline=<root of another checkout>]
import '@idlegrid/interface/polyfill'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, setPriority, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { buildBundle, signBundle } from '@idlegrid/bundle'
import { createSandboxPool } from '@idlegrid/sandbox-host'
import { startNode } from '@idlegrid/test-utils'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { createSubmitter as CreateSubmitter } from '@idlegrid/jobs'
import type { createWorker as CreateWorker } from '@idlegrid/worker'

const { values } = parseArgs({ options: { tasks: { type: 'string' }, runs: { type: 'string' }, baseline: { type: 'string' } }, strict: true })
const TASKS = Number(values.tasks ?? 2000)
const RUNS = Number(values.runs ?? 3)
if (!(Number.isInteger(TASKS) && TASKS > 0 && Number.isInteger(RUNS) && RUNS > 0)) {
  console.error('usage: bench/work-throughput.ts [--tasks N] [--runs N] [--baseline=<checkout root>]')
  process.exit(2)
}

interface Variant { name: string, createSubmitter: typeof CreateSubmitter, createWorker: typeof CreateWorker }

async function variant (name: string, root: string): Promise<Variant> {
  const jobs = await import(pathToFileURL(join(root, 'packages/jobs/src/index.ts')).href)
  const worker = await import(pathToFileURL(join(root, 'packages/worker/src/index.ts')).href)
  return { name, createSubmitter: jobs.createSubmitter, createWorker: worker.createWorker }
}

const load = (): string => loadavg().map(x => x.toFixed(1)).join(' ')
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function once (v: Variant, jobFile: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-work-'))
  const stops: Array<() => Promise<unknown>> = []
  try {
    const key = await generateKeyPair('Ed25519')
    const node = await startNode({ privateKey: key, bootstrap: [], limits: { maxCores: 1 } })
    stops.push(async () => await node.stop())
    const submitter = await v.createSubmitter({ node, dbPath: join(dir, 'jobs.db'), announceIntervalMs: 300 })
    stops.unshift(async () => await submitter.stop())
    for (let i = 0; i < 2; i++) {
      const vn = await startNode({ bootstrap: [node.addresses()[0]], limits: { maxCores: 1 } })
      const pool = createSandboxPool({ slots: 1, runnerHeapMb: 96 })
      const worker = await v.createWorker({ node: vn, sandbox: pool, dbPath: join(dir, `outbox-${i}.db`), bundleCacheDir: join(dir, `bundles-${i}`) })
      stops.unshift(async () => { await worker.stop(); await vn.stop(); await pool.stop() })
    }
    const bundle = await signBundle(await buildBundle(jobFile, { submitter: node.peerId, requirements: { memoryMb: 64, timeoutMs: 20_000 } }), key)
    // warm the runners and bundle caches so the run measures the steady state
    const warm = await submitter.submit({ signedBundle: bundle, inputs: Array.from({ length: 20 }, (_, n) => n) })
    await submitter.done(warm, { signal: AbortSignal.timeout(120_000) })
    const started = performance.now()
    const jobId = await submitter.submit({ signedBundle: bundle, inputs: Array.from({ length: TASKS }, (_, n) => n) })
    const info = await submitter.done(jobId, { signal: AbortSignal.timeout(600_000) })
    const seconds = (performance.now() - started) / 1000
    if (info.records.ok !== TASKS) {
      throw new Error(`${v.name}: ${info.records.ok} of ${TASKS} records ok`)
    }
    return TASKS / seconds
  } finally {
    for (const stop of stops) {
      await stop().catch(() => {})
    }
    await rm(dir, { recursive: true, force: true })
  }
}

// runners run at nice 19: the host joins them there, so the box's other load weighs the same on both
try { setPriority(19) } catch {}
const jobDir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-job-'))
const jobFile = join(jobDir, 'noop.js')
await writeFile(jobFile, 'export default async function (input) { return input }\n')
const variants = [await variant('this checkout', resolve('.'))]
if (values.baseline != null) {
  variants.unshift(await variant(`baseline ${values.baseline}`, resolve(values.baseline)))
}
console.log(`${TASKS} no-op single-record tasks, 1 submitter + 2 volunteers (1 slot each) in one process; load ${load()}`)
const rates = new Map<string, number[]>(variants.map(v => [v.name, []]))
const ratios: number[] = []
for (let run = 0; run < RUNS; run++) {
  const line: string[] = []
  const here: number[] = []
  for (const v of variants) {
    const r = await once(v, jobFile)
    rates.get(v.name)?.push(r)
    here.push(r)
    line.push(`${v.name}: ${r.toFixed(0)} tasks/s`)
  }
  if (here.length === 2) {
    ratios.push(here[1] / here[0])
    line.push(`ratio ${(here[1] / here[0]).toFixed(2)}`)
  }
  console.log(`run ${run + 1}: ${line.join(', ')} (load ${load()})`)
}
for (const v of variants) {
  console.log(`median ${v.name}: ${median(rates.get(v.name) ?? []).toFixed(0)} tasks/s`)
}
if (ratios.length > 0) {
  console.log(`median ratio new / baseline (same run): ${median(ratios).toFixed(2)} (${ratios.map(r => r.toFixed(2)).join(', ')})`)
}
await rm(jobDir, { recursive: true, force: true })
