// Idle footprint of one `idlegrid daemon` connected to two peers: resident
// memory and CPU share over a window, next to baselines measured in the same
// window; and the time from starting a fourth daemon to its first `find`
// result. Prints figures, asserts nothing.
//
//   node --no-node-snapshot --import tsx bench/footprint.ts [--seconds 60] [--runs 5]
import '../packages/interface/src/polyfill.js'
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { readFile, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createControlClient } from '../packages/control-api/src/index.js'
import { childEnv, spawnDaemon, tempDataDir, waitForControl } from '../test/e2e/src/index.js'
import type { DaemonProcess } from '../test/e2e/src/index.js'
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

async function startDaemon (name: string, args: string[]): Promise<{ daemon: DaemonProcess, address: string, peerId: string }> {
  const dir = await tempDataDir(`bench-${name}`)
  const daemon = spawnDaemon(dir, ['--max-cores', '1', ...args])
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

try {
  // --- idle footprint -------------------------------------------------------
  const x = await startDaemon('x', [])
  const p1 = await startDaemon('p1', ['--bootstrap', x.address])
  const p2 = await startDaemon('p2', ['--bootstrap', x.address])
  const client = createControlClient({ dataDir: x.daemon.dataDir })
  for (let i = 0; (await client.peers()).length < 2; i++) {
    if (i > 200) throw new Error('the measured daemon never saw its two peers')
    await new Promise(resolve => setTimeout(resolve, 100))
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
    ['idlegrid daemon, 2 peers', x.daemon.child.pid!]
  ]
  await Promise.all(measured.map(async ([name, pid]) => { await settle(pid, name) }))

  console.log(`idle footprint over ${SECONDS} s (Node ${process.version}, ${CLK_TCK} ticks/s)`)
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
    console.log(`  ${r.name.padEnd(36)} RSS ${r.rssMb.toFixed(1).padStart(6)} MiB (max ${r.maxRssMb.toFixed(1)})  ${(r.rssMb / base.rssMb).toFixed(2)}x bare   CPU ${r.cpuPct.toFixed(3)}% of one core`)
  }
  const d = rows[3]
  console.log(`  daemon vs bare: memory ${(d.rssMb / base.rssMb).toFixed(2)}x (target <= 1.6x), CPU ${d.cpuPct.toFixed(3)}% (target < 0.1%)`)
  console.log(`  where the daemon's memory goes: tsx loader +${(rows[1].rssMb - base.rssMb).toFixed(1)} MiB, libp2p node +${(rows[2].rssMb - rows[1].rssMb).toFixed(1)} MiB, CLI + control API + 2 peers +${(d.rssMb - rows[2].rssMb).toFixed(1)} MiB`)
  for (const c of others) c.kill('SIGKILL')
  others.length = 0

  // --- fourth daemon to first find result ----------------------------------
  const totals: number[] = []
  const readies: number[] = []
  for (let run = 0; run < RUNS; run++) {
    const dir = await tempDataDir(`bench-late-${run}`)
    const t = performance.now()
    const late = spawnDaemon(dir, ['--max-cores', '1', '--bootstrap', p2.address])
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
    console.log(`  run ${run + 1}: ready ${ready.toFixed(0)} ms, first find result ${total.toFixed(0)} ms after spawn (${found} found)`)
    await late.stop('SIGTERM', 5000)
    await rm(dir, { recursive: true, force: true })
  }
  console.log(`fourth daemon: spawn -> first find result, median of ${RUNS}: ${median(totals).toFixed(0)} ms (of which process start to ready ${median(readies).toFixed(0)} ms; find after ready ${(median(totals.map((v, i) => v - readies[i]))).toFixed(0)} ms)`)
  void p1
} finally {
  await cleanup()
}
