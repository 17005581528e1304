// Benchmark of the submitter's job store alone (packages/jobs JobStore): the
// CPU its calls take per task in the two shapes of bench/jobs.ts, in one
// process, so that a change to the store is measured without the swarm's
// noise (on 2 cores the swarm's figures drift by 10-20 % between runs
// minutes apart).
//
//   no-op tasks:     one job of TASKS one-record tasks; two workers lease
//                    LEASE_TASKS at a time and return them in one
//                    completeMany; a credit round every ~1,000 tasks
//                    (owedCredits 100 at a time, creditedMedian,
//                    settleCredits); the follower's resultsSince after
//                    each group.
//   one-record jobs: JOBS jobs in turn, each as the submitter runs a round
//                    trip: the job and its lease in one atomically(), the
//                    answer line's job(), completeMany, the follower's
//                    resultsSince, summary() for job:ended, the credit round.
//
// Baseline in the same run: the same rows (a lease row, the task's two
// updates, the submission, the result, the lease's end) written with plain
// prepared statements in one transaction per group, no checks: what the
// store's bookkeeping costs above the rows it must write.
// With --baseline=<another checkout's packages/jobs/src/index.ts>, that
// store runs too, interleaved run by run, and its ratio is printed (the
// median of each run's ratio to the baseline's run beside it).
// With --statements, one more no-op run times each SQL statement the store
// runs (better-sqlite3's run/get/all, wrapped for that run only) and prints
// the costliest, µs per task.
// Real SQLite files in a temp folder, V8 at the daemon's --max-opt=1. CPU of
// this process, median of RUNS.
// Run: node --no-node-snapshot --import tsx bench/store.ts [--baseline=<path>] [--statements]
import { mkdtemp, rm } from 'node:fs/promises'
import { setFlagsFromString } from 'node:v8'
import { tmpdir } from 'node:os'

import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import * as current from '../packages/jobs/src/index.js'
import { load, median } from './stats.js'

// the daemon's V8 settings (apps/cli/bin/idlegrid.js): no optimising compiler
setFlagsFromString('--max-opt=1')

const RUNS = 11
const TASKS = 2_000
const LEASE_TASKS = 16
const JOBS = 300
const CREDIT_ROUND = 100
const args = process.argv.slice(2)
const baselinePath = args.find(a => a.startsWith('--baseline='))?.slice('--baseline='.length)
const statements = args.includes('--statements')

/** What the bench needs of a jobs module: the current one, or another checkout's. */
interface JobsModule {
  JobStore: new (init: { path: string }) => Store
  taskIdOf(jobId: string, firstRecord: number): string
}

interface Store {
  atomically<T>(fn: () => T): T
  createJob(job: { id: string, name: string, bundleId: string, bundle: Uint8Array, requirements: Requirements, batch: number, records: Uint8Array[], createdAt: number }): void
  lease(jobId: string, worker: string, maxTasks: number, maxBytes: number): { status: string, tasks: Array<{ taskId: string, attempt: number }> }
  completeMany(worker: string, results: Array<{ taskId: string, attempt: number, outcomes: Array<{ value: Uint8Array }>, cpuMs: number, wallMs: number }>): Array<{ status: string }>
  resultsSince(jobId: string, after: number, limit?: number): Array<{ seq: number }>
  owedCredits(limit?: number): Array<{ taskId: string, worker: string, jobId: string }>
  creditedMedian(jobId: string, worker: string): unknown
  settleCredits(settlements: Array<{ taskId: string, worker: string, state: 'issued', creditedMs: number, receiptHash: string }>): void
  job(id: string): unknown
  summary(id: string): unknown
  close(): void
}

interface Requirements { timeoutMs: number, memoryMb: number, cores: number, gpu: boolean, deterministic: boolean }

const REQUIREMENTS: Requirements = { timeoutMs: 30_000, memoryMb: 128, cores: 1, gpu: false, deterministic: false }
const WORKERS = ['12D3KooWvolunteerAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '12D3KooWvolunteerBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB']
const utf8 = new TextEncoder()
const VALUE = utf8.encode('null')
const BUNDLE = new Uint8Array(4096).fill(7)

const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }

/** CPU µs per unit of each phase of one run. */
type Phases = Record<string, number>

class Meter {
  readonly us: Phases = {}
  time<T> (phase: string, fn: () => T): T {
    const t = cpuUs()
    try {
      return fn()
    } finally {
      this.us[phase] = (this.us[phase] ?? 0) + cpuUs() - t
    }
  }

  per (n: number): Phases {
    const out: Phases = {}
    let total = 0
    for (const [k, v] of Object.entries(this.us)) {
      out[k] = v / n
      total += v
    }
    out.total = total / n
    return out
  }
}

function newJob (id: string, records: number): Parameters<Store['createJob']>[0] {
  return { id, name: 'bench', bundleId: 'bundle-0', bundle: BUNDLE, requirements: REQUIREMENTS, batch: 1, records: Array.from({ length: records }, (_, i) => utf8.encode(String(i))), createdAt: Date.now() }
}

function credit (store: Store, meter: Meter): number {
  let settled = 0
  // the submitter reads a job's median for a worker at most once a second (#creditedMedian): once a pass here
  const medians = new Set<string>()
  for (;;) {
    const owed = meter.time('credit', () => store.owedCredits(CREDIT_ROUND))
    if (owed.length === 0) {
      return settled
    }
    meter.time('credit', () => {
      for (const c of owed) {
        if (!medians.has(`${c.jobId} ${c.worker}`)) {
          medians.add(`${c.jobId} ${c.worker}`)
          store.creditedMedian(c.jobId, c.worker)
        }
      }
      store.settleCredits(owed.map(c => ({ taskId: c.taskId, worker: c.worker, state: 'issued', creditedMs: 1, receiptHash: 'ab'.repeat(32) })))
    })
    settled += owed.length
  }
}

async function withStore<T> (mod: JobsModule, fn: (store: Store) => T): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-store-'))
  const store = new mod.JobStore({ path: join(dir, 'jobs.sqlite') })
  try {
    return fn(store)
  } finally {
    store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** No-op tasks: CPU µs per task of each phase. */
async function noopTasks (mod: JobsModule, n: number): Promise<Phases> {
  return await withStore(mod, store => {
    const meter = new Meter()
    const jobId = 'noop'
    meter.time('createJob', () => { store.createJob(newJob(jobId, n)) })
    let done = 0
    let seen = 0
    for (let turn = 0; done < n; turn++) {
      const worker = WORKERS[turn % 2]
      const lease = meter.time('lease', () => store.lease(jobId, worker, LEASE_TASKS, 4 * 1024 * 1024))
      if (lease.status !== 'granted') throw new Error(`lease ${lease.status}: the bench is broken`)
      const outcomes = meter.time('completeMany', () => store.completeMany(worker, lease.tasks.map(t => ({ taskId: t.taskId, attempt: t.attempt, outcomes: [{ value: VALUE }], cpuMs: 0, wallMs: 0 }))))
      if (outcomes.some(o => o.status !== 'accepted')) throw new Error('a result was not accepted: the bench is broken')
      done += outcomes.length
      const page = meter.time('resultsSince', () => store.resultsSince(jobId, seen))
      seen = page.at(-1)?.seq ?? seen
      // a credit round every ~1,000 tasks (the submitter runs one every 2 s while a job runs)
      if (turn % 64 === 63) credit(store, meter)
    }
    if (done + credit(store, meter) < n) throw new Error('credits missing: the bench is broken')
    return meter.per(n)
  })
}

/** One-record jobs in turn: CPU µs per job of each phase. */
async function oneRecordJobs (mod: JobsModule, n: number): Promise<Phases> {
  return await withStore(mod, store => {
    const meter = new Meter()
    let seen = 0
    for (let i = 0; i < n; i++) {
      const jobId = `trip-${i}`
      const worker = WORKERS[i % 2]
      const lease = meter.time('submit+lease', () => store.atomically(() => { store.createJob(newJob(jobId, 1)); return store.lease(jobId, worker, 1, 4 * 1024 * 1024) }))
      if (lease.status !== 'granted') throw new Error(`lease ${lease.status}: the bench is broken`)
      meter.time('job (answer)', () => store.job(jobId))
      const t = lease.tasks[0]
      const [outcome] = meter.time('completeMany', () => store.completeMany(worker, [{ taskId: t.taskId, attempt: t.attempt, outcomes: [{ value: VALUE }], cpuMs: 0, wallMs: 0 }]))
      if (outcome.status !== 'accepted') throw new Error('the result was not accepted: the bench is broken')
      meter.time('resultsSince', () => { seen = store.resultsSince(jobId, 0).at(-1)?.seq ?? seen })
      meter.time('summary', () => store.summary(jobId))
      credit(store, meter)
    }
    return meter.per(n)
  })
}

/** The rows alone, with plain statements: the floor under the store's no-op tasks. */
async function floorTasks (n: number): Promise<Phases> {
  const dir = await mkdtemp(join(tmpdir(), 'idlegrid-bench-store-floor-'))
  const db = new Database(join(dir, 'floor.sqlite'))
  try {
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(`CREATE TABLE records (job_id TEXT NOT NULL, idx INTEGER NOT NULL, input BLOB NOT NULL, PRIMARY KEY (job_id, idx)) WITHOUT ROWID;
      CREATE TABLE tasks (id TEXT PRIMARY KEY, job_id TEXT NOT NULL, idx INTEGER NOT NULL, state TEXT NOT NULL, attempt INTEGER NOT NULL DEFAULT 0);
      CREATE INDEX tasks_queue ON tasks (job_id, state, idx);
      CREATE TABLE leases (task_id TEXT NOT NULL, attempt INTEGER NOT NULL, worker TEXT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (task_id, attempt));
      CREATE TABLE submissions (task_id TEXT NOT NULL, worker TEXT NOT NULL, outcomes TEXT NOT NULL, credit_state TEXT, PRIMARY KEY (task_id, worker)) WITHOUT ROWID;
      CREATE TABLE results (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, record INTEGER NOT NULL, value BLOB, UNIQUE (job_id, record));`)
    const meter = new Meter()
    const jobId = 'noop'
    const insertRecord = db.prepare('INSERT INTO records (job_id, idx, input) VALUES (?, ?, ?)')
    const insertTask = db.prepare('INSERT INTO tasks (id, job_id, idx, state) VALUES (?, ?, ?, \'pending\')')
    meter.time('createJob', () => db.transaction(() => {
      for (let i = 0; i < n; i++) {
        insertRecord.run(jobId, i, utf8.encode(String(i)))
        insertTask.run(`${jobId}:${i}`, jobId, i)
      }
    })())
    const pending = db.prepare(`SELECT id, idx FROM tasks WHERE job_id = ? AND state = 'pending' ORDER BY idx LIMIT ${LEASE_TASKS}`)
    const input = db.prepare('SELECT input FROM records WHERE job_id = ? AND idx = ?')
    const leased = db.prepare('UPDATE tasks SET state = \'leased\', attempt = attempt + 1 WHERE id = ?')
    const insertLease = db.prepare('INSERT INTO leases (task_id, attempt, worker, state) VALUES (?, 1, ?, \'active\')')
    const insertSubmission = db.prepare('INSERT INTO submissions (task_id, worker, outcomes, credit_state) VALUES (?, ?, ?, \'owed\')')
    const endLease = db.prepare('UPDATE leases SET state = \'completed\' WHERE task_id = ? AND attempt = 1')
    const insertResult = db.prepare('INSERT INTO results (job_id, record, value) VALUES (?, ?, ?)')
    const doneTask = db.prepare('UPDATE tasks SET state = \'done\' WHERE id = ?')
    let done = 0
    for (let turn = 0; done < n; turn++) {
      const worker = WORKERS[turn % 2]
      const rows = meter.time('lease', () => db.transaction(() => {
        const rows = pending.all(jobId) as Array<{ id: string, idx: number }>
        for (const r of rows) {
          input.get(jobId, r.idx)
          leased.run(r.id)
          insertLease.run(r.id, worker)
        }
        return rows
      })())
      meter.time('completeMany', () => db.transaction(() => {
        for (const r of rows) {
          insertSubmission.run(r.id, worker, '[{"value":null}]')
          endLease.run(r.id)
          insertResult.run(jobId, r.idx, VALUE)
          doneTask.run(r.id)
        }
      })())
      done += rows.length
    }
    return meter.per(n)
  } finally {
    db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const baseline = baselinePath == null ? undefined : await import(pathToFileURL(resolve(baselinePath)).href) as JobsModule
const stores: Array<{ name: string, mod: JobsModule }> = [{ name: 'this checkout', mod: current as unknown as JobsModule }]
if (baseline != null) {
  stores.push({ name: `--baseline ${baselinePath ?? ''}`, mod: baseline })
}

interface Variant { name: string, unit: string, run: () => Promise<Phases> }
const variants: Variant[] = [{ name: 'floor: the rows alone, plain statements', unit: 'task', run: async () => await floorTasks(TASKS) }]
for (const s of stores) {
  variants.push({ name: `no-op tasks, ${s.name}`, unit: 'task', run: async () => await noopTasks(s.mod, TASKS) })
  variants.push({ name: `one-record jobs, ${s.name}`, unit: 'job', run: async () => await oneRecordJobs(s.mod, JOBS) })
}

console.log(`job store (Node ${process.version}): ${TASKS} no-op tasks leased ${LEASE_TASKS} at a time by 2 workers, ${JOBS} one-record jobs in turn; CPU µs of this process per task or job, median of ${RUNS} runs; load ${load()}`)
// warm-up: JIT, SQLite's page cache, prepared statements
for (const v of variants) await v.run()
const runs = variants.map(() => [] as Phases[])
for (let i = 0; i < RUNS; i++) {
  // interleaved, so a busy moment of the machine falls on every variant alike
  for (const [j, v] of variants.entries()) runs[j].push(await v.run())
}
const medians = runs.map(rs => {
  const out: Phases = {}
  for (const k of Object.keys(rs[0])) out[k] = median(rs.map(r => r[k]))
  return out
})
variants.forEach((v, j) => {
  const m = medians[j]
  const parts = Object.entries(m).filter(([k]) => k !== 'total').map(([k, us]) => `${k} ${us.toFixed(1)}`).join(', ')
  console.log(`  ${v.name}: ${m.total.toFixed(1)} µs per ${v.unit} (${parts}) [runs ${runs[j].map(r => r.total.toFixed(0)).join(' ')}]`)
})
const byName = (name: string): Phases => medians[variants.findIndex(v => v.name === name)]
const floor = byName(variants[0].name)
const noop = byName(`no-op tasks, ${stores[0].name}`)
console.log(`no-op tasks ÷ floor: ${(noop.total / floor.total).toFixed(2)}x (lease ${(noop.lease / floor.lease).toFixed(2)}x, completeMany ${(noop.completeMany / floor.completeMany).toFixed(2)}x)`)
if (baseline != null) {
  for (const shape of ['no-op tasks', 'one-record jobs']) {
    // the ratio of each run to the baseline's run beside it, then their median: the machine's drift between runs cancels
    const a = runs[variants.findIndex(v => v.name === `${shape}, ${stores[0].name}`)]
    const b = runs[variants.findIndex(v => v.name === `${shape}, ${stores[1].name}`)]
    const ratio = (k: string): number => median(a.map((r, i) => r[k] / b[i][k]))
    const parts = Object.keys(a[0]).filter(k => k !== 'total' && b[0][k] != null).map(k => `${k} ${ratio(k).toFixed(2)}x`).join(', ')
    console.log(`${shape}, this checkout ÷ baseline (median of the runs' ratios): ${ratio('total').toFixed(2)}x (${parts}) [runs ${a.map((r, i) => (r.total / b[i].total).toFixed(2)).join(' ')}]`)
  }
}
console.log(`load after: ${load()}`)

if (statements) {
  // every statement of the process shares one prototype: its methods timed by SQL text for one run
  const probe = new Database(':memory:')
  const proto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'run' | 'get' | 'all', (...args: unknown[]) => unknown>
  probe.close()
  const spent = new Map<string, { calls: number, us: number }>()
  const originals = { run: proto.run, get: proto.get, all: proto.all }
  for (const name of ['run', 'get', 'all'] as const) {
    const original = originals[name]
    proto[name] = function (this: { source: string }, ...params: unknown[]) {
      const t = process.hrtime.bigint()
      try {
        return original.apply(this, params)
      } finally {
        const entry = spent.get(this.source) ?? { calls: 0, us: 0 }
        entry.calls++
        entry.us += Number(process.hrtime.bigint() - t) / 1000
        spent.set(this.source, entry)
      }
    }
  }
  try {
    await noopTasks(current as unknown as JobsModule, TASKS)
  } finally {
    Object.assign(proto, originals)
  }
  const all = [...spent.values()].reduce((n, e) => n + e.us, 0)
  console.log(`statements of one no-op run, this checkout: ${(all / TASKS).toFixed(1)} µs per task in all; the costliest:`)
  for (const [source, e] of [...spent].sort((a, b) => b[1].us - a[1].us).slice(0, 12)) {
    console.log(`  ${(e.us / TASKS).toFixed(1).padStart(5)} µs/task  ${(e.calls / TASKS).toFixed(2)} calls/task  ${(e.us / e.calls).toFixed(1).padStart(6)} µs/call  ${source.replace(/\s+/g, ' ').slice(0, 110)}`)
  }
}
