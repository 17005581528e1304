// Credit through the real `idlegrid` command: one submitter and two volunteer
// daemons on 127.0.0.1. A whole job pays receipts both sides hold and agree
// on, `credits verify` passes on every node, replicated deterministic jobs
// are verified by quorum, and bad credit input is refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, runCliJson, spawnDaemon, tempDataDir, waitFor, waitForControl } from '../src/index.js'
import type { DaemonProcess } from '../src/index.js'

const JOB = fileURLToPath(new URL('./credits-job.ts', import.meta.url))
const FAST = ['--advertise-interval', '300', '--max-cores', '1']

interface Receipt { hash: string, direction: 'issued' | 'received', issuer: string, worker: string, jobId: string, taskId: string, moreTaskIds: string[], milliCredits: number, seq: number, acknowledged: boolean }
interface PeerCredit { peer: string, earnedMilli: number, spentMilli: number, netMilli: number, received: number, issued: number }
interface Credits { peerId: string, earnedMilli: number, spentMilli: number, netMilli: number, receipts: { issued: number, received: number, unacknowledged: number }, peers: PeerCredit[], recent: Receipt[] }

const credits = async (dataDir: string): Promise<Credits> => await runCliJson<Credits>(['credits', '--recent', '100000', '--data-dir', dataDir])
/** Every task the receipts pay (a receipt pays one or more tasks of one job). */
const tasksOf = (receipts: Receipt[]): string[] => receipts.flatMap(r => [r.taskId, ...r.moreTaskIds])
const peerOf = (c: Credits, peer: string): PeerCredit => c.peers.find(p => p.peer === peer) ?? { peer, earnedMilli: 0, spentMilli: 0, netMilli: 0, received: 0, issued: 0 }

describe('credits through the CLI', { timeout: 120_000 }, () => {
  const daemons: DaemonProcess[] = []
  let work: string
  let submitter: string
  let submitterId: string
  const volunteers: Array<{ dataDir: string, peerId: string }> = []

  const jsonl = (records: unknown[]): string => records.map(r => JSON.stringify(r)).join('\n') + '\n'
  const submit = async (name: string, records: unknown[], extra: string[] = []): Promise<string> => {
    const input = join(work, `${name}.jsonl`)
    await writeFile(input, jsonl(records))
    const res = await runCli(['submit', JOB, '--input', input, '--out', join(work, `${name}.out.jsonl`), '--timeout', '20', '--memory', '64', '--json', ...extra, '--data-dir', submitter], { timeoutMs: 100_000 })
    expect(res.code, res.stderr).toBe(0)
    const events = res.stdout.trimEnd().split('\n').map(l => JSON.parse(l))
    expect(events.at(-1)).toMatchObject({ event: 'done', state: 'done', exitCode: 0 })
    return events[0].jobId as string
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'idlegrid-e2e-credits-'))
    submitter = await tempDataDir('credits-submitter')
    const a = spawnDaemon(submitter, FAST)
    daemons.push(a)
    await waitForControl(a)
    const address = /listening on (\S+)/.exec(a.output())![1]
    submitterId = address.split('/p2p/')[1]
    await Promise.all(['cv1', 'cv2'].map(async name => {
      const dataDir = await tempDataDir(name)
      const d = spawnDaemon(dataDir, [...FAST, '--bootstrap', address])
      daemons.push(d)
      await waitForControl(d)
      volunteers.push({ dataDir, peerId: /node (\S+) started/.exec(d.output())![1] })
    }))
    await waitFor(async () => {
      const peers = await runCliJson<Array<{ peerId: string }>>(['peers', '--data-dir', submitter])
      return volunteers.every(v => peers.some(p => p.peerId === v.peerId)) ? true : undefined
    }, 'both volunteers to connect to the submitter', 60_000)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(daemons.map(async d => {
      await d.stop('SIGTERM', 5_000)
      await rm(d.dataDir, { recursive: true, force: true })
    }))
    if (work != null) await rm(work, { recursive: true, force: true })
  })

  it('pays a whole job with receipts that submitter and volunteers hold alike; credits verify passes on all three', async () => {
    const jobId = await submit('whole', Array.from({ length: 16 }, (_, n) => ({ n })))
    const job = await runCliJson(['job', jobId, '--data-dir', submitter])
    expect(job.credit).toMatchObject({ owed: 0, receipts: 16 })

    // Every receipt acknowledged: then the volunteers hold what the submitter issued.
    const mine = await waitFor(async () => {
      const c = await credits(submitter)
      return c.receipts.unacknowledged === 0 ? c : undefined
    }, 'every receipt to be acknowledged', 30_000)
    const issued = mine.recent.filter(r => r.direction === 'issued' && r.jobId === jobId)
    // each of the 16 results paid once; a receipt pays a volunteer's tasks of one credit round
    expect(tasksOf(issued)).toHaveLength(16)
    expect(new Set(tasksOf(issued)).size).toBe(16)
    expect(issued.length).toBeLessThanOrEqual(16)
    expect(mine.receipts).toEqual({ issued: issued.length, received: 0, unacknowledged: 0 })
    expect(mine.earnedMilli).toBe(0)
    expect(mine.spentMilli).toBe(issued.reduce((s, r) => s + r.milliCredits, 0))
    expect(mine.spentMilli).toBeGreaterThan(0)

    let paid = 0
    for (const v of volunteers) {
      const theirs = await credits(v.dataDir)
      const received = theirs.recent.filter(r => r.direction === 'received')
      const toThem = issued.filter(r => r.worker === v.peerId)
      // Same receipts by hash, and the same amounts on both sides.
      expect(received.map(r => r.hash).sort()).toEqual(toThem.map(r => r.hash).sort())
      expect(received.every(r => r.issuer === submitterId && r.worker === v.peerId)).toBe(true)
      expect(peerOf(theirs, submitterId).earnedMilli).toBe(peerOf(mine, v.peerId).spentMilli)
      expect(peerOf(theirs, submitterId).received).toBe(peerOf(mine, v.peerId).issued)
      expect(theirs).toMatchObject({ peerId: v.peerId, spentMilli: 0, earnedMilli: toThem.reduce((s, r) => s + r.milliCredits, 0) })
      paid += tasksOf(toThem).length
    }
    expect(paid).toBe(16)

    for (const dataDir of [submitter, ...volunteers.map(v => v.dataDir)]) {
      const res = await runCli(['credits', 'verify', '--data-dir', dataDir])
      expect(res.code, res.stdout + res.stderr).toBe(0)
      expect(res.stdout).toMatch(/^ledger ok: \d+ receipts? checked \(\d+ issued, \d+ received\)/)
      const report = await runCliJson(['credits', 'verify', '--data-dir', dataDir])
      expect(report).toMatchObject({ ok: true, problems: [], forks: [] })
    }
    const verified = await runCliJson(['credits', 'verify', '--data-dir', submitter])
    expect(verified.balances).toMatchObject({ earnedMilli: 0, spentMilli: mine.spentMilli })
  })

  it('shows credits for people: net, earned and spent, per peer, recent receipts', async () => {
    const [human, volunteer] = await Promise.all([
      runCli(['credits', '--recent', '3', '--data-dir', submitter]),
      runCli(['credits', '--data-dir', volunteers[0].dataDir])
    ])
    expect(human.code, human.stderr).toBe(0)
    expect(human.stdout).toMatch(new RegExp(`^node\\s+${submitterId}\\nnet\\s+-\\d+\\.\\d{3} credits \\(earned 0\\.000 · spent \\d+\\.\\d{3}\\)`))
    expect(human.stdout).toMatch(/receipts\s+0 received · \d+ issued/)
    expect(human.stdout).toMatch(/PEER ID\s+EARNED\s+SPENT\s+NET\s+RECEIVED\s+ISSUED/)
    for (const v of volunteers) expect(human.stdout).toContain(v.peerId)
    // a receipt pays a volunteer's tasks of one credit round: the 16-task job may have taken fewer than 3
    const listed = (await credits(submitter)).recent.slice(0, 3)
    expect(listed.length).toBeGreaterThanOrEqual(1)
    expect(human.stdout).toMatch(new RegExp(`recent receipts \\(newest ${listed.length}, newest first\\):\\nWHEN\\s+DIRECTION\\s+PEER\\s+JOB\\s+TASK\\s+CPU\\s+CREDITS\\s+SEQ\\s+HASH\\n(.*paid to.*\\n){${listed.length}}`))
    // a receipt paying several tasks shows its first and how many more
    const lines = human.stdout.split('\n')
    for (const r of listed) {
      const line = lines.find(l => l.includes(r.hash.slice(0, 12)))
      expect(line).toContain(r.moreTaskIds.length > 0 ? ` +${r.moreTaskIds.length} more` : r.taskId.slice(r.jobId.length + 1))
      if (r.moreTaskIds.length === 0) expect(line).not.toContain(' more')
    }
    expect(volunteer.code).toBe(0)
    expect(volunteer.stdout).toMatch(/net\s+\+\d+\.\d{3} credits \(earned \d+\.\d{3} · spent 0\.000\)/)
    expect(volunteer.stdout).toContain('earned from')
  })

  it('--replicas 2 --deterministic: every task verified by quorum, both replicas paid; job <id> says so', async () => {
    const jobId = await submit('replicated', Array.from({ length: 6 }, (_, n) => ({ n: n + 100 })), ['--replicas', '2', '--deterministic'])
    const job = await runCliJson(['job', jobId, '--data-dir', submitter])
    expect(job).toMatchObject({ state: 'done', replicas: 2, quorum: { verified: 6, unreplicated: 0, disagreements: 0, failed: 0 }, disagreements: [] })
    expect(job.credit).toMatchObject({ owed: 0, receipts: 12 })
    // Each task ran on both volunteers: each volunteer did all 6.
    expect(job.volunteers.map((v: { tasks: number }) => v.tasks)).toEqual([6, 6])
    const human = await runCli(['job', jobId, '--data-dir', submitter])
    expect(human.stdout).toMatch(/replicas\s+2\n/)
    expect(human.stdout).toMatch(/quorum\s+6 verified by quorum · 0 unreplicated · 0 with disagreements · 0 failed without a majority/)
    expect(human.stdout).toMatch(/credit\s+12 results paid for \d+\.\d{3} credits · 0 owed/)
  })

  it('--replicas auto: volunteers without a long record are always checked by a second one', async () => {
    const jobId = await submit('auto', [{ n: 7 }, { n: 8 }, { n: 9 }], ['--replicas', 'auto', '--deterministic'])
    const job = await runCliJson(['job', jobId, '--data-dir', submitter])
    // Each volunteer has 6 valid results in a row (the replicated job), under the
    // threshold of 10: every task goes to a second volunteer.
    expect(job).toMatchObject({ replicas: 'auto', quorum: { verified: 3, unreplicated: 0, disagreements: 0, failed: 0 } })
    expect(job.credit).toMatchObject({ owed: 0, receipts: 6 })
    const report = await runCliJson(['credits', 'verify', '--data-dir', submitter])
    expect(report.ok).toBe(true)
    expect(report.trust.map((t: { peer: string }) => t.peer).sort()).toEqual(volunteers.map(v => v.peerId).sort())
  })

  it('refuses bad credit input with exit 2 and a message saying what to do', async () => {
    const input = join(work, 'bad.jsonl')
    await writeFile(input, '{"n":1}\n')
    const cases: Array<[string[], RegExp]> = [
      [['submit', JOB, '--input', input, '--replicas', '0'], /--replicas must be a whole number from 1 to 16 or 'auto', got '0'/],
      [['submit', JOB, '--input', input, '--replicas', 'some'], /--replicas must be a whole number from 1 to 16 or 'auto', got 'some'/],
      [['credits', 'balance'], /unknown credits subcommand 'balance'; use `idlegrid credits` or `idlegrid credits verify`/],
      [['credits', '--recent', 'lots'], /--recent must be an integer between 0 and 100000, got 'lots'/]
    ]
    for (const [args, message] of cases) {
      const res = await runCli([...args, '--data-dir', submitter])
      expect(res.code, res.stderr).toBe(2)
      expect(res.stderr).toMatch(message)
    }
  })
})
