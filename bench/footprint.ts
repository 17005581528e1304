// Idle footprint of `idlegrid daemon` connected to two peers, as shipped
// (the bundle and V8 settings of apps/cli/bin/idlegrid.js) and without the
// daemon's V8 settings: resident memory and CPU share of one core over a
// window, next to a bare Node process that only runs a timer, measured in the
// same window and printed as ratios; and the time from starting a fourth
// daemon to its first `find` result. Prints figures, asserts nothing. See
// docs/footprint.md.
//
//   node --no-node-snapshot --import tsx bench/footprint.ts [--seconds 60] [--runs 3] [--warmup 75]
import '@idlegrid/interface/polyfill'
import { spawn, spawnSync } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createControlClient } from '@idlegrid/control-api'
import { CLI_BIN, childEnv, spawnDaemon, tempDataDir, waitForControl } from '@idlegrid/test-e2e'
import type { DaemonProcess } from '@idlegrid/test-e2e'
import { CLK_TCK, cpuTicks } from './proc.mjs'
import type { ChildProcess } from 'node:child_process'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, runs: { type: 'string', default: '3' }, warmup: { type: 'string', default: '75' } }, strict: true })
const SECONDS = Number(values.seconds)
const RUNS = Number(values.runs)
// A daemon's first minute is not idle: start-up garbage, the first capacity
// round, and V8's memory reducer shrinking the heap after the first full GC.
const WARMUP = Number(values.warmup)
if (!(SECONDS > 0) || !(Number.isInteger(RUNS) && RUNS > 0) || !(WARMUP >= 0)) {
  console.error('usage: bench/footprint.ts [--seconds N] [--runs N] [--warmup SECONDS]')
  process.exit(2)
}

interface Sample { rssKb: number, cpuTicks: number }

async function sample (pid: number): Promise<Sample> {
  const ticks = await cpuTicks(pid)
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return { rssKb, cpuTicks: ticks }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function spawnBaseline (args: string[]): ChildProcess {
  return spawn(process.execPath, args, { env: childEnv(), stdio: 'ignore' })
}

const CACHE = fileURLToPath(new URL('../apps/cli/node_modules/.cache/idlegrid/', import.meta.url))

/**
 * Which bundle is current and whether the last build failed. When this
 * changes during a run, sources changed under it and a daemon may have run
 * from source (through tsx) instead of the bundle.
 */
async function bundleState (): Promise<string> {
  const meta = await readFile(`${CACHE}cli.meta.json`, 'utf8').then(t => JSON.parse(t).bundle as string).catch(() => 'none')
  const failed = await readFile(`${CACHE}build-failed.json`, 'utf8').then(() => ' (last build failed)').catch(() => '')
  return meta + failed
}

/** Waits until a process's RSS stops growing (start-up done). */
async function settle (pid: number, name: string): Promise<void> {
  let last = 0
  for (let i = 0; i < 40; i++) {
    await new Promise(resolve => setTimeout(resolve, 250))
    const { rssKb } = await sample(pid).catch(() => { throw new Error(`${name} (pid ${pid}) exited during start-up`) })
    if (Math.abs(rssKb - last) < 256 && i > 3) return
    last = rssKb
  }
}

const daemons: DaemonProcess[] = []
const others: ChildProcess[] = []

async function startDaemon (name: string, args: string[], env: Record<string, string> = {}): Promise<{ daemon: DaemonProcess, address: string, peerId: string }> {
  const dir = await tempDataDir(`bench-${name}`)
  const daemon = spawnDaemon(dir, ['--max-cores', '1', ...args], { env })
  daemons.push(daemon)
  await waitForControl(daemon)
  const status = await createControlClient({ dataDir: dir }).status()
  return { daemon, address: status.addresses[0], peerId: status.peerId }
}

async function cleanup (): Promise<void> {
  for (const c of others) c.kill('SIGKILL')
  await Promise.all(daemons.map(async d => {
    await d.stop('SIGTERM', 5000)
    await rm(d.dataDir, { recursive: true, force: true })
  }))
}

/** How the measured daemons run: the same CLI, with and without the daemon's V8 settings (apps/cli/bin/idlegrid.js). */
const MODES: Array<{ name: string, env: Record<string, string> }> = [
  { name: 'daemon as shipped, 2 peers (a)', env: {} },
  { name: 'daemon as shipped, 2 peers (b)', env: {} },
  { name: 'daemon, no daemon V8 flags, 2 peers', env: { IDLEGRID_DAEMON_V8_FLAGS: '' } }
]
const SHIPPED = [0, 1]

try {
  // build the bundle first, so no measured daemon pays for it or falls back to tsx while another builds
  const prebuild = spawnSync(process.execPath, [CLI_BIN, '--version'], { env: childEnv(), encoding: 'utf8' })
  if (prebuild.status !== 0) throw new Error(`idlegrid --version failed: ${prebuild.stderr}`)
  const builtBefore = await bundleState()
  if (builtBefore.includes('failed')) console.log(`warning: the CLI bundle could not be built (${CACHE}build-failed.json); "bundle" daemons run from source`)

  // --- idle footprint -------------------------------------------------------
  // each mode gets its own trio (measured daemon + two peers bootstrapped to it)
  const trios: Array<{ x: Awaited<ReturnType<typeof startDaemon>>, p1: Awaited<ReturnType<typeof startDaemon>>, p2: Awaited<ReturnType<typeof startDaemon>> }> = []
  for (const [i, mode] of MODES.entries()) {
    const x = await startDaemon(`x${i}`, [], mode.env)
    const p1 = await startDaemon(`p1-${i}`, ['--bootstrap', x.address])
    const p2 = await startDaemon(`p2-${i}`, ['--bootstrap', x.address])
    trios.push({ x, p1, p2 })
  }
  const startedAt = Date.now()
  for (const { x } of trios) {
    const client = createControlClient({ dataDir: x.daemon.dataDir })
    for (let i = 0; (await client.peers()).length < 2; i++) {
      if (i > 200) throw new Error('a measured daemon never saw its two peers')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  const bare = spawnBaseline(['-e', 'setInterval(() => {}, 1000)'])
  others.push(bare)
  const measured: Array<[string, number]> = [
    ['bare node (timer only)', bare.pid!],
    ...MODES.map((mode, i): [string, number] => [mode.name, trios[i].x.daemon.child.pid!])
  ]
  await Promise.all(measured.map(async ([name, pid]) => { await settle(pid, name) }))
  const warmUntil = startedAt + WARMUP * 1000
  if (Date.now() < warmUntil) await new Promise(resolve => setTimeout(resolve, warmUntil - Date.now()))

  console.log(`idle footprint over ${SECONDS} s, ${WARMUP} s after the last daemon started (Node ${process.version}, ${CLK_TCK} ticks/s, load average ${loadavg().map(l => l.toFixed(2)).join(' ')})`)
  const start = await Promise.all(measured.map(async ([, pid]) => await sample(pid)))
  const rss: number[][] = measured.map(() => [])
  const t0 = Date.now()
  while (Date.now() - t0 < SECONDS * 1000) {
    await new Promise(resolve => setTimeout(resolve, 1000))
    const now = await Promise.all(measured.map(async ([, pid]) => await sample(pid)))
    now.forEach((s, i) => rss[i].push(s.rssKb))
  }
  const wall = (Date.now() - t0) / 1000
  const end = await Promise.all(measured.map(async ([, pid]) => await sample(pid)))

  const rows = measured.map(([name], i) => ({
    name,
    rssMb: median(rss[i]) / 1024,
    maxRssMb: Math.max(...rss[i]) / 1024,
    ticks: end[i].cpuTicks - start[i].cpuTicks,
    cpuPct: ((end[i].cpuTicks - start[i].cpuTicks) / CLK_TCK) / wall * 100
  }))
  const base = rows[0]
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(38)} RSS ${r.rssMb.toFixed(1).padStart(5)} MiB (median of ${rss[0].length} samples, max ${r.maxRssMb.toFixed(1).padStart(5)})  ${(r.rssMb / base.rssMb).toFixed(2)}x bare   CPU ${r.cpuPct.toFixed(3)}% of one core (${r.ticks} ticks, ${(r.cpuPct / base.cpuPct).toFixed(1)}x bare)`)
  }
  const shipped = SHIPPED.map(i => rows[1 + i])
  const shippedRss = median(shipped.map(r => r.rssMb))
  const shippedCpu = median(shipped.map(r => r.cpuPct))
  console.log(`  shipped daemon vs bare (median of ${shipped.length}): memory ${shippedRss.toFixed(1)} MiB = ${(shippedRss / base.rssMb).toFixed(2)}x (target <= 1.6x), CPU ${shippedCpu.toFixed(3)}% of one core (target < 0.1%)`)
  for (const c of others) c.kill('SIGKILL')
  others.length = 0
  const builtAfter = await bundleState()
  if (builtAfter !== builtBefore) console.log(`warning: sources changed during the run (bundle ${builtBefore} -> ${builtAfter}); a "bundle" daemon may have run from source`)
  const p2 = trios[SHIPPED[0]].p2

  // --- fourth daemon to first find result ----------------------------------
  for (const mode of [MODES[SHIPPED[0]]]) {
    const totals: number[] = []
    const readies: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const dir = await tempDataDir(`bench-late-${run}`)
      const t = performance.now()
      const late = spawnDaemon(dir, ['--max-cores', '1', '--bootstrap', p2.address], { env: mode.env })
      daemons.push(late)
      await waitForControl(late)
      const ready = performance.now() - t
      const lateClient = createControlClient({ dataDir: dir })
      let found = 0
      while (found === 0) {
        found = (await lateClient.find({ cpu: 1, timeoutMs: 5000 })).length
        if (found === 0 && performance.now() - t > 60_000) throw new Error('the fourth daemon found nobody within 60 s')
      }
      const total = performance.now() - t
      readies.push(ready)
      totals.push(total)
      console.log(`  fourth daemon run ${run + 1}: ready ${ready.toFixed(0)} ms, first find result ${total.toFixed(0)} ms after spawn (${found} found)`)
      await late.stop('SIGTERM', 5000)
      await rm(dir, { recursive: true, force: true })
    }
    console.log(`fourth daemon as shipped: spawn -> first find result, median of ${RUNS}: ${median(totals).toFixed(0)} ms (of which process start to ready ${median(readies).toFixed(0)} ms; find after ready ${(median(totals.map((v, i) => v - readies[i]))).toFixed(0)} ms)`)
  }
} finally {
  await cleanup()
}
