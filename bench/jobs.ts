// Benchmark of jobs end to end on a local swarm (one submitter and two
// volunteer `idlegrid daemon` processes on 127.0.0.1, one slot each): no-op
// throughput in batches of 1/10/100 through the client API, the round trip of
// one trivial task on a warm swarm, and the makespan of CPU-bound Monte Carlo
// tasks against the same kernel run serially in one plain Node process; the
// round trip next to the same hops through plain Node processes (hop-chain.mjs)
// and through the stack the project must use (hop-chain-stack.ts).
// Prints figures and the machine's load average; asserts nothing.
//
//   node --no-node-snapshot --import tsx bench/jobs.ts [--quick] [--runs N] [--only noop,trip,mc]
import '@idlegrid/interface/polyfill'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { buildBundle } from '@idlegrid/bundle'
import { createControlClient } from '@idlegrid/control-api'
import { childEnv, spawnDaemon, tempDataDir, waitFor, waitForControl } from '@idlegrid/test-e2e'
import type { ControlClient, UnsignedBundle } from '@idlegrid/control-api'
import type { DaemonProcess } from '@idlegrid/test-e2e'
import { CLK_TCK, childrenOf, cpuTicks } from './proc.mjs'
import { flushTrace, tripSegments } from './trip-trace.mjs'
import type { ChildProcess } from 'node:child_process'

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, runs: { type: 'string' }, only: { type: 'string', default: 'noop,trip,mc' } }, strict: true })
const QUICK = values.quick
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3))
const ONLY = new Set(values.only.split(','))
if (!(Number.isInteger(RUNS) && RUNS > 0) || ![...ONLY].every(s => ['noop', 'trip', 'mc'].includes(s))) {
  console.error('usage: bench/jobs.ts [--quick] [--runs N] [--only noop,trip,mc]')
  process.exit(2)
}
const NOOP_TASKS = QUICK ? 2_000 : 10_000
const ROUND_TRIPS = QUICK ? 40 : 200
const MC_TASKS = QUICK ? 16 : 64
/** Monte Carlo samples per task: ~0.15 s (full) of one quiet core here; the swarm's per-task overhead is small next to it. */
const MC_SAMPLES = QUICK ? 4_000_000 : 15_000_000
/** Where the daemons and this process note the round trip's socket events (bench/trip-trace.mjs); unset: no notes. */
const TRACE_DIR = process.env.TRIP_TRACE_DIR
/** No run of a job may take longer than this; a stuck swarm fails the bench instead of hanging it. */
const JOB_TIMEOUT_MS = 3_600_000

const load = (): string => loadavg().map(x => x.toFixed(2)).join(' ')
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const quantile = (xs: number[], q: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] }
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

// The job code, as plain ES modules: volunteers get it bundled, the serial
// baseline imports the very same file.
const NOOP_JOB = 'export default async function (input) { return input }\n'
const MC_JOB = `// Monte Carlo estimate of pi with a seeded xorshift generator.
export default async function (input) {
  let x = (input.seed * 2654435761) >>> 0 || 1
  let hit = 0
  for (let i = 0; i < input.samples; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    const a = (x >>> 0) / 4294967296
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    const b = (x >>> 0) / 4294967296
    if (a * a + b * b <= 1) hit++
  }
  return { seed: input.seed, pi: 4 * hit / input.samples }
}
`

const daemons: DaemonProcess[] = []
const children = new Set<ChildProcess>()
let work: string | undefined
let cleaning: Promise<void> | undefined

/** Stops every process this bench started and removes its files; safe to call twice. */
async function cleanup (): Promise<void> {
  cleaning ??= (async () => {
    for (const c of children) c.kill('SIGKILL')
    await Promise.all(daemons.map(async d => {
      await d.stop('SIGTERM', 5_000).catch(() => {})
      await rm(d.dataDir, { recursive: true, force: true }).catch(() => {})
    }))
    if (work != null) await rm(work, { recursive: true, force: true }).catch(() => {})
  })()
  await cleaning
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the daemons`)
    void cleanup().finally(() => process.exit(130))
  })
}

async function startDaemon (name: string, args: string[], logDir: string): Promise<{ daemon: DaemonProcess, client: ControlClient }> {
  const dir = await tempDataDir(`bench-jobs-${name}`)
  // Default re-advertising: the volunteers bootstrap to the submitter, and a
  // job is announced to connected peers, so a short interval would only add DHT load.
  // PROFILE_DIR=<dir>: each daemon writes a CPU profile there when it stops (for finding where the time goes)
  const profile = process.env.PROFILE_DIR
  // Each daemon logs to a file, as under a service manager: read from a
  // pipe, every line a daemon logs (a few per job) would wake this process,
  // the client being timed, in the middle of the round trip.
  const logFile = join(logDir, `${name}.log`)
  // TRIP_TRACE_DIR=<dir>: each daemon notes its sockets' reads and writes there (bench/trip-trace.mjs), and the round trip prints its segments
  const trace = TRACE_DIR == null ? [] : ['--import', fileURLToPath(new URL('./trip-trace.mjs', import.meta.url))]
  const nodeArgs = [...trace, ...(profile == null ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`])]
  const daemon = spawnDaemon(dir, ['--max-cores', '1', ...args], { logFile, nodeArgs, ...(TRACE_DIR == null ? {} : { env: { TRIP_TRACE_DIR: TRACE_DIR } }) })
  daemons.push(daemon)
  await waitForControl(daemon)
  return { daemon, client: createControlClient({ dataDir: dir }) }
}

/** Submits and counts results as the client receives them; ms from submit to the last one. */
async function runJob (client: ControlClient, bundle: UnsignedBundle, inputs: unknown[], batch: number): Promise<{ totalMs: number, submitMs: number, values: unknown[], jobId: string }> {
  const signal = AbortSignal.timeout(JOB_TIMEOUT_MS)
  signal.addEventListener('abort', () => { console.error(`a job of ${inputs.length} records did not end within ${JOB_TIMEOUT_MS / 60_000} min: giving up`) }, { once: true })
  const t0 = performance.now()
  const job = await client.submit(bundle, inputs, { batch, signal })
  const submitMs = performance.now() - t0
  const values: unknown[] = new Array(inputs.length)
  let n = 0
  for await (const r of job.completed({ signal })) {
    if (!('value' in r)) throw new Error(`record ${r.index} of job ${job.id} failed: ${r.error.name}: ${r.error.message}`)
    values[r.index] = r.value
    if (++n === inputs.length) break
  }
  const totalMs = performance.now() - t0
  if (n !== inputs.length) throw new Error(`job ${job.id}: ${n} of ${inputs.length} results arrived`)
  return { totalMs, submitMs, values, jobId: job.id }
}

/**
 * The script of a serial baseline: the kernel over `inputs` one after
 * another in one plain Node process at the runners' priority. With `pauseAt`
 * it prints `{"half":ms}` after that many inputs and waits for a line on
 * stdin before the rest (its clock stopped meanwhile).
 */
function serialScript (jobFile: string, inputs: unknown[], pauseAt = inputs.length): string {
  return `
    import { setPriority } from 'node:os'
    try { setPriority(19) } catch {}
    const { default: f } = await import(${JSON.stringify(pathToFileURL(jobFile).href)})
    const inputs = ${JSON.stringify(inputs)}
    const values = []
    let t0 = performance.now()
    let c0 = process.cpuUsage()
    for (const input of inputs.slice(0, ${pauseAt})) values.push(await f(input))
    let ms = performance.now() - t0
    let cpu = process.cpuUsage(c0)
    if (${pauseAt} < inputs.length) {
      process.stdout.write(JSON.stringify({ half: ms }) + '\\n')
      await new Promise(resolve => process.stdin.once('data', resolve))
      process.stdin.destroy()
      t0 = performance.now()
      c0 = process.cpuUsage()
      for (const input of inputs.slice(${pauseAt})) values.push(await f(input))
      ms += performance.now() - t0
      const more = process.cpuUsage(c0)
      cpu = { user: cpu.user + more.user, system: cpu.system + more.system }
    }
    process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, values }) + '\\n')`
}

/** Runs the kernel over `inputs` one after another in a fresh plain Node process at the runners' priority. */
async function serialBaseline (jobFile: string, inputs: unknown[]): Promise<{ ms: number, cpuMs: number, values: unknown[] }> {
  return await nodeJson<{ ms: number, cpuMs: number, values: unknown[] }>(['--input-type=module', '-e', serialScript(jobFile, inputs)], 'the serial baseline')
}

/**
 * serialBaseline() in one process whose first half runs before `between`
 * and second half after it, so that a machine whose speed drifts during
 * the run (this one does, by several per cent a minute) weighs on both
 * alike: the serial run's middle is the swarm's.
 */
async function serialAround<T> (jobFile: string, inputs: unknown[], between: () => Promise<T>): Promise<{ serial: { ms: number, cpuMs: number, values: unknown[] }, between: T }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', serialScript(jobFile, inputs, Math.floor(inputs.length / 2))], { env: childEnv(), stdio: ['pipe', 'pipe', 'inherit'] })
  children.add(child)
  try {
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const closed = new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve) })
    const nextLine = async (): Promise<string> => {
      const line = await lines.next()
      if (line.done === true) throw new Error(`the serial baseline exited ${String(await closed)} before its results`)
      return line.value
    }
    JSON.parse(await nextLine()) // its first half is done
    const result = await between()
    child.stdin.end('go\n')
    const serial = JSON.parse(await nextLine()) as { ms: number, cpuMs: number, values: unknown[] }
    if (await closed !== 0) throw new Error('the serial baseline failed')
    return { serial, between: result }
  } finally {
    child.kill('SIGKILL')
    children.delete(child)
  }
}

/** What a hop chain prints: trip times, and each of its processes' CPU per trip where /proc tells it. */
interface ChainFigures { medianMs: number, p95Ms: number, minMs: number, cpuMsPerTrip?: { client: number, server: number, volunteer: number, runner: number } }

/** The same hops as a round trip through plain Node processes (bench/hop-chain.mjs): the machine's floor for it. */
async function hopChain (trips: number): Promise<ChainFigures> {
  return await nodeJson<ChainFigures>([fileURLToPath(new URL('./hop-chain.mjs', import.meta.url)), String(trips)], 'bench/hop-chain.mjs')
}

/** The same hops through the stack the project must use, with none of IdleGrid's own work (bench/hop-chain-stack.ts). */
async function stackChain (trips: number): Promise<ChainFigures> {
  const file = (name: string): string => fileURLToPath(new URL(name, import.meta.url))
  return await nodeJson<ChainFigures>(['--no-node-snapshot', '--import', 'tsx', file('./hop-chain.mjs'), String(trips), file('./hop-chain-stack.ts')], 'bench/hop-chain-stack.ts')
}

/** The round trip's segments from the notes of bench/trip-trace.mjs: median and mean of each, in order. */
async function printSegments (init: Parameters<typeof tripSegments>[0]): Promise<void> {
  flushTrace()
  // the daemons write their notes every 500 ms
  await new Promise(resolve => setTimeout(resolve, 700))
  const trips = tripSegments(init)
  if (trips.length === 0) {
    console.log('   segments: no traced trip could be followed through the notes')
    return
  }
  console.log(`   segments of ${trips.length} traced trips (bench/trip-trace.mjs; ms, median / mean; the means add up to the trip's):`)
  for (const name of Object.keys(trips[0])) {
    const xs = trips.map(t => t[name])
    console.log(`     ${name.padEnd(62)} ${fmt(median(xs), 2).padStart(6)} / ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length, 2)}`)
  }
}

/** Runs a Node process (stopped with the bench on Ctrl-C) and parses the JSON it prints. */
async function nodeJson<T> (args: string[], what: string): Promise<T> {
  const child = spawn(process.execPath, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
  const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve) })
  children.delete(child)
  if (code !== 0) throw new Error(`${what} exited ${String(code)}`)
  return JSON.parse(out) as T
}

/** CPU seconds used so far by the submitter, the volunteer daemons and the volunteers' sandbox runners (their children). */
async function cpuOf (pids: { submitter: number, volunteers: number[] }): Promise<Record<string, number>> {
  const seconds = async (pid: number): Promise<number> => await cpuTicks(pid).then(t => t / CLK_TCK, () => 0)
  let volunteers = 0
  let runners = 0
  for (const v of pids.volunteers) {
    volunteers += await seconds(v)
    for (const c of await childrenOf(v)) runners += await seconds(c)
  }
  return { submitter: await seconds(pids.submitter), volunteers, runners }
}

/** A swarm this quiet is settled: at most this much CPU (all daemons and runners) in SETTLE_WINDOW_MS. */
const SETTLE_CPU_MS = 20
const SETTLE_WINDOW_MS = 500
/** Longest wait for a swarm to settle; a swarm still busy then is measured as it is. */
const SETTLE_MAX_MS = 5_000

/**
 * Waits until the daemons and their runners are quiet, so that a measurement
 * neither starts inside the tail of the one before (credit rounds, receipts
 * and log lines of the jobs just ended) nor hands its own tail to the
 * baseline that runs next. Returns the ms waited.
 */
async function settle (pids: { submitter: number, volunteers: number[] }): Promise<number> {
  const t0 = performance.now()
  const total = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0)
  let last = total(await cpuOf(pids))
  while (performance.now() - t0 < SETTLE_MAX_MS) {
    await new Promise(resolve => setTimeout(resolve, SETTLE_WINDOW_MS))
    const now = total(await cpuOf(pids))
    if ((now - last) * 1000 <= SETTLE_CPU_MS) break
    last = now
  }
  return performance.now() - t0
}

/** CPU seconds each group used since `before` (an earlier cpuOf reading). */
async function cpuSince (pids: { submitter: number, volunteers: number[] }, before: Record<string, number>): Promise<Record<string, number>> {
  const after = await cpuOf(pids)
  return Object.fromEntries(Object.keys(after).map(k => [k, after[k] - (before[k] ?? 0)]))
}

try {
  const loadStart = load()
  console.log(`jobs benchmark (Node ${process.version}${QUICK ? ', --quick' : ''}, median of ${RUNS} run${RUNS > 1 ? 's' : ''}); load average at start ${loadStart}`)
  if (TRACE_DIR != null) await mkdir(TRACE_DIR, { recursive: true })
  const workDir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-jobs-'))
  work = workDir
  const noopFile = join(work, 'noop.mjs')
  const mcFile = join(work, 'monte-carlo.mjs')
  await writeFile(noopFile, NOOP_JOB)
  await writeFile(mcFile, MC_JOB)

  const t0 = performance.now()
  const sub = await startDaemon('submitter', [], workDir)
  const address = /listening on (\S+)/.exec(sub.daemon.output())?.[1]
  if (address == null) throw new Error(`the submitter printed no address:\n${sub.daemon.output()}`)
  const volunteers = await Promise.all(['v1', 'v2'].map(async name => await startDaemon(name, ['--bootstrap', address], workDir)))
  const volunteerIds = await Promise.all(volunteers.map(async v => (await v.client.id()).peerId))
  const client = sub.client
  await waitFor(async () => {
    const peers = await client.peers()
    return volunteerIds.every(v => peers.some(p => p.peerId === v)) ? true : undefined
  }, 'both volunteers to connect to the submitter', 60_000)
  console.log(`swarm: submitter + 2 volunteer daemons (1 slot each) up in ${fmt((performance.now() - t0) / 1000, 1)} s`)

  const { peerId } = await client.id()
  const noop = await buildBundle(noopFile, { submitter: peerId, name: 'noop', requirements: { memoryMb: 64, timeoutMs: 10_000 } }) as UnsignedBundle
  const mc = await buildBundle(mcFile, { submitter: peerId, name: 'monte-carlo', requirements: { memoryMb: 64, timeoutMs: 60_000 } }) as UnsignedBundle

  // Warm: bundles cached on both volunteers, runners forked, sessions open.
  await runJob(client, noop, Array.from({ length: 200 }, (_, i) => i), 1)
  await runJob(client, mc, [{ seed: 1, samples: 1000 }, { seed: 2, samples: 1000 }], 1)

  // --- 1. no-op throughput ---------------------------------------------------
  const pids = { submitter: sub.daemon.child.pid ?? 0, volunteers: volunteers.map(v => v.daemon.child.pid ?? 0) }
  if (ONLY.has('noop')) {
  console.log(`\n1. ${fmt(NOOP_TASKS)} no-op records submitted at once through client.submit, submit -> last result received by the client`)
  const inputs = Array.from({ length: NOOP_TASKS }, (_, i) => i)
  const rates: Record<number, number[]> = { 1: [], 10: [], 100: [] }
  const submits: Record<number, number[]> = { 1: [], 10: [], 100: [] }
  const cpuPerTask: Array<Record<string, number>> = []
  for (let r = 0; r < RUNS; r++) {
    for (const batch of [1, 10, 100]) {
      const before = batch === 1 ? await cpuOf(pids) : undefined
      const res = await runJob(client, noop, inputs, batch)
      if (res.values.some((v, i) => v !== i)) throw new Error(`batch ${batch}: wrong results`)
      rates[batch].push(NOOP_TASKS / (res.totalMs / 1000))
      submits[batch].push(res.submitMs)
      if (before != null) {
        const used = await cpuSince(pids, before)
        cpuPerTask.push(Object.fromEntries(Object.entries(used).map(([k, v]) => [k, v * 1e6 / NOOP_TASKS])))
      }
    }
  }
  const one = median(rates[1])
  for (const batch of [1, 10, 100]) {
    const m = median(rates[batch])
    const label = batch === 1
      ? `batch   1 (one record per task): ${fmt(m).padStart(7)} tasks/s   (target >= 3,000 tasks/s)`
      : `--batch ${String(batch).padEnd(3)} (${String(batch).padStart(3)} records/task): ${fmt(m).padStart(7)} records/s = ${fmt(m / batch, 1)} tasks/s, ratio ${(m / one).toFixed(1)}x batch 1`
    console.log(`   ${label}   [runs ${rates[batch].map(x => fmt(x)).join(' ')}; submit POST ${fmt(median(submits[batch]))} ms]`)
  }
  const cpu = (k: string): string => `${fmt(median(cpuPerTask.map(c => c[k] ?? 0)), 0)} µs`
  console.log(`   CPU per task at batch 1 (/proc, while the job ran): submitter daemon ${cpu('submitter')}, volunteer daemons ${cpu('volunteers')}, their sandbox runners ${cpu('runners')} (all processes together; 2 cores allow ${fmt(2e6 / 3000)} µs per task at 3,000 tasks/s)`)
  console.log(`   load average now ${load()}`)
  }

  // --- 2. round trip ---------------------------------------------------------
  if (ONLY.has('trip')) {
  await settle(pids)
  // Baseline in the same run: the control API's cheapest request, the floor of any client call.
  const idMs: number[] = []
  for (let i = 0; i < 50; i++) { const t = performance.now(); await client.id(); idMs.push(performance.now() - t) }
  const trips: number[] = []
  const posts: number[] = []
  const single: number[] = []
  const tripCpu0 = await cpuOf(pids)
  const clientCpu0 = process.cpuUsage()
  const tracedFrom = performance.timeOrigin + performance.now()
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const res = await runJob(client, noop, [i], 1)
    trips.push(res.totalMs)
    posts.push(res.submitMs)
    // the same request without the job handle (client.submit sends it too):
    // POST /v1/jobs?follow=completed answers the
    // job id, then streams its results (no second request to open)
    const t = performance.now()
    let got: unknown
    for await (const line of client.stream<{ index?: number, value?: unknown }>('POST', '/v1/jobs', { body: { bundle: noop, inputs: [i] }, query: { follow: 'completed' } })) {
      if (line.index === 0) { got = line.value; break }
    }
    single.push(performance.now() - t)
    if (got !== i) throw new Error(`one-request round trip ${i}: got ${JSON.stringify(got)}`)
  }
  const tracedTo = performance.timeOrigin + performance.now()
  // both kinds of trip above: 2 x ROUND_TRIPS jobs
  const tripCpu = await cpuSince(pids, tripCpu0)
  const clientCpu = process.cpuUsage(clientCpu0)
  const perTrip = (seconds: number): string => fmt(seconds * 1000 / (2 * ROUND_TRIPS), 1)
  const chain = await hopChain(ROUND_TRIPS)
  const stack = await stackChain(ROUND_TRIPS)
  const rtMed = median(trips)
  console.log(`\n2. round trip of one trivial task on the warm swarm (a one-record job: submit -> result received by the client), ${ROUND_TRIPS} in turn`)
  console.log(`   median ${fmt(rtMed, 1)} ms, p95 ${fmt(quantile(trips, 0.95), 1)} ms, min ${fmt(Math.min(...trips), 1)} ms   (target median <= 5 ms)`)
  console.log(`   of which until client.submit resolves (the POST's answer line): median ${fmt(median(posts), 1)} ms; control API GET /v1/id (same run): median ${fmt(median(idMs), 2)} ms -> round trip is ${(rtMed / median(idMs)).toFixed(0)}x it`)
  console.log(`   the same POST /v1/jobs?follow=completed through client.stream, without the job handle (alternating with the above): median ${fmt(median(single), 1)} ms, p95 ${fmt(quantile(single, 0.95), 1)} ms, min ${fmt(Math.min(...single), 1)} ms`)
  console.log(`   CPU per trip (/proc, both kinds): submitter daemon ${perTrip(tripCpu.submitter)} ms, volunteer daemons ${perTrip(tripCpu.volunteers)}, their sandbox runners ${perTrip(tripCpu.runners)}, this client ${perTrip((clientCpu.user + clientCpu.system) / 1e6)}: ${perTrip(tripCpu.submitter + tripCpu.volunteers + tripCpu.runners + (clientCpu.user + clientCpu.system) / 1e6)} ms of CPU a trip on 2 cores`)
  console.log(`   the same hops through plain Node processes, no IdleGrid code (bench/hop-chain.mjs: HTTP to a server, TCP to a second process, IPC to its child, and back; right after): median ${fmt(chain.medianMs, 2)} ms, p95 ${fmt(chain.p95Ms, 2)} ms -> round trip is ${(rtMed / chain.medianMs).toFixed(1)}x it`)
  console.log(`   the same hops through the stack IdleGrid must use, none of its own work (bench/hop-chain-stack.ts: the daemon's libp2p node with Noise and yamux, a SQLite row each way, a fresh isolated-vm context; then): median ${fmt(stack.medianMs, 2)} ms, p95 ${fmt(stack.p95Ms, 2)} ms -> round trip is ${(rtMed / stack.medianMs).toFixed(1)}x it`)
  // the work IdleGrid adds to each process of the trip, beyond the stack's own
  const c = stack.cpuMsPerTrip
  if (c != null) {
    console.log(`   the stack's CPU per trip, in the same places: server ${fmt(c.server, 1)} ms, volunteer ${fmt(c.volunteer, 1)}, runner ${fmt(c.runner, 1)}, client ${fmt(c.client, 1)}: ${fmt(c.server + c.volunteer + c.runner + c.client, 1)} ms`)
  }
  if (TRACE_DIR != null) {
    await printSegments({ dir: TRACE_DIR, clientPid: process.pid, submitterPid: pids.submitter, volunteerPids: pids.volunteers, from: tracedFrom, to: tracedTo })
  }
  console.log(`   load average now ${load()}`)
  }

  // --- 3. Monte Carlo makespan -------------------------------------------------
  if (ONLY.has('mc')) {
  const mcInputs = Array.from({ length: MC_TASKS }, (_, i) => ({ seed: i + 1, samples: MC_SAMPLES }))
  const swarmMs: number[] = []
  const serialMs: number[] = []
  const pairMs: number[] = []
  // CPU ms per task: the serial process, the pair's two, the swarm's runners (from /proc)
  const taskCpu: { serial: number[], pair: number[], runners: number[] } = { serial: [], pair: [], runners: [] }
  const shareLines: string[] = []
  const cpuLines: string[] = []
  /** ms waited for the swarm to settle, before and after each of its runs */
  const settled: number[] = []
  for (let r = 0; r < RUNS; r++) {
    // the serial run's first half, the swarm's run, its second half
    const { serial, between: { swarm, used } } = await serialAround(mcFile, mcInputs, async () => {
      // the serial run is paused meanwhile, its clock stopped
      settled.push(await settle(pids))
      const before = await cpuOf(pids)
      const swarm = await runJob(client, mc, mcInputs, 1)
      const used = await cpuSince(pids, before)
      settled.push(await settle(pids))
      return { swarm, used }
    })
    cpuLines.push(['submitter', 'volunteers', 'runners'].map(k => `${k} ${fmt(used[k] * 1000)}`).join(', '))
    const shares = (await client.jobInfo(swarm.jobId)).volunteers
    shareLines.push(shares.map(v => `${v.tasks} tasks, ${fmt(v.cpuMs / v.tasks)} ms CPU each`).join(' / '))
    if (JSON.stringify(serial.values) !== JSON.stringify(swarm.values)) throw new Error('Monte Carlo: the swarm and the serial run disagree')
    // What the machine allows right now: two plain processes, half the tasks each, at once.
    const halves = await Promise.all([mcInputs.slice(0, MC_TASKS / 2), mcInputs.slice(MC_TASKS / 2)].map(async part => await serialBaseline(mcFile, part)))
    serialMs.push(serial.ms)
    swarmMs.push(swarm.totalMs)
    pairMs.push(Math.max(...halves.map(h => h.ms)))
    taskCpu.serial.push(serial.cpuMs / MC_TASKS)
    taskCpu.pair.push((halves[0].cpuMs + halves[1].cpuMs) / MC_TASKS)
    taskCpu.runners.push(used.runners * 1000 / MC_TASKS)
  }
  // What the daemons use while tasks run, apart from handling each task:
  // two long tasks (~2 s), one per volunteer, and the CPU per second meanwhile.
  const longBefore = await cpuOf(pids)
  const long = await runJob(client, mc, [{ seed: 101, samples: MC_SAMPLES * 20 }, { seed: 102, samples: MC_SAMPLES * 20 }], 1)
  const longUsed = await cpuSince(pids, longBefore)
  const perSecond = (k: string): string => fmt(longUsed[k] * 1000 / (long.totalMs / 1000))
  const speedups = swarmMs.map((s, i) => serialMs[i] / s)
  const machine = pairMs.map((p, i) => serialMs[i] / p)
  console.log(`\n3. ${MC_TASKS} Monte Carlo tasks (${fmt(MC_SAMPLES)} samples each), alternating with the same kernel run serially in one plain Node process (half before the swarm's run and half after it, so the machine's drift weighs on both), and in two at once (all nice 19, as the runners)`)
  console.log(`   serial ${fmt(median(serialMs))} ms (${fmt(median(serialMs) / MC_TASKS)} ms/task), 2 volunteers ${fmt(median(swarmMs))} ms -> speedup ${median(speedups).toFixed(2)}x   (target >= 1.8x)   [runs ${speedups.map(x => x.toFixed(2)).join(' ')}]`)
  console.log(`   per volunteer (runner CPU as its receipts claim): ${shareLines.join('; ')}`)
  console.log(`   CPU ms during the swarm run (clock ticks): ${cpuLines.join('; ')}; the serial run used ${fmt(median(serialMs))} ms of one core`)
  console.log(`   the swarm settled (under ${SETTLE_CPU_MS} ms of CPU in ${SETTLE_WINDOW_MS} ms) before and after each of its runs, the serial run paused meanwhile: ${settled.map(ms => fmt(ms / 1000, 1)).join(' / ')} s`)
  console.log(`   while two long tasks ran (${fmt(long.totalMs)} ms): submitter ${perSecond('submitter')}, volunteer daemons ${perSecond('volunteers')}, runners ${perSecond('runners')} ms of CPU per second`)
  console.log(`   two plain processes at once ${fmt(median(pairMs))} ms -> ${median(machine).toFixed(2)}x: the most 2 workers got from this machine meanwhile; swarm / that = ${(median(speedups) / median(machine)).toFixed(2)}`)
  const perTask = (k: keyof typeof taskCpu): string => taskCpu[k].map(x => x.toFixed(1)).join(' / ')
  console.log(`   CPU per task (ms, per run): serial ${perTask('serial')}; the pair ${perTask('pair')}; the swarm's runners ${perTask('runners')}`)
  }
  console.log(`\nload average at start ${loadStart}, at the end ${load()} (2 cores shared with other work: figures scale with it)`)
} catch (err) {
  console.error('bench failed:', err)
  for (const d of daemons) console.error(`--- last output of the daemon in ${d.dataDir}:\n${d.output().slice(-3000)}`)
  process.exitCode = 1
} finally {
  await cleanup()
}
