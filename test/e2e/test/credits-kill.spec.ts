// Receipts survive kill -9: a stream of short tasks runs from one submitter
// daemon to two volunteer daemons while one loop SIGKILLs and restarts the
// submitter and another a volunteer (same data dir, same listen port) at
// random moments, 10 times each. Afterwards every ledger verifies, each
// volunteer holds exactly the receipts the submitter issued to it, and no
// task is paid twice (a receipt pays one or more tasks of one job).
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'

const JOB = fileURLToPath(new URL('./credits-job.ts', import.meta.url))
const KILLS_PER_SIDE = 10
/** Random delay before each kill, after the daemon is ready again, ms. */
const KILL_DELAY = { min: 300, max: 1_500 }
/** Records per job the feeder submits whenever none runs; small, so the end drains fast. */
const FEED_RECORDS = 30

interface Receipt { hash: string, direction: 'issued' | 'received', issuer: string, worker: string, jobId: string, taskId: string, moreTaskIds: string[], milliCredits: number, seq: number, acknowledged: boolean }
interface PeerCredit { peer: string, earnedMilli: number, spentMilli: number, received: number, issued: number }
interface Credits { peerId: string, earnedMilli: number, spentMilli: number, receipts: { issued: number, received: number, unacknowledged: number }, peers: PeerCredit[], recent: Receipt[] }
interface Job { id: string, state: string, credit: { owed: number, receipts: number }, records: { total: number, ok: number, failed: number } }

interface Node {
  name: string
  dataDir: string
  peerId: string
  port: number
  args: string[]
  daemon?: DaemonProcess
  kills: number
}

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const between = (min: number, max: number): number => min + Math.floor(Math.random() * (max - min))
const sum = (receipts: Receipt[]): number => receipts.reduce((s, r) => s + r.milliCredits, 0)
/** '<job> <task> <volunteer>' for every task the receipts pay. */
const paidTasks = (receipts: Receipt[]): string[] => receipts.flatMap(r => [r.taskId, ...r.moreTaskIds].map(t => `${r.jobId} ${t} ${r.worker}`))

describe('credits survive kill -9 of either side', { timeout: 600_000 }, () => {
  let work: string
  const nodes: Node[] = []
  let s: Node
  let vs: Node[]

  const start = async (node: Node): Promise<void> => {
    node.daemon = spawnDaemon(node.dataDir, node.args)
    await waitForControl(node.daemon, 90_000)
  }
  const killAndRestart = async (node: Node): Promise<void> => {
    const d = node.daemon!
    d.child.kill('SIGKILL')
    await d.exited
    node.kills++
    await start(node)
  }
  const credits = async (node: Node): Promise<Credits> => await runCliJson<Credits>(['credits', '--recent', '100000', '--data-dir', node.dataDir])
  const jobs = async (): Promise<Job[]> => await runCliJson<Job[]>(['jobs', '--data-dir', s.dataDir])
  const submit = async (name: string, records: number, extra: string[] = []): Promise<string> => {
    const input = join(work, `${name}.jsonl`)
    await writeFile(input, Array.from({ length: records }, (_, n) => JSON.stringify({ n, spin: 100_000 })).join('\n') + '\n')
    const res = await runCli(['submit', JOB, '--input', input, '--detach', '--timeout', '20', '--memory', '64', ...extra, '--data-dir', s.dataDir], { timeoutMs: 60_000 })
    if (res.code !== 0) throw new Error(`submit ${name} exited ${String(res.code)}: ${res.stderr.trim()}`)
    return res.stdout.trim()
  }

  /** On a timeout, says where the jobs stand and what each daemon logged last. */
  const explained = async <T>(wait: Promise<T>): Promise<T> => {
    try {
      return await wait
    } catch (err) {
      const state = await runCli(['jobs', '--json', '--data-dir', s.dataDir]).then(r => r.stdout).catch(() => '?')
      const tails = nodes.map(n => `--- ${n.name} (${n.peerId}, ${n.kills} kills):\n${(n.daemon?.output() ?? '').trimEnd().split('\n').slice(-25).join('\n')}`)
      throw new Error(`${(err as Error).message}\njobs: ${state.slice(0, 4000)}\n${tails.join('\n')}`)
    }
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'idlegrid-e2e-credits-kill-'))
    for (const name of ['ks', 'kv1', 'kv2']) {
      const dataDir = await tempDataDir(name)
      // The identity exists before the first start, so every node can name the others as bootstrap peers.
      const { peerId } = await runCliJson<{ peerId: string }>(['id', '--create', '--data-dir', dataDir])
      nodes.push({ name, dataDir, peerId, port: await freePort(), args: [], kills: 0 })
    }
    for (const node of nodes) {
      // Each node bootstraps to the other two, so whichever restarts finds them again.
      const others = nodes.filter(n => n !== node).flatMap(n => ['--bootstrap', `/ip4/127.0.0.1/tcp/${n.port}/p2p/${n.peerId}`])
      node.args = ['--listen', `/ip4/127.0.0.1/tcp/${node.port}`, '--advertise-interval', '300', '--max-cores', '1', ...others]
    }
    ;[s, ...vs] = nodes
    await Promise.all(nodes.map(start))
    await waitFor(async () => {
      const peers = await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', s.dataDir])
      return vs.every(v => peers.some(p => p.peerId === v.peerId)) ? true : undefined
    }, 'both volunteers to connect to the submitter', 60_000)
  }, 200_000)

  afterAll(async () => {
    await Promise.all(nodes.map(async n => {
      await n.daemon?.stop('SIGTERM', 5_000)
      await rm(n.dataDir, { recursive: true, force: true })
    }))
    if (work != null) await rm(work, { recursive: true, force: true })
  })

  it('loses no receipt and pays none twice across 20 kills while receipts are written; every ledger verifies', async () => {
    await submit('first', 2 * FEED_RECORDS)
    // Wait for receipts to flow before the first kill, so kills land while they are written.
    await waitFor(async () => ((await credits(s)).receipts.issued > 0 ? true : undefined), 'the first receipts', 60_000)

    // Keep work flowing while the kill loops run: a new job whenever none runs.
    let killing = true
    let fed = 0
    const feeder = (async () => {
      while (killing) {
        try {
          if (!(await jobs()).some(j => j.state === 'running')) {
            await submit(`feed-${fed}`, FEED_RECORDS)
            fed++
          }
        } catch {
          // the submitter is down or restarting; try again
        }
        await sleep(500)
      }
    })()
    const loop = async (pick: (i: number) => Node): Promise<void> => {
      for (let i = 0; i < KILLS_PER_SIDE; i++) {
        await sleep(between(KILL_DELAY.min, KILL_DELAY.max))
        await killAndRestart(pick(i))
      }
    }
    try {
      await Promise.all([loop(() => s), loop(i => vs[i % 2])])
    } finally {
      killing = false
      await feeder
    }
    expect(nodes.reduce((n, node) => n + node.kills, 0)).toBe(2 * KILLS_PER_SIDE)
    expect(s.kills).toBe(KILLS_PER_SIDE)

    // Let every job finish, then one replicated job makes both volunteers
    // contact the submitter, which re-sends any receipt not yet acknowledged.
    await explained(waitFor(async () => ((await jobs()).every(j => j.state !== 'running') ? true : undefined), 'every job to finish', 240_000, 1_000))
    await submit('flush', 2, ['--replicas', '2', '--deterministic'])
    await explained(waitFor(async () => ((await jobs()).every(j => j.state !== 'running') ? true : undefined), 'the flush job to finish', 90_000, 500))
    // the flush job's own receipts are issued in a credit round after it ends:
    // until then nothing is unacknowledged, and the ledger read below would miss them
    await explained(waitFor(async () => ((await jobs()).every(j => j.credit.owed === 0) ? true : undefined), 'every result to be paid', 60_000, 500))
    const mine = await explained(waitFor(async () => {
      const c = await credits(s)
      return c.receipts.unacknowledged === 0 ? c : undefined
    }, 'every receipt to be acknowledged', 60_000, 500))

    const issued = mine.recent.filter(r => r.direction === 'issued')
    expect(issued).toHaveLength(mine.receipts.issued)
    const paid = paidTasks(issued)
    expect(paid.length).toBeGreaterThan(2 * FEED_RECORDS)
    // Paid once: each (job, task, volunteer) in one receipt only, and the job store agrees for every job.
    expect(new Set(paid).size).toBe(paid.length)
    expect(new Set(issued.map(r => r.hash)).size).toBe(issued.length)
    expect(issued.map(r => r.seq).sort((a, b) => a - b)).toEqual(issued.map((_, i) => i + 1))
    const all = await jobs()
    for (const job of all) {
      expect(job.state).toBe('done')
      expect(job.credit.owed).toBe(0)
      // job info counts paid results; the ledger's receipts of the job pay exactly those
      expect(job.credit.receipts, `results paid in job ${job.id}`).toBe(paidTasks(issued.filter(r => r.jobId === job.id)).length)
    }
    expect(mine.spentMilli).toBe(sum(issued))

    for (const v of vs) {
      const theirs = await credits(v)
      const received = theirs.recent.filter(r => r.direction === 'received')
      const toThem = issued.filter(r => r.worker === v.peerId)
      expect(received).toHaveLength(theirs.receipts.received)
      expect(new Set(received.map(r => r.hash)).size).toBe(received.length)
      // Nothing lost either way: the volunteer holds exactly what was issued to it.
      expect(received.map(r => r.hash).sort()).toEqual(toThem.map(r => r.hash).sort())
      // Balances are the sum over distinct receipts, and both sides agree.
      expect(theirs.earnedMilli).toBe(sum(received))
      const mineForV = mine.peers.find(p => p.peer === v.peerId)
      const theirsForS = theirs.peers.find(p => p.peer === s.peerId)
      expect(theirsForS?.earnedMilli).toBe(mineForV?.spentMilli)
      expect(theirsForS?.received).toBe(mineForV?.issued)
    }

    for (const node of nodes) {
      const res = await runCli(['credits', 'verify', '--json', '--data-dir', node.dataDir])
      expect(res.code, `${node.name}: ${res.stdout}${res.stderr}`).toBe(0)
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, problems: [], forks: [] })
    }
  })
})
