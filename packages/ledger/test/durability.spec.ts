// kill -9 durability: a child process issues receipts in a loop and prints
// each one issue() returned; SIGKILL at random points must lose none of them.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import * as esbuild from 'esbuild'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { openLedger } from '../src/index.js'
import type { ChildProcess } from 'node:child_process'
import type { PrivateKey } from '@libp2p/interface'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const source = fileURLToPath(new URL('./fixtures/issue-loop.ts', import.meta.url))
const RUNS = 20

let dir: string
let child: string
let key: PrivateKey
let worker: string
const children = new Set<ChildProcess>()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idlegrid-ledger-kill-'))
  // The child is the ledger's own source, bundled once: starting node + tsx
  // twenty times costs seconds of CPU each on a loaded machine. better-sqlite3
  // (a native addon) stays external, imported by absolute path.
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3')
  child = join(dir, 'issue-loop.mjs')
  await esbuild.build({
    entryPoints: [source],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    logLevel: 'silent',
    plugins: [{
      name: 'external-sqlite',
      setup (build) {
        build.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true }))
      }
    }]
  })
  key = await generateKeyPair('Ed25519')
  worker = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
})

afterAll(async () => {
  for (const proc of children) {
    proc.kill('SIGKILL')
  }
  await rm(dir, { recursive: true, force: true })
})

/** Runs the child until it has printed `stopAfter` receipts (plus a random few ms), then SIGKILLs it. */
async function runAndKill (path: string, run: number, stopAfter: number, extraMs: number): Promise<Array<{ seq: number, hash: string }>> {
  const proc = spawn(process.execPath, [child, path, Buffer.from(privateKeyToProtobuf(key)).toString('hex'), String(run), worker], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  children.add(proc)
  const printed: Array<{ seq: number, hash: string }> = []
  let stderr = ''
  let buffered = ''
  let killTimer: NodeJS.Timeout | undefined
  const exited = new Promise<void>(resolve => proc.once('exit', () => { resolve() }))
  // A child that never starts must not hang the suite.
  const deadline = setTimeout(() => proc.kill('SIGKILL'), 15_000)
  proc.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  proc.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      if (line === 'ready') {
        continue
      }
      const [seq, hash] = line.split(' ')
      printed.push({ seq: Number(seq), hash })
    }
    if (printed.length >= stopAfter && killTimer == null) {
      killTimer = setTimeout(() => proc.kill('SIGKILL'), extraMs)
    }
  })
  await exited
  clearTimeout(deadline)
  clearTimeout(killTimer)
  children.delete(proc)
  expect(proc.signalCode, `child ended without SIGKILL: ${stderr}`).toBe('SIGKILL')
  return printed
}

it(`keeps every acknowledged receipt across ${RUNS} kill -9s`, async () => {
  const path = join(dir, 'ledger.sqlite')
  const acknowledged: Array<{ seq: number, hash: string }> = []
  for (let run = 0; run < RUNS; run++) {
    const stopAfter = 1 + Math.floor(Math.random() * 8)
    const extraMs = Math.floor(Math.random() * 6)
    acknowledged.push(...await runAndKill(path, run, stopAfter, extraMs))
  }
  expect(acknowledged.length).toBeGreaterThanOrEqual(RUNS)

  const ledger = openLedger({ path, privateKey: key })
  try {
    for (const { seq, hash } of acknowledged) {
      const stored = ledger.get(hash)
      expect(stored, `receipt #${seq} ${hash} was acknowledged but is gone`).toBeDefined()
      expect(stored?.receipt.seq).toBe(seq)
    }
    const report = await ledger.verify()
    expect(report.problems).toEqual([])
    expect(report.ok).toBe(true)
    // No duplicates: seqs are 1..N and every task was paid once.
    const all = ledger.recent(100_000)
    const seqs = all.map(s => s.receipt.seq).sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    expect(new Set(all.map(s => s.receipt.taskId)).size).toBe(all.length)
    expect(seqs.length).toBeGreaterThanOrEqual(acknowledged.length)
    // The chain goes on from where the last run stopped.
    const next = await ledger.issue({ worker, jobId: 'durability', taskId: 'after', cpuMs: 1 })
    expect(next.receipt.seq).toBe(seqs.length + 1)
  } finally {
    ledger.close()
  }
})
