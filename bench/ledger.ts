// Benchmark of the credit ledger alone: a credit round of 256 results (2
// volunteers x 1 job, one-record task ids as the submitter makes them)
// issued with issueMany, then accepted with acceptMany on each volunteer's
// ledger; wall and CPU µs per task, median of RUNS runs, against a baseline
// in the same run.
// Run: node --no-node-snapshot --import tsx bench/ledger.ts
//        [--baseline=<path of another checkout's packages/ledger/src/index.ts>]
// The built-in baseline is one receipt per task with today's code: the same
// round with every task in a job of its own (one call, one transaction, one
// fsync: only the grouping differs). With --baseline, the same round also
// runs through that ledger code (for instance the code before receipts paid
// several tasks), interleaved run by run with the others, and its ratio is
// printed too. Real SQLite files in a temp folder, real Ed25519 keys.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'

import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import * as current from '../packages/ledger/src/index.js'
import { load, median } from './stats.js'

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>

const RUNS = 5
const TASKS = 256
const args = process.argv.slice(2)
const baselinePath = args.find(a => a.startsWith('--baseline='))?.slice('--baseline='.length)

/** What the bench needs of a ledger module: the current one, or another checkout's. */
interface LedgerModule {
  openLedger(init: { path: string, privateKey: PrivateKey }): {
    peerId: string
    issueMany(requests: Array<{ worker: string, jobId: string, taskId: string, cpuMs: number }>): Promise<Array<{ hash: string, bytes: Uint8Array, receipt: { worker: string } }>>
    acceptMany(receipts: Uint8Array[]): Promise<Array<PromiseSettledResult<{ status: string }>>>
    close(): void
  }
}


/** Wall µs per task of each side, and the process's CPU µs per task for both (the fsyncs wait off the event loop). */
interface Round { issueUs: number, acceptUs: number, cpuUs: number, receipts: number }

/**
 * One round on fresh ledger files: the submitter issues TASKS requests over
 * two volunteers, each volunteer accepts what was issued to it. µs per task.
 */
async function round (mod: LedgerModule, keys: { submitter: PrivateKey, volunteers: PrivateKey[] }, jobPerTask: boolean): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-ledger-'))
  const issuer = mod.openLedger({ path: join(dir, 'submitter.sqlite'), privateKey: keys.submitter })
  const volunteers = keys.volunteers.map((privateKey, i) => {
    const ledger = mod.openLedger({ path: join(dir, `volunteer-${i}.sqlite`), privateKey })
    return { peerId: ledger.peerId, ledger }
  })
  try {
    const jobId = 'b7e1c0ffee5a1e00'
    const requests = Array.from({ length: TASKS }, (_, i) => ({
      worker: volunteers[i % 2].peerId,
      jobId: jobPerTask ? `${jobId}-${i}` : jobId,
      taskId: `${jobId}:${i}`,
      cpuMs: 1 + (i % 7)
    }))
    const cpu = process.cpuUsage()
    let t = process.hrtime.bigint()
    const issued = await issuer.issueMany(requests)
    const issueNs = Number(process.hrtime.bigint() - t)
    const distinct = [...new Map(issued.map(r => [r.hash, r])).values()]
    t = process.hrtime.bigint()
    for (const v of volunteers) {
      const answers = await v.ledger.acceptMany(distinct.filter(r => r.receipt.worker === v.peerId).map(r => r.bytes))
      if (answers.some(a => a.status !== 'fulfilled' || a.value.status !== 'accepted')) {
        throw new Error('a volunteer did not accept a receipt: the bench is broken')
      }
    }
    const acceptNs = Number(process.hrtime.bigint() - t)
    const used = process.cpuUsage(cpu)
    return { issueUs: issueNs / 1000 / TASKS, acceptUs: acceptNs / 1000 / TASKS, cpuUs: (used.user + used.system) / TASKS, receipts: distinct.length }
  } finally {
    issuer.close()
    for (const v of volunteers) v.ledger.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const keys = { submitter: await generateKeyPair('Ed25519'), volunteers: [await generateKeyPair('Ed25519'), await generateKeyPair('Ed25519')] }
const baseline = baselinePath == null ? undefined : await import(pathToFileURL(resolve(baselinePath)).href) as LedgerModule

const variants: Array<{ name: string, run: () => Promise<Round> }> = [
  { name: 'one receipt per (worker, job)', run: async () => await round(current, keys, false) },
  { name: 'one receipt per task (same code, a job per task)', run: async () => await round(current, keys, true) }
]
if (baseline != null) {
  variants.push({ name: `--baseline ${baselinePath ?? ''}`, run: async () => await round(baseline, keys, false) })
}

console.log(`ledger: ${TASKS} results of 2 volunteers x 1 job issued in one issueMany, then acceptMany per volunteer; median of ${RUNS} runs; load ${load()}`)
// warm-up: JIT, key objects, SQLite
for (const v of variants) await v.run()
const results = variants.map(() => [] as Round[])
for (let i = 0; i < RUNS; i++) {
  // interleaved, so a busy moment of the machine falls on every variant alike
  for (const [j, v] of variants.entries()) results[j].push(await v.run())
}
const summary = results.map(rs => ({
  issue: median(rs.map(r => r.issueUs)),
  accept: median(rs.map(r => r.acceptUs)),
  total: median(rs.map(r => r.issueUs + r.acceptUs)),
  cpu: median(rs.map(r => r.cpuUs)),
  receipts: median(rs.map(r => r.receipts))
}))
const pad = (s: string, n: number): string => s.padEnd(n)
const width = Math.max(...variants.map(v => v.name.length)) + 1
console.log(`${pad('variant', width)} ${pad('receipts', 9)} ${pad('issue µs/task', 14)} ${pad('accept µs/task', 15)} ${pad('total µs/task', 14)} CPU µs/task`)
variants.forEach((v, j) => {
  const s = summary[j]
  console.log(`${pad(v.name, width)} ${pad(String(s.receipts), 9)} ${pad(s.issue.toFixed(1), 14)} ${pad(s.accept.toFixed(1), 15)} ${pad(s.total.toFixed(1), 14)} ${s.cpu.toFixed(1)}`)
})
for (let j = 1; j < variants.length; j++) {
  const s = summary[j]
  const n = summary[0]
  console.log(`${variants[j].name} / one receipt per (worker, job): issue ${(s.issue / n.issue).toFixed(1)}x, accept ${(s.accept / n.accept).toFixed(1)}x, total ${(s.total / n.total).toFixed(1)}x, CPU ${(s.cpu / n.cpu).toFixed(1)}x`)
}
console.log(`load after: ${load()}`)
