// The Quick start demo: starts a local swarm of three real daemons on
// 127.0.0.1, shows DHT discovery and capacity, submits a Monte Carlo VaR job
// over a generated portfolio through the `idlegrid` command, prints a summary
// and stops everything it started, on success, failure or Ctrl-C alike.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateSlices, summarise } from './portfolio.js'
import type { SliceResult } from '../jobs/var.js'
import type { ChildProcess } from 'node:child_process'

const CLI = fileURLToPath(new URL('../../cli/bin/idlegrid.js', import.meta.url))
const JOB = fileURLToPath(new URL('../jobs/var.ts', import.meta.url))

const POSITIONS = 10_000
const PER_RECORD = 100
const SCENARIOS = 2_000
const BATCH = 5
const VERBOSE = process.argv.includes('--verbose')

interface Daemon {
  name: string
  dataDir: string
  child: ChildProcess
  exited: Promise<number | null>
}

const started: Daemon[] = []
const say = (line: string): void => { process.stdout.write(`${line}\n`) }

function childEnv (): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const key of Object.keys(env)) {
    if (key.startsWith('IDLEGRID_')) delete env[key]
  }
  return env
}

async function cli (args: string[], options: { quiet?: boolean } = {}): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...args], { env: childEnv(), stdio: ['ignore', 'pipe', options.quiet === true ? 'pipe' : 'inherit'] })
  let out = ''
  let err = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { out += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { err += d })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  if (code !== 0) {
    throw new Error(`idlegrid ${args.join(' ')} failed (exit ${String(code)})${err === '' ? '' : `: ${err.trim()}`}`)
  }
  return out
}

async function startDaemon (name: string, root: string, args: string[]): Promise<Daemon> {
  const dataDir = join(root, name)
  const child = spawn(process.execPath, [CLI, 'daemon', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--advertise-interval', '1000', ...args], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const prefix = `  [${name}] `
  // The daemons' own lines, less the chatty ones (every slot taken or freed
  // re-advertises capacity); `--verbose` shows them all.
  const quiet = /capacity (published|withdrawn)|control API on|created a new identity|owner limits|^ready/
  const relay = (d: string): void => {
    for (const line of d.split('\n').filter(Boolean)) {
      const text = line.replace(/^\S+Z /, '')
      if (VERBOSE || !quiet.test(text)) say(prefix + text)
    }
  }
  child.stdout?.setEncoding('utf8').on('data', relay)
  child.stderr?.setEncoding('utf8').on('data', relay)
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const daemon = { name, dataDir, child, exited }
  started.push(daemon)

  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode != null) throw new Error(`daemon ${name} exited with code ${child.exitCode} before it was ready`)
    try {
      const info = JSON.parse(await readFile(join(dataDir, 'control.json'), 'utf8')) as { pid: number }
      if (info.pid === child.pid) return daemon
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`daemon ${name} was not ready within 60 s`)
}

async function stopAll (): Promise<void> {
  await Promise.all(started.map(async (d) => {
    if (d.child.exitCode == null && d.child.signalCode == null) {
      d.child.kill('SIGTERM')
      const timer = setTimeout(() => d.child.kill('SIGKILL'), 10_000)
      await d.exited
      clearTimeout(timer)
    }
  }))
}

async function main (): Promise<void> {
  const t0 = performance.now()
  const root = await mkdtemp(join(tmpdir(), 'idlegrid-demo-'))
  let interrupted = false
  const onSignal = (): void => {
    interrupted = true
    say('\ninterrupted: stopping the demo swarm')
    void stopAll().then(async () => { await rm(root, { recursive: true, force: true }) }).finally(() => process.exit(130))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  try {
    say('IdleGrid demo: a bank\'s nightly Value-at-Risk run on a local swarm of three daemons\n')
    say('1. Starting the submitter (a) and two volunteers (b, c) on 127.0.0.1')
    const a = await startDaemon('a', root, [])
    const status = JSON.parse(await cli(['--data-dir', a.dataDir, 'status', '--json'])) as { peerId: string, addresses: string[] }
    const bootstrap = status.addresses[0]
    await Promise.all([
      startDaemon('b', root, ['--bootstrap', bootstrap]),
      startDaemon('c', root, ['--bootstrap', bootstrap])
    ])

    say('\n2. Finding volunteers with a free core through the DHT (from a)')
    let found: Array<{ peerId: string, capacity: { freeCores: number, freeMemoryMb: number } }> = []
    const deadline = Date.now() + 30_000
    while (found.length < 2 && Date.now() < deadline) {
      found = JSON.parse(await cli(['--data-dir', a.dataDir, 'find', '--cpu', '1', '--json'])) as typeof found
    }
    for (const v of found) {
      say(`   ${v.peerId}: ${v.capacity.freeCores} free core(s), ${v.capacity.freeMemoryMb} MB free memory`)
    }
    if (found.length === 0) throw new Error('no volunteer was found through the DHT within 30 s')

    const slices = generateSlices({ positions: POSITIONS, perSlice: PER_RECORD, scenarios: SCENARIOS })
    const input = join(root, 'positions.jsonl')
    const output = join(root, 'var.jsonl')
    await writeFile(input, slices.map((s) => JSON.stringify(s)).join('\n') + '\n')
    say(`\n3. Submitting a Monte Carlo VaR job: ${POSITIONS.toLocaleString('en-US')} positions in ${slices.length} slices, ${SCENARIOS.toLocaleString('en-US')} scenarios each, ${BATCH} slices per task`)
    const t1 = performance.now()
    const submitted = await cli(['--data-dir', a.dataDir, 'submit', JOB, '--input', input, '--out', output, '--batch', String(BATCH), '--json'], { quiet: true })
    const seconds = (performance.now() - t1) / 1000
    const jobId = submitted.trim().split('\n').map((l) => JSON.parse(l) as { jobId?: string }).find((e) => e.jobId != null)?.jobId

    const lines = (await readFile(output, 'utf8')).trim().split('\n')
    const results = lines.map((line, i) => {
      const value = JSON.parse(line) as SliceResult | { error: { message: string } }
      if ('error' in value) throw new Error(`slice ${i} failed: ${value.error.message}`)
      return value
    })
    const summary = summarise(slices, results)
    const usd = (x: number): string => `$${Math.round(x).toLocaleString('en-US')}`
    say(`\n4. Results: ${results.length} slices back in input order in ${seconds.toFixed(1)} s`)
    if (jobId != null) {
      const info = JSON.parse(await cli(['--data-dir', a.dataDir, 'job', jobId, '--json'])) as { volunteers: Array<{ peerId: string, tasks: number, records: number, cpuMs: number }> }
      for (const v of info.volunteers) {
        say(`   volunteer ${v.peerId} ran ${v.tasks} tasks (${v.records} slices, ${(v.cpuMs / 1000).toFixed(1)} CPU s)`)
      }
    }
    say(`   portfolio: ${summary.positions.toLocaleString('en-US')} positions, exposure ${usd(summary.exposure)}`)
    say(`   1-day 99% VaR: ${usd(summary.var99)} (${(100 * summary.var99 / summary.exposure).toFixed(2)}% of exposure)`)
    say(`   1-day 99% expected shortfall: ${usd(summary.es99)}`)
  } finally {
    if (!interrupted) {
      say('\n5. Stopping the swarm')
      await stopAll()
      await rm(root, { recursive: true, force: true })
      say(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    }
  }
}

main().catch((err: Error) => {
  process.stderr.write(`demo failed: ${err.message}\n`)
  process.exitCode = 1
})
