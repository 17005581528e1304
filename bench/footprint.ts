// Idle footprint of one `idlegrid daemon` connected to two peers, loaded from
// source through tsx, from the esbuild bundle, and with V8 heap settings:
// resident memory and CPU share over a window, next to baselines measured in
// the same window; and the time from starting a fourth daemon to its first
// `find` result, from source and from the bundle. Prints figures, asserts
// nothing. See docs/footprint.md.
//
//   node --no-node-snapshot --import tsx bench/footprint.ts [--seconds 60] [--runs 5]
import '@idlegrid/interface/polyfill'
import { spawn, spawnSync } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createControlClient } from '@idlegrid/control-api'
import { CLI_BIN, childEnv, spawnDaemon, tempDataDir, waitForControl } from '@idlegrid/test-e2e'
import type { DaemonProcess } from '@idlegrid/test-e2e'
import type { ChildProcess } from 'node:child_process'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, runs: { type: 'string', default: '5' } }, strict: true })
const SECONDS = Number(values.seconds)
const RUNS = Number(values.runs)
if (!(SECONDS > 0) || !(Number.isInteger(RUNS) && RUNS > 0)) {
  console.error('usage: bench/footprint.ts [--seconds N] [--runs N]')
  process.exit(2)
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
const NODE_PACKAGE = fileURLToPath(new URL('../packages/node/src/index.ts', import.meta.url))
const CLI_DIR = fileURLToPath(new URL('../apps/cli/', import.meta.url))

interface Sample { rssKb: number, cpuTicks: number }

async function sample (pid: number): Promise<Sample> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuTicks = Number(fields[11]) + Number(fields[12])
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
  return { rssKb, cpuTicks }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function spawnBaseline (args: string[], cwd?: string): ChildProcess {
  return spawn(process.execPath, args, { cwd, env: childEnv(), stdio: 'ignore' })
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

/** How the measured daemons run: the same CLI, loaded and tuned differently (apps/cli/bin/idlegrid.js). */
const MODES: Array<{ name: string, env: Record<string, string> }> = [
  { name: 'daemon from source (tsx), default V8 heap', env: { IDLEGRID_FROM_SOURCE: '1', IDLEGRID_DAEMON_V8_FLAGS: '' } },
  { name: 'daemon from bundle, default V8 heap', env: { IDLEGRID_DAEMON_V8_FLAGS: '' } },
  { name: 'daemon from bundle, fixed young gen (shipped)', env: {} },
  { name: 'daemon from bundle, --max-semi-space-size=1', env: { IDLEGRID_DAEMON_V8_FLAGS: '', NODE_OPTIONS: '--max-semi-space-size=1' } }
]
const SHIPPED = 2

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
  for (const { x } of trios) {
    const client = createControlClient({ dataDir: x.daemon.dataDir })
    for (let i = 0; (await client.peers()).length < 2; i++) {
      if (i > 200) throw new Error('a measured daemon never saw its two peers')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  const bare = spawnBaseline(['-e', 'setInterval(() => {}, 1000)'])
  const bareTsx = spawnBaseline(['--import', 'tsx', '-e', 'setInterval(() => {}, 1000)'], CLI_DIR)
  // libp2p and the capacity service, loaded through tsx, with no CLI or control API.
  const nodeOnly = spawnBaseline(['--import', 'tsx', '--input-type=module', '-e', `
    const { generateKeyPair } = await import('@libp2p/crypto/keys')
    const { createNode } = await import(${JSON.stringify(NODE_PACKAGE)})
    await createNode({ privateKey: await generateKeyPair('Ed25519'), limits: { maxCores: 1 } })
    setInterval(() => {}, 1000)`], CLI_DIR)
  others.push(bare, bareTsx, nodeOnly)
  const measured: Array<[string, number]> = [
    ['bare node (timer only)', bare.pid!],
    ['node + tsx loader (timer only)', bareTsx.pid!],
    ['node + tsx + createNode, no peers', nodeOnly.pid!],
    ...MODES.map((mode, i): [string, number] => [`${mode.name}, 2 peers`, trios[i].x.daemon.child.pid!])
  ]
  await Promise.all(measured.map(async ([name, pid]) => { await settle(pid, name) }))

  console.log(`idle footprint over ${SECONDS} s (Node ${process.version}, ${CLK_TCK} ticks/s, load average ${loadavg().map(l => l.toFixed(2)).join(' ')})`)
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
    cpuPct: ((end[i].cpuTicks - start[i].cpuTicks) / CLK_TCK) / wall * 100
  }))
  const base = rows[0]
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(58)} RSS ${r.rssMb.toFixed(1).padStart(6)} MiB (max ${r.maxRssMb.toFixed(1).padStart(5)})  ${(r.rssMb / base.rssMb).toFixed(2)}x bare   CPU ${r.cpuPct.toFixed(3)}% of one core (${(r.cpuPct / base.cpuPct).toFixed(1)}x bare)`)
  }
  const d = rows[3 + SHIPPED]
  console.log(`  shipped daemon vs bare: memory ${(d.rssMb / base.rssMb).toFixed(2)}x (target <= 1.6x), CPU ${d.cpuPct.toFixed(3)}% (target < 0.1%)`)
  console.log(`  where the source daemon's memory goes: tsx loader +${(rows[1].rssMb - base.rssMb).toFixed(1)} MiB, libp2p node +${(rows[2].rssMb - rows[1].rssMb).toFixed(1)} MiB, CLI + control API + jobs + 2 peers +${(rows[3].rssMb - rows[2].rssMb).toFixed(1)} MiB`)
  console.log(`  bundle instead of tsx ${(rows[4].rssMb - rows[3].rssMb).toFixed(1)} MiB, fixed young generation ${(rows[5].rssMb - rows[4].rssMb).toFixed(1)} MiB`)
  for (const c of others) c.kill('SIGKILL')
  others.length = 0
  const builtAfter = await bundleState()
  if (builtAfter !== builtBefore) console.log(`warning: sources changed during the run (bundle ${builtBefore} -> ${builtAfter}); a "bundle" daemon may have run from source`)
  const p2 = trios[SHIPPED].p2

  // --- fourth daemon to first find result ----------------------------------
  for (const mode of [MODES[0], MODES[SHIPPED]]) {
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
      console.log(`  ${mode.name} run ${run + 1}: ready ${ready.toFixed(0)} ms, first find result ${total.toFixed(0)} ms after spawn (${found} found)`)
      await late.stop('SIGTERM', 5000)
      await rm(dir, { recursive: true, force: true })
    }
    console.log(`fourth daemon, ${mode.name}: spawn -> first find result, median of ${RUNS}: ${median(totals).toFixed(0)} ms (of which process start to ready ${median(readies).toFixed(0)} ms; find after ready ${(median(totals.map((v, i) => v - readies[i]))).toFixed(0)} ms)`)
  }
} finally {
  await cleanup()
}
