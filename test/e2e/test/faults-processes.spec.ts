// Process-level faults of the job system: real `idlegrid daemon` processes
// on 127.0.0.1, driven through the CLI. A volunteer killed with SIGKILL in
// the middle of a checkpointing task (its runner dies with it, the task
// resumes elsewhere from its checkpoint); the submitter killed and restarted
// on its data dir (the job finishes, volunteers deliver from their outbox);
// a volunteer joining and another leaving mid-job. Every test checks that
// each record is in the results exactly once, in order, and right. The
// tests run one after another: each starts three or four daemons.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, runCliJson, waitFor } from '../src/index.js'
import { Swarm, alive, expectedSum, jobDetail, results, runnersOf, submit, waitForJob, waitForPeers } from '../fixtures-faults/harness.js'
import type { SumInput } from '../fixtures-faults/harness.js'

describe('faults: daemons killed, restarted, joining and leaving mid-job', { timeout: 150_000 }, () => {
  let swarm: Swarm
  let work: string

  beforeEach(async () => {
    swarm = new Swarm()
    work = await mkdtemp(join(tmpdir(), 'idlegrid-e2e-faults-'))
  })

  afterEach(async () => {
    await swarm.stop()
    await rm(work, { recursive: true, force: true })
  })

  it('resumes the task elsewhere from its checkpoint; its runner dies with it; every record once, in order', async () => {
    const submitter = await swarm.start('submitter')
    const volunteers = await Promise.all(['v1', 'v2'].map(async name => await swarm.start(name, ['--bootstrap', submitter.address])))
    await waitForPeers(submitter, volunteers)

    // Four instant records, then two that run ~6 s in 40 checkpointed
    // steps. The instant ones go first so that a runner which just ran a
    // quick task also runs a long one: that must stream its checkpoints too.
    const records: SumInput[] = [
      ...[10, 11, 12, 13].map(n => ({ n, steps: 0, stepMs: 0 })),
      { n: 14, steps: 40, stepMs: 150 },
      { n: 15, steps: 40, stepMs: 150 }
    ]
    const id = await submit(submitter, work, records)

    // Both long tasks under way (each reported progress, so each sent a
    // checkpoint); the victim is the one with most of its work ahead.
    const running = await waitForJob(submitter, id, detail => detail.running.length === 2 && detail.running.every(t => t.fraction > 0) ? detail.running : undefined,
      'both volunteers to report progress on a long task', 30_000, volunteers)
    const victimTask = running.reduce((a, b) => a.fraction <= b.fraction ? a : b)
    expect(victimTask.fraction).toBeLessThanOrEqual(0.6)
    const victim = volunteers.find(v => v.peerId === victimTask.worker)!
    const survivor = volunteers.find(v => v !== victim)!
    expect(victim).toBeDefined()
    const runners = await runnersOf(victim.daemon)
    expect(runners.length, 'the volunteer runs its task in a forked runner').toBeGreaterThan(0)

    await swarm.kill(victim)

    // The runner must not outlive its daemon (it exits when its IPC channel closes).
    await waitFor(async () => (await Promise.all(runners.map(alive))).every(a => !a) ? true : undefined,
      `runner(s) ${runners.join(', ')} of the killed volunteer to exit`, 10_000, 100)

    // The submitter saw the volunteer go while it held the task.
    await waitFor(async () => submitter.daemon.output().includes(`job ${id}: 1 task of ${victim.peerId} requeued: volunteer disconnected`) ? true : undefined,
      'the submitter to requeue the killed volunteer\'s task', 15_000, 100)

    const { code, stderr, lines } = await results(submitter, id, join(work, 'out.jsonl'))
    expect(code, `${stderr}${JSON.stringify(lines)}`).toBe(0)
    expect(lines.map(l => l.n)).toEqual(records.map(r => r.n))
    expect(lines.map(l => l.sum)).toEqual(records.map(expectedSum))

    // The killed task's record was resumed from a checkpoint, on a later attempt.
    const victimRecord = records.findIndex((_, i) => lines[i].resumedFrom > 0)
    expect(victimRecord, 'some record resumed from a checkpoint').toBeGreaterThanOrEqual(0)
    const resumed = lines[victimRecord]
    expect(resumed.resumedFrom).toBeGreaterThan(0)
    expect(resumed.resumedFrom).toBeLessThan(records[victimRecord].steps)
    expect(resumed.attempt).toBeGreaterThan(victimTask.attempt)
    // Only that one: no other record started anywhere but at step 0.
    expect(lines.filter(l => l.resumedFrom > 0)).toHaveLength(1)

    const detail = await jobDetail(submitter, id)
    expect(detail).toMatchObject({ state: 'done', records: { total: 6, ok: 6, failed: 0 }, tasks: { total: 6, done: 6, failed: 0, pending: 0, leased: 0 } })
    // Each task was counted once; both long ones on the survivor.
    expect(detail.volunteers.reduce((n, v) => n + v.tasks, 0)).toBe(6)
    expect(detail.volunteers.find(v => v.peerId === survivor.peerId)?.tasks).toBeGreaterThanOrEqual(2)
    expect(detail.requeued).toBeGreaterThanOrEqual(1)
    expect(submitter.daemon.output()).toContain(`resumed on ${survivor.peerId} from a checkpoint`)
  })


  it('restarted on the same data dir, finishes the job with every record once; volunteers deliver from their outbox', async () => {
    // A fixed port, so the volunteers can dial the restarted submitter where they knew it.
    const listen = ['--listen', `/ip4/127.0.0.1/tcp/${await freePort()}`]
    const submitter = await swarm.start('submitter', listen)
    const volunteers = await Promise.all(['v1', 'v2'].map(async name => await swarm.start(name, ['--bootstrap', submitter.address])))
    await waitForPeers(submitter, volunteers)

    // Records 0 and 1 (leased first, one to each volunteer) run ~3 s; the rest are short.
    const records: SumInput[] = [
      { n: 20, steps: 20, stepMs: 150 },
      { n: 21, steps: 20, stepMs: 150 },
      ...[22, 23, 24, 25].map(n => ({ n, steps: 3, stepMs: 100 }))
    ]
    const id = await submit(submitter, work, records)

    // A volunteer holds a task under way with most of its work ahead.
    const held = await waitForJob(submitter, id, detail => {
      const running = detail.running.filter(t => t.fraction > 0 && t.fraction <= 0.5)
      return running.length > 0 ? running : undefined
    }, 'a volunteer to be under way with a task', 30_000, volunteers)

    await swarm.kill(submitter)
    const restarted = await swarm.start('submitter-again', listen, submitter.daemon.dataDir)
    expect(restarted.peerId).toBe(submitter.peerId)
    expect(restarted.daemon.output()).toContain(`resuming 1 unfinished job: ${id}`)

    const { code, stderr, lines } = await results(restarted, id, join(work, 'out.jsonl'))
    expect(code, `${stderr}${JSON.stringify(lines)}`).toBe(0)
    // Exactly one line per record, in input order, each right.
    expect(lines.map(l => l.n)).toEqual(records.map(r => r.n))
    expect(lines.map(l => l.sum)).toEqual(records.map(expectedSum))

    // The attempts the volunteers were running when the submitter died
    // ended with the volunteer delivering them after the restart: a
    // requeued task would have come back as a later attempt.
    const heldAttempts = new Set(held.map(t => t.attempt))
    const fromOutbox = lines.slice(0, 2).filter(l => heldAttempts.has(l.attempt) && l.resumedFrom === 0)
    expect(fromOutbox.length, `results of records 0 and 1: ${JSON.stringify(lines.slice(0, 2))}`).toBeGreaterThanOrEqual(1)

    const detail = await jobDetail(restarted, id)
    expect(detail).toMatchObject({ state: 'done', records: { total: 6, ok: 6, failed: 0 }, tasks: { total: 6, done: 6, failed: 0, pending: 0, leased: 0 } })
    expect(detail.volunteers.reduce((n, v) => n + v.tasks, 0)).toBe(6)
    expect(detail.volunteers.every(v => volunteers.some(m => m.peerId === v.peerId))).toBe(true)
    // The job was stored once and is not run twice.
    const jobs = await runCliJson<Array<{ id: string, state: string }>>(['jobs', '--data-dir', restarted.daemon.dataDir])
    expect(jobs).toEqual([expect.objectContaining({ id, state: 'done' })])
  })


  it('a late volunteer takes a share; one that leaves with SIGTERM mid-task does not stall the job', async () => {
    const submitter = await swarm.start('submitter')
    const first = await swarm.start('v1', ['--bootstrap', submitter.address])
    await waitForPeers(submitter, [first])

    // Record 0 is long (~18 s in 120 checkpointed steps) and keeps the one
    // volunteer busy; the short ones wait for whoever comes next. Whoever
    // finishes record 0 resumes it, so its length bounds the test only once.
    const records: SumInput[] = [
      { n: 30, steps: 120, stepMs: 150 },
      ...Array.from({ length: 7 }, (_, i) => ({ n: 31 + i, steps: 4, stepMs: 150 }))
    ]
    const id = await submit(submitter, work, records)
    await waitForJob(submitter, id, detail => detail.running.some(t => t.worker === first.peerId && t.fraction > 0) ? true : undefined, 'the first volunteer to be under way', 30_000, [first])

    const late = await swarm.start('v2', ['--bootstrap', submitter.address])
    // The late volunteer finishes tasks of the job while the first still runs record 0.
    const joined = await waitForJob(submitter, id, detail =>
      detail.volunteers.some(v => v.peerId === late.peerId && v.tasks >= 1) && detail.running.some(t => t.worker === first.peerId) ? detail : undefined,
    'the late volunteer to finish a task while the first runs record 0', 45_000, [first, late])
    expect(joined.state).toBe('running')

    // The first leaves cleanly while it holds record 0.
    const left = await first.daemon.stop('SIGTERM', 15_000)
    expect(left).toEqual({ code: 0, signal: null })
    expect(first.daemon.output()).toMatch(/ stopped$/m)

    const { code, stderr, lines } = await results(submitter, id, join(work, 'out.jsonl'))
    expect(code, `${stderr}${JSON.stringify(lines)}`).toBe(0)
    expect(lines.map(l => l.n)).toEqual(records.map(r => r.n))
    expect(lines.map(l => l.sum)).toEqual(records.map(expectedSum))

    const detail = await jobDetail(submitter, id)
    expect(detail).toMatchObject({ state: 'done', records: { total: 8, ok: 8, failed: 0 }, tasks: { total: 8, done: 8, failed: 0, pending: 0, leased: 0 } })
    // Each task counted once, all on the late volunteer: the first finished none.
    expect(detail.volunteers).toEqual([expect.objectContaining({ peerId: late.peerId, tasks: 8 })])
    // Record 0 went back to the queue when the first left, and the late
    // volunteer resumed it from the checkpoint the first had sent.
    expect(detail.requeued).toBeGreaterThanOrEqual(1)
    expect(submitter.daemon.output()).toContain(`job ${id}: 1 task of ${first.peerId} requeued: `)
    expect(lines[0].resumedFrom).toBeGreaterThan(0)
    expect(lines[0].attempt).toBeGreaterThan(1)
    expect(lines.slice(1).every(l => l.resumedFrom === 0)).toBe(true)
  })

})
